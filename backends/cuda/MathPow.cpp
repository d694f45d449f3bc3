//===- backends/cuda/MathPow.cpp - pow in double ---------------------------===//
//
// pow(x, y) = +-exp(y ln|x|), with ln|x| and its product by y in double-double: an error e in
// t = y ln|x| is a relative error e in the result, and |t| reaches 745, so t needs about 64
// good bits where a double has 53.
//
//   ln|x|   |x| = m 2^k, m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact), s = f / (2 + f) and
//           ln m = 2 atanh(s) = 2s (1 + z/3 + z^2/5 + ...), z = s^2 <= 0.0295: s, z, z/3 and
//           the products in double-double, the rest of the series (below 2^-10) in double;
//           then k ln 2 with ln 2 in two parts (k times the first is exact).
//   exp     t = n ln 2 + r (r exact by fma: both are multiples of 2^-43 below 2^10), r + the
//           low parts as a double-double, e^r by Taylor to r^13 / 13! times (1 + r_lo), and
//           2^n in two factors, which overflow and underflow (into subnormals) by themselves
//           once t is clamped to [-746, 710].
//
// The special cases are C's (and the interpreter's std::pow): y = 0 or x = 1 give 1 even
// with a NaN; (-1)^(+-inf) = 1; a negative finite x to a non-integer finite y is NaN; an odd
// integer y keeps x's sign; zeros and infinities by the sign of y.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/MathIR.h"

#include <cmath>

namespace weft::cuda::detail {
namespace {

using llvm::Value;

constexpr double kLn2Hi = 6.93147180369123816490e-01, kLn2Lo = 1.90821492927058770002e-10;
constexpr double kLog2e = 1.4426950408889634;

class PowBuilder : public F64Builder {
public:
  using F64Builder::F64Builder;

  /// ln x as a double-double, for finite x > 0 (subnormals too).
  DD logDD(Value *x) {
    Value *sub = b.CreateFCmpOLT(x, c(0x1p-1022));
    Value *xs = b.CreateSelect(sub, b.CreateFMul(x, c(0x1p54)), x);
    Value *bits = b.CreateBitCast(xs, i64);
    Value *k = b.CreateSub(b.CreateAnd(b.CreateLShr(bits, ci(52)), ci(0x7ff)), ci(1023));
    k = b.CreateSelect(sub, b.CreateSub(k, ci(54)), k);
    Value *mant = b.CreateBitCast(
        b.CreateOr(b.CreateAnd(bits, ci(0x000fffffffffffffll)), ci(0x3ff0000000000000ll)), f64);
    Value *big = b.CreateFCmpOGT(mant, c(1.4142135623730951));
    mant = b.CreateSelect(big, b.CreateFMul(mant, c(0.5)), mant);
    k = b.CreateSelect(big, b.CreateAdd(k, ci(1)), k);
    Value *f = b.CreateFSub(mant, c(1.0));
    DD u = fastTwoSum(c(2.0), f);
    // s = f / u in double-double: the quotient's remainder by fma.
    Value *sh = b.CreateFDiv(f, u.hi);
    Value *rem = b.CreateFSub(fma(b.CreateFNeg(sh), u.hi, f), b.CreateFMul(sh, u.lo));
    DD s = fastTwoSum(sh, b.CreateFDiv(rem, u.hi));
    DD z = mul(s, s);
    Value *rest = b.CreateFMul(b.CreateFMul(z.hi, z.hi),
                               poly(z.hi, {1.0 / 5, 1.0 / 7, 1.0 / 9, 1.0 / 11, 1.0 / 13, 1.0 / 15,
                                           1.0 / 17, 1.0 / 19, 1.0 / 21, 1.0 / 23, 1.0 / 25}));
    DD third = mul(z, DD{c(1.0 / 3), c(1.850371707708594e-17)}); // z/3
    DD series = add(fastTwoSum(c(1.0), third.hi), b.CreateFAdd(third.lo, rest));
    DD lnm = mul(DD{b.CreateFMul(s.hi, c(2.0)), b.CreateFMul(s.lo, c(2.0))}, series);
    Value *kf = b.CreateSIToFP(k, f64);
    DD kln2 = fastTwoSum(b.CreateFMul(kf, c(kLn2Hi)), b.CreateFMul(kf, c(kLn2Lo)));
    return add(kln2, lnm);
  }

  /// e^t for t = t.hi + t.lo.
  Value *expDD(DD t) {
    Value *th = b.CreateSelect(b.CreateFCmpOGT(t.hi, c(710.0)), c(710.0), t.hi);
    th = b.CreateSelect(b.CreateFCmpOLT(th, c(-746.0)), c(-746.0), th);
    Value *n = rint(b.CreateFMul(th, c(kLog2e)));
    Value *r = fma(b.CreateFNeg(n), c(kLn2Hi), th);
    DD red = twoSum(r, b.CreateFSub(t.lo, b.CreateFMul(n, c(kLn2Lo))));
    Value *p = poly(red.hi, {1.0, 1.0, 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040,
                             1.0 / 40320, 1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800,
                             1.0 / 479001600, 1.0 / 6227020800});
    p = fma(p, red.lo, p);
    Value *k = toInt(n);
    Value *k1 = b.CreateAShr(k, ci(1)), *k2 = b.CreateSub(k, k1);
    return b.CreateFMul(b.CreateFMul(p, pow2(k1)), pow2(k2));
  }

  Value *pow(Value *x, Value *y) {
    Value *ax = fabs(x), *ay = fabs(y);
    Value *inf = c(INFINITY), *one = c(1.0), *zero = c(0.0);
    Value *yInt = b.CreateFCmpOEQ(rint(y), y); // infinities count as (even) integers
    Value *half = b.CreateFMul(y, c(0.5));
    Value *yOdd = b.CreateAnd(b.CreateAnd(yInt, b.CreateFCmpOLT(ay, c(0x1p53))),
                              b.CreateFCmpONE(rint(half), half));
    Value *xNeg = b.CreateFCmpOLT(x, zero);
    // x's sign bit, so that (-0)^3 is -0.
    Value *negate = b.CreateAnd(b.CreateICmpSLT(b.CreateBitCast(x, i64), ci(0)), yOdd);
    // |x|^y for finite |x| > 0, y != 0.
    DD l = logDD(ax);
    Value *th = b.CreateFMul(y, l.hi);
    Value *tl = fma(y, l.lo, fma(y, l.hi, b.CreateFNeg(th)));
    Value *r = expDD(fastTwoSum(th, tl));
    r = b.CreateSelect(b.CreateFCmpOGT(th, c(710.0)), inf, r);
    r = b.CreateSelect(b.CreateFCmpOLT(th, c(-746.0)), zero, r);
    Value *yNeg = b.CreateFCmpOLT(y, zero);
    // x = +-0: y < 0 gives inf; x = +-inf: y < 0 gives 0.
    r = b.CreateSelect(b.CreateFCmpOEQ(ax, zero), b.CreateSelect(yNeg, inf, zero), r);
    r = b.CreateSelect(b.CreateFCmpOEQ(ax, inf), b.CreateSelect(yNeg, zero, inf), r);
    r = b.CreateSelect(negate, b.CreateFNeg(r), r);
    Value *finiteX = b.CreateFCmpONE(ax, inf);
    r = b.CreateSelect(b.CreateAnd(b.CreateAnd(xNeg, finiteX), b.CreateNot(yInt)), c(NAN), r);
    r = b.CreateSelect(b.CreateOr(isNan(x), isNan(y)), c(NAN), r);
    r = b.CreateSelect(b.CreateAnd(b.CreateFCmpOEQ(x, c(-1.0)), b.CreateFCmpOEQ(ay, inf)), one, r);
    r = b.CreateSelect(b.CreateFCmpOEQ(x, one), one, r);
    return b.CreateSelect(b.CreateFCmpOEQ(y, zero), one, r);
  }
};

} // namespace

Value *emitPow(llvm::IRBuilder<> &b, llvm::Module &, Value *x, Value *y) {
  return PowBuilder(b).pow(x, y);
}

} // namespace weft::cuda::detail
