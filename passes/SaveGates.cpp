//===- passes/SaveGates.cpp - the forward saves what its backward needs ---===//
//
// Autodiff differentiates
//
//   %hs, %hT, %cT = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b [, %len]
//   ... = lstm_sequence_grad %xs, %h0, %c0, %wx, %wh, %b, %hs, %dhs, %dhT, %dcT [, %len]
//
// and the gradient recomputes the forward's gates from hs (two GEMMs over all T*B rows and a
// cell-state pass). When both are in one function, save-lstm-gates makes the forward keep them:
//
//   %hs, %hT, %cT, %gates, %cs = lstm_sequence ... {save_gates = 1}
//   ... = lstm_sequence_grad %xs, ..., %dcT, %gates, %cs [, %len] {save_gates = 1}
//
// at the price of storing gates [T, B, 4H] and cs [T, B, H] until the backward has run.
// save-gru-gates does the same for gru_sequence and gru_sequence_grad: the forward also
// returns %gates (r, z, n, and with linear_before_reset the recurrent projection's n part),
// the gradient takes it after %dhT.
// A gradient pairs with its forward when it reads the forward's hs with the same operands,
// direction and form; several gradients of one forward share its saving form.
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

/// A recurrent sequence op and its gradient, as the pass sees them.
struct SequencePair {
  std::string_view passName;
  OpKind forward, gradient;
  size_t numOperands;     // the forward's operands but the lengths; hs is the gradient's next
  size_t numGradOperands; // the plain gradient's operands but the lengths
  size_t numResults;      // the plain forward's results; the saved ones follow
  std::vector<const char *> savedNames;
};

const SequencePair kLstm = {
    "save-lstm-gates", OpKind::LstmSequence, OpKind::LstmSequenceGrad, 6, 10, 3, {"gates", "cs"}};
const SequencePair kGru = {"save-gru-gates", OpKind::GruSequence, OpKind::GruSequenceGrad, 6, 9, 2,
                           {"gates"}};

/// The forward that `grad` differentiates, or nullptr when it is not `p.forward` in the plain
/// form with grad's own operands, direction and (GRU) form.
ir::Op *forwardOf(const SequencePair &p, ir::Op &grad) {
  Value *hs = grad.operand(p.numOperands);
  ir::Op *fwd = hs->definingOp();
  if (!fwd || fwd->kind() != p.forward || fwd->saveGates() || fwd->reverse() != grad.reverse() ||
      fwd->result(0) != hs)
    return nullptr;
  if (p.forward == OpKind::GruSequence && fwd->linearBeforeReset() != grad.linearBeforeReset())
    return nullptr;
  const bool gradMasked = grad.numOperands() == p.numGradOperands + 1,
             fwdMasked = fwd->numOperands() == p.numOperands + 1;
  if (gradMasked != fwdMasked ||
      (gradMasked && grad.operand(p.numGradOperands) != fwd->operand(p.numOperands)))
    return nullptr;
  for (size_t i = 0; i < p.numOperands; ++i)
    if (grad.operand(i) != fwd->operand(i))
      return nullptr;
  return fwd;
}

/// `op`'s attributes (its direction and form) with save_gates set.
ir::Attrs savingAttrs(const ir::Op &op) {
  ir::Attrs attrs = op.attrs();
  attrs["save_gates"] = int64_t{1};
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

class SaveGatesPass : public FunctionPass {
public:
  explicit SaveGatesPass(const SequencePair &p) : p(p) {}

  std::string_view name() const override { return p.passName; }

  Expected<bool> runOnFunction(ir::Function &f) override {
    std::vector<ir::Op *> grads;
    ir::walk(f.body(), [&](ir::Op &op) {
      if (op.kind() == p.gradient && !op.saveGates() && forwardOf(p, op))
        grads.push_back(&op);
    });
    if (grads.empty())
      return false;
    std::unordered_map<ir::Op *, ir::Op *> saving;          // plain forward -> its saving form
    std::vector<std::pair<ir::Op *, ir::Op *>> savingGrads; // plain gradient -> its saving form
    const size_t numSaved = p.savedNames.size();
    for (ir::Op *grad : grads) {
      ir::Op *fwd = forwardOf(p, *grad);
      auto it = saving.find(fwd);
      ir::Op *saver = it == saving.end() ? nullptr : it->second;
      if (!saver) {
        ir::OpBuilder b(*fwd->parentBlock());
        b.setInsertionPointBefore(fwd);
        auto made = b.create(p.forward, fwd->operands(), savingAttrs(*fwd), {}, fwd->loc());
        WEFT_TRY(made.status());
        saver = *made;
        for (size_t s = 0; s < numSaved; ++s)
          saver->result(p.numResults + s)->setName(p.savedNames[s]);
        saving[fwd] = saver;
      }
      // The grad's operands that the forward's replacement renames are read below, before
      // the forward goes.
      std::vector<Value *> xs(grad->operands().begin(),
                              grad->operands().begin() + static_cast<ptrdiff_t>(p.numGradOperands));
      xs[p.numOperands] = saver->result(0);
      for (size_t s = 0; s < numSaved; ++s)
        xs.push_back(saver->result(p.numResults + s));
      if (grad->numOperands() == p.numGradOperands + 1)
        xs.push_back(grad->operand(p.numGradOperands));
      ir::OpBuilder b(*grad->parentBlock());
      b.setInsertionPointBefore(grad);
      auto made = b.create(p.gradient, xs, savingAttrs(*grad), {}, grad->loc());
      if (!made)
        return err(fmt::format("{}: {}", p.passName, made.diag().message), grad->loc());
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

private:
  const SequencePair &p;
};

} // namespace

std::unique_ptr<Pass> createSaveLstmGatesPass() { return std::make_unique<SaveGatesPass>(kLstm); }

std::unique_ptr<Pass> createSaveGruGatesPass() { return std::make_unique<SaveGatesPass>(kGru); }

} // namespace weft::passes
