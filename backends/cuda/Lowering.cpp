//===- backends/cuda/Lowering.cpp - the driver: a function's ops as steps ===//
//
// Each op becomes steps:
//   elementwise            one kernel over the result's elements (LowerElementwise.cpp)
//   reduce_*, argmax       one reduction kernel (ReduceKernels.cpp; LowerReductions.cpp)
//   matmul                 one tiled kernel (MatmulKernel.cpp; LowerReductions.cpp)
//   transpose, broadcast,  one strided copy (ShapeKernels.cpp) with the strides
//   slice                  that make it that op (LowerShapeOps.cpp)
//   concat                 a strided copy per operand into its part of the result
//   pad                    a fill, then a strided copy into the interior
//   gather, scatter_add    a status word set, the kernel, a check of the word
//   iota, random_*         one kernel over the result (ProducerKernels.cpp;
//                          LowerElementwise.cpp)
//   fusion                 one kernel over its domain (FusionKernel.cpp; LowerElementwise.cpp)
//   integer div            (alone or in a fusion) a status word set, the kernel, a check
//   attention              a block per query row, online softmax (AttentionKernel.cpp;
//                          LowerReductions.cpp)
//   additive_attention     a block per batch row (AdditiveAttentionKernel.cpp)
//   all_reduce             through the host: runtime/Collective.h (CollectiveStep.cpp)
//   attention_grad         stats, dk/dv and dq kernels (LowerAttentionGrad.cpp)
//   lstm_sequence_grad     recomputed (or saved) gates, a host loop over the steps
//                          (LowerLstmGrad.cpp)
//   gru/rnn_sequence_grad  the same, for the GRU's and RNN's gates (LowerGruRnnGrad.cpp)
//   lstm_attention_step    gate matmuls, cell, query, attention, attention vector
//                          (LowerLstmAttentionStep.cpp)
//   scan, while            a Loop step: the host runs the trips (RunSteps.cpp)
//   lstm_sequence          a persistent kernel where wh fits on chip (PersistentLstm.h),
//                          else the scan it stands for (transforms/)
//   gru/rnn_sequence       the scans they stand for (transforms/), lowered as above
//   reshape                a device copy;  constant: an upload (LowerElementwise.cpp)
// Strides and counts come from the call's shapes, so symbolic dims are just
// scalars of the launch. This file is the driver: the buffer plan's scratch, the walk over a
// function's blocks, the dispatch above, and scan and while, whose bodies it lowers in turn.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/Lowering.h"

#include "analysis/BufferPlan.h"
#include "backends/cuda/LowerGrads.h"
#include "backends/cuda/LowerGruRnnGrad.h"
#include "backends/cuda/LowerOps.h"
#include "backends/cuda/PersistentLstm.h"
#include "ir/Clone.h"
#include "ir/Infer.h"
#include "ir/Walk.h"
#include "transforms/ExpandGruRnn.h"
#include "transforms/ExpandLstm.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <unordered_map>

namespace weft::cuda::detail {
namespace {

using ir::OpKind;

/// The loop's carries i whose yielded value is another carry's body argument (a swap): they go
/// through scratch, since the copies into the carries run one after another.
std::vector<size_t> swappedCarries(const ir::Op &loop) {
  const bool isWhile = loop.kind() == OpKind::While;
  size_t carries = isWhile ? loop.numOperands() - 1 : 0;
  if (!isWhile)
    if (auto g = ir::scanOperands(loop.numOperands(), loop.attrs()))
      carries = g->numCarry;
  const ir::Block &body = loop.region();
  const ir::Op *yield = body.back();
  std::vector<size_t> out;
  const size_t first = isWhile ? 1 : 0;
  for (size_t i = 0; i < carries && yield && first + i < yield->numOperands(); ++i)
    for (size_t j = 0; j < carries && j < body.numArgs(); ++j)
      if (j != i && yield->operand(first + i) == body.arg(j)) {
        out.push_back(i);
        break;
      }
  return out;
}

/// The scratch each op needs: gather's and scatter_add's status word, an integer division's
/// (a fusion's: one per division in its body); a loop's staging for swapped carries.
std::vector<ir::Type> scratch(const ir::Op &op) {
  if (std::vector<ir::Type> grad = gradScratch(op); !grad.empty())
    return grad;
  const ir::Type word({ir::Dim(1)}, DType::I64);
  if (op.kind() == OpKind::Gather || op.kind() == OpKind::ScatterAdd || elementwiseFaults(op))
    return {word};
  if (op.kind() == OpKind::Fusion)
    return std::vector<ir::Type>(fusionDivisions(op).size(), word);
  if (op.kind() == OpKind::LstmSequence)
    return persistentLstmScratch(op);
  std::vector<ir::Type> out;
  if (op.kind() == OpKind::Scan || op.kind() == OpKind::While)
    for (size_t i : swappedCarries(op))
      out.push_back(op.result((op.kind() == OpKind::While ? 1 : 0) + i)->type());
  return out;
}

class Lowerer {
public:
  Lowerer(const ir::Function &f, KernelModule &km, KernelTarget target,
          std::vector<std::string> &names, const LoweringOptions &options)
      : f(f), km(km), target(target), names(names), options(options), plan(f, scratch) {}

  Expected<FunctionCode> run() {
    FunctionCode code;
    code.signature = ir::Signature::of(f);
    code.resultTypes = f.resultTypes();
    for (const analysis::BufferSlot &s : plan.slots()) {
      code.slotTypes.push_back(s.type);
      code.lives.push_back(s.live);
    }
    code.paramSlots = plan.paramSlots();
    code.resultSlots = plan.resultSlots();
    code.aliasCopies = plan.aliasCopies();
    // Parameters and results are in the call's one allocation too: results must hold until
    // they are copied back at the end.
    for (int s : code.resultSlots)
      code.lives[s].last = std::numeric_limits<int32_t>::max();
    auto steps = lowerBlock(f.body());
    WEFT_TRY(steps.status());
    code.steps = std::move(*steps);
    code.numViews = numViews;
    return code;
  }

private:
  /// The steps of a block's ops, its terminator left out.
  Expected<std::vector<Step>> lowerBlock(const ir::Block &block) {
    std::vector<Step> out;
    for (const auto &owned : block.ops()) {
      const ir::Op &op = *owned;
      if (ir::isTerminator(op.kind()))
        continue;
      auto steps = lower(op);
      WEFT_TRY(steps.status());
      for (Step &s : *steps)
        out.push_back(std::move(s));
    }
    return out;
  }

  Expected<std::vector<Step>> lower(const ir::Op &op) {
    OpLowering l = context();
    if (ir::isElementwise(op.kind()))
      return lowerElementwise(l, op);
    switch (op.kind()) {
    case OpKind::ReduceSum:
    case OpKind::ReduceMean:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::Argmax:
      return lowerReduction(l, op);
    case OpKind::Matmul:
      return lowerMatmul(l, op);
    case OpKind::Transpose:
    case OpKind::Broadcast:
    case OpKind::Slice:
      return lowerRestride(l, op);
    case OpKind::Concat:
      return lowerConcat(l, op);
    case OpKind::Pad:
      return lowerPad(l, op);
    case OpKind::Gather:
    case OpKind::ScatterAdd:
      return lowerGather(l, op);
    case OpKind::Iota:
      return lowerIota(l, op);
    case OpKind::RandomUniform:
    case OpKind::RandomNormal:
      return lowerRandom(l, op);
    case OpKind::Reshape: {
      Step s = l.step(op, Step::Kind::Copy);
      s.slots = {plan.slotOf(op.result()), plan.slotOf(op.operand(0))};
      return std::vector<Step>{std::move(s)};
    }
    case OpKind::Constant:
      return lowerConstant(l, op);
    case OpKind::Scan:
    case OpKind::While:
      return loop(op);
    case OpKind::Fusion:
      return lowerFusion(l, op);
    case OpKind::Attention:
      return lowerAttention(l, op);
    case OpKind::AdditiveAttention:
      return lowerAdditiveAttention(l, op);
    case OpKind::AllReduce:
      return std::vector<Step>{
          allReduceStep(op, slot(op.operand(0)), slot(op.result()), describeOp(op))};
    case OpKind::AttentionGrad:
      return lowerAttentionGrad(l, op);
    case OpKind::LstmSequenceGrad:
      return lowerLstmSequenceGrad(l, op);
    case OpKind::GruSequenceGrad:
    case OpKind::RnnSequenceGrad:
      return lowerGruRnnSequenceGrad(l, op);
    case OpKind::LstmSequence:
      return lstmSequence(op);
    case OpKind::LstmAttentionStep:
      return lowerLstmAttentionStep(l, op);
    default:
      return err(fmt::format("'{}' is not on the CUDA backend yet (tests/unit/cuda/"
                             "CudaCoverageTest.cpp lists what is not, and why)",
                             op.name()),
                 op.loc());
    }
  }

  /// What an op lowered in a file of its own (OpLowering.h) needs of this one.
  OpLowering context() {
    return {f.name(),
            km,
            target,
            names,
            plan,
            options,
            [this](const ir::Value *v) { return slot(v); },
            [this] { return static_cast<int>(plan.slots().size()) + numViews++; }};
  }

  /// The slot holding `v`, or the view it is (a scan's sequence step).
  int slot(const ir::Value *v) const {
    auto view = views.find(v);
    return view != views.end() ? view->second : plan.slotOf(v);
  }

  /// lstm_sequence, where it fits: one persistent kernel (PersistentLstm.h).
  Expected<std::vector<Step>> lstmSequence(const ir::Op &op) {
    const std::vector<int> &scratchSlots = plan.scratchOf(op);
    LstmSlots s{slot(op.result(0)),  slot(op.result(1)),
                slot(op.result(2)),  slot(op.operand(0)),
                slot(op.operand(1)), slot(op.operand(2)),
                slot(op.operand(3)), slot(op.operand(4)),
                slot(op.operand(5)), op.numOperands() == 7 ? slot(op.operand(6)) : -1,
                scratchSlots.at(0),  scratchSlots.at(1),
                scratchSlots.at(2)};
    return lowerPersistentLstm(op, s, km, target, names, context().kernelName(op), describeOp(op),
                               options.tf32);
  }

  /// scan and while: the host runs the trips (LoopCode); the body's ops are steps as anywhere.
  Expected<std::vector<Step>> loop(const ir::Op &op) {
    OpLowering ctx = context();
    auto code = std::make_shared<LoopCode>();
    LoopCode &l = *code;
    l.isWhile = op.kind() == OpKind::While;
    const ir::Block &body = op.region();
    const ir::Op *yield = body.back();
    WEFT_CHECK(yield && yield->kind() == OpKind::Yield, "a loop body ends in yield");
    size_t carries = 0, sequences = 0;
    bool lengths = false;
    if (l.isWhile) {
      carries = op.numOperands() - 1;
      l.maxTrips = op.maxTrips();
    } else {
      auto g = ir::scanOperands(op.numOperands(), op.attrs());
      WEFT_TRY(g.status());
      carries = g->numCarry;
      sequences = g->numSeq;
      lengths = g->hasLengths;
      l.reverse = op.reverse();
      l.sequenceType = op.operand(carries)->type();
    }
    // Results and yields: [finished,] carries, emits [, trips].
    const size_t first = l.isWhile ? 1 : 0;
    const size_t emits = op.numResults() - first - carries - (l.isWhile ? 1 : 0);
    for (size_t i = 0; i < carries; ++i)
      l.init.push_back({slot(op.result(first + i)), slot(op.operand(first + i))});
    LoopCopyMask mask = LoopCopyMask::None;
    if (l.isWhile) {
      l.finishedSlot = slot(op.result(0));
      l.init.push_back({l.finishedSlot, slot(op.operand(0))});
      l.maskRef = l.finishedSlot;
      l.doneRef = slot(yield->operand(0));
      // `done` is read after the carries are written: it must not be one of them.
      for (size_t i = 0; i < carries; ++i)
        if (yield->operand(0) == body.arg(i))
          return err("a while whose `done` flags are a carry as it was is not on the CUDA "
                     "backend yet",
                     op.loc());
      l.tripsSlot = slot(op.result(op.numResults() - 1));
      mask = LoopCopyMask::Unfinished;
      std::string orName = ctx.kernelName(op) + "_finished";
      WEFT_TRY(emitOrKernel(*km.module, orName, target).status());
      l.orKernel = ctx.addKernel(orName);
    } else if (lengths) {
      const ir::Value *len = op.operand(op.numOperands() - 1);
      l.lengthsType = len->type();
      l.maskRef = slot(len);
      mask =
          len->type().dtype() == DType::I32 ? LoopCopyMask::LengthsI32 : LoopCopyMask::LengthsI64;
    }
    for (size_t j = 0; j < sequences; ++j) {
      const ir::Value *step = body.arg(carries + j);
      const int ref = static_cast<int>(plan.slots().size()) + numViews++;
      views[step] = ref;
      l.views.push_back({ref, slot(op.operand(carries + j)), step->type()});
    }
    auto steps = lowerBlock(body);
    WEFT_TRY(steps.status());
    l.body = std::move(*steps);
    const std::vector<size_t> swapped = swappedCarries(op);
    const std::vector<int> &staging = plan.scratchOf(op);
    for (size_t i = 0; i < carries; ++i) {
      const ir::Value *yielded = yield->operand(first + i);
      int from = slot(yielded), to = slot(op.result(first + i));
      if (from == to)
        continue;
      auto at = std::find(swapped.begin(), swapped.end(), i);
      if (at != swapped.end()) {
        int stage = staging.at(static_cast<size_t>(at - swapped.begin()));
        auto c = ctx.loopCopy(op, fmt::format("stage{}", i), from, stage, yielded->type(),
                              LoopCopyMask::None);
        WEFT_TRY(c.status());
        l.staged.push_back(std::move(*c));
        from = stage;
      }
      auto c = ctx.loopCopy(op, fmt::format("carry{}", i), from, to, yielded->type(), mask);
      WEFT_TRY(c.status());
      l.carries.push_back(std::move(*c));
    }
    for (size_t e = 0; e < emits; ++e) {
      const ir::Value *yielded = yield->operand(first + carries + e);
      const ir::Value *stacked = op.result(first + carries + e);
      auto c = ctx.loopCopy(op, fmt::format("emit{}", e), slot(yielded), slot(stacked),
                            yielded->type(), mask);
      WEFT_TRY(c.status());
      l.emits.push_back(std::move(*c));
      if (!l.isWhile)
        continue;
      std::string fill = fmt::format("{}_zero{}", ctx.kernelName(op), e);
      WEFT_TRY(emitFillKernel(*km.module, fill, target,
                              static_cast<int>(dtypeBytes(stacked->type().dtype())))
                   .status());
      LoopCopy z;
      z.kernel = ctx.addKernel(fill);
      z.from = z.to = slot(stacked);
      z.type = stacked->type();
      l.zeroed.push_back(std::move(z));
    }
    Step s = ctx.step(op, Step::Kind::Loop);
    s.loop = std::move(code);
    return std::vector<Step>{std::move(s)};
  }

  const ir::Function &f;
  KernelModule &km;
  KernelTarget target;
  std::vector<std::string> &names;
  LoweringOptions options;
  analysis::BufferPlan plan;
  /// A scan's sequence steps, as view references past the plan's slots.
  std::unordered_map<const ir::Value *, int> views;
  int numViews = 0;
};

/// Whether `f` holds an lstm_sequence, gru_sequence or rnn_sequence, at any depth.
bool hasSequenceOp(const ir::Function &f) {
  bool found = false;
  ir::walk(const_cast<ir::Block &>(f.body()), [&](ir::Op &op) {
    found |= op.kind() == OpKind::LstmSequence || op.kind() == OpKind::GruSequence ||
             op.kind() == OpKind::RnnSequence;
  });
  return found;
}

} // namespace

Expected<LoweringOptions> loweringOptions(const std::string &features) {
  LoweringOptions options;
  size_t begin = 0;
  while (begin <= features.size()) {
    size_t end = features.find(',', begin);
    if (end == std::string::npos)
      end = features.size();
    std::string feature = features.substr(begin, end - begin);
    if (feature == "+tf32" || feature == "-tf32")
      options.tf32 = feature[0] == '+';
    else if (!feature.empty())
      return err(fmt::format("the CUDA backend has one feature, +tf32 (f32 matmuls on tensor "
                             "cores), not '{}'",
                             feature));
    begin = end + 1;
  }
  return options;
}

Expected<FunctionCode> lowerFunction(const ir::Function &f, KernelModule &km, KernelTarget target,
                                     std::vector<std::string> &kernelNames,
                                     const LoweringOptions &options) {
  if (hasSequenceOp(f)) {
    // lstm_sequence takes the persistent kernel where its weights fit on chip (PersistentLstm.h);
    // the others, and gru_sequence and rnn_sequence, run as the scans they stand for
    // (transforms/), one launch per op of the cell per step. The copy lives while it is lowered;
    // the code keeps no pointer into it.
    ir::Module expanded;
    ir::Function &copy = ir::cloneFunction(expanded, f, f.name());
    std::vector<ir::Op *> perStep;
    ir::walk(copy.body(), [&](ir::Op &op) {
      // The persistent kernel writes no saved gates (the training form): that form runs as its
      // scan, which emits them.
      if (op.kind() == OpKind::LstmSequence &&
          (op.saveGates() ||
           !persistentLstmFits(op.operand(1)->type().dim(1).size(), op.operand(0)->type().dtype())))
        perStep.push_back(&op);
    });
    for (ir::Op *op : perStep)
      WEFT_TRY(transforms::expandLstmSequence(*op));
    WEFT_TRY(transforms::expandGruRnnSequences(copy.body()).status());
    return Lowerer(copy, km, target, kernelNames, options).run();
  }
  return Lowerer(f, km, target, kernelNames, options).run();
}

} // namespace weft::cuda::detail
