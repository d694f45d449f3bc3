//===- tests/unit/frontend/nn/NnFixture.cpp -------------------------------===//
#include "NnFixture.h"

#include "backends/cpu/CpuBackend.h"
#include "backends/reference/Interpreter.h"
#include "passes/autodiff/Autodiff.h"
#include "runtime/Npy.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>

namespace weft::testing {
namespace {

std::vector<BackendResults> runOn(Backends backends, const ir::Module &m, const ir::Function &f,
                                  const std::vector<Array> &args) {
  std::vector<BackendResults> out;
  auto ref = reference::run(f, args, {});
  REQUIRE_OK(ref);
  out.push_back({"interpreter", std::move(*ref)});
  if (backends == Backends::Interpreter)
    return out;
  auto exe = cpu::compile(m);
  REQUIRE_OK(exe);
  auto jit = (*exe)->run(f.name(), args, {});
  REQUIRE_OK(jit);
  out.push_back({"jit", std::move(*jit)});
  return out;
}

} // namespace

Array nnFixture(const std::string &folder, const std::string &name) {
  auto a = readNpy(std::string(WEFT_TEST_DATA_DIR) + "/nn/" + folder + "/" + name + ".npy");
  REQUIRE_OK(a);
  return std::move(*a);
}

Array floatsAs(DType dt, const Array &a) {
  if (!isFloat(a.dtype()))
    return a;
  Array out(dt, a.shape());
  for (int64_t i = 0; i < a.numel(); ++i)
    out.setDouble(i, a.getDouble(i));
  return out;
}

std::vector<BackendResults> runWithGradients(const Graph &g, const std::vector<std::string> &wrt,
                                             const std::vector<Array> &args, Backends backends) {
  auto m = g.build();
  autodiff::GradOptions options;
  options.wrt = wrt;
  options.keepResults = true;
  auto grad = autodiff::buildGradient(*m, *m->functions()[0], options);
  REQUIRE_OK(grad);
  return runOn(backends, *m, **grad, args);
}

std::vector<BackendResults> runForward(const Graph &g, const std::vector<Array> &args,
                                       Backends backends) {
  auto m = g.build();
  return runOn(backends, *m, *m->functions()[0], args);
}

double nnTolerance(DType dt) { return dt == DType::F32 ? 1e-5 : 1e-12; }

void checkClose(const Array &got, const Array &want, DType dt) {
  REQUIRE(got.dtype() == dt);
  REQUIRE(got.shape() == want.shape());
  double tol = nnTolerance(dt);
  int bad = 0;
  for (int64_t i = 0; i < want.numel() && bad < 5; ++i) {
    double gv = got.getDouble(i), wv = want.getDouble(i);
    if (std::fabs(gv - wv) <= tol * (1 + std::fabs(wv)))
      continue;
    CAPTURE(i);
    CAPTURE(gv);
    CAPTURE(wv);
    CHECK_MESSAGE(false, "differs from PyTorch");
    ++bad;
  }
}

Tensor dotWith(const Tensor &y, const Tensor &r) {
  Axes all;
  for (int64_t i = 0; i < y.rank(); ++i)
    all.push_back(i);
  return sum(mul(y, r), all);
}

} // namespace weft::testing
