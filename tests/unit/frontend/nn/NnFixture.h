//===- tests/unit/frontend/nn/NnFixture.h - nn layers against PyTorch -----===//
//
// The nn tests build a layer into a Graph whose first result is L = sum(out * r), differentiate
// it with autodiff (keeping every result), run the gradient function on the reference
// interpreter and the CPU JIT, and compare with what PyTorch computed from the same inputs
// (tests/data/nn/make_fixtures.py, in f64).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Weft.h"
#include "runtime/Array.h"

#include <string>
#include <utility>
#include <vector>

namespace weft::testing {

/// tests/data/nn/<folder>/<name>.npy.
Array nnFixture(const std::string &folder, const std::string &name);

/// Every element of an Array's float values converted to `dt`; integer arrays unchanged.
Array floatsAs(DType dt, const Array &a);

/// The results of one function on one backend.
struct BackendResults {
  const char *backend;
  std::vector<Array> results;
};

/// Where a test runs its graph. f32 runs on both; f64 checks the math against PyTorch to 1e-12
/// on the interpreter alone, since each JIT compile costs a good part of a second.
enum class Backends { InterpreterAndJit, Interpreter };
inline Backends backendsFor(DType dt) {
  return dt == DType::F32 ? Backends::InterpreterAndJit : Backends::Interpreter;
}

/// Builds `g`, adds the gradient of its first result (a scalar) with respect to `wrt` keeping
/// every result, and runs that function with `args` on `backends`. Each backend's results are
/// g's results followed by the gradients in the order of `wrt`.
std::vector<BackendResults> runWithGradients(const Graph &g, const std::vector<std::string> &wrt,
                                             const std::vector<Array> &args,
                                             Backends backends = Backends::InterpreterAndJit);

/// Runs the built `g` with `args` on `backends`.
std::vector<BackendResults> runForward(const Graph &g, const std::vector<Array> &args,
                                       Backends backends = Backends::InterpreterAndJit);

/// The bound on |got - want| / (1 + |want|) against PyTorch's f64 results: 1e-5 in f32, 1e-12
/// in f64.
double nnTolerance(DType dt);

/// Checks that `got` has `want`'s shape, `dt` and values within nnTolerance(dt).
void checkClose(const Array &got, const Array &want, DType dt);

/// L = sum(y * r): the scalar whose gradient is the vector-Jacobian product with r.
Tensor dotWith(const Tensor &y, const Tensor &r);

} // namespace weft::testing
