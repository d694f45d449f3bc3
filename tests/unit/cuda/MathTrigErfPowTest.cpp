// sin, cos, erf and pow of backends/cuda/Math.h, JIT-compiled for the host, against the C
// library (which the interpreter calls) in double: over many inputs, the hard ones for each
// (arguments near multiples of pi/2, huge arguments, results near overflow and underflow),
// and C's special cases. The bounds tested are the ones Math.h states.
#include "backends/cuda/Math.h"
#include "tests/unit/cuda/HostJit.h"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace cuda_MathTrigErfPowTest {

using namespace weft::cuda;

namespace {

using Fn1 = double (*)(double);
using Fn2 = double (*)(double, double);

class HostFns {
public:
  HostFns() {
    auto [ctx, m] = jit_.newModule();
    for (MathFn fn : {MathFn::Sin, MathFn::Cos, MathFn::Erf})
      wrap(*m, mathFunction(*m, fn), std::string("host_") + mathFnName(fn));
    wrap(*m, powFunction(*m), "host_pow");
    jit_.add(std::move(ctx), std::move(m));
    sin = jit_.lookup<Fn1>("host_sin");
    cos = jit_.lookup<Fn1>("host_cos");
    erf = jit_.lookup<Fn1>("host_erf");
    pow = jit_.lookup<Fn2>("host_pow");
  }
  Fn1 sin, cos, erf;
  Fn2 pow;

private:
  static void wrap(llvm::Module &m, llvm::Function *inner, const std::string &name) {
    auto *w =
        llvm::Function::Create(inner->getFunctionType(), llvm::Function::ExternalLinkage, name, m);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(m.getContext(), "entry", w));
    std::vector<llvm::Value *> args;
    for (llvm::Argument &a : w->args())
      args.push_back(&a);
    b.CreateRet(b.CreateCall(inner, args));
  }
  weft::testing::HostJit jit_;
};

HostFns &fns() {
  static HostFns f;
  return f;
}

/// Units in the last place between two doubles; NaN against NaN is 0, NaN against a number
/// is "infinitely" far.
int64_t ulps(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return std::isnan(a) && std::isnan(b) ? 0 : std::numeric_limits<int64_t>::max();
  if (a == b)
    return std::signbit(a) == std::signbit(b) ? 0 : 1;
  auto key = [](double v) {
    auto i = std::bit_cast<int64_t>(v);
    return i < 0 ? std::numeric_limits<int64_t>::min() - i : i;
  };
  int64_t d = key(a) - key(b);
  return d < 0 ? -d : d;
}

struct Worst {
  int64_t ulps = 0;
  double x = 0, y = 0;
  void see(int64_t u, double a, double b = 0) {
    if (u > ulps)
      *this = {u, a, b};
  }
};

/// Magnitudes spread logarithmically between 10^lo and 10^hi, both signs, plus uniform ones.
std::vector<double> spread(double lo, double hi, int n, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> mag(lo, hi), uni(-std::pow(10.0, hi), std::pow(10.0, hi));
  std::vector<double> xs;
  for (int i = 0; i < n; ++i) {
    double m = std::pow(10.0, mag(gen));
    xs.push_back(gen() & 1 ? m : -m);
    xs.push_back(uni(gen));
  }
  return xs;
}

} // namespace

TEST_CASE("GPU sin and cos are within 1 ulp of the C library's for every double") {
  std::vector<double> xs = spread(-30, 308, 20000, 5);
  // The doubles nearest multiples of pi/2 (the hardest reductions), near and far.
  for (double k : {1.0, 2.0, 3.0, 4.0, 7.0, 1e3, 1e6, 3e8, 6.7e8, 1e9, 1e15})
    for (double x = std::nextafter(k * M_PI_2, 0), i = 0; i < 3; ++i, x = std::nextafter(x, 1e300))
      xs.push_back(x);
  // 2^30's edge (where Payne-Hanek takes over) and the largest doubles.
  for (double x : {0x1p30, std::nextafter(0x1p30, 0), 1e22, std::numeric_limits<double>::max(),
                   0x1p1023, 1e300})
    xs.insert(xs.end(), {x, -x});
  Worst s, c;
  for (double x : xs) {
    s.see(ulps(fns().sin(x), std::sin(x)), x);
    c.see(ulps(fns().cos(x), std::cos(x)), x);
  }
  INFO(fmt::format("sin: worst {} ulp at {:a}; cos: worst {} ulp at {:a}", s.ulps, s.x, c.ulps,
                   c.x));
  CHECK(s.ulps <= 1);
  CHECK(c.ulps <= 1);
  // 6381956970095103 * 2^797 is the double closest to a multiple of pi/2 (|r| = 2^-60.9). Its
  // cosine, correctly rounded (mpmath at 1500 bits), is -0x1.14ae72e6ba22fp-61; this machine's
  // C library is 8 ulp off there, so the interpreter is too.
  const double hardest = 6381956970095103.0 * 0x1p797;
  CHECK(fns().cos(hardest) == -0x1.14ae72e6ba22fp-61);
  CHECK(fns().cos(-hardest) == -0x1.14ae72e6ba22fp-61);
  CHECK(fns().sin(hardest) == std::sin(hardest));
}

TEST_CASE("GPU erf is within 2 ulp of the C library's") {
  Worst w;
  for (double x : spread(-320, 1.2, 30000, 9))
    w.see(ulps(fns().erf(x), std::erf(x)), x);
  for (double x = -7; x <= 7; x += 1.0 / 1024) // every interval's edges
    w.see(ulps(fns().erf(x), std::erf(x)), x);
  INFO("worst " << w.ulps << " ulp at " << w.x);
  CHECK(w.ulps <= 2);
}

TEST_CASE("GPU pow is within 2 ulp of the C library's, near overflow and underflow too") {
  std::mt19937_64 gen(11);
  std::uniform_real_distribution<double> mag(-300, 300), expo(-4, 3), unit(-1, 1);
  Worst w;
  auto check = [&](double x, double y) { w.see(ulps(fns().pow(x, y), std::pow(x, y)), x, y); };
  for (int i = 0; i < 25000; ++i) {
    double x = std::pow(10.0, mag(gen) / 10), y = std::pow(10.0, expo(gen)) * (gen() & 1 ? 1 : -1);
    check(x, y);
    // |y ln x| near 709 and 745: the results that overflow, or underflow into subnormals.
    double t = (gen() & 1 ? 709.0 : -744.0) + unit(gen);
    check(x, t / std::log(x));
    // x near 1, y large: y ln x needs its low bits.
    double near1 = 1 + unit(gen) * 1e-6;
    check(near1, t / std::log(near1));
    // Negative x with integer y.
    check(-x, std::round(y * 10));
  }
  for (double x : {4.9e-324, 2.2e-308, 1e-310, 0.5, 2.0, 10.0, 1.0000000000000002})
    for (double y : {-1074.5, -3.0, -0.5, 0.5, 3.0, 1e5, 1023.999})
      check(x, y);
  INFO("worst " << w.ulps << " ulp at pow(" << w.x << ", " << w.y << ")");
  CHECK(w.ulps <= 2);
}

TEST_CASE("GPU pow's special cases are C's") {
  const double inf = INFINITY, nan = NAN;
  const double xs[] = {0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, -0.5, inf, -inf, nan, 3.7, -3.7};
  const double ys[] = {0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 0.5, -0.5, inf, -inf, nan, 2.5};
  for (double x : xs)
    for (double y : ys) {
      CAPTURE(x);
      CAPTURE(y);
      const double got = fns().pow(x, y), want = std::pow(x, y);
      // Exact where the answer is special (0, 1, inf, NaN), else within the usual 2 ulp.
      const bool special = !std::isfinite(want) || want == 0 || std::fabs(want) == 1;
      CHECK(ulps(got, want) <= (special ? 0 : 2));
    }
}

TEST_CASE("GPU sin, cos and erf: zeros keep their sign, NaN and infinities as C") {
  const double inf = INFINITY;
  CHECK(std::signbit(fns().sin(-0.0)));
  CHECK(!std::signbit(fns().sin(0.0)));
  CHECK(std::signbit(fns().erf(-0.0)));
  CHECK(fns().cos(-0.0) == 1.0);
  for (double x : {inf, -inf, double(NAN)}) {
    CHECK(std::isnan(fns().sin(x)));
    CHECK(std::isnan(fns().cos(x)));
  }
  CHECK(std::isnan(fns().erf(NAN)));
  CHECK(fns().erf(inf) == 1.0);
  CHECK(fns().erf(-inf) == -1.0);
  CHECK(fns().erf(1e-310) == std::erf(1e-310));
}

} // namespace cuda_MathTrigErfPowTest
