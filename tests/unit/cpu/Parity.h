//===- tests/unit/cpu/Parity.h - run IR on the interpreter and the JIT ----===//
//
// Helpers shared by the cpu backend tests: seeded random inputs for a
// function's parameters and a comparison of the JIT's results with the
// reference interpreter's under a stated tolerance.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cpu/CpuBackend.h"
#include "backends/reference/Interpreter.h"
#include "ir/Parser.h"
#include "tests/unit/LstmIr.h"

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <random>
#include <string>

namespace weft::cputest {

/// How the inputs of one parameter are drawn.
enum class Gen {
  Default,  // floats in [-2, 2], ints in [-50, 50], i1 fair coins
  Positive, // floats in [0.05, 3]
  NonZero,  // ints in [-50, 50] without 0
  Index,    // ints in [0, bound)
};
struct ParamGen {
  Gen gen = Gen::Default;
  int64_t bound = 0;
};

/// How results are compared.
enum class Tol {
  Exact,     // bit-identical (NaN matches NaN)
  Ulps,      // |got - want| <= 4 ulp(want): correctly rounded math vs libm in f32/f64
  Reduction, // matmul in f32: |got - want| <= K * 2^-23 * K * max|a| * max|b| (gamma_K bound)
};

inline Array randomArray(DType dt, const std::vector<int64_t> &shape, ParamGen g,
                         std::mt19937_64 &rng) {
  Array a(dt, shape);
  std::uniform_real_distribution<double> real(-2, 2), pos(0.05, 3);
  std::uniform_int_distribution<int64_t> small(-50, 50), coin(0, 1);
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (dt == DType::I1) {
      a.setInt(i, coin(rng));
    } else if (isFloat(dt)) {
      a.setDouble(i, g.gen == Gen::Positive ? pos(rng) : real(rng));
    } else if (g.gen == Gen::Index) {
      a.setInt(i, std::uniform_int_distribution<int64_t>(0, g.bound - 1)(rng));
    } else {
      int64_t v = small(rng);
      a.setInt(i, g.gen == Gen::NonZero && v == 0 ? 7 : v);
    }
  }
  return a;
}

/// Seeded random inputs for the parameters of `f` under `dims`.
inline std::vector<Array> randomInputs(const ir::Function &f, const ir::DimBindings &dims,
                                       const std::map<size_t, ParamGen> &gens, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Array> in;
  for (size_t i = 0; i < f.numParams(); ++i) {
    auto shape = f.param(i)->type().evaluateShape(dims);
    REQUIRE_MESSAGE(shape, shape.diag().str());
    auto it = gens.find(i);
    in.push_back(randomArray(f.param(i)->type().dtype(), *shape,
                             it == gens.end() ? ParamGen{} : it->second, rng));
  }
  return in;
}

inline bool sameBits(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }

/// Checks `got` against `want` element by element; `scale` is the Reduction bound.
inline void checkClose(const Array &got, const Array &want, Tol tol, double bound) {
  REQUIRE(got.dtype() == want.dtype());
  REQUIRE(got.shape() == want.shape());
  double ulp = got.dtype() == DType::F32 ? 0x1p-23 : 0x1p-52;
  int64_t bad = 0;
  for (int64_t i = 0; i < got.numel() && bad < 5; ++i) {
    double g = got.getDouble(i), w = want.getDouble(i);
    if (!isFloat(got.dtype()) ? got.getInt(i) == want.getInt(i) : sameBits(g, w))
      continue;
    double allowed = tol == Tol::Exact  ? 0
                     : tol == Tol::Ulps ? 4 * ulp * std::fabs(w) + 1e-300
                                        : bound;
    if (isFloat(got.dtype()) && std::fabs(g - w) <= allowed)
      continue;
    CAPTURE(i);
    CAPTURE(g);
    CAPTURE(w);
    CAPTURE(allowed);
    CHECK_MESSAGE(false, "cpu result differs from the interpreter");
    ++bad;
  }
}

struct Compiled {
  std::unique_ptr<ir::Module> module;
  std::unique_ptr<cpu::Executable> exe;
};

inline Compiled compileText(const std::string &text) {
  auto m = ir::parseModule(text);
  REQUIRE_MESSAGE(m, m.diag().str());
  auto exe = cpu::compile(**m);
  REQUIRE_MESSAGE(exe, exe.diag().str());
  return {std::move(*m), std::move(*exe)};
}

/// Runs `fn` of `c` on both backends with the same seeded inputs and compares every result.
inline void checkParity(const Compiled &c, const std::string &fn, const ir::DimBindings &dims,
                        Tol tol = Tol::Exact, const std::map<size_t, ParamGen> &gens = {},
                        double bound = 0, uint64_t seed = 1) {
  const ir::Function *f = c.module->function(fn);
  REQUIRE(f);
  std::vector<Array> in = randomInputs(*f, dims, gens, seed);
  auto want = reference::run(*f, in, dims);
  REQUIRE_MESSAGE(want, want.diag().str());
  auto got = c.exe->run(fn, in, dims);
  REQUIRE_MESSAGE(got, got.diag().str());
  REQUIRE(got->size() == want->size());
  for (size_t r = 0; r < got->size(); ++r) {
    CAPTURE(r);
    checkClose((*got)[r], (*want)[r], tol, bound);
  }
}

/// An LSTM layer over a time-major sequence: the scan the JIT exists for (T, B symbolic).
inline const std::string kLstm =
    R"(
func @lstm(%xs: tensor<T x B x 16 x f32>, %W: tensor<16 x 128 x f32>, %U: tensor<32 x 128 x f32>, %bias: tensor<128 x f32>, %h0: tensor<B x 32 x f32>, %c0: tensor<B x 32 x f32>) -> (tensor<B x 32 x f32>, tensor<T x B x 32 x f32>) {
  %hT, %cT, %hs = scan carry(%h0, %c0) over(%xs) {
  ^body(%h: tensor<B x 32 x f32>, %c: tensor<B x 32 x f32>, %x: tensor<B x 16 x f32>):
)" + testing::lstmStep({.input = 16, .hidden = 32, .gates = testing::LstmGates::Separate}) +
    R"(    yield %h2, %c2, %h2
  } : tensor<B x 32 x f32>, tensor<B x 32 x f32>, tensor<T x B x 32 x f32>
  return %hT, %hs
}
)";

} // namespace weft::cputest
