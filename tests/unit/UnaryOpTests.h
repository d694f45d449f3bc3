//===- tests/unit/UnaryOpTests.h - how the suites test each float unary op -===//
//
// One entry per float-only unary op of ir/Ops.def (neg abs sign relu not stop_gradient also
// take integers and have their own cases). From it the interpreter checks the hand values
// (reference/ElementwiseTest.cpp), the JIT matches the interpreter on the domain
// (cpu/OpParityTest.cpp), autodiff matches finite differences there (autodiff/OpGradTest.cpp),
// the printer round-trips the op (ir/RoundTripTest.cpp) and the random program generator uses
// it (tests/diff/ProgramGenerator.cpp); each suite's coverage test fails for an op kind that
// none of its cases runs. A new float unary op is tested by adding its entry here.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/OpKind.h"

#include <vector>

namespace weft::test {

struct UnaryOpTest {
  ir::OpKind kind;
  /// Inputs are drawn from [lo, hi]: the op is finite there and smooth enough for finite
  /// differences (floor, ceil: away from the integers, almost surely).
  double lo, hi;
  /// Hand-checked values, op(x[i]) == y[i] (Python's math module, in double).
  std::vector<double> x, y;
  /// Whether the JIT's result equals the interpreter's bit for bit (else within 4 ulps).
  bool exact;
  /// max |op(x)| over [lo, hi], the bound the random program generator tracks.
  double bound;
};

/// Exact ops first, then the others, in the order the random program generator picks from.
inline const std::vector<UnaryOpTest> &unaryOpTests() {
  using ir::OpKind;
  static const std::vector<UnaryOpTest> tests = {
      {OpKind::Floor, -1, 1, {-0.75, -0.25, 0.5, 1.0}, {-1.0, -1.0, 0.0, 1.0}, true, 1.0},
      {OpKind::Ceil, -1, 1, {-0.75, -0.25, 0.5, 1.0}, {0.0, 0.0, 1.0, 1.0}, true, 1.0},
      {OpKind::Sqrt,
       0.5,
       1.5,
       {0.5, 0.75, 1.0, 1.5},
       {0.7071067811865476, 0.8660254037844386, 1.0, 1.224744871391589},
       true,
       1.23},
      {OpKind::Exp,
       -1,
       1,
       {-0.75, -0.25, 0.5, 1.0},
       {0.4723665527410147, 0.7788007830714049, 1.6487212707001282, 2.718281828459045},
       false,
       2.72},
      {OpKind::Log,
       0.5,
       1.5,
       {0.5, 0.75, 1.0, 1.5},
       {-0.6931471805599453, -0.2876820724517809, 0.0, 0.4054651081081644},
       false,
       0.7},
      {OpKind::Tanh,
       -1,
       1,
       {-0.75, -0.25, 0.5, 1.0},
       {-0.6351489523872873, -0.24491866240370913, 0.46211715726000974, 0.7615941559557649},
       false,
       0.77},
      {OpKind::Sigmoid,
       -1,
       1,
       {-0.75, -0.25, 0.5, 1.0},
       {0.320821300824607, 0.43782349911420193, 0.6224593312018546, 0.7310585786300049},
       false,
       0.74},
      {OpKind::Rsqrt,
       0.5,
       1.5,
       {0.5, 0.75, 1.0, 1.5},
       {1.4142135623730951, 1.1547005383792517, 1.0, 0.8164965809277261},
       false,
       1.42},
      {OpKind::Sin,
       -1,
       1,
       {-0.75, -0.25, 0.5, 1.0},
       {-0.6816387600233341, -0.24740395925452294, 0.479425538604203, 0.8414709848078965},
       false,
       0.85},
      {OpKind::Cos,
       -1,
       1,
       {-0.75, -0.25, 0.5, 1.0},
       {0.7316888688738209, 0.9689124217106447, 0.8775825618903728, 0.5403023058681398},
       false,
       1.0},
      {OpKind::Erf,
       -1,
       1,
       {-0.75, -0.25, 0.5, 1.0},
       {-0.7111556336535151, -0.2763263901682369, 0.5204998778130465, 0.8427007929497149},
       false,
       0.85},
  };
  return tests;
}

/// The entry of `k`, or nullptr.
inline const UnaryOpTest *findUnaryOpTest(ir::OpKind k) {
  for (const UnaryOpTest &u : unaryOpTests())
    if (u.kind == k)
      return &u;
  return nullptr;
}

} // namespace weft::test
