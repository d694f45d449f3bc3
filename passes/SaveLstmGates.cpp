//===- passes/SaveLstmGates.cpp - the forward saves what its backward needs ===//
//
// Autodiff differentiates
//
//   %hs, %hT, %cT = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b [, %len]
//   ... = lstm_sequence_grad %xs, %h0, %c0, %wx, %wh, %b, %hs, %dhs, %dhT, %dcT [, %len]
//
// and the gradient recomputes the forward's gates from hs (two GEMMs over all T*B rows and a
// cell-state pass). When both are in one function, this pass makes the forward keep them:
//
//   %hs, %hT, %cT, %gates, %cs = lstm_sequence ... {save_gates = 1}
//   ... = lstm_sequence_grad %xs, ..., %dcT, %gates, %cs [, %len] {save_gates = 1}
//
// at the price of storing gates [T, B, 4H] and cs [T, B, H] until the backward has run.
// A gradient pairs with its forward when it reads the forward's hs with the same operands and
// direction; several gradients of one forward share its saving form.
//
//===----------------------------------------------------------------------===//
#include "ir/Builder.h"
#include "ir/Uses.h"
#include "ir/Walk.h"
#include "passes/Passes.h"

#include <fmt/format.h>

#include <unordered_map>
#include <utility>
#include <vector>

namespace weft::passes {
namespace {

using ir::OpKind;
using ir::Value;

/// The forward that `grad` differentiates, or nullptr when it is not an lstm_sequence in the
/// plain form with grad's own operands and direction.
ir::Op *forwardOf(ir::Op &grad) {
  ir::Op *fwd = grad.operand(6)->definingOp();
  if (!fwd || fwd->kind() != OpKind::LstmSequence || fwd->saveGates() ||
      fwd->reverse() != grad.reverse() || fwd->result(0) != grad.operand(6))
    return nullptr;
  const bool gradMasked = grad.numOperands() == 11, fwdMasked = fwd->numOperands() == 7;
  if (gradMasked != fwdMasked || (gradMasked && grad.operand(10) != fwd->operand(6)))
    return nullptr;
  for (size_t i = 0; i < 6; ++i)
    if (grad.operand(i) != fwd->operand(i))
      return nullptr;
  return fwd;
}

ir::Attrs savingAttrs(const ir::Op &op) {
  ir::Attrs attrs = {{"save_gates", int64_t{1}}};
  if (op.reverse())
    attrs["reverse"] = int64_t{1};
  return attrs;
}

/// Replaces every result of `from` by the same-numbered one of `to`, then erases `from`.
void replaceOp(ir::Uses &uses, ir::Op &from, ir::Op &to) {
  for (size_t r = 0; r < from.numResults(); ++r) {
    to.result(r)->setName(from.result(r)->name());
    uses.replaceAllUsesWith(from.result(r), to.result(r));
  }
  uses.erase(from);
}

class SaveLstmGatesPass : public FunctionPass {
public:
  std::string_view name() const override { return "save-lstm-gates"; }

  Expected<bool> runOnFunction(ir::Function &f) override {
    std::vector<ir::Op *> grads;
    ir::walk(f.body(), [&](ir::Op &op) {
      if (op.kind() == OpKind::LstmSequenceGrad && !op.saveGates() && forwardOf(op))
        grads.push_back(&op);
    });
    if (grads.empty())
      return false;
    std::unordered_map<ir::Op *, ir::Op *> saving;          // plain forward -> its saving form
    std::vector<std::pair<ir::Op *, ir::Op *>> savingGrads; // plain gradient -> its saving form
    for (ir::Op *grad : grads) {
      ir::Op *fwd = forwardOf(*grad);
      auto it = saving.find(fwd);
      ir::Op *saver = it == saving.end() ? nullptr : it->second;
      if (!saver) {
        ir::OpBuilder b(*fwd->parentBlock());
        b.setInsertionPointBefore(fwd);
        auto made =
            b.create(OpKind::LstmSequence, fwd->operands(), savingAttrs(*fwd), {}, fwd->loc());
        WEFT_TRY(made.status());
        saver = *made;
        saver->result(3)->setName("gates");
        saver->result(4)->setName("cs");
        saving[fwd] = saver;
      }
      // The grad's operands that the forward's replacement renames are read below, before
      // the forward goes.
      std::vector<Value *> xs(grad->operands().begin(), grad->operands().begin() + 10);
      xs[6] = saver->result(0);
      xs.push_back(saver->result(3));
      xs.push_back(saver->result(4));
      if (grad->numOperands() == 11)
        xs.push_back(grad->operand(10));
      ir::OpBuilder b(*grad->parentBlock());
      b.setInsertionPointBefore(grad);
      auto made = b.create(OpKind::LstmSequenceGrad, xs, savingAttrs(*grad), {}, grad->loc());
      if (!made)
        return err(fmt::format("save-lstm-gates: {}", made.diag().message), grad->loc());
      savingGrads.emplace_back(grad, *made);
    }
    // The new ops may read results of the ops they replace (a decoder started from its
    // encoder's final state reads the encoder's hT), so the uses are recorded after all of
    // them exist, and only then is anything replaced.
    ir::Uses uses(f.body());
    for (auto [grad, saver] : savingGrads)
      replaceOp(uses, *grad, *saver);
    for (auto [fwd, saver] : saving)
      replaceOp(uses, *fwd, *saver);
    return true;
  }
};

} // namespace

std::unique_ptr<Pass> createSaveLstmGatesPass() { return std::make_unique<SaveLstmGatesPass>(); }

} // namespace weft::passes
