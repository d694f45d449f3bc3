//===- backends/cuda/MathTrig.cpp - sin and cos for every double ----------===//
//
// x = n pi/2 + r, |r| <= pi/4 (about), with r as a double-double rh + rl accurate relative to
// r itself, then fdlibm's kernels with their tail term on r in the quadrant n mod 4:
//
//   |x| < 2^30   Cody-Waite: pi/2 = C1 + C2 + C3 (each the double nearest the rest),
//                r1 = fma(-n, C1, x) is exact (x and n C1 are multiples of 2^-52 when
//                |x| >= 1, and |r1| < 2), and the rest is subtracted in double-double. The
//                error is about |n| 2^-159 + 2^-106 |r|, against |r| > 2^-62 for every double
//                below 2^30 (the closest doubles to multiples of pi/2 are further).
//   2^30 <= |x|  Payne-Hanek: x = m 2^e with m a 53-bit integer, and x 2/pi mod 4 =
//                m * (192 bits of 2/pi starting at the bit of weight 2^(1-e)) * 2^-190, in
//                integers: the bits above 2^(1-e) only add multiples of 4, those below 192
//                change the fraction by less than 2^-137. The 190-bit fraction f (made
//                |f| <= 1/2 by carrying into n) becomes a double-double and r = f pi/2.
//
// NaN and infinities give NaN (the Cody-Waite path's arithmetic makes it).
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/MathIR.h"

#include <cmath>
#include <cstdint>

namespace weft::cuda::detail {
namespace {

using llvm::Value;

// pi/2 = kC1 + kC2 + kC3 to about 2^-160; 2/pi rounded.
constexpr double kC1 = 0x1.921fb54442d18p+0, kC2 = 0x1.1a62633145c07p-54,
                 kC3 = -0x1.f1976b7ed8fbcp-110;
constexpr double kTwoOverPi = 6.36619772367581382433e-01;

// The bits of 2/pi after the binary point, 64 to a word, behind two words of zeros: bit i of
// 2/pi (weight 2^-i) is bit 127 + i of the table, counting from the top of word 0, so that a
// window may start at i = -23 (x = 2^30).
constexpr uint64_t kTwoOverPiBits[] = {
    0,
    0,
    0xa2f9836e4e441529ull,
    0xfc2757d1f534ddc0ull,
    0xdb6295993c439041ull,
    0xfe5163abdebbc561ull,
    0xb7246e3a424dd2e0ull,
    0x06492eea09d1921cull,
    0xfe1deb1cb129a73eull,
    0xe88235f52ebb4484ull,
    0xe99c7026b45f7e41ull,
    0x3991d639835339f4ull,
    0x9c845f8bbdf9283bull,
    0x1ff897ffde05980full,
    0xef2f118b5a0a6d1full,
    0x6d367ecf27cb09b7ull,
    0x4f463f669e5fea2dull,
    0x7527bac7ebe5f17bull,
    0x3d0739f78a5292eaull,
    0x6bfb5fb11f8d5d08ull,
    0x56033046fc7b6babull,
    0xf0cfbc209af4361dull,
};

struct Reduced {
  DD r;
  Value *quadrant; // n mod 4, i64
};

class TrigBuilder : public F64Builder {
public:
  TrigBuilder(llvm::IRBuilder<> &b, llvm::Module &m) : F64Builder(b), m(m) {}

  Reduced codyWaite(Value *x) {
    Value *n = rint(b.CreateFMul(x, c(kTwoOverPi)));
    // No reduction within pi/4: r = x keeps the sign of a zero.
    n = b.CreateSelect(b.CreateFCmpOLE(fabs(x), c(M_PI_4)), c(0), n);
    Value *r1 = fma(b.CreateFNeg(n), c(kC1), x);
    DD p = twoProd(n, c(kC2));
    DD s = twoSum(r1, b.CreateFNeg(p.hi));
    Value *tail = b.CreateFSub(b.CreateFSub(s.lo, p.lo), b.CreateFMul(n, c(kC3)));
    return {fastTwoSum(s.hi, tail), b.CreateAnd(toInt(n), ci(3))};
  }

  /// The high and low 64 bits of the 128-bit product a * b.
  std::pair<Value *, Value *> mulWide(Value *a, Value *x) {
    auto *i128 = b.getInt128Ty();
    Value *p = b.CreateMul(b.CreateZExt(a, i128), b.CreateZExt(x, i128));
    return {b.CreateTrunc(b.CreateLShr(p, 64), i64), b.CreateTrunc(p, i64)};
  }

  Value *tableWord(Value *j) {
    auto *ty = llvm::ArrayType::get(i64, std::size(kTwoOverPiBits));
    llvm::GlobalVariable *g = m.getNamedGlobal("weft_two_over_pi_bits");
    if (!g) {
      std::vector<llvm::Constant *> words;
      for (uint64_t w : kTwoOverPiBits)
        words.push_back(llvm::ConstantInt::get(i64, w));
      g = new llvm::GlobalVariable(m, ty, /*isConstant=*/true, llvm::GlobalValue::InternalLinkage,
                                   llvm::ConstantArray::get(ty, words), "weft_two_over_pi_bits");
    }
    return b.CreateLoad(i64, b.CreateInBoundsGEP(ty, g, {ci(0), j}));
  }

  /// Word k of the 192-bit window that starts at bit `s` of word `j` (0 <= s < 64).
  Value *window(Value *j, Value *s, int k) {
    Value *hi = tableWord(b.CreateAdd(j, ci(k))), *lo = tableWord(b.CreateAdd(j, ci(k + 1)));
    // lo >> (64 - s) in two steps, so that s = 0 shifts by 64 without poison.
    Value *low = b.CreateLShr(b.CreateLShr(lo, ci(1)), b.CreateSub(ci(63), s));
    return b.CreateOr(b.CreateShl(hi, s), low);
  }

  /// A 32-bit piece of a word as an exact double times 2^scale.
  Value *piece(Value *word, bool high, int scale) {
    Value *bits = high ? b.CreateLShr(word, ci(32)) : b.CreateAnd(word, ci(0xffffffff));
    return b.CreateFMul(b.CreateUIToFP(bits, f64), c(std::ldexp(1.0, scale)));
  }

  Reduced payneHanek(Value *x) {
    Value *bits = b.CreateBitCast(fabs(x), i64);
    Value *m53 = b.CreateOr(b.CreateAnd(bits, ci((int64_t(1) << 52) - 1)), ci(int64_t(1) << 52));
    Value *e = b.CreateSub(b.CreateLShr(bits, ci(52)), ci(1075)); // x = m53 2^e, e >= -22
    Value *pos = b.CreateAdd(e, ci(126));                         // bit e - 1 of 2/pi
    Value *j = b.CreateLShr(pos, ci(6)), *s = b.CreateAnd(pos, ci(63));
    Value *w0 = window(j, s, 0), *w1 = window(j, s, 1), *w2 = window(j, s, 2);
    // P = m53 * (w0 w1 w2), the bits below 192 of it: p2 p1 p0.
    auto [h0, p0] = mulWide(m53, w2);
    auto [h1, l1] = mulWide(m53, w1);
    Value *l2 = b.CreateMul(m53, w0);
    Value *p1 = b.CreateAdd(h0, l1);
    Value *carry = b.CreateZExt(b.CreateICmpULT(p1, h0), i64);
    Value *p2 = b.CreateAdd(b.CreateAdd(h1, l2), carry);
    // The binary point is after bit 62 of p2: two bits of n, then a 190-bit fraction.
    Value *q = b.CreateAnd(b.CreateLShr(p2, ci(62)), ci(3));
    Value *f2 = b.CreateAnd(p2, ci((int64_t(1) << 62) - 1));
    // A fraction of 1/2 or more is f - 1 with n + 1: negate the 190 bits.
    Value *upper = b.CreateICmpNE(b.CreateAnd(f2, ci(int64_t(1) << 61)), ci(0));
    Value *n0 = b.CreateNot(p0), *n1 = b.CreateNot(p1), *n2 = b.CreateNot(f2);
    Value *m0 = b.CreateAdd(n0, ci(1));
    Value *c0 = b.CreateZExt(b.CreateICmpEQ(m0, ci(0)), i64);
    Value *m1 = b.CreateAdd(n1, c0);
    Value *c1 =
        b.CreateZExt(b.CreateAnd(b.CreateICmpEQ(m1, ci(0)), b.CreateICmpEQ(c0, ci(1))), i64);
    Value *m2 = b.CreateAnd(b.CreateAdd(n2, c1), ci((int64_t(1) << 62) - 1));
    Value *g0 = b.CreateSelect(upper, m0, p0), *g1 = b.CreateSelect(upper, m1, p1),
          *g2 = b.CreateSelect(upper, m2, f2);
    q = b.CreateAnd(b.CreateAdd(q, b.CreateZExt(upper, i64)), ci(3));
    // f = g2 2^-62 + g1 2^-126 + g0 2^-190, summed in double-double from the top.
    DD f = twoSum(piece(g2, true, -30), piece(g2, false, -62));
    f = add(f, piece(g1, true, -94));
    f = add(f, piece(g1, false, -126));
    f = add(f, piece(g0, true, -158));
    f = add(f, piece(g0, false, -190));
    DD r = mul(f, DD{c(kC1), c(kC2)});
    Value *neg = b.CreateSelect(upper, c(-1.0), c(1.0));
    r = {b.CreateFMul(r.hi, neg), b.CreateFMul(r.lo, neg)};
    // sin and cos of -x: -r in quadrant -n.
    Value *negX = b.CreateFCmpOLT(x, c(0));
    r = {b.CreateSelect(negX, b.CreateFNeg(r.hi), r.hi),
         b.CreateSelect(negX, b.CreateFNeg(r.lo), r.lo)};
    q = b.CreateSelect(negX, b.CreateAnd(b.CreateSub(ci(0), q), ci(3)), q);
    return {r, q};
  }

  /// fdlibm's __kernel_sin(x, y, 1): sin(x + y) for |x| <= pi/4, |y| tiny.
  Value *kernelSin(DD r) {
    Value *x = r.hi, *y = r.lo;
    Value *z = b.CreateFMul(x, x), *v = b.CreateFMul(z, x);
    Value *p = poly(z, {8.33333333332248946124e-03, -1.98412698298579493134e-04,
                        2.75573137070700676789e-06, -2.50507602534068634195e-08,
                        1.58969099521155010221e-10});
    Value *inner = b.CreateFMul(z, b.CreateFSub(b.CreateFMul(c(0.5), y), b.CreateFMul(v, p)));
    Value *t =
        b.CreateFSub(b.CreateFSub(inner, y), b.CreateFMul(v, c(-1.66666666666666324348e-01)));
    return b.CreateFSub(x, t);
  }

  /// fdlibm's __kernel_cos(x, y): cos(x + y) for |x| <= pi/4, |y| tiny.
  Value *kernelCos(DD r) {
    Value *x = r.hi, *y = r.lo;
    Value *z = b.CreateFMul(x, x);
    Value *p = b.CreateFMul(z, poly(z, {4.16666666666666019037e-02, -1.38888888888741095749e-03,
                                        2.48015872894767294178e-05, -2.75573143513906633035e-07,
                                        2.08757232129817482790e-09, -1.13596475577881948265e-11}));
    Value *hz = b.CreateFMul(z, c(0.5)), *w = b.CreateFSub(c(1.0), hz);
    Value *rest = b.CreateFAdd(b.CreateFSub(b.CreateFSub(c(1.0), w), hz),
                               b.CreateFSub(b.CreateFMul(z, p), b.CreateFMul(x, y)));
    return b.CreateFAdd(w, rest);
  }

  Value *sinCos(Value *x, bool cosine) {
    llvm::Function *f = b.GetInsertBlock()->getParent();
    llvm::LLVMContext &ctx = m.getContext();
    auto *near = llvm::BasicBlock::Create(ctx, "cody_waite", f);
    auto *far = llvm::BasicBlock::Create(ctx, "payne_hanek", f);
    auto *join = llvm::BasicBlock::Create(ctx, "reduced", f);
    Value *ax = fabs(x);
    Value *huge = b.CreateAnd(b.CreateFCmpOGE(ax, c(0x1p30)), b.CreateFCmpONE(ax, c(INFINITY)));
    b.CreateCondBr(huge, far, near);
    b.SetInsertPoint(near);
    Reduced a = codyWaite(x);
    llvm::BasicBlock *nearEnd = b.GetInsertBlock();
    b.CreateBr(join);
    b.SetInsertPoint(far);
    Reduced p = payneHanek(x);
    llvm::BasicBlock *farEnd = b.GetInsertBlock();
    b.CreateBr(join);
    b.SetInsertPoint(join);
    auto phi = [&](Value *u, Value *v) {
      llvm::PHINode *node = b.CreatePHI(u->getType(), 2);
      node->addIncoming(u, nearEnd);
      node->addIncoming(v, farEnd);
      return node;
    };
    DD r{phi(a.r.hi, p.r.hi), phi(a.r.lo, p.r.lo)};
    Value *q = phi(a.quadrant, p.quadrant);
    // cos x = sin(x + pi/2): one quadrant on. Quadrants 0..3: sin, cos, -sin, -cos of r.
    if (cosine)
      q = b.CreateAnd(b.CreateAdd(q, ci(1)), ci(3));
    Value *odd = b.CreateICmpEQ(b.CreateAnd(q, ci(1)), ci(1));
    Value *y = b.CreateSelect(odd, kernelCos(r), kernelSin(r));
    y = b.CreateSelect(b.CreateICmpUGE(q, ci(2)), b.CreateFNeg(y), y);
    if (!cosine) // sin(+-0) = +-0
      y = b.CreateSelect(b.CreateFCmpOEQ(x, c(0)), x, y);
    return y;
  }

private:
  llvm::Module &m;
};

} // namespace

Value *emitSinCos(llvm::IRBuilder<> &b, llvm::Module &m, Value *x, bool cosine) {
  return TrigBuilder(b, m).sinCos(x, cosine);
}

} // namespace weft::cuda::detail
