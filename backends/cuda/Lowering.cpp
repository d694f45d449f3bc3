//===- backends/cuda/Lowering.cpp -----------------------------------------===//
//
// Each op becomes steps:
//   elementwise            one kernel over the result's elements
//   reduce_*, argmax       one reduction kernel (ReduceKernels.cpp)
//   matmul                 one tiled kernel (MatmulKernel.cpp)
//   transpose, broadcast,  one strided copy (ShapeKernels.cpp) with the strides
//   slice                  that make it that op
//   concat                 a strided copy per operand into its part of the result
//   pad                    a fill, then a strided copy into the interior
//   gather, scatter_add    a status word set, the kernel, a check of the word
//   iota, random_*         one kernel over the result (ProducerKernels.cpp)
//   fusion                 one kernel over its domain (FusionKernel.cpp)
//   integer div            (alone or in a fusion) a status word set, the kernel, a check
//   attention              a block per query row, online softmax (AttentionKernel.cpp)
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
//   reshape                a device copy;  constant: an upload
// Strides and counts come from the call's shapes, so symbolic dims are just
// scalars of the launch.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/Lowering.h"

#include "analysis/BufferPlan.h"
#include "backends/cuda/LowerGrads.h"
#include "backends/cuda/LowerGruRnnGrad.h"
#include "backends/cuda/PersistentLstm.h"
#include "eval/Evaluate.h"
#include "ir/Clone.h"
#include "ir/Fusion.h"
#include "ir/Infer.h"
#include "ir/Walk.h"
#include "runtime/CudaAotSteps.h"
#include "transforms/ExpandGruRnn.h"
#include "transforms/ExpandLstm.h"

#include <fmt/format.h>
#include <llvm/IR/Module.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <tuple>
#include <unordered_map>

namespace weft::cuda::detail {
namespace {

using ir::OpKind;
using Shape = std::vector<int64_t>;

/// The op for run-time errors, which have no location of their own: "'add' (model.cpp:12)".
std::string describeOp(const ir::Op &op) {
  return op.loc().known() ? fmt::format("'{}' ({})", op.name(), op.loc().str())
                          : fmt::format("'{}'", op.name());
}

Shape rowMajor(const Shape &shape) {
  Shape strides(shape.size(), 1);
  for (size_t a = shape.size(); a-- > 1;)
    strides[a - 1] = strides[a] * shape[a];
  return strides;
}

int64_t numel(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// The grid for `items` pieces of work that threads stride over, in blocks of any size.
Grid strided(const Device &d, int64_t items) {
  int64_t t = d.blockThreads();
  return {std::min((items + t - 1) / t, d.maxBlocks()), t};
}

/// A strided copy's scalars (emitCopyKernel).
std::vector<int64_t> copyScalars(const Shape &dims, const Shape &src, const Shape &dst,
                                 int64_t srcOffset, int64_t dstOffset) {
  std::vector<int64_t> s = {numel(dims)};
  for (const Shape *v : {&dims, &src, &dst})
    s.insert(s.end(), v->begin(), v->end());
  s.push_back(srcOffset);
  s.push_back(dstOffset);
  return s;
}

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

std::string typeStr(DType t, const Shape &shape) {
  return std::string(dtypeName(t)) + formatShape(shape);
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
    if (ir::isElementwise(op.kind()))
      return elementwise(op);
    switch (op.kind()) {
    case OpKind::ReduceSum:
    case OpKind::ReduceMean:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::Argmax:
      return reduction(op);
    case OpKind::Matmul:
      return matmul(op);
    case OpKind::Transpose:
    case OpKind::Broadcast:
    case OpKind::Slice:
      return restride(op);
    case OpKind::Concat:
      return concat(op);
    case OpKind::Pad:
      return pad(op);
    case OpKind::Gather:
    case OpKind::ScatterAdd:
      return gather(op);
    case OpKind::Iota:
      return iota(op);
    case OpKind::RandomUniform:
    case OpKind::RandomNormal:
      return random(op);
    case OpKind::Reshape: {
      Step s = step(op, Step::Kind::Copy);
      s.slots = {plan.slotOf(op.result()), plan.slotOf(op.operand(0))};
      return std::vector<Step>{std::move(s)};
    }
    case OpKind::Constant:
      return constant(op);
    case OpKind::Scan:
    case OpKind::While:
      return loop(op);
    case OpKind::Fusion:
      return fusion(op);
    case OpKind::Attention:
      return attention(op);
    case OpKind::AdditiveAttention:
      return additiveAttention(op);
    case OpKind::AllReduce:
      return std::vector<Step>{
          allReduceStep(op, slot(op.operand(0)), slot(op.result()), describeOp(op))};
    case OpKind::AttentionGrad: {
      OpLowering l = context();
      return lowerAttentionGrad(l, op);
    }
    case OpKind::LstmSequenceGrad: {
      OpLowering l = context();
      return lowerLstmSequenceGrad(l, op);
    }
    case OpKind::GruSequenceGrad:
    case OpKind::RnnSequenceGrad: {
      OpLowering l = context();
      return lowerGruRnnSequenceGrad(l, op);
    }
    case OpKind::LstmSequence:
      return lstmSequence(op);
    case OpKind::LstmAttentionStep: {
      OpLowering l = context();
      return lowerLstmAttentionStep(l, op);
    }
    default:
      return err(fmt::format("'{}' is not on the CUDA backend yet (tests/unit/cuda/"
                             "CudaCoverageTest.cpp lists what is not, and why)",
                             op.name()),
                 op.loc());
    }
  }

  /// What an op lowered in a file of its own (LowerGrads.h) needs of this one.
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

  Step step(const ir::Op &op, Step::Kind kind) {
    Step s;
    s.kind = kind;
    s.what = describeOp(op);
    return s;
  }

  std::string kernelName(const ir::Op &op) {
    return fmt::format("{}_{}_{}", f.name(), names.size(), op.name());
  }

  /// A kernel step for `fn` (just added to the module under `name`).
  Step kernelStep(const ir::Op &op, const std::string &name, std::vector<int> slots,
                  LaunchPlan launch) {
    Step s = step(op, Step::Kind::Kernel);
    s.kernel = names.size();
    names.push_back(name);
    s.slots = std::move(slots);
    s.launch = std::move(launch);
    return s;
  }

  /// The slot holding `v`, or the view it is (a scan's sequence step).
  int slot(const ir::Value *v) const {
    auto view = views.find(v);
    return view != views.end() ? view->second : plan.slotOf(v);
  }

  Expected<std::vector<Step>> elementwise(const ir::Op &op) {
    for (const ir::Value *v : op.operands())
      if (v->type().dims() != op.result()->type().dims())
        return err(fmt::format("'{}' on operands of other shapes than its result is not on "
                               "the CUDA backend yet",
                               op.name()),
                   op.loc());
    std::string name = kernelName(op);
    WEFT_TRY(emitElementwiseKernel(*km.module, op, name, target,
                                   plan.inPlaceOver(op.result()) != nullptr)
                 .status());
    std::vector<int> slots = {slot(op.result())};
    for (const ir::Value *v : op.operands())
      slots.push_back(slot(v));
    const bool faults = elementwiseFaults(op);
    if (faults)
      slots.push_back(plan.scratchOf(op).at(0));
    ir::Type type = op.result()->type();
    Step kernel =
        kernelStep(op, name, std::move(slots),
                   [type](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto shape = type.evaluateShape(dims);
                     WEFT_TRY(shape.status());
                     int64_t n = numel(*shape);
                     return Launch{{n}, strided(d, n)};
                   });
    if (!faults)
      return std::vector<Step>{std::move(kernel)};
    return divisionSteps({&op}, plan.scratchOf(op), std::move(kernel));
  }

  /// Integer divisions (`divisions`, with their status words in `status`): the words set, the
  /// kernel, then a check of each word, in order, that reports the first element its division
  /// divided by zero in the interpreter's words, naming that division. Code built ahead of time
  /// checks the words with DivisionCheck steps (runtime/CudaAotPlan.h).
  std::vector<Step> divisionSteps(const std::vector<const ir::Op *> &divisions,
                                  const std::vector<int> &status, Step kernel) {
    std::vector<Step> steps;
    for (size_t d = 0; d < divisions.size(); ++d) {
      Step reset = step(*divisions[d], Step::Kind::Upload);
      Array none(DType::I64, {1});
      none.setInt(0, std::numeric_limits<int64_t>::max());
      reset.constant = std::make_shared<const Array>(std::move(none));
      reset.slots = {status.at(d)};
      steps.push_back(std::move(reset));
    }
    steps.push_back(std::move(kernel));
    for (size_t d = 0; d < divisions.size(); ++d) {
      Step check = step(*divisions[d], Step::Kind::Check);
      const int word = status.at(d);
      const ir::Type type = divisions[d]->operand(0)->type();
      check.statusSlot = word;
      check.divided = type;
      check.check = [word, type](Device &dev, const std::function<DeviceAddress(int)> &address,
                                 const ir::DimBindings &dims) -> Status {
        int64_t bad = 0;
        WEFT_TRY(dev.download(&bad, address(word), sizeof bad));
        WEFT_TRY(dev.synchronize());
        if (bad == std::numeric_limits<int64_t>::max())
          return Status::ok();
        auto shape = type.evaluateShape(dims);
        WEFT_TRY(shape.status());
        return err(divisionByZeroMessage(bad, typeStr(type.dtype(), *shape)));
      };
      steps.push_back(std::move(check));
    }
    return steps;
  }

  Expected<std::vector<Step>> reduction(const ir::Op &op) {
    const ir::Type in = op.operand(0)->type();
    const int rank = static_cast<int>(in.rank());
    std::vector<bool> reduced(static_cast<size_t>(rank), false);
    const bool arg = op.kind() == OpKind::Argmax;
    for (int64_t a : arg ? std::vector<int64_t>{op.axis()} : op.axes())
      reduced.at(static_cast<size_t>(a)) = true;
    const int reducedRank = static_cast<int>(std::count(reduced.begin(), reduced.end(), true));
    ReduceKind kind = arg                               ? ReduceKind::Argmax
                      : op.kind() == OpKind::ReduceSum  ? ReduceKind::Sum
                      : op.kind() == OpKind::ReduceMean ? ReduceKind::Mean
                      : op.kind() == OpKind::ReduceMax  ? ReduceKind::Max
                                                        : ReduceKind::Min;
    std::string name = kernelName(op);
    WEFT_TRY(emitReduceKernel(*km.module, name, target, kind, in.dtype(),
                              op.result()->type().dtype(), rank - reducedRank, reducedRank)
                 .status());
    const bool picks = kind != ReduceKind::Sum && kind != ReduceKind::Mean;
    return std::vector<Step>{kernelStep(
        op, name, {slot(op.result()), slot(op.operand(0))},
        [in, reduced, picks](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
          auto shape = in.evaluateShape(dims);
          WEFT_TRY(shape.status());
          std::vector<int64_t> scalars = reduceScalars(*shape, reduced);
          const int64_t outputs = scalars[0], count = scalars[1];
          if (picks && count == 0 && outputs > 0) // the interpreter's words
            return err(
                fmt::format("cannot reduce {} over an empty axis", typeStr(in.dtype(), *shape)));
          return Launch{std::move(scalars), {std::min(outputs, d.maxBlocks()), d.blockThreads()}};
        })};
  }

  Expected<std::vector<Step>> matmul(const ir::Op &op) {
    const ir::Type a = op.operand(0)->type(), b = op.operand(1)->type();
    std::string name = kernelName(op);
    const bool tensorCores = options.tf32 && a.dtype() == DType::F32;
    WEFT_TRY((tensorCores ? emitMatmulTf32Kernel(*km.module, name, target)
                          : emitMatmulKernel(*km.module, name, target, a.dtype()))
                 .status());
    const int64_t threads = tensorCores ? kMmaThreads : kMatmulThreads;
    return std::vector<Step>{kernelStep(
        op, name, {slot(op.result()), slot(op.operand(0)), slot(op.operand(1))},
        [a, b, threads](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
          auto sa = a.evaluateShape(dims);
          WEFT_TRY(sa.status());
          auto sb = b.evaluateShape(dims);
          WEFT_TRY(sb.status());
          const size_t r = sa->size();
          const int64_t M = (*sa)[r - 2], K = (*sa)[r - 1], N = (*sb)[r - 1];
          const int64_t batches = numel(Shape(sa->begin(), sa->end() - 2));
          const int64_t tiles = batches * ((M + kTileM - 1) / kTileM) * ((N + kTileN - 1) / kTileN);
          return Launch{{batches, M, K, N}, {std::min(tiles, d.maxBlocks()), threads}};
        })};
  }

  /// Adds the copy kernel for `op`'s dtype and `rank`.
  Expected<std::string> copyKernel(const ir::Op &op, int rank) {
    std::string name = kernelName(op);
    WEFT_TRY(emitCopyKernel(*km.module, name, target,
                            static_cast<int>(dtypeBytes(op.result()->type().dtype())), rank)
                 .status());
    return name;
  }

  /// transpose, broadcast and slice: a copy over the result, reading the operand at strides.
  Expected<std::vector<Step>> restride(const ir::Op &op) {
    const ir::Type in = op.operand(0)->type(), out = op.result()->type();
    auto name = copyKernel(op, static_cast<int>(out.rank()));
    WEFT_TRY(name.status());
    const OpKind kind = op.kind();
    const std::vector<int64_t> perm = kind == OpKind::Transpose ? op.perm() : Shape{};
    const std::vector<int64_t> bdims = kind == OpKind::Broadcast ? op.dims() : Shape{};
    const int64_t axis = kind == OpKind::Slice ? op.axis() : 0;
    const int64_t start = kind == OpKind::Slice ? op.start() : 0;
    return std::vector<Step>{
        kernelStep(op, *name, {slot(op.result()), slot(op.operand(0))},
                   [=](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto si = in.evaluateShape(dims);
                     WEFT_TRY(si.status());
                     auto so = out.evaluateShape(dims);
                     WEFT_TRY(so.status());
                     Shape inStrides = rowMajor(*si), src(so->size(), 0);
                     int64_t offset = 0;
                     if (kind == OpKind::Transpose) {
                       for (size_t i = 0; i < perm.size(); ++i)
                         src[i] = inStrides[static_cast<size_t>(perm[i])];
                     } else if (kind == OpKind::Broadcast) {
                       for (size_t i = 0; i < bdims.size(); ++i)
                         if ((*si)[i] != 1)
                           src[static_cast<size_t>(bdims[i])] = inStrides[i];
                     } else {
                       src = inStrides;
                       offset = start * inStrides[static_cast<size_t>(axis)];
                     }
                     int64_t n = numel(*so);
                     return Launch{copyScalars(*so, src, rowMajor(*so), offset, 0), strided(d, n)};
                   })};
  }

  Expected<std::vector<Step>> concat(const ir::Op &op) {
    const ir::Type out = op.result()->type();
    auto name = copyKernel(op, static_cast<int>(out.rank()));
    WEFT_TRY(name.status());
    std::vector<ir::Type> ins;
    for (const ir::Value *v : op.operands())
      ins.push_back(v->type());
    const auto axis = static_cast<size_t>(op.axis());
    std::vector<Step> steps;
    for (size_t k = 0; k < ins.size(); ++k) {
      LaunchPlan launch = [=](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
        auto so = out.evaluateShape(dims);
        WEFT_TRY(so.status());
        int64_t before = 0;
        Shape mine;
        for (size_t j = 0; j <= k; ++j) {
          auto s = ins[j].evaluateShape(dims);
          WEFT_TRY(s.status());
          if (j < k)
            before += (*s)[axis];
          else
            mine = *s;
        }
        Shape outStrides = rowMajor(*so);
        return Launch{copyScalars(mine, rowMajor(mine), outStrides, 0, before * outStrides[axis]),
                      strided(d, numel(mine))};
      };
      if (k == 0) {
        steps.push_back(kernelStep(op, *name, {slot(op.result()), slot(op.operand(k))}, launch));
      } else { // the same kernel again, on the next operand
        Step s = steps.front();
        s.slots = {slot(op.result()), slot(op.operand(k))};
        s.launch = launch;
        steps.push_back(std::move(s));
      }
    }
    return steps;
  }

  Expected<std::vector<Step>> pad(const ir::Op &op) {
    const ir::Type in = op.operand(0)->type(), out = op.result()->type();
    const int bytes = static_cast<int>(dtypeBytes(out.dtype()));
    std::string fill = kernelName(op) + "_fill";
    WEFT_TRY(emitFillKernel(*km.module, fill, target, bytes).status());
    // The fill value in the result's dtype, as the interpreter converts it, as raw bits.
    Array value(out.dtype(), {1});
    value.setDouble(0, op.padValue());
    int64_t bits = 0;
    std::memcpy(&bits, value.data(), static_cast<size_t>(bytes));
    std::vector<Step> steps;
    steps.push_back(
        kernelStep(op, fill, {slot(op.result())},
                   [out, bits](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto so = out.evaluateShape(dims);
                     WEFT_TRY(so.status());
                     return Launch{{numel(*so), bits}, strided(d, numel(*so))};
                   }));
    auto name = copyKernel(op, static_cast<int>(out.rank()));
    WEFT_TRY(name.status());
    const Shape low = op.low();
    steps.push_back(kernelStep(
        op, *name, {slot(op.result()), slot(op.operand(0))},
        [in, out, low](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
          auto si = in.evaluateShape(dims);
          WEFT_TRY(si.status());
          auto so = out.evaluateShape(dims);
          WEFT_TRY(so.status());
          Shape outStrides = rowMajor(*so);
          int64_t offset = 0;
          for (size_t a = 0; a < low.size(); ++a)
            offset += low[a] * outStrides[a];
          return Launch{copyScalars(*si, rowMajor(*si), outStrides, 0, offset),
                        strided(d, numel(*si))};
        }));
    return steps;
  }

  Expected<std::vector<Step>> gather(const ir::Op &op) {
    const ir::Type table = op.operand(0)->type(), indices = op.operand(1)->type();
    const int bytes = static_cast<int>(dtypeBytes(table.dtype()));
    std::string name = kernelName(op);
    const bool scatter = op.kind() == OpKind::ScatterAdd;
    WEFT_TRY((scatter
                  ? emitScatterAddKernel(*km.module, name, target, table.dtype(), indices.dtype())
                  : emitGatherKernel(*km.module, name, target, bytes, indices.dtype()))
                 .status());
    const int status = plan.scratchOf(op).at(0);
    const auto axis = static_cast<size_t>(op.axis());
    std::vector<Step> steps;
    Step reset = step(op, Step::Kind::Upload);
    Array none(DType::I64, {1});
    none.setInt(0, std::numeric_limits<int64_t>::max());
    reset.constant = std::make_shared<const Array>(std::move(none));
    reset.slots = {status};
    steps.push_back(std::move(reset));
    // The table as [P, axis, Q], the gathered elements as [P, I, Q].
    auto sizes =
        [table, indices, axis](
            const ir::DimBindings &dims) -> Expected<std::tuple<Shape, Shape, int64_t, int64_t>> {
      auto st = table.evaluateShape(dims);
      WEFT_TRY(st.status());
      auto si = indices.evaluateShape(dims);
      WEFT_TRY(si.status());
      int64_t outer = numel(Shape(st->begin(), st->begin() + static_cast<int64_t>(axis)));
      int64_t inner = numel(Shape(st->begin() + static_cast<int64_t>(axis) + 1, st->end()));
      return std::tuple{*st, *si, outer, inner};
    };
    const int indicesSlot = slot(op.operand(1));
    if (scatter) // threads over the result [P, axis, Q], each reading every index
      steps.push_back(kernelStep(
          op, name,
          {slot(op.result()), slot(op.operand(0)), indicesSlot, slot(op.operand(2)), status},
          [sizes, axis](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
            auto s = sizes(dims);
            WEFT_TRY(s.status());
            auto &[st, si, outer, inner] = *s;
            const int64_t n = numel(st);
            return Launch{{n, numel(si), inner, st[axis], outer},
                          strided(d, std::max(n, numel(si)))};
          }));
    else
      steps.push_back(kernelStep(
          op, name, {slot(op.result()), slot(op.operand(0)), indicesSlot, status},
          [sizes, axis](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
            auto s = sizes(dims);
            WEFT_TRY(s.status());
            auto &[st, si, outer, inner] = *s;
            const int64_t count = numel(si), n = outer * count * inner;
            return Launch{{n, count, inner, st[axis]}, strided(d, n)};
          }));
    Step check = step(op, Step::Kind::Check);
    check.statusSlot = status;
    const DType indexType = indices.dtype(), tableType = table.dtype();
    check.check = [sizes, axis, status, indicesSlot, indexType,
                   tableType](Device &d, const std::function<DeviceAddress(int)> &address,
                              const ir::DimBindings &dims) -> Status {
      int64_t bad = 0;
      WEFT_TRY(d.download(&bad, address(status), sizeof bad));
      WEFT_TRY(d.synchronize());
      if (bad == std::numeric_limits<int64_t>::max())
        return Status::ok();
      auto s = sizes(dims);
      WEFT_TRY(s.status());
      auto &[st, si, outer, inner] = *s;
      const int64_t i = (bad / inner) % numel(si);
      const auto width = static_cast<size_t>(dtypeBytes(indexType));
      Array k(indexType, {1});
      WEFT_TRY(d.download(k.data(), address(indicesSlot) + static_cast<size_t>(i) * width, width));
      WEFT_TRY(d.synchronize());
      Shape position(si.size());
      for (size_t a = si.size(), rest = static_cast<size_t>(i); a-- > 0;) {
        position[a] = static_cast<int64_t>(rest % static_cast<size_t>(si[a]));
        rest /= static_cast<size_t>(si[a]);
      }
      return err(fmt::format("index {} at position {} of the indices is out of range [0, {}) "
                             "for axis {} of {}",
                             k.getInt(0), formatShape(position), st[axis], axis,
                             typeStr(tableType, st)));
    };
    steps.push_back(std::move(check));
    return steps;
  }

  Expected<std::vector<Step>> iota(const ir::Op &op) {
    const ir::Type out = op.result()->type();
    std::string name = kernelName(op);
    WEFT_TRY(emitIotaKernel(*km.module, name, target, out.dtype()).status());
    const auto axis = static_cast<size_t>(op.axis());
    return std::vector<Step>{
        kernelStep(op, name, {slot(op.result())},
                   [out, axis](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto so = out.evaluateShape(dims);
                     WEFT_TRY(so.status());
                     const int64_t n = numel(*so);
                     return Launch{{n, rowMajor(*so)[axis], (*so)[axis]}, strided(d, n)};
                   })};
  }

  Expected<std::vector<Step>> random(const ir::Op &op) {
    const ir::Type out = op.result()->type();
    std::string name = kernelName(op);
    WEFT_TRY(
        emitRandomKernel(*km.module, name, target, out.dtype(), op.kind() == OpKind::RandomNormal)
            .status());
    return std::vector<Step>{
        kernelStep(op, name, {slot(op.result()), slot(op.operand(0))},
                   [out](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto so = out.evaluateShape(dims);
                     WEFT_TRY(so.status());
                     const int64_t n = numel(*so);
                     return Launch{{n}, strided(d, n)};
                   })};
  }

  Expected<std::vector<Step>> constant(const ir::Op &op) {
    // A constant of a symbolic shape is a splat (the verifier holds it to one value): it is
    // evaluated with every symbol at 1, and its element repeated at run time.
    Step s = step(op, Step::Kind::Upload);
    const ir::Type type = op.result()->type();
    ir::DimBindings ones;
    for (const ir::Dim &d : type.dims())
      for (const std::string &sym : d.symbols())
        ones[sym] = 1;
    auto value = eval::evaluateOp(op, {}, ones);
    WEFT_TRY(value.status());
    s.splat = !type.isStatic();
    s.constant = std::make_shared<const Array>(std::move((*value)[0]));
    s.slots = {slot(op.result())};
    return std::vector<Step>{std::move(s)};
  }

  /// attention: a block per query row (AttentionKernel.cpp).
  Expected<std::vector<Step>> attention(const ir::Op &op) {
    const ir::Type q = op.operand(0)->type(), k = op.operand(1)->type(), v = op.operand(2)->type();
    const bool hasMask = op.numOperands() == 4;
    const ir::Type mask = hasMask ? op.operand(3)->type() : q;
    const int batchRank = static_cast<int>(q.rank()) - 2;
    std::string name = kernelName(op);
    WEFT_TRY(emitAttentionKernel(*km.module, name, target, q.dtype(), batchRank, hasMask,
                                 op.scale(), op.causal())
                 .status());
    std::vector<int> slots = {slot(op.result()), slot(op.operand(0)), slot(op.operand(1)),
                              slot(op.operand(2)),
                              hasMask ? slot(op.operand(3)) : slot(op.result())};
    return std::vector<Step>{kernelStep(
        op, name, std::move(slots),
        [q, k, v, mask, hasMask](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
          auto sq = q.evaluateShape(dims);
          WEFT_TRY(sq.status());
          auto sk = k.evaluateShape(dims);
          WEFT_TRY(sk.status());
          auto sv = v.evaluateShape(dims);
          WEFT_TRY(sv.status());
          const size_t r = sq->size();
          const int64_t tq = (*sq)[r - 2], tk = (*sk)[r - 2], depth = (*sq)[r - 1],
                        dv = (*sv)[r - 1];
          if (depth + dv > kMaxAttentionDepth)
            return err(fmt::format("attention with d + dv = {} is more than the CUDA kernel's "
                                   "shared memory holds ({})",
                                   depth + dv, kMaxAttentionDepth));
          Shape batch(sq->begin(), sq->end() - 2), maskStrides(r, 0);
          if (hasMask) {
            auto sm = mask.evaluateShape(dims);
            WEFT_TRY(sm.status());
            Shape strides = rowMajor(*sm);
            for (size_t a = 0; a < r; ++a)
              if ((*sm)[a] != 1)
                maskStrides[a] = strides[a];
          }
          std::vector<int64_t> scalars = {numel(batch) * tq, tq, tk, depth, dv};
          scalars.insert(scalars.end(), batch.begin(), batch.end());
          scalars.insert(scalars.end(), maskStrides.begin(), maskStrides.end());
          return Launch{
              std::move(scalars),
              {std::min(std::max<int64_t>(numel(batch) * tq, 1), d.maxBlocks()), d.blockThreads()}};
        })};
  }

  /// additive_attention: a block per batch row (AdditiveAttentionKernel.cpp).
  Expected<std::vector<Step>> additiveAttention(const ir::Op &op) {
    const bool hasMask = op.numOperands() == 5;
    const ir::Type kp = op.operand(1)->type(), values = op.operand(3)->type();
    std::string name = kernelName(op);
    WEFT_TRY(emitAdditiveAttentionKernel(*km.module, name, target, kp.dtype(), hasMask).status());
    std::vector<int> slots = {slot(op.result(0)), slot(op.result(1))};
    for (size_t i = 0; i < 4; ++i)
      slots.push_back(slot(op.operand(i)));
    slots.push_back(hasMask ? slot(op.operand(4)) : slot(op.result(0)));
    return std::vector<Step>{kernelStep(
        op, name, std::move(slots),
        [kp, values](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
          auto sk = kp.evaluateShape(dims);
          WEFT_TRY(sk.status());
          auto sv = values.evaluateShape(dims);
          WEFT_TRY(sv.status());
          const int64_t rows = (*sk)[0];
          return Launch{{rows, (*sk)[1], (*sk)[2], (*sv)[2]},
                        {std::min(std::max<int64_t>(rows, 1), d.maxBlocks()), d.blockThreads()}};
        })};
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
    return lowerPersistentLstm(op, s, km, target, names, kernelName(op), describeOp(op),
                               options.tf32);
  }

  /// A fusion: one kernel (FusionKernel.cpp); its scalars from the call's domain.
  Expected<std::vector<Step>> fusion(const ir::Op &op) {
    auto form = ir::fusionForm(op.region());
    if (!form)
      return err(fmt::format("fusion body is not a kernel: {}", form.diag().message), op.loc());
    bool inPlace = false;
    std::vector<int> slots;
    for (size_t r = 0; r < op.numResults(); ++r) {
      inPlace |= plan.inPlaceOver(op.result(r)) != nullptr;
      slots.push_back(slot(op.result(r)));
    }
    for (const ir::Value *v : op.operands())
      slots.push_back(slot(v));
    const std::vector<const ir::Op *> divisions = fusionDivisions(op);
    const std::vector<int> status = divisions.empty() ? std::vector<int>{} : plan.scratchOf(op);
    slots.insert(slots.end(), status.begin(), status.end());
    std::string name = kernelName(op);
    WEFT_TRY(emitFusionKernel(*km.module, name, target, op, inPlace).status());
    // Each broadcast's argument type and dims, in body order; the domain as a type.
    std::vector<std::pair<ir::Type, Shape>> broadcasts;
    bool picks = false;
    DType reducedType = DType::F32;
    for (const auto &inner : op.region().ops()) {
      if (inner->kind() == OpKind::Broadcast)
        broadcasts.push_back({inner->operand(0)->type(), inner->dims()});
      if (inner->kind() == OpKind::ReduceMax || inner->kind() == OpKind::ReduceMin)
        picks = true;
      if (ir::hasTrait(inner->kind(), ir::trait::Reduction))
        reducedType = inner->operand(0)->type().dtype();
    }
    const ir::Type domain(form->domain, reducedType);
    std::vector<bool> reduced(form->domain.size(), false);
    for (int64_t a : form->reduceAxes)
      reduced[static_cast<size_t>(a)] = true;
    LaunchPlan launch = [domain, reduced, broadcasts, picks](const ir::DimBindings &dims,
                                                             const Device &d) -> Expected<Launch> {
      auto shape = domain.evaluateShape(dims);
      WEFT_TRY(shape.status());
      std::vector<int64_t> scalars = reduceScalars(*shape, reduced);
      const int64_t outputs = scalars[0], count = scalars[1];
      if (picks && count == 0 && outputs > 0) // the interpreter's words
        return err(
            fmt::format("cannot reduce {} over an empty axis", typeStr(domain.dtype(), *shape)));
      scalars.insert(scalars.end(), shape->begin(), shape->end());
      for (const auto &[arg, bdims] : broadcasts) {
        auto s = arg.evaluateShape(dims);
        WEFT_TRY(s.status());
        Shape argStrides = rowMajor(*s), strides(shape->size(), 0);
        for (size_t j = 0; j < bdims.size(); ++j)
          if ((*s)[j] != 1)
            strides[static_cast<size_t>(bdims[j])] = argStrides[j];
        scalars.insert(scalars.end(), strides.begin(), strides.end());
      }
      return Launch{std::move(scalars), strided(d, outputs)};
    };
    Step kernel = kernelStep(op, name, std::move(slots), std::move(launch));
    if (divisions.empty())
      return std::vector<Step>{std::move(kernel)};
    return divisionSteps(divisions, status, std::move(kernel));
  }

  /// A copy kernel of a loop (LoopKernels.cpp) for `type`'s elements under `mask`.
  Expected<LoopCopy> loopCopy(const ir::Op &op, const std::string &what, int from, int to,
                              const ir::Type &type, LoopCopyMask mask) {
    std::string name = fmt::format("{}_{}", kernelName(op), what);
    WEFT_TRY(emitLoopCopyKernel(*km.module, name, target,
                                static_cast<int>(dtypeBytes(type.dtype())), mask)
                 .status());
    LoopCopy c;
    c.kernel = names.size();
    names.push_back(name);
    c.from = from;
    c.to = to;
    c.type = type;
    return c;
  }

  /// scan and while: the host runs the trips (LoopCode); the body's ops are steps as anywhere.
  Expected<std::vector<Step>> loop(const ir::Op &op) {
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
      std::string orName = kernelName(op) + "_finished";
      WEFT_TRY(emitOrKernel(*km.module, orName, target).status());
      l.orKernel = names.size();
      names.push_back(orName);
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
        auto c = loopCopy(op, fmt::format("stage{}", i), from, stage, yielded->type(),
                          LoopCopyMask::None);
        WEFT_TRY(c.status());
        l.staged.push_back(std::move(*c));
        from = stage;
      }
      auto c = loopCopy(op, fmt::format("carry{}", i), from, to, yielded->type(), mask);
      WEFT_TRY(c.status());
      l.carries.push_back(std::move(*c));
    }
    for (size_t e = 0; e < emits; ++e) {
      const ir::Value *yielded = yield->operand(first + carries + e);
      const ir::Value *stacked = op.result(first + carries + e);
      auto c = loopCopy(op, fmt::format("emit{}", e), slot(yielded), slot(stacked), yielded->type(),
                        mask);
      WEFT_TRY(c.status());
      l.emits.push_back(std::move(*c));
      if (!l.isWhile)
        continue;
      std::string fill = fmt::format("{}_zero{}", kernelName(op), e);
      WEFT_TRY(emitFillKernel(*km.module, fill, target,
                              static_cast<int>(dtypeBytes(stacked->type().dtype())))
                   .status());
      LoopCopy z;
      z.kernel = names.size();
      names.push_back(fill);
      z.from = z.to = slot(stacked);
      z.type = stacked->type();
      l.zeroed.push_back(std::move(z));
    }
    Step s = step(op, Step::Kind::Loop);
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
