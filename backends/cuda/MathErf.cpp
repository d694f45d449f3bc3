//===- backends/cuda/MathErf.cpp - erf in double ---------------------------===//
//
//   |x| < 1       erf(x) = x P(x^2)
//   1 <= |x| < 6  erf(|x|) = 1 - exp(-x^2) g(|x|), g(x) = erfc(x) exp(x^2) a polynomial in
//                 t = |x| - centre on [1, 2), [2, 3.5), [3.5, 6) (t is exact: Sterbenz);
//                 exp(-x^2) = exp(-h) (1 - l) with x^2 = h + l exactly (fma)
//   6 <= |x|      erf(|x|) = 1 (erfc(6) = 2e-17 is below half an ulp of 1)
// and erf(-x) = -erf(x). The coefficients are Chebyshev fits in 200-bit arithmetic, printed by
// scripts/cuda_erf_coefficients.py with their errors (below 2^-64 relative to erf); what is
// left is the rounding of the evaluation, within 2 ulp (tests/unit/cuda/MathTest.cpp).
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/Math.h"
#include "backends/cuda/MathIR.h"

#include <cmath>
#include <iterator>

namespace weft::cuda::detail {
namespace {

using llvm::Value;

// |x| < 1: P(z), z = x^2, fit error 2.16e-21
constexpr double kErfSmall[] = {
    1.1283791670955126,      -0.37612638903183754,    0.1128379167095512,
    -0.02686617064512984,    0.0052239776254232985,   -0.000854832702193483,
    0.00012055332902888736,  -1.4925647567519332e-05, 1.6462045441468418e-06,
    -1.6364642158167616e-07, 1.4792401209404813e-08,  -1.216456005728345e-09,
    8.709045129053106e-11,   -4.230945824295338e-12};
// [1, 2): g(centre + t), centre 1.5, fit error relative to erf 1.29e-20
constexpr double kErfc0[] = {
    0.3215854164543175,     -0.16362291773256007,   0.07615103985547739,    -0.032930905299562635,
    0.013377340953068511,   -0.005145957547985475,  0.0018861348769562312,  -0.0006619300663930904,
    0.00022330994586274217, -7.265892257522832e-05, 2.2864294807967016e-05, -6.974987241686018e-06,
    2.067088490322641e-06,  -5.961119446974675e-07, 1.6708703859197203e-07, -4.585146974854072e-08,
    1.329844554951821e-08,  -3.4778531023839574e-09};
// [2, 3.5): g(centre + t), centre 2.75, fit error relative to erf 3.75e-21
constexpr double kErfc1[] = {
    0.1936620962790687,    -0.06323763756063484,    0.019758592987322816,   -0.005934337896997966,
    0.0017195818852915683, -0.0004821950849815436,  0.0001311818004875362,  -3.469860956890751e-05,
    8.940156439196906e-06, -2.2473735137402935e-06, 5.519738191507474e-07,  -1.3262502467727597e-07,
    3.121531648858328e-08, -7.2012225046835695e-09, 1.6194561547466204e-09, -3.601905695321358e-10,
    8.88871719258283e-11,  -1.9033341776852134e-11};
// [3.5, 6): g(centre + t), centre 4.75, fit error relative to erf 1.09e-23
constexpr double kErfc2[] = {
    0.11630270721024731,    -0.02350344859816315,    0.00466132636897215,   -0.0009080988970296605,
    0.00017392830404389724, -3.27757811351432e-05,   6.081114529130165e-06, -1.1115677167336422e-06,
    2.0029203969026852e-07, -3.5595758245294924e-08, 6.242305999386548e-09, -1.0807407331242056e-09,
    1.8494111335759245e-10, -3.124412795480489e-11,  5.12800546963121e-12,  -8.473208026588069e-13,
    1.6893363955995483e-13, -2.7193036019864156e-14};

constexpr double kErfcCentre[] = {1.5, 2.75, 4.75};

} // namespace

Value *emitErf(llvm::IRBuilder<> &b, llvm::Module &m, Value *x) {
  F64Builder f(b);
  Value *ax = f.fabs(x);
  // |x| < 1
  Value *z = b.CreateFMul(x, x);
  Value *p = f.c(kErfSmall[std::size(kErfSmall) - 1]);
  for (size_t k = std::size(kErfSmall) - 1; k-- > 0;)
    p = f.fma(p, z, f.c(kErfSmall[k]));
  Value *small = b.CreateFMul(x, p);
  // 1 <= |x| < 6: the interval's coefficients picked term by term.
  Value *second = b.CreateFCmpOGE(ax, f.c(2.0)), *third = b.CreateFCmpOGE(ax, f.c(3.5));
  auto pick = [&](double a, double b1, double c) {
    return b.CreateSelect(third, f.c(c), b.CreateSelect(second, f.c(b1), f.c(a)));
  };
  Value *t = b.CreateFSub(ax, pick(kErfcCentre[0], kErfcCentre[1], kErfcCentre[2]));
  const size_t n = std::size(kErfc0);
  static_assert(std::size(kErfc1) == std::size(kErfc0) && std::size(kErfc2) == std::size(kErfc0),
                "one degree for the three intervals");
  Value *g = pick(kErfc0[n - 1], kErfc1[n - 1], kErfc2[n - 1]);
  for (size_t k = n - 1; k-- > 0;)
    g = f.fma(g, t, pick(kErfc0[k], kErfc1[k], kErfc2[k]));
  DD sq = f.twoProd(ax, ax);
  Value *e = b.CreateCall(mathFunction(m, MathFn::Exp), {b.CreateFNeg(sq.hi)});
  e = f.fma(b.CreateFNeg(e), sq.lo, e);
  Value *large = b.CreateFSub(f.c(1.0), b.CreateFMul(e, g));
  large = b.CreateSelect(b.CreateFCmpOGE(ax, f.c(6.0)), f.c(1.0), large);
  large = f.copysign(large, x);
  // NaN is unordered: it takes the |x| < 1 path, which keeps it.
  return b.CreateSelect(b.CreateFCmpOGE(ax, f.c(1.0)), large, small);
}

} // namespace weft::cuda::detail
