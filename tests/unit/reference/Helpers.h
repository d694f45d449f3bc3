//===- tests/unit/reference/Helpers.h - running IR text on the interpreter ===//
#pragma once

#include "backends/reference/Interpreter.h"
#include "ir/OpKind.h"

#include <string>
#include <vector>

namespace weft::test {

/// One interpreter test: IR text whose first function runs on `inputs` and must return
/// `expected`. Floats compare with |got - want| <= tol * (1 + |want|); tol 0 means exact.
struct OpCase {
  std::string name;
  std::string ir;
  std::vector<Array> inputs;
  std::vector<Array> expected;
  double tol = 0;
};

/// Table-driven cases by group (ElementwiseTest.cpp, ShapeOpsTest.cpp, MathTest.cpp,
/// ControlFlowTest.cpp); the coverage test checks their union uses every op kind.
std::vector<OpCase> elementwiseCases();
std::vector<OpCase> shapeCases();
std::vector<OpCase> mathCases();
std::vector<OpCase> controlFlowCases();

/// Parses, verifies and runs the first function of `ir`.
Expected<std::vector<Array>> runText(const std::string &ir, const std::vector<Array> &inputs,
                                     const ir::DimBindings &dims = {});
/// Runs `c` and CHECKs every output against the expectation.
void checkCase(const OpCase &c);
/// The op kinds used by the IR of `c` (regions included).
std::vector<ir::OpKind> opKindsOf(const OpCase &c);

inline Array f32(std::vector<int64_t> s, std::vector<float> v) { return Array::of(s, v); }
inline Array f64(std::vector<int64_t> s, std::vector<double> v) { return Array::of(s, v); }
inline Array i32(std::vector<int64_t> s, std::vector<int32_t> v) { return Array::of(s, v); }
inline Array i64(std::vector<int64_t> s, std::vector<int64_t> v) { return Array::of(s, v); }
inline Array i1(std::vector<int64_t> s, std::vector<bool> v) { return Array::of(s, v); }

/// A float array of dtype `dt` (f32 values are rounded from `v`).
inline Array floats(DType dt, std::vector<int64_t> s, const std::vector<double> &v) {
  Array a(dt, std::move(s));
  for (size_t i = 0; i < v.size(); ++i)
    a.setDouble(static_cast<int64_t>(i), v[i]);
  return a;
}
/// `text` with every "DT" replaced by `dt` ("f32" or "f64").
std::string withDType(std::string text, DType dt);

} // namespace weft::test
