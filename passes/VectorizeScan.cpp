//===- passes/VectorizeScan.cpp - a scan without carries as ops over all steps ===//
//
// A scan without carries computes each step from that step's slices alone, as split-scan leaves
// a decoder's output layer (its GEMM hoisted over all steps by hoist-input-projections):
//
//   %logits, %ids = scan carry() over(%ps) lengths(%len) {
//   ^step(%p: tensor<B x V>):
//     %l = add %p, %bias_b              %bias_b: tensor<B x V>, defined outside
//     %id = argmax %l {axis = 1}
//     yield %l, %id
//   }
//
// Its ops can then run once over all T steps, each on the stacked value [T, ...] with its axes
// moved up by one (a loop vectorized over time), the padded steps' emits zeroed by one mask:
//
//   %l   = add %ps, broadcast(%bias_b) {dims = [1, 2]}          : tensor<T x B x V>
//   %id  = argmax %l {axis = 2}                                  : tensor<T x B x i64>
//   %run = lt iota {axis = 0}, broadcast(%len) {dims = [1]}      : tensor<T x B x i1>
//   %logits = select broadcast(%run), %l, 0 ;  %ids = select %run, %id, 0
//
// One kernel over T*B rows instead of T calls of B rows each, and, run before autodiff, a
// gradient of plain ops instead of a reverse scan.
//
// Lifted: elementwise ops (cast and select included), broadcast, reshape, transpose, slice,
// concat, pad, reductions, argmax, and matmul of a step matrix by a matrix that is the same at
// every step (one GEMM over T*M rows). Ops that read no step are loop invariants: they move
// before the loop unchanged. Refused (the scan stays): carries; an op of another kind, with a
// region or an effect; an op that may fault (the loop runs no step when T = 0, and with lengths
// may skip the padded steps that the lifted op now sees). The loop fails on a len[b] outside
// [0, T]; the mask does not check it (the fused recurrences that read the same lengths do).
//
//===----------------------------------------------------------------------===//
#include "ir/Builder.h"
#include "ir/Clone.h"
#include "ir/Infer.h"
#include "ir/Uses.h"
#include "passes/Passes.h"
#include "passes/Rewrite.h"

#include <numeric>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace weft::passes {
namespace {

using ir::OpKind;
using ir::Value;

/// `axes` each moved up by one, after a new axis 0 when `withFront` (a broadcast's dims, a
/// transpose's perm, a pad's widths: `front` is what the new axis gets).
std::vector<int64_t> shifted(const std::vector<int64_t> &axes, bool withFront, int64_t front,
                             int64_t by) {
  std::vector<int64_t> out;
  if (withFront)
    out.push_back(front);
  for (int64_t a : axes)
    out.push_back(a + by);
  return out;
}

/// Whether a step op reading a step value can be lifted over all steps.
bool liftable(const ir::Op &op, const std::unordered_set<const Value *> &varying) {
  OpKind k = op.kind();
  if (ir::isElementwise(k))
    return true;
  switch (k) {
  case OpKind::Broadcast:
  case OpKind::Reshape:
  case OpKind::Transpose:
  case OpKind::Slice:
  case OpKind::Concat:
  case OpKind::Pad:
  case OpKind::ReduceSum:
  case OpKind::ReduceMax:
  case OpKind::ReduceMin:
  case OpKind::ReduceMean:
  case OpKind::Argmax:
    return true;
  case OpKind::Matmul: // a step's [M, K] by an invariant [K, N]
    return op.operand(0)->type().rank() == 2 && op.operand(1)->type().rank() == 2 &&
           !varying.count(op.operand(1));
  default:
    return false;
  }
}

class Vectorizer {
public:
  Vectorizer(ir::Op &scan, ir::Dim steps)
      : scan_(scan), steps_(std::move(steps)), b_(*scan.parentBlock()) {
    b_.setInsertionPointBefore(&scan);
  }

  /// Rewrites `scan` (no carries) when every op of its body can be lifted.
  Expected<bool> run(bool hasLengths) {
    ir::Block &body = scan_.region();
    ir::Op *yield = body.back();
    std::vector<ir::Op *> ops;
    for (size_t a = 0; a < body.numArgs(); ++a)
      varying_.insert(body.arg(a));
    for (auto &op : body.ops()) {
      if (op.get() == yield)
        break;
      if (op->numRegions() != 0 || !ir::isPure(op->kind()) || ir::mayFault(*op))
        return false;
      bool reads = false;
      for (Value *v : op->operands())
        reads |= varying_.count(v) != 0;
      if (reads) {
        if (!liftable(*op, varying_))
          return false;
        for (Value *r : op->results())
          varying_.insert(r);
      }
      ops.push_back(op.get());
    }

    for (size_t a = 0; a < body.numArgs(); ++a)
      stacked_[body.arg(a)] = scan_.operand(a);
    for (ir::Op *op : ops) {
      if (!varying_.count(op->result(0))) {
        ir::cloneOp(b_, *op, invariant_);
        continue;
      }
      auto v = lift(*op);
      WEFT_TRY(v.status());
      (*v)->setName(op->result()->name());
      stacked_[op->result()] = *v;
    }

    std::vector<Value *> results;
    for (Value *e : yield->operands()) {
      auto s = stackedOf(e, yield->loc());
      WEFT_TRY(s.status());
      Value *r = *s;
      if (hasLengths) {
        auto masked = zeroPadded(r, yield->loc());
        WEFT_TRY(masked.status());
        r = *masked;
      }
      results.push_back(r);
    }
    ir::Uses uses(*scan_.parentBlock());
    for (size_t r = 0; r < scan_.numResults(); ++r) {
      results[r]->setName(scan_.result(r)->name());
      uses.replaceAllUsesWith(scan_.result(r), results[r]);
    }
    uses.erase(scan_);
    return true;
  }

private:
  /// `v`, a body value or one from outside, stacked over the steps: the lifted value, the
  /// sequence itself, or an invariant broadcast to every step.
  Expected<Value *> stackedOf(Value *v, const Loc &loc) {
    if (auto it = stacked_.find(v); it != stacked_.end())
      return it->second;
    Value *outer = invariant_.lookup(v);
    const ir::Type &t = outer->type();
    std::vector<int64_t> dims(static_cast<size_t>(t.rank()));
    std::iota(dims.begin(), dims.end(), 1);
    return b_.create1(OpKind::Broadcast, {outer}, {{"dims", dims}}, {t.stacked(steps_)}, loc);
  }

  /// The lifted form of step op `op` (which reads a step value).
  Expected<Value *> lift(const ir::Op &op) {
    const Loc &loc = op.loc();
    ir::Attrs attrs = op.attrs();
    std::vector<Value *> operands;
    for (Value *v : op.operands()) {
      if (op.kind() == OpKind::Matmul && v == op.operand(1)) {
        operands.push_back(invariant_.lookup(v));
        continue;
      }
      auto s = stackedOf(v, loc);
      WEFT_TRY(s.status());
      operands.push_back(*s);
    }
    std::vector<ir::Type> declared;
    if (ir::hasDeclaredResultType(op.kind()))
      declared.push_back(op.result()->type().stacked(steps_));
    switch (op.kind()) {
    case OpKind::Broadcast:
      attrs["dims"] = shifted(op.dims(), /*withFront=*/true, 0, 1);
      break;
    case OpKind::Transpose:
      attrs["perm"] = shifted(op.perm(), /*withFront=*/true, 0, 1);
      break;
    case OpKind::Pad:
      attrs["low"] = shifted(op.low(), /*withFront=*/true, 0, 0);
      attrs["high"] = shifted(op.high(), /*withFront=*/true, 0, 0);
      break;
    case OpKind::Slice:
    case OpKind::Concat:
    case OpKind::Argmax:
      attrs["axis"] = op.axis() + 1;
      break;
    case OpKind::ReduceSum:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceMean:
      attrs["axes"] = shifted(op.axes(), /*withFront=*/false, 0, 1);
      break;
    case OpKind::Matmul:
      return liftMatmul(op, operands[0], operands[1]);
    default:
      break; // elementwise and reshape: the same attributes
    }
    return b_.create1(op.kind(), operands, attrs, declared, loc);
  }

  /// matmul(x_t [M, K], w [K, N]) over all steps: reshape(matmul(reshape(xs, [T*M, K]), w)).
  Expected<Value *> liftMatmul(const ir::Op &op, Value *xs, Value *w) {
    const ir::Type &x = op.operand(0)->type();
    ir::Type flat({steps_ * x.dim(0), x.dim(1)}, x.dtype());
    auto rows = b_.create1(OpKind::Reshape, {xs}, {}, {flat}, op.loc());
    WEFT_TRY(rows.status());
    auto gemm = b_.create1(OpKind::Matmul, {*rows, w}, {}, {}, op.loc());
    WEFT_TRY(gemm.status());
    return b_.create1(OpKind::Reshape, {*gemm}, {}, {op.result()->type().stacked(steps_)},
                      op.loc());
  }

  /// `emit` [T, B, ...] with the rows of the steps t >= len[b] zero, as the loop emits them.
  Expected<Value *> zeroPadded(Value *emit, const Loc &loc) {
    if (!running_) {
      Value *len = scan_.operands().back();
      ir::Type steps({steps_, len->type().dim(0)}, len->type().dtype());
      auto t = b_.create1(OpKind::Iota, {}, {{"axis", int64_t{0}}}, {steps}, loc);
      WEFT_TRY(t.status());
      auto lens =
          b_.create1(OpKind::Broadcast, {len}, {{"dims", std::vector<int64_t>{1}}}, {steps}, loc);
      WEFT_TRY(lens.status());
      auto lt = b_.create1(OpKind::Lt, {*t, *lens}, {}, {}, loc);
      WEFT_TRY(lt.status());
      running_ = *lt;
    }
    const ir::Type &et = emit->type();
    Value *mask = running_;
    if (et.rank() > 2) {
      auto m = b_.create1(OpKind::Broadcast, {running_}, {{"dims", std::vector<int64_t>{0, 1}}},
                          {et.withDType(DType::I1)}, loc);
      WEFT_TRY(m.status());
      mask = *m;
    }
    return b_.create1(OpKind::Select, {mask, emit, b_.splat(et, 0.0, loc)}, {}, {}, loc);
  }

  ir::Op &scan_;
  ir::Dim steps_;
  ir::OpBuilder b_;
  std::unordered_set<const Value *> varying_;          // body values that differ between steps
  std::unordered_map<const Value *, Value *> stacked_; // varying body value -> [T, ...] value
  ir::ValueMap invariant_;                             // invariant body value -> its copy
  Value *running_ = nullptr;                           // [T, B] i1: t < len[b]
};

Expected<bool> vectorize(ir::Op &scan) {
  auto g = ir::scanOperands(scan.numOperands(), scan.attrs());
  WEFT_TRY(g.status());
  if (g->numCarry != 0 || g->numSeq == 0)
    return false;
  return Vectorizer(scan, scan.operand(0)->type().dim(0)).run(g->hasLengths);
}

class VectorizeScanPass : public Pass {
public:
  std::string_view name() const override { return "vectorize-scan"; }
  Expected<bool> run(ir::Module &m) override { return rewriteEachScan(m, vectorize); }
};

} // namespace

std::unique_ptr<Pass> createVectorizeScanPass() { return std::make_unique<VectorizeScanPass>(); }

} // namespace weft::passes
