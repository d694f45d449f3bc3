//===- backends/cpu/EmitMath.cpp - exp, tanh and sigmoid as inline LLVM IR ===//
//
// The transcendental functions the emitters inline (no libm call, so loops of them vectorize at
// any width): in double for the elementwise ops, which round once to f32 as the interpreter
// does, and in f32 itself for the recurrent kernels' gates (gateSigmoidOf, gateTanhOf).
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Emitter.h"

#include <llvm/IR/Intrinsics.h>

namespace weft::cpu::detail {

using llvm::Value;

Value *Emitter::expDouble(Value *x) {
  // exp(x) = 2^n e^r, n = rint(x / ln 2), r = x - n ln 2 (ln 2 in two parts, so r is exact to
  // about 2^-60), |r| <= ln 2 / 2; e^r by its Taylor series to r^13 / 13!, whose first omitted
  // term is below 2^-53 relative. x is clamped to [-708, 709], where 2^n is a normal double:
  // f32 tanh and sigmoid are exactly +-1, 0 or 1 beyond. NaN stays NaN (n = 0 for it).
  // x may be a vector of doubles (the recurrent kernels' cell updates), lane by lane.
  llvm::Type *t = x->getType(), *it = t->getWithNewType(i64Ty());
  auto fd = [&](double v) { return llvm::ConstantFP::get(t, v); };
  auto ci = [&](int64_t v) { return llvm::ConstantInt::get(it, static_cast<uint64_t>(v)); };
  Value *c = b.CreateSelect(b.CreateFCmpOGT(x, fd(709)), fd(709), x);
  c = b.CreateSelect(b.CreateFCmpOLT(c, fd(-708)), fd(-708), c);
  Value *n = intrinsic(llvm::Intrinsic::rint, {b.CreateFMul(c, fd(1.4426950408889634))});
  Value *nan = b.CreateFCmpUNO(c, c);
  n = b.CreateSelect(nan, fd(0), n);
  Value *r = b.CreateFSub(c, b.CreateFMul(n, fd(6.93147180369123816490e-01)));
  r = b.CreateFSub(r, b.CreateFMul(n, fd(1.90821492927058770002e-10)));
  Value *p = fd(1.0 / 6227020800.0); // 1/13!
  double fact = 6227020800.0;
  for (int k = 12; k >= 0; --k) {
    fact /= (k + 1);
    p = intrinsic(llvm::Intrinsic::fmuladd, {p, r, fd(1.0 / fact)});
  }
  Value *ni = b.CreateFPToSI(n, it);
  Value *scale = b.CreateBitCast(b.CreateShl(b.CreateAdd(ni, ci(1023)), ci(52)), t);
  return b.CreateFMul(p, scale);
}

Value *Emitter::callLibmLanes(const char *name, Value *x) {
  auto *vt = llvm::dyn_cast<llvm::FixedVectorType>(x->getType());
  if (!vt)
    return callLibm(name, x);
  Value *out = llvm::PoisonValue::get(vt);
  for (unsigned l = 0; l < vt->getNumElements(); ++l)
    out = b.CreateInsertElement(out, callLibm(name, b.CreateExtractElement(x, l)), l);
  return out;
}

Value *Emitter::tanhOf(Value *x, DType dt) {
  if (dt != DType::F32)
    return callLibmLanes("tanh", x);
  // In double, through an exp the vectorizer can widen (expDouble).
  llvm::Type *dty = x->getType()->getWithNewType(b.getDoubleTy());
  auto fd = [&](double v) { return llvm::ConstantFP::get(dty, v); };
  Value *d = b.CreateFPExt(x, dty);
  Value *e2 = expDouble(b.CreateFMul(d, fd(2)));
  Value *t = b.CreateFSub(fd(1), b.CreateFDiv(fd(2), b.CreateFAdd(e2, fd(1))));
  // Below 2^-12, tanh x rounds to x in f32 (and the formula would cancel).
  Value *tiny = b.CreateFCmpOLT(intrinsic(llvm::Intrinsic::fabs, {x}),
                                llvm::ConstantFP::get(x->getType(), 0x1p-12));
  return b.CreateSelect(tiny, x, b.CreateFPTrunc(t, x->getType()));
}

Value *Emitter::sigmoidOf(Value *x, DType dt) {
  if (dt == DType::F32) { // in double, as the interpreter, rounded once
    llvm::Type *dty = x->getType()->getWithNewType(b.getDoubleTy());
    auto fd = [&](double v) { return llvm::ConstantFP::get(dty, v); };
    Value *d = b.CreateFPExt(x, dty);
    Value *s = b.CreateFDiv(fd(1), b.CreateFAdd(fd(1), expDouble(b.CreateFNeg(d))));
    return b.CreateFPTrunc(s, x->getType());
  }
  auto fc = [&](double v) { return llvm::ConstantFP::get(x->getType(), v); };
  return b.CreateFDiv(fc(1),
                      b.CreateFAdd(fc(1), intrinsic(llvm::Intrinsic::exp, {b.CreateFNeg(x)})));
}

Value *Emitter::expFloat(Value *x) {
  // exp(x) = 2^n e^r as expDouble does, in f32: ln 2 in two parts (the first exact in 9 bits,
  // so n * C1 is exact), e^r = 1 + r + r^2 P(r) with Cephes' degree-5 P. x is clamped to
  // [-87.3, 88.3], where 2^n is a normal float. NaN stays NaN (n = 0 for it). x may be a
  // vector of floats.
  llvm::Type *ft = x->getType(), *it = ft->getWithNewType(b.getInt32Ty());
  auto ff = [&](double v) { return llvm::ConstantFP::get(ft, v); };
  Value *c = b.CreateSelect(b.CreateFCmpOGT(x, ff(88.3)), ff(88.3), x);
  c = b.CreateSelect(b.CreateFCmpOLT(c, ff(-87.3)), ff(-87.3), c);
  Value *n = intrinsic(llvm::Intrinsic::rint, {b.CreateFMul(c, ff(1.44269504088896341))});
  n = b.CreateSelect(b.CreateFCmpUNO(c, c), ff(0), n);
  Value *r = b.CreateFSub(c, b.CreateFMul(n, ff(0.693359375)));
  r = b.CreateFSub(r, b.CreateFMul(n, ff(-2.12194440e-4)));
  Value *p = ff(1.9875691500e-4);
  for (double k :
       {1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1})
    p = intrinsic(llvm::Intrinsic::fmuladd, {p, r, ff(k)});
  p = b.CreateFAdd(intrinsic(llvm::Intrinsic::fmuladd, {p, b.CreateFMul(r, r), r}), ff(1));
  Value *ni = b.CreateFPToSI(n, it);
  Value *scale = b.CreateBitCast(
      b.CreateShl(b.CreateAdd(ni, llvm::ConstantInt::get(it, 127)), llvm::ConstantInt::get(it, 23)),
      ft);
  return b.CreateFMul(p, scale);
}

Value *Emitter::gateSigmoidOf(Value *x, DType dt) {
  if (dt != DType::F32)
    return sigmoidOf(x, dt);
  auto ff = [&](double v) { return llvm::ConstantFP::get(x->getType(), v); };
  return b.CreateFDiv(ff(1), b.CreateFAdd(ff(1), expFloat(b.CreateFNeg(x))));
}

Value *Emitter::gateTanhOf(Value *x, DType dt) {
  if (dt != DType::F32)
    return tanhOf(x, dt);
  auto ff = [&](double v) { return llvm::ConstantFP::get(x->getType(), v); };
  // Below 0.625 Cephes' odd polynomial (1 - 2 / (e^2x + 1) would cancel there); above it the
  // exp form on |x|, its sign put back.
  Value *s = b.CreateFMul(x, x);
  Value *p = ff(-5.70498872745e-3);
  for (double k : {2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1})
    p = intrinsic(llvm::Intrinsic::fmuladd, {p, s, ff(k)});
  Value *small = intrinsic(llvm::Intrinsic::fmuladd, {b.CreateFMul(p, s), x, x});
  Value *a = intrinsic(llvm::Intrinsic::fabs, {x});
  Value *big = b.CreateFSub(
      ff(1), b.CreateFDiv(ff(2), b.CreateFAdd(expFloat(b.CreateFMul(a, ff(2))), ff(1))));
  big = intrinsic(llvm::Intrinsic::copysign, {big, x});
  return b.CreateSelect(b.CreateFCmpOLT(a, ff(0.625)), small, big);
}

} // namespace weft::cpu::detail
