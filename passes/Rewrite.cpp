//===- passes/Rewrite.cpp -------------------------------------------------===//
#include "passes/Rewrite.h"

#include "ir/Walk.h"

#include <algorithm>
#include <cstring>

namespace weft::passes {

using ir::Op;
using ir::Value;

Value *ValueRemap::lookup(Value *v) const {
  for (auto it = map_.find(v); it != map_.end(); it = map_.find(v))
    v = it->second;
  return v;
}

void ValueRemap::remapOperands(Op &op) const {
  if (map_.empty())
    return;
  for (size_t i = 0; i < op.numOperands(); ++i)
    op.setOperand(i, lookup(op.operand(i)));
}

void ValueRemap::replaceValue(Value *from, Value *to) {
  WEFT_CHECK(from != to, "replacing a value by itself");
  if (to->name().empty() && !from->name().empty())
    to->setName(from->name());
  map_[from] = to;
}

void ValueRemap::replaceOp(Op *op, const std::vector<Value *> &with) {
  WEFT_CHECK(with.size() == op->numResults(), "replaceOp needs one value per result");
  for (size_t i = 0; i < with.size(); ++i)
    replaceValue(op->result(i), with[i]);
  dead_.push_back(op);
}

void ValueRemap::eraseReplaced() {
  for (auto it = dead_.rbegin(); it != dead_.rend(); ++it)
    (*it)->parentBlock()->erase(*it);
  dead_.clear();
}

const Op *constantOp(const Value *v) {
  const Op *def = v->definingOp();
  return def && def->kind() == ir::OpKind::Constant ? def : nullptr;
}

std::optional<double> splatValue(const Value *v) {
  const Op *c = constantOp(v);
  if (!c)
    return std::nullopt;
  if (auto *fs = std::get_if<std::vector<double>>(&c->value()); fs && fs->size() == 1)
    return (*fs)[0];
  if (auto *is = std::get_if<std::vector<int64_t>>(&c->value()); is && is->size() == 1)
    return static_cast<double>((*is)[0]);
  return std::nullopt;
}

Array constantToArray(const Op &constant) {
  const ir::Type &t = constant.result()->type();
  std::vector<int64_t> shape;
  for (const ir::Dim &d : t.dims()) {
    WEFT_CHECK(d.isStatic(), "constantToArray needs a static type");
    shape.push_back(d.size());
  }
  Array a(t.dtype(), shape);
  if (auto *fs = std::get_if<std::vector<double>>(&constant.value())) {
    for (int64_t i = 0; i < a.numel(); ++i)
      a.setDouble(i, (*fs)[fs->size() == 1 ? 0 : i]);
    return a;
  }
  const auto &is = std::get<std::vector<int64_t>>(constant.value());
  for (int64_t i = 0; i < a.numel(); ++i)
    a.setInt(i, is[is.size() == 1 ? 0 : i]);
  return a;
}

ir::Attr valueAttrOf(const Array &a) {
  if (isFloat(a.dtype())) {
    std::vector<double> vs;
    for (int64_t i = 0; i < a.numel(); ++i)
      vs.push_back(a.getDouble(i));
    bool splat = !vs.empty() && std::all_of(vs.begin(), vs.end(), [&](double d) {
      return std::memcmp(&d, &vs[0], sizeof d) == 0;
    });
    // A fresh one-element vector rather than resize(1): GCC 12 at -O3 misreads the latter.
    return splat ? std::vector<double>{vs[0]} : vs;
  }
  std::vector<int64_t> vs;
  for (int64_t i = 0; i < a.numel(); ++i)
    vs.push_back(a.getInt(i));
  if (!vs.empty() && std::all_of(vs.begin(), vs.end(), [&](int64_t v) { return v == vs[0]; }))
    return std::vector<int64_t>{vs[0]};
  return vs;
}

Expected<bool> rewriteEachScan(ir::Module &m,
                               const std::function<Expected<bool>(ir::Op &scan)> &rewrite) {
  bool changed = false;
  for (auto &f : m.functions()) {
    std::vector<ir::Op *> scans;
    ir::walk(f->body(), [&](ir::Op &op) {
      if (op.kind() == ir::OpKind::Scan)
        scans.push_back(&op);
    });
    for (ir::Op *scan : scans) {
      auto r = rewrite(*scan);
      if (!r)
        return r.diag();
      changed |= *r;
    }
  }
  return changed;
}

} // namespace weft::passes
