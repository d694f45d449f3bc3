#include "ir/OpKind.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "ir/Walk.h"
#include "tests/diff/ProgramGenerator.h"

#include <doctest/doctest.h>

#include <set>

namespace diff_GeneratorTest {

using namespace weft;
using namespace weft::difftest;

TEST_CASE("generator: a seed always gives the same program, and programs verify") {
  for (uint64_t seed : {1u, 2u, 77u}) {
    CAPTURE(seed);
    Program a = generateProgram(seed), b = generateProgram(seed);
    CHECK(ir::verify(*a.module).isOk());
    CHECK(ir::print(*a.module) == ir::print(*b.module));
    CHECK(a.dims == b.dims);
  }
  CHECK(ir::print(*generateProgram(1).module) != ir::print(*generateProgram(2).module));
}

TEST_CASE("generator: the first 500 seeds use every op kind and every scan/while feature") {
  std::set<ir::OpKind> seen;
  bool lengths = false, reverse = false, nestedLoop = false, batchZero = false;
  for (uint64_t seed = 1; seed <= 500; ++seed) {
    Program p = generateProgram(seed);
    batchZero |= p.dims.at("B") == 0;
    ir::walk(p.module->function("f")->body(), [&](ir::Op &op) {
      seen.insert(op.kind());
      if (op.kind() != ir::OpKind::Scan && op.kind() != ir::OpKind::While)
        return;
      nestedLoop |= op.parentOp() != nullptr;
      if (op.kind() == ir::OpKind::Scan) {
        reverse |= op.hasAttr("reverse");
        lengths |= static_cast<int64_t>(op.numOperands()) >
                   op.intAttr("num_carry") + op.intAttr("num_seq");
      }
    });
  }
  for (ir::OpKind k : ir::allOpKinds()) {
    CAPTURE(ir::opName(k));
    // Made by passes (fuse-elementwise, fuse-lstm, fuse-gru, fuse-rnn, fuse-additive-attention,
    // fuse-lstm-attention, and autodiff of lstm_sequence, gru_sequence and rnn_sequence), not
    // generated.
    if (k != ir::OpKind::Fusion && k != ir::OpKind::LstmSequence && k != ir::OpKind::GruSequence &&
        k != ir::OpKind::RnnSequence && k != ir::OpKind::AdditiveAttention &&
        k != ir::OpKind::LstmSequenceGrad && k != ir::OpKind::GruSequenceGrad &&
        k != ir::OpKind::RnnSequenceGrad && k != ir::OpKind::LstmAttentionStep)
      CHECK(seen.count(k) == 1);
  }
  CHECK(lengths);
  CHECK(reverse);
  CHECK(nestedLoop);
  CHECK(batchZero);
}

} // namespace diff_GeneratorTest
