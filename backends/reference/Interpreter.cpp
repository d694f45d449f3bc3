//===- backends/reference/Interpreter.cpp - functions, scan and while -----===//
//
// Values live in scopes: a function body is one scope, and each trip of a
// scan or while body gets a fresh child scope, so bodies see captured values
// of enclosing scopes and leave nothing behind. Kernels are in eval/.
//
//===----------------------------------------------------------------------===//
#include "backends/reference/Interpreter.h"

#include "eval/Kernels.h"
#include "ir/Infer.h"
#include "ir/Signature.h"

#include <fmt/format.h>

#include <unordered_map>

namespace weft::reference {
namespace {

namespace detail = eval::detail;
using detail::makeArray;
using detail::opError;
using detail::Shape;

/// Values defined in one block, chained to the enclosing block's scope.
struct Scope {
  const Scope *parent = nullptr;
  std::unordered_map<const ir::Value *, Array> values;

  const Array *find(const ir::Value *v) const {
    for (const Scope *s = this; s; s = s->parent)
      if (auto it = s->values.find(v); it != s->values.end())
        return &it->second;
    return nullptr;
  }
};

/// Copies row `b` (of `rows` along axis 0) from `src` into row `b` of the slab of `dst` that
/// starts at byte `dstOffset`.
void copyRow(Array &dst, size_t dstOffset, const Array &src, int64_t b, int64_t rows) {
  size_t rowBytes = src.nbytes() / static_cast<size_t>(rows);
  std::memcpy(static_cast<std::byte *>(dst.data()) + dstOffset + b * rowBytes,
              static_cast<const std::byte *>(src.data()) + b * rowBytes, rowBytes);
}

class Interpreter {
public:
  explicit Interpreter(ir::DimBindings dims) : dims_(std::move(dims)) {}

  /// Runs `block` in `scope` (its arguments already bound) and returns the values its
  /// terminator passes on.
  Expected<std::vector<Array>> runBlock(const ir::Block &block, Scope &scope) {
    for (const auto &opPtr : block.ops()) {
      const ir::Op &op = *opPtr;
      std::vector<const Array *> operands;
      for (size_t i = 0; i < op.numOperands(); ++i) {
        const Array *a = scope.find(op.operand(i));
        if (!a)
          return located(op,
                         opError(op, fmt::format("operand {} is used before it is defined", i)));
        operands.push_back(a);
      }
      if (ir::isTerminator(op.kind())) {
        std::vector<Array> out;
        for (const Array *a : operands)
          out.push_back(*a);
        return out;
      }
      auto results = runOp(op, operands, scope);
      if (!results)
        return located(op, results.diag());
      for (size_t i = 0; i < op.numResults(); ++i)
        scope.values[op.result(i)] = std::move((*results)[i]);
    }
    return err("block does not end with a terminator");
  }

private:
  static Diag located(const ir::Op &op, Diag d) {
    if (!d.loc.known())
      d.loc = op.loc();
    return d;
  }

  /// The concrete shape of `t`, or an error naming the op.
  Expected<Shape> shapeOf(const ir::Op &op, const ir::Type &t) const {
    auto s = t.evaluateShape(dims_);
    if (!s)
      return opError(op, s.diag().message);
    return *s;
  }

  Expected<std::vector<Array>> runOp(const ir::Op &op, detail::Operands xs, const Scope &scope) {
    // The kernels read attributes through the typed accessors, which need them well formed.
    WEFT_TRY(ir::checkAttrs(op.kind(), op.attrs()));
    std::vector<Array> results;
    if (op.kind() == ir::OpKind::Scan || op.kind() == ir::OpKind::While) {
      auto r = op.kind() == ir::OpKind::Scan ? runScan(op, xs, scope) : runWhile(op, xs, scope);
      WEFT_TRY(r.status());
      results = std::move(*r);
    } else if (op.kind() == ir::OpKind::Fusion) { // the body, once, like a call
      std::vector<Array> args;
      for (const Array *x : xs)
        args.push_back(*x);
      auto r = runBody(op, scope, std::move(args));
      WEFT_TRY(r.status());
      results = std::move(*r);
    } else if (op.kind() == ir::OpKind::LstmSequence) { // three results
      auto r = detail::evalLstmSequence(op, xs);
      WEFT_TRY(r.status());
      results = std::move(*r);
    } else if (op.kind() == ir::OpKind::LstmSequenceGrad) { // six results
      auto r = detail::evalLstmSequenceGrad(op, xs);
      WEFT_TRY(r.status());
      results = std::move(*r);
    } else if (op.kind() == ir::OpKind::GruSequenceGrad ||
               op.kind() == ir::OpKind::RnnSequenceGrad) { // six or five results
      auto r = detail::evalGruRnnSequenceGrad(op, xs);
      WEFT_TRY(r.status());
      results = std::move(*r);
    } else if (op.kind() == ir::OpKind::AdditiveAttention) { // context and weights
      auto r = detail::evalAdditiveAttention(op, xs);
      WEFT_TRY(r.status());
      results = std::move(*r);
    } else if (op.kind() == ir::OpKind::LstmAttentionStep) { // h2, c2, att and weights
      auto r = detail::evalLstmAttentionStep(op, xs);
      WEFT_TRY(r.status());
      results = std::move(*r);
    } else if (op.kind() == ir::OpKind::GruSequence ||
               op.kind() == ir::OpKind::RnnSequence) { // two results
      auto r = detail::evalGruRnnSequence(op, xs);
      WEFT_TRY(r.status());
      results = std::move(*r);
    } else if (op.kind() == ir::OpKind::AttentionGrad) { // dq, dk, dv
      auto r = detail::evalAttentionGrad(op, xs);
      WEFT_TRY(r.status());
      results = std::move(*r);
    } else {
      auto r = detail::evalOp(op, xs, dims_);
      WEFT_TRY(r.status());
      results.push_back(std::move(*r));
    }
    if (results.size() != op.numResults())
      return opError(op,
                     fmt::format("produced {} results for {}", results.size(), op.numResults()));
    for (size_t i = 0; i < results.size(); ++i) {
      const ir::Type &t = op.result(i)->type();
      auto want = shapeOf(op, t);
      WEFT_TRY(want.status());
      if (results[i].shape() != *want || results[i].dtype() != t.dtype())
        return opError(op, fmt::format("result {} is {} but its type {} means {}", i,
                                       results[i].typeStr(), t.str(), formatShape(*want)));
    }
    return results;
  }

  /// Runs one trip of a region body on `args` in a fresh scope under `parent`.
  Expected<std::vector<Array>> runBody(const ir::Op &op, const Scope &parent,
                                       std::vector<Array> args) {
    const ir::Block &body = op.region();
    if (args.size() != body.numArgs())
      return opError(op,
                     fmt::format("body takes {} arguments, got {}", body.numArgs(), args.size()));
    Scope scope{&parent, {}};
    for (size_t i = 0; i < args.size(); ++i)
      scope.values[body.arg(i)] = std::move(args[i]);
    return runBlock(body, scope);
  }

  /// Zero-filled stacked emits for results [first, first + n) of `op`, each with axis 0 of
  /// size `steps`.
  Expected<std::vector<Array>> stackedEmits(const ir::Op &op, size_t first, size_t n,
                                            int64_t steps) {
    std::vector<Array> emits;
    for (size_t j = 0; j < n; ++j) {
      const ir::Type &t = op.result(first + j)->type();
      auto shape = shapeOf(op, t);
      WEFT_TRY(shape.status());
      if (shape->empty() || (*shape)[0] != steps)
        return opError(
            op, fmt::format("emit {} has type {} but the loop runs {} steps", j, t.str(), steps));
      auto a = makeArray(t.dtype(), *shape);
      WEFT_TRY(a.status());
      emits.push_back(std::move(*a));
    }
    return emits;
  }

  /// Checks that `got` (yielded value `i`) has the shape and dtype of `want`.
  static Status checkYield(const ir::Op &op, size_t i, const Array &got, DType dtype,
                           const Shape &want) {
    if (got.shape() == want && got.dtype() == dtype)
      return {};
    return opError(op, fmt::format("body yields {} as value {} but {}{} is needed", got.typeStr(),
                                   i, dtypeName(dtype), formatShape(want)));
  }

  /// Stores step `t` of yielded emits into `emits`, for the examples `active` allows (all when
  /// `active` is empty).
  static Status storeEmits(const ir::Op &op, std::vector<Array> &emits, const Array *yielded,
                           size_t firstYield, int64_t t, const std::vector<bool> &active) {
    for (size_t j = 0; j < emits.size(); ++j) {
      const Array &e = yielded[j];
      Shape want(emits[j].shape().begin() + 1, emits[j].shape().end());
      WEFT_TRY(checkYield(op, firstYield + j, e, emits[j].dtype(), want));
      size_t offset = static_cast<size_t>(t) * e.nbytes();
      if (active.empty()) {
        if (e.nbytes())
          copyRow(emits[j], offset, e, 0, 1);
        continue;
      }
      int64_t rows = static_cast<int64_t>(active.size());
      if (e.rank() < 1 || e.shape()[0] != rows)
        return opError(op,
                       fmt::format("emit {} is {} but must have {} rows", j, e.typeStr(), rows));
      for (int64_t b = 0; b < rows; ++b)
        if (active[b] && e.nbytes())
          copyRow(emits[j], offset, e, b, rows);
    }
    return {};
  }

  /// Replaces `carries` by `yielded`, for the examples `active` allows (all when empty).
  static Status updateCarries(const ir::Op &op, std::vector<Array> &carries, const Array *yielded,
                              size_t firstYield, const std::vector<bool> &active) {
    for (size_t i = 0; i < carries.size(); ++i) {
      WEFT_TRY(checkYield(op, firstYield + i, yielded[i], carries[i].dtype(), carries[i].shape()));
      if (active.empty()) {
        carries[i] = yielded[i];
        continue;
      }
      int64_t rows = static_cast<int64_t>(active.size());
      if (carries[i].rank() < 1 || carries[i].shape()[0] != rows)
        return opError(
            op, fmt::format("carry {} is {} but must have {} rows", i, carries[i].typeStr(), rows));
      for (int64_t b = 0; b < rows; ++b)
        if (active[b] && carries[i].nbytes())
          copyRow(carries[i], 0, yielded[i], b, rows);
    }
    return {};
  }

  Expected<std::vector<Array>> runScan(const ir::Op &op, detail::Operands xs, const Scope &scope) {
    auto g = ir::scanOperands(xs.size(), op.attrs());
    WEFT_TRY(g.status());
    size_t nc = g->numCarry, ns = g->numSeq;
    std::vector<Array> carries;
    for (size_t i = 0; i < nc; ++i)
      carries.push_back(*xs[i]);
    if (xs[nc]->rank() < 1)
      return opError(op, fmt::format("sequence {} is a scalar", xs[nc]->typeStr()));
    int64_t steps = xs[nc]->shape()[0];
    for (size_t i = nc; i < nc + ns; ++i)
      if (xs[i]->rank() < 1 || xs[i]->shape()[0] != steps)
        return opError(op, fmt::format("sequences {} and {} differ in length", xs[nc]->typeStr(),
                                       xs[i]->typeStr()));
    std::vector<int64_t> lengths;
    if (g->hasLengths) {
      const Array &len = *xs.back();
      for (int64_t b = 0; b < len.numel(); ++b) {
        int64_t n = len.getInt(b);
        if (n < 0 || n > steps)
          return opError(op,
                         fmt::format("length {} of example {} is outside [0, {}]", n, b, steps));
        lengths.push_back(n);
      }
    }
    bool reverse = op.reverse();
    size_t numEmits = op.numResults() - nc;
    auto emits = stackedEmits(op, nc, numEmits, steps);
    WEFT_TRY(emits.status());
    for (int64_t s = 0; s < steps; ++s) {
      int64_t t = reverse ? steps - 1 - s : s;
      std::vector<Array> args = carries;
      for (size_t i = nc; i < nc + ns; ++i) {
        Shape stepShape(xs[i]->shape().begin() + 1, xs[i]->shape().end());
        auto x = makeArray(xs[i]->dtype(), stepShape);
        WEFT_TRY(x.status());
        if (x->nbytes())
          std::memcpy(x->data(), static_cast<const std::byte *>(xs[i]->data()) + t * x->nbytes(),
                      x->nbytes());
        args.push_back(std::move(*x));
      }
      auto yielded = runBody(op, scope, std::move(args));
      WEFT_TRY(yielded.status());
      if (yielded->size() != nc + numEmits)
        return opError(
            op, fmt::format("body yields {} values, expected {}", yielded->size(), nc + numEmits));
      std::vector<bool> active;
      for (int64_t n : lengths)
        active.push_back(t < n);
      WEFT_TRY(updateCarries(op, carries, yielded->data(), 0, active));
      WEFT_TRY(storeEmits(op, *emits, yielded->data() + nc, nc, t, active));
    }
    for (Array &e : *emits)
      carries.push_back(std::move(e));
    return carries;
  }

  Expected<std::vector<Array>> runWhile(const ir::Op &op, detail::Operands xs, const Scope &scope) {
    int64_t maxTrips = op.maxTrips();
    Array finished = *xs[0];
    if (finished.dtype() != DType::I1 || finished.rank() != 1)
      return opError(op, fmt::format("finished flags are {}, expected i1[B]", finished.typeStr()));
    int64_t batch = finished.numel();
    std::vector<Array> carries;
    for (size_t i = 1; i < xs.size(); ++i)
      carries.push_back(*xs[i]);
    size_t nc = carries.size();
    if (op.numResults() < nc + 2)
      return opError(op, "has too few results");
    size_t numEmits = op.numResults() - nc - 2;
    auto emits = stackedEmits(op, 1 + nc, numEmits, maxTrips);
    WEFT_TRY(emits.status());
    auto allDone = [&] {
      for (int64_t b = 0; b < batch; ++b)
        if (!finished.data<bool>()[b])
          return false;
      return true;
    };
    int64_t trips = 0;
    for (; trips < maxTrips && !allDone(); ++trips) {
      auto yielded = runBody(op, scope, carries);
      WEFT_TRY(yielded.status());
      if (yielded->size() != 1 + nc + numEmits)
        return opError(op, fmt::format("body yields {} values, expected {}", yielded->size(),
                                       1 + nc + numEmits));
      const Array &done = (*yielded)[0];
      WEFT_TRY(checkYield(op, 0, done, DType::I1, finished.shape()));
      std::vector<bool> active;
      for (int64_t b = 0; b < batch; ++b)
        active.push_back(!finished.data<bool>()[b]);
      WEFT_TRY(updateCarries(op, carries, yielded->data() + 1, 1, active));
      WEFT_TRY(storeEmits(op, *emits, yielded->data() + 1 + nc, 1 + nc, trips, active));
      for (int64_t b = 0; b < batch; ++b)
        finished.data<bool>()[b] = finished.data<bool>()[b] || done.data<bool>()[b];
    }
    std::vector<Array> results{std::move(finished)};
    for (Array &c : carries)
      results.push_back(std::move(c));
    for (Array &e : *emits)
      results.push_back(std::move(e));
    results.push_back(Array::of<int64_t>({}, {trips}));
    return results;
  }

  ir::DimBindings dims_;
};

} // namespace

Expected<std::vector<Array>> run(const ir::Function &f, std::span<const Array> inputs,
                                 const ir::DimBindings &dims) {
  auto bound = ir::bindInputs(ir::Signature::of(f), inputs, dims);
  WEFT_TRY(bound.status());
  if (!f.returnOp())
    return err(fmt::format("function @{} has no return", f.name()));
  Scope scope;
  for (size_t i = 0; i < inputs.size(); ++i)
    scope.values[f.param(i)] = inputs[i];
  return Interpreter(std::move(*bound)).runBlock(f.body(), scope);
}

} // namespace weft::reference
