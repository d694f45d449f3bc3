//===- tests/unit/frontend/ExecuteTest.cpp - DSL graphs run, not printed --===//
//
// softmax, log_softmax and rank-3 matmul built in the DSL, run on the reference
// interpreter and the CPU JIT (every registered backend), in f32 and f64, against results NumPy
// computed (tests/data/dsl/make_golden.py) from the same inputs.
//
//===----------------------------------------------------------------------===//
#include "backends/Registry.h"
#include "frontend/Weft.h"
#include "runtime/Npy.h"
#include "tests/unit/ConvertArray.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>

namespace frontend_ExecuteTest {

using namespace weft;

namespace {

Array golden(const std::string &name) {
  auto a = readNpy(std::string(WEFT_TEST_DATA_DIR) + "/dsl/" + name);
  REQUIRE_OK(a);
  return std::move(*a);
}

/// Bounds on |got - want| / (1 + |want|), per dtype.
struct Tolerance {
  double f32, f64;
};

/// Builds `g`, runs it on every registered backend with `inputs` (converted to `dt`) and checks
/// result r against `want[r]` (f64, from NumPy).
void checkEveryBackend(const Graph &g, DType dt, const std::vector<Array> &inputs,
                       const ir::DimBindings &dims, const std::vector<Array> &want, Tolerance tol) {
  CAPTURE(dtypeName(dt));
  auto m = g.build();
  const ir::Function &f = *m->functions()[0];
  std::vector<Array> in;
  for (const Array &a : inputs)
    in.push_back(testing::convertedTo(dt, a));
  double bound = dt == DType::F32 ? tol.f32 : tol.f64;
  for (const backends::Backend *backend : backends::registeredBackends()) {
    CAPTURE(backend->name());
    auto exe = backend->compile(*m);
    REQUIRE_OK(exe);
    auto got = (*exe)->run(f.name(), in, {.dims = dims});
    REQUIRE_OK(got);
    REQUIRE(got->size() == want.size());
    for (size_t r = 0; r < want.size(); ++r) {
      CAPTURE(r);
      REQUIRE((*got)[r].dtype() == dt);
      REQUIRE((*got)[r].shape() == want[r].shape());
      int64_t bad = 0;
      for (int64_t i = 0; i < want[r].numel() && bad < 5; ++i) {
        double gv = (*got)[r].getDouble(i), wv = want[r].getDouble(i);
        if (std::fabs(gv - wv) <= bound * (1 + std::fabs(wv)))
          continue;
        CAPTURE(i);
        CAPTURE(gv);
        CAPTURE(wv);
        CHECK_MESSAGE(false, "differs from NumPy");
        ++bad;
      }
    }
  }
}

} // namespace

// Bounds. f64: a few ulp of exp, log and a 5-term sum, far below 1e-13. f32: exp, the 5-term
// sum and the division each add about one ulp (2^-23 relative) to a softmax value in [0, 1],
// and log_softmax's (x - max) - log(sum) is within a few ulp of its magnitude; 16 ulp covers
// both with room, while a wrong axis moves values by tenths and a missing max shift makes the
// +100 row inf / NaN in f32.
constexpr Tolerance kSoftmaxTol{16 * 0x1p-23, 1e-13};

TEST_CASE("softmax and log_softmax from the DSL compute what NumPy computes") {
  Array x = golden("x.npy"); // [2, 3, 5], row [1, 2, :] shifted by +100
  std::vector<Array> want{golden("softmax_axis2.npy"), golden("softmax_axis1.npy"),
                          golden("log_softmax_axis2.npy"), golden("log_softmax_axis0.npy")};
  for (DType dt : {DType::F32, DType::F64}) {
    Graph g("softmaxes");
    Dim B = g.dim("B");
    Tensor xs = g.input("x", {B, 3, 5}, dt);
    g.outputs({softmax(xs, -1), softmax(xs, 1), log_softmax(xs, 2), log_softmax(xs, 0)});
    checkEveryBackend(g, dt, {x}, {{"B", 2}}, want, kSoftmaxTol);
  }
}

// Bounds. Each result is a dot product of K = 8 terms with |a|, |b| < 2: the classic bound
// K u sum|a_k b_k| <= K u K 4 with u the unit roundoff; with u = 2^-23 (f32) that is 3.1e-5,
// with 2^-52 (f64) 5.7e-14.
constexpr Tolerance kMatmulTol{8 * 8 * 4 * 0x1p-23, 8 * 8 * 4 * 0x1p-52};

TEST_CASE("rank-3 matmul from the DSL computes what NumPy computes") {
  Array a = golden("a.npy"), b = golden("b.npy"), w = golden("w.npy"), b1 = golden("b1.npy");
  std::vector<Array> want{golden("matmul_ab.npy"), golden("matmul_aw.npy"),
                          golden("matmul_ab1.npy")};
  for (DType dt : {DType::F32, DType::F64}) {
    Graph g("matmuls");
    Dim B = g.dim("B");
    Tensor ta = g.input("a", {B, 2, 8}, dt);   // [4, 2, 8]
    Tensor tb = g.input("b", {B, 8, 3}, dt);   // batched, same batch
    Tensor tw = g.input("w", {8, 3}, dt);      // rank 2: applied to every row of a
    Tensor tb1 = g.input("b1", {1, 8, 3}, dt); // batch 1 broadcast over B
    g.outputs({matmul(ta, tb), matmul(ta, tw), matmul(ta, tb1)});
    checkEveryBackend(g, dt, {a, b, w, b1}, {{"B", 4}}, want, kMatmulTol);
  }
}

} // namespace frontend_ExecuteTest
