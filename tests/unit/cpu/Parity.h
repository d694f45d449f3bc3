//===- tests/unit/cpu/Parity.h - run IR on every backend and the interpreter ===//
//
// Helpers shared by the cpu backend tests: seeded random inputs for a
// function's parameters, a module compiled by every registered backend
// (backends/Registry.h) and a comparison of their results with the reference
// interpreter's under a stated tolerance.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "Tolerance.h"
#include "backends/Registry.h"
#include "backends/cpu/CpuBackend.h"
#include "backends/reference/Interpreter.h"
#include "ir/Parser.h"
#include "passes/PassManager.h"
#include "tests/unit/LstmIr.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <sstream>
#include <string>

namespace weft::cputest {

/// How the inputs of one parameter are drawn.
enum class Gen {
  Default,  // floats in [-2, 2], ints in [-50, 50], i1 fair coins
  Positive, // floats in [0.05, 3]
  NonZero,  // ints in [-50, 50] without 0
  Index,    // ints in [0, bound)
  Special,  // floats from specialValues, all pairs: element i of the bound-th float operand
            // takes value (i / n^bound) % n of the n values (ints and i1 as Default)
};
struct ParamGen {
  Gen gen = Gen::Default;
  int64_t bound = 0;
};

/// The float values where ops are easiest to get wrong: NaN, infinities, signed zeros,
/// subnormals, the largest finite values, and a few ordinary ones, all exact in `dt`.
inline std::vector<double> specialValues(DType dt) {
  bool f32 = dt == DType::F32;
  double inf = std::numeric_limits<double>::infinity();
  double tiny =
      f32 ? std::numeric_limits<float>::denorm_min() : std::numeric_limits<double>::denorm_min();
  double minNormal = f32 ? std::numeric_limits<float>::min() : std::numeric_limits<double>::min();
  double max = f32 ? std::numeric_limits<float>::max() : std::numeric_limits<double>::max();
  return {std::numeric_limits<double>::quiet_NaN(),
          inf,
          -inf,
          0.0,
          -0.0,
          tiny,
          -3 * tiny,
          minNormal,
          -0.75 * minNormal, // subnormal
          max,
          -max,
          f32 ? 0x1p100 : 0x1p1000,
          1.0,
          -1.0,
          0.5,
          -2.5};
}

inline Array randomArray(DType dt, const std::vector<int64_t> &shape, ParamGen g,
                         std::mt19937_64 &rng) {
  Array a(dt, shape);
  std::uniform_real_distribution<double> real(-2, 2), pos(0.05, 3);
  std::uniform_int_distribution<int64_t> small(-50, 50), coin(0, 1);
  std::vector<double> specials = isFloat(dt) ? specialValues(dt) : std::vector<double>{};
  auto n = static_cast<int64_t>(specials.size()), stride = int64_t{1};
  for (int64_t k = 0; g.gen == Gen::Special && k < g.bound; ++k)
    stride *= n;
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (dt == DType::I1) {
      a.setInt(i, coin(rng));
    } else if (isFloat(dt) && g.gen == Gen::Special) {
      a.setDouble(i, specials[static_cast<size_t>((i / stride) % n)]);
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

/// A matmul over `K` of Default inputs (|x| <= 2): a sum of K products of size at most 4.
inline Tolerance matmulTolerance(int64_t K) {
  return Tolerance::sum(K, 4 * static_cast<double>(K));
}

/// Seeded random inputs for the parameters of `f` under `dims`.
inline std::vector<Array> randomInputs(const ir::Function &f, const ir::DimBindings &dims,
                                       const std::map<size_t, ParamGen> &gens, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Array> in;
  for (size_t i = 0; i < f.numParams(); ++i) {
    auto shape = f.param(i)->type().evaluateShape(dims);
    REQUIRE_OK(shape);
    auto it = gens.find(i);
    in.push_back(randomArray(f.param(i)->type().dtype(), *shape,
                             it == gens.end() ? ParamGen{} : it->second, rng));
  }
  return in;
}

/// Whether `a` and `b` have the same bits: -0.0 and +0.0 differ, and so do NaNs of another
/// payload or sign.
inline bool sameBits(double a, double b) {
  return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
}

/// Whether a float result is the interpreter's: the same bits, except that any NaN matches any
/// NaN. No weft op is defined to keep a NaN's payload or sign (IEEE 754 leaves both open for
/// arithmetic, and x86 makes NaNs of its own sign), so only being NaN is compared.
inline bool sameFloat(double got, double want) {
  return (std::isnan(got) && std::isnan(want)) || sameBits(got, want);
}

/// Whether `got` is within `tol` of `want`, both of float dtype `dt`. NaN and infinities must
/// match exactly; zeros of opposite sign only pass under a rounding bound (sums, chains),
/// where the sign of a zero result depends on the order of the terms, not on an op's rule.
inline bool closeEnough(double got, double want, DType dt, const Tolerance &tol) {
  if (sameFloat(got, want))
    return true;
  if (tol.isExact() || !std::isfinite(got) || !std::isfinite(want))
    return false;
  if (got == 0 && want == 0)
    return tol.roundings > 0;
  return std::fabs(got - want) <= tol.allowed(dt, want);
}

/// Checks `got` against `want` element by element: integers exactly, floats within `tol` for
/// their dtype.
inline void checkClose(const Array &got, const Array &want, const Tolerance &tol) {
  REQUIRE(got.dtype() == want.dtype());
  REQUIRE(got.shape() == want.shape());
  int64_t bad = 0;
  for (int64_t i = 0; i < got.numel() && bad < 5; ++i) {
    bool ok = isFloat(got.dtype())
                  ? closeEnough(got.getDouble(i), want.getDouble(i), got.dtype(), tol)
                  : got.getInt(i) == want.getInt(i);
    if (ok)
      continue;
    double g = got.getDouble(i), w = want.getDouble(i);
    double allowed = isFloat(got.dtype()) ? tol.allowed(got.dtype(), w) : 0;
    CAPTURE(i);
    CAPTURE(g);
    CAPTURE(w);
    CAPTURE(allowed);
    CHECK_MESSAGE(false, "result differs from the interpreter");
    ++bad;
  }
}

/// One backend under test and its compilation of a module.
struct Target {
  std::string backend;
  std::unique_ptr<backends::Executable> exe;
};

/// A module compiled by every registered backend but the reference interpreter, which is the
/// oracle they are checked against.
struct Compiled {
  std::unique_ptr<ir::Module> module;
  /// The backends under test, in registry order.
  std::vector<Target> targets;
  /// The cpu backend's own Executable (in targets), for what only it reports (memory plans,
  /// compile time) and for runs of the cpu backend alone.
  const cpu::Executable *cpu = nullptr;
};

/// `m` compiled by every registered backend but the reference, with `options`.
inline Compiled compileModule(std::unique_ptr<ir::Module> m,
                              const backends::CompileOptions &options = {}) {
  Compiled c{std::move(m), {}, nullptr};
  for (const backends::Backend *b : backends::registeredBackends()) {
    if (b == &backends::referenceBackend())
      continue;
    CAPTURE(b->name());
    auto exe = b->compile(*c.module, options);
    REQUIRE_OK(exe);
    if (const cpu::Executable *native = cpu::nativeExecutable(**exe))
      c.cpu = native;
    c.targets.push_back({std::string(b->name()), std::move(*exe)});
  }
  REQUIRE_MESSAGE(c.cpu, "the cpu backend is not registered");
  return c;
}

inline Compiled compileText(const std::string &text) {
  auto m = ir::parseModule(text);
  REQUIRE_OK(m);
  return compileModule(std::move(*m));
}

/// Runs the pass pipeline `pipeline` (weft-opt's syntax) on `m` and requires success.
inline void runPipeline(ir::Module &m, const std::string &pipeline) {
  std::ostringstream log;
  passes::PassManager pm(log);
  REQUIRE(pm.addPipeline(pipeline).isOk());
  Status ran = pm.run(m);
  REQUIRE_MESSAGE(ran.isOk(), ran.message());
}

/// Runs `fn` of `c` on every backend under test with inputs `in` and compares every result
/// with `want` under `tol`.
inline void checkTargets(const Compiled &c, const std::string &fn, const std::vector<Array> &in,
                         const ir::DimBindings &dims, const std::vector<Array> &want,
                         const Tolerance &tol) {
  for (const Target &t : c.targets) {
    CAPTURE(t.backend);
    auto got = t.exe->run(fn, in, {.dims = dims});
    REQUIRE_OK(got);
    REQUIRE(got->size() == want.size());
    for (size_t r = 0; r < got->size(); ++r) {
      CAPTURE(r);
      checkClose((*got)[r], want[r], tol);
    }
  }
}

/// Runs `fn` of `c` on every backend under test and `f` on the interpreter with inputs `in` and
/// compares every result.
inline void checkAgainstInterpreter(const Compiled &c, const std::string &fn, const ir::Function &f,
                                    const std::vector<Array> &in, const ir::DimBindings &dims,
                                    const Tolerance &tol) {
  auto want = reference::run(f, in, dims);
  REQUIRE_OK(want);
  checkTargets(c, fn, in, dims, *want, tol);
}

/// Runs `fn` of `c` on every backend and the interpreter with the same seeded inputs and
/// compares every result.
inline void checkParity(const Compiled &c, const std::string &fn, const ir::DimBindings &dims,
                        const Tolerance &tol = Tolerance::exact(),
                        const std::map<size_t, ParamGen> &gens = {}, uint64_t seed = 1) {
  const ir::Function *f = c.module->function(fn);
  REQUIRE(f);
  std::vector<Array> in = randomInputs(*f, dims, gens, seed);
  checkAgainstInterpreter(c, fn, *f, in, dims, tol);
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

/// kLstm on Default inputs: one step's gate sums (16 + 32 products and a bias, their sizes
/// adding up to at most 2*2*16 + 1*2*32 + 2 = 130). The f32 rounding errors of the steps have
/// random signs and saturated gates damp them, so over 100 steps they stay within one step's
/// worst case.
inline const Tolerance kLstmTolerance = Tolerance::sum(49, 130);

} // namespace weft::cputest
