//===- backends/cuda/Math.cpp ---------------------------------------------===//
//
// Range reduction as in fdlibm: x = n ln2 + r with ln 2 in two parts (the
// high part has trailing zero bits, so n * ln2hi is exact), then a series on
// the small remainder.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/Math.h"

#include "backends/cuda/MathIR.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include <cmath>
#include <string>

namespace weft::cuda {
namespace {

using llvm::Value;

constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
constexpr double kLog2e = 1.4426950408889634;

class MathBuilder {
public:
  explicit MathBuilder(llvm::IRBuilder<> &b) : b(b), f64(b.getDoubleTy()), i64(b.getInt64Ty()) {}

  Value *c(double v) { return llvm::ConstantFP::get(f64, v); }
  Value *ci(int64_t v) { return llvm::ConstantInt::get(i64, static_cast<uint64_t>(v), true); }
  Value *fma(Value *a, Value *x, Value *y) {
    return b.CreateIntrinsic(llvm::Intrinsic::fma, {f64}, {a, x, y});
  }
  Value *rint(Value *x) { return b.CreateIntrinsic(llvm::Intrinsic::rint, {f64}, {x}); }
  Value *fabs(Value *x) { return b.CreateIntrinsic(llvm::Intrinsic::fabs, {f64}, {x}); }
  Value *copysign(Value *mag, Value *sign) {
    return b.CreateIntrinsic(llvm::Intrinsic::copysign, {f64}, {mag, sign});
  }
  Value *isNan(Value *x) { return b.CreateFCmpUNO(x, x); }

  /// sum_k coeffs[k] x^k by Horner's rule.
  Value *poly(Value *x, std::initializer_list<double> coeffs) {
    auto it = std::rbegin(coeffs);
    Value *acc = c(*it++);
    for (; it != std::rend(coeffs); ++it)
      acc = fma(acc, x, c(*it));
    return acc;
  }

  /// 2^k for an integer k in [-1022, 1023], from its bits.
  Value *pow2(Value *k) {
    return b.CreateBitCast(b.CreateShl(b.CreateAdd(k, ci(1023)), ci(52)), f64);
  }

  /// n = rint(x / ln 2) (0 for NaN) and r = x - n ln 2, for |x| below 750.
  std::pair<Value *, Value *> reduce(Value *x) {
    Value *n = rint(b.CreateFMul(x, c(kLog2e)));
    n = b.CreateSelect(isNan(x), c(0), n);
    Value *r = fma(b.CreateFNeg(n), c(kLn2Hi), x);
    r = fma(b.CreateFNeg(n), c(kLn2Lo), r);
    return {n, r};
  }

  /// The integer value of a float n known to be integral and small (no poison for NaN).
  Value *toInt(Value *n) { return b.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {i64, f64}, {n}); }

  Value *exp(Value *x) {
    // Clamp so that 2^n stays finite in two factors; beyond, the answer is inf or 0 anyway.
    Value *cx = b.CreateSelect(b.CreateFCmpOGT(x, c(709.8)), c(709.8), x);
    cx = b.CreateSelect(b.CreateFCmpOLT(cx, c(-745.2)), c(-745.2), cx);
    auto [n, r] = reduce(cx);
    // e^r for |r| <= ln2/2 by Taylor to r^13 / 13!: the next term is below 2^-56 relative.
    Value *p = poly(r, {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
                        1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600,
                        1.0 / 6227020800});
    Value *k = toInt(n);
    Value *k1 = b.CreateAShr(k, ci(1)), *k2 = b.CreateSub(k, k1);
    Value *e = b.CreateFMul(b.CreateFMul(p, pow2(k1)), pow2(k2));
    e = b.CreateSelect(b.CreateFCmpOGT(x, c(709.782712893384)), c(INFINITY), e);
    return b.CreateSelect(b.CreateFCmpOLT(x, c(-745.1332191019412)), c(0), e);
  }

  Value *expm1(Value *x) {
    // e^r - 1 by its Taylor series to r^16 / 16!; for n = 0 that is the answer, otherwise
    // 2^n (e^r - 1) + (2^n - 1), which does not cancel for n != 0. Below -60 it is -1.
    Value *cx = b.CreateSelect(b.CreateFCmpOGT(x, c(709.8)), c(709.8), x);
    cx = b.CreateSelect(b.CreateFCmpOLT(cx, c(-60.0)), c(-60.0), cx);
    auto [n, r] = reduce(cx);
    std::initializer_list<double> tail{1.0 / 2,
                                       1.0 / 6,
                                       1.0 / 24,
                                       1.0 / 120,
                                       1.0 / 720,
                                       1.0 / 5040,
                                       1.0 / 40320,
                                       1.0 / 362880,
                                       1.0 / 3628800,
                                       1.0 / 39916800,
                                       1.0 / 479001600,
                                       1.0 / 6227020800,
                                       1.0 / 87178291200,
                                       1.0 / 1307674368000,
                                       1.0 / 20922789888000};
    Value *em = fma(b.CreateFMul(r, r), poly(r, tail), r);
    // 2^n in two factors (n <= 1023 here: x <= 709.8), a product that is exact.
    Value *k = toInt(n);
    Value *k1 = b.CreateAShr(k, ci(1)), *k2 = b.CreateSub(k, k1);
    Value *p2 = b.CreateFMul(pow2(k1), pow2(k2));
    Value *e = fma(em, p2, b.CreateFSub(p2, c(1.0)));
    e = b.CreateSelect(b.CreateFCmpOEQ(n, c(0)), em, e);
    e = b.CreateSelect(b.CreateFCmpOGT(x, c(709.782712893384)), c(INFINITY), e);
    return b.CreateSelect(b.CreateFCmpOLT(x, c(-60.0)), c(-1.0), e);
  }

  Value *log(Value *x) {
    // x = m 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s), s = (m - 1) / (m + 1),
    // |s| <= 0.1716, by its series to s^21 / 21 (the next term is below 2^-55 relative).
    Value *sub = b.CreateFCmpOLT(x, c(0x1p-1022));
    Value *xs = b.CreateSelect(sub, b.CreateFMul(x, c(0x1p54)), x);
    Value *bits = b.CreateBitCast(xs, i64);
    Value *e = b.CreateSub(b.CreateAnd(b.CreateLShr(bits, ci(52)), ci(0x7ff)), ci(1023));
    e = b.CreateSelect(sub, b.CreateSub(e, ci(54)), e);
    Value *m = b.CreateBitCast(
        b.CreateOr(b.CreateAnd(bits, ci(0x000fffffffffffffll)), ci(0x3ff0000000000000ll)), f64);
    Value *big = b.CreateFCmpOGT(m, c(1.4142135623730951));
    m = b.CreateSelect(big, b.CreateFMul(m, c(0.5)), m);
    e = b.CreateSelect(big, b.CreateAdd(e, ci(1)), e);
    Value *s = b.CreateFDiv(b.CreateFSub(m, c(1.0)), b.CreateFAdd(m, c(1.0)));
    Value *s2 = b.CreateFMul(s, s);
    Value *p = b.CreateFMul(s2, poly(s2, {1.0 / 3, 1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11, 1.0 / 13,
                                          1.0 / 15, 1.0 / 17, 1.0 / 19, 1.0 / 21}));
    Value *twoS = b.CreateFMul(s, c(2.0));
    Value *lnm = fma(twoS, p, twoS);
    Value *ef = b.CreateSIToFP(e, f64);
    Value *y = fma(ef, c(kLn2Hi), fma(ef, c(kLn2Lo), lnm));
    y = b.CreateSelect(b.CreateFCmpOEQ(x, c(INFINITY)), c(INFINITY), y);
    y = b.CreateSelect(b.CreateFCmpOEQ(x, c(0.0)), c(-INFINITY), y);
    y = b.CreateSelect(b.CreateFCmpOLT(x, c(0.0)), c(NAN), y);
    return b.CreateSelect(isNan(x), x, y);
  }

  Value *tanh(Value *x) {
    // tanh |x| = t / (t + 2), t = expm1(2 |x|); exactly 1 in double beyond 19.1.
    Value *a = fabs(x);
    Value *t = expm1(b.CreateFMul(a, c(2.0)));
    Value *y = b.CreateFDiv(t, b.CreateFAdd(t, c(2.0)));
    y = b.CreateSelect(b.CreateFCmpOGT(a, c(19.1)), c(1.0), y);
    return copysign(y, x);
  }

  Value *sigmoid(Value *x) {
    return b.CreateFDiv(c(1.0), b.CreateFAdd(c(1.0), exp(b.CreateFNeg(x))));
  }

private:
  llvm::IRBuilder<> &b;
  llvm::Type *f64, *i64;
};

} // namespace

const char *mathFnName(MathFn fn) {
  switch (fn) {
  case MathFn::Exp:
    return "exp";
  case MathFn::Expm1:
    return "expm1";
  case MathFn::Log:
    return "log";
  case MathFn::Tanh:
    return "tanh";
  case MathFn::Sigmoid:
    return "sigmoid";
  case MathFn::Sin:
    return "sin";
  case MathFn::Cos:
    return "cos";
  case MathFn::Erf:
    return "erf";
  }
  return "?";
}

llvm::Function *mathFunction(llvm::Module &m, MathFn fn) {
  std::string name = std::string("weft_") + mathFnName(fn);
  if (llvm::Function *f = m.getFunction(name))
    return f;
  llvm::LLVMContext &ctx = m.getContext();
  auto *f64 = llvm::Type::getDoubleTy(ctx);
  auto *f = llvm::Function::Create(llvm::FunctionType::get(f64, {f64}, false),
                                   llvm::Function::InternalLinkage, name, m);
  f->addFnAttr(llvm::Attribute::AlwaysInline);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  f->setDoesNotAccessMemory();
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
  MathBuilder mb(b);
  Value *x = f->getArg(0);
  Value *y = nullptr;
  switch (fn) {
  case MathFn::Exp:
    y = mb.exp(x);
    break;
  case MathFn::Expm1:
    y = mb.expm1(x);
    break;
  case MathFn::Log:
    y = mb.log(x);
    break;
  case MathFn::Tanh:
    y = mb.tanh(x);
    break;
  case MathFn::Sigmoid:
    y = mb.sigmoid(x);
    break;
  case MathFn::Sin:
  case MathFn::Cos:
    y = detail::emitSinCos(b, m, x, fn == MathFn::Cos);
    break;
  case MathFn::Erf:
    y = detail::emitErf(b, m, x);
    break;
  }
  b.CreateRet(y);
  return f;
}

llvm::Function *powFunction(llvm::Module &m) {
  if (llvm::Function *f = m.getFunction("weft_pow"))
    return f;
  llvm::LLVMContext &ctx = m.getContext();
  auto *f64 = llvm::Type::getDoubleTy(ctx);
  auto *f = llvm::Function::Create(llvm::FunctionType::get(f64, {f64, f64}, false),
                                   llvm::Function::InternalLinkage, "weft_pow", m);
  f->addFnAttr(llvm::Attribute::AlwaysInline);
  f->addFnAttr(llvm::Attribute::NoUnwind);
  f->setDoesNotAccessMemory();
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
  b.CreateRet(detail::emitPow(b, m, f->getArg(0), f->getArg(1)));
  return f;
}

} // namespace weft::cuda
