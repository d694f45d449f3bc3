// The GPU's math functions (backends/cuda/Math.h) are target-independent LLVM IR, so they are
// checked here on the host, JIT-compiled, against the C library over many inputs.
#include "backends/cuda/Math.h"

#include "tests/unit/cuda/HostJit.h"

#include <doctest/doctest.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

namespace cuda_MathTest {

using namespace weft::cuda;

namespace {

using Fn = double (*)(double);

/// The math functions compiled for this machine, callable from C++.
class HostMath {
public:
  HostMath() {
    auto [ctx, m] = jit_.newModule();
    for (MathFn fn : kAll) {
      llvm::Function *inner = mathFunction(*m, fn);
      auto *wrapper =
          llvm::Function::Create(inner->getFunctionType(), llvm::Function::ExternalLinkage,
                                 std::string("host_") + mathFnName(fn), *m);
      llvm::IRBuilder<> b(llvm::BasicBlock::Create(*ctx, "entry", wrapper));
      b.CreateRet(b.CreateCall(inner, {wrapper->getArg(0)}));
    }
    jit_.add(std::move(ctx), std::move(m));
  }
  Fn get(MathFn fn) { return jit_.lookup<Fn>(std::string("host_") + mathFnName(fn)); }
  static constexpr MathFn kAll[] = {MathFn::Exp,  MathFn::Expm1,   MathFn::Log,
                                    MathFn::Tanh, MathFn::Sigmoid, MathFn::Cos};

private:
  weft::testing::HostJit jit_;
};

HostMath &hostMath() {
  static HostMath m;
  return m;
}

double libm(MathFn fn, double x) {
  switch (fn) {
  case MathFn::Exp:
    return std::exp(x);
  case MathFn::Expm1:
    return std::expm1(x);
  case MathFn::Log:
    return std::log(x);
  case MathFn::Tanh:
    return std::tanh(x);
  case MathFn::Sigmoid:
    return 1.0 / (1.0 + std::exp(-x));
  case MathFn::Sin: // (MathTrigErfPowTest.cpp checks sin, erf and the full range of cos)
    return std::sin(x);
  case MathFn::Cos:
    return std::cos(x);
  case MathFn::Erf:
    return std::erf(x);
  }
  return NAN;
}

/// Distance in units in the last place between two doubles of one sign (or both zero).
int64_t ulps(double a, double b) {
  if (a == b)
    return 0;
  auto key = [](double v) {
    auto i = std::bit_cast<int64_t>(v);
    return i < 0 ? std::numeric_limits<int64_t>::min() - i : i;
  };
  int64_t d = key(a) - key(b);
  return d < 0 ? -d : d;
}

int64_t ulpsF(float a, float b) {
  return ulps(static_cast<double>(a), static_cast<double>(b)) >> 29;
}

/// Inputs over the range where fn is interesting: uniform, plus logarithmically spread
/// magnitudes of both signs.
std::vector<double> inputs(MathFn fn) {
  std::mt19937_64 gen(7);
  // cos is defined for |x| below 2^20 pi/2 (Math.h).
  double hi = fn == MathFn::Log ? 1e300 : fn == MathFn::Exp ? 745 : fn == MathFn::Cos ? 1.6e6 : 40;
  std::vector<double> xs;
  std::uniform_real_distribution<double> uni(-hi, hi), mag(-30, std::log10(hi));
  for (int i = 0; i < 20000; ++i) {
    xs.push_back(uni(gen));
    double m = std::pow(10.0, mag(gen));
    xs.push_back(fn == MathFn::Log ? m : (gen() & 1 ? m : -m));
  }
  if (fn == MathFn::Log)
    for (double &x : xs)
      x = std::fabs(x);
  return xs;
}

} // namespace

// exp, expm1 and log are within 2 ulp; tanh and sigmoid, each a quotient of an expm1 or exp
// result, add the roundings of a sum and a division: within 3.
TEST_CASE("the GPU's math functions agree with the C library within 2 to 3 ulp in double") {
  for (MathFn fn : HostMath::kAll) {
    std::string name = mathFnName(fn);
    CAPTURE(name);
    Fn f = hostMath().get(fn);
    int64_t worst = 0;
    double worstAt = 0;
    for (double x : inputs(fn)) {
      int64_t u = ulps(f(x), libm(fn, x));
      if (u > worst)
        worst = u, worstAt = x;
    }
    INFO("worst " << worst << " ulp at x = " << worstAt);
    CHECK(worst <= (fn == MathFn::Tanh || fn == MathFn::Sigmoid ? 3 : 2));
  }
}

TEST_CASE("f32 results, rounded once from double, are within 1 ulp of the interpreter's") {
  for (MathFn fn : HostMath::kAll) {
    std::string name = mathFnName(fn);
    CAPTURE(name);
    Fn f = hostMath().get(fn);
    std::mt19937 gen(3);
    std::uniform_int_distribution<uint32_t> bits;
    int64_t worst = 0, differ = 0, n = 0;
    for (int i = 0; i < 50000; ++i) {
      float x = std::bit_cast<float>(bits(gen));
      if (std::isnan(x) || (fn == MathFn::Log && x < 0) ||
          (fn == MathFn::Cos && std::fabs(x) > 1.6e6))
        continue;
      ++n;
      float gpu = static_cast<float>(f(x)), ref = static_cast<float>(libm(fn, x));
      int64_t u = ulpsF(gpu, ref);
      worst = std::max(worst, u);
      differ += u != 0;
    }
    INFO(differ << " of " << n << " differ");
    CHECK(worst <= 1);
    CHECK(differ * 1000 <= n); // at most 0.1% differ at all
  }
}

TEST_CASE("special values: NaN, infinities, zeros, the edges of the range") {
  Fn exp = hostMath().get(MathFn::Exp), log = hostMath().get(MathFn::Log),
     tanh = hostMath().get(MathFn::Tanh), sigmoid = hostMath().get(MathFn::Sigmoid),
     expm1 = hostMath().get(MathFn::Expm1);
  const double inf = INFINITY, nan = NAN;
  Fn cos = hostMath().get(MathFn::Cos);
  for (Fn f : {exp, log, tanh, sigmoid, expm1, cos})
    CHECK(std::isnan(f(nan)));
  CHECK(cos(0.0) == 1.0);
  CHECK(cos(-0.0) == 1.0);
  CHECK(exp(inf) == inf);
  CHECK(exp(-inf) == 0.0);
  CHECK(exp(709.78) == std::exp(709.78));
  CHECK(exp(710) == inf);
  CHECK(exp(-745.2) == 0.0);
  CHECK(ulps(exp(-740), std::exp(-740)) <= 2); // subnormal
  CHECK(exp(0.0) == 1.0);
  CHECK(log(0.0) == -inf);
  CHECK(log(-0.0) == -inf);
  CHECK(std::isnan(log(-1.0)));
  CHECK(log(inf) == inf);
  CHECK(log(1.0) == 0.0);
  CHECK(ulps(log(4.9e-324), std::log(4.9e-324)) <= 2); // the smallest subnormal
  CHECK(tanh(inf) == 1.0);
  CHECK(tanh(-inf) == -1.0);
  CHECK(std::signbit(tanh(-0.0)));
  CHECK(tanh(1e-300) == 1e-300);
  CHECK(sigmoid(-inf) == 0.0);
  CHECK(sigmoid(inf) == 1.0);
  CHECK(expm1(-inf) == -1.0);
  CHECK(expm1(1e-20) == 1e-20);
}

} // namespace cuda_MathTest
