//===- frontend/ShapeOps.cpp - shape ops, reductions, matmul, composites --===//
#include "frontend/OpSupport.h"
#include "frontend/Ops.h"

#include <fmt/format.h>

#include <algorithm>

namespace weft {

using detail::graphOf;
using detail::normAxis;
using ir::OpKind;

namespace {

std::string shapeStr(const Shape &s) { return ir::Type(s, DType::F32).shapeStr(); }

/// Sorted, non-negative, duplicate-free axes.
Axes normAxes(const char *what, Axes axes, const ir::Type &t, SrcLoc loc) {
  for (int64_t &a : axes)
    a = normAxis(what, a, t.rank(), t, loc);
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    throwAt(loc, fmt::format("{}: an axis is repeated in the reduction of {}", what, t.shapeStr()));
  return axes;
}

Tensor reduce(OpKind k, const char *what, const Tensor &x, Axes axes, bool keepdims, SrcLoc loc) {
  Graph &g = graphOf(what, {&x}, loc);
  axes = normAxes(what, std::move(axes), x.type(), loc);
  Tensor r = g.op(k, {x.value()}, {{"axes", axes}}, {}, loc);
  if (!keepdims)
    return r;
  Shape kept = x.shape();
  for (int64_t a : axes)
    kept[a] = Dim(1);
  return reshape(r, kept, loc);
}

} // namespace

Tensor reshape(const Tensor &x, Shape shape, SrcLoc loc) {
  Graph &g = graphOf("reshape", {&x}, loc);
  auto inferred = std::find(shape.begin(), shape.end(), Dim(-1));
  if (inferred != shape.end()) {
    if (std::find(inferred + 1, shape.end(), Dim(-1)) != shape.end())
      throwAt(loc, fmt::format("reshape: more than one -1 in {}", shapeStr(shape)));
    Dim known(1);
    for (auto it = shape.begin(); it != shape.end(); ++it)
      if (it != inferred)
        known = known * *it;
    auto rest = x.type().numElements().dividedBy(known);
    if (!rest)
      throwAt(loc, fmt::format("reshape: cannot infer the -1 in {} for {}: {} is not a multiple "
                               "of {}",
                               shapeStr(shape), x.type().shapeStr(), x.type().numElements().str(),
                               known.str()));
    *inferred = *rest;
  }
  ir::Type t(std::move(shape), x.dtype());
  if (t == x.type())
    return x;
  return g.op(OpKind::Reshape, {x.value()}, {}, {t}, loc);
}

Tensor transpose(const Tensor &x, Axes perm, SrcLoc loc) {
  Graph &g = graphOf("transpose", {&x}, loc);
  if (static_cast<int64_t>(perm.size()) != x.rank())
    throwAt(loc, fmt::format("transpose: perm has {} entries but {} has rank {}", perm.size(),
                             x.type().shapeStr(), x.rank()));
  for (int64_t &p : perm)
    p = normAxis("transpose", p, x.rank(), x.type(), loc);
  return g.op(OpKind::Transpose, {x.value()}, {{"perm", perm}}, {}, loc);
}

Tensor slice(const Tensor &x, int64_t axis, int64_t start, int64_t limit, SrcLoc loc) {
  Graph &g = graphOf("slice", {&x}, loc);
  axis = normAxis("slice", axis, x.rank(), x.type(), loc);
  return g.op(OpKind::Slice, {x.value()}, {{"axis", axis}, {"start", start}, {"limit", limit}}, {},
              loc);
}

Tensor concat(const std::vector<Tensor> &xs, int64_t axis, SrcLoc loc) {
  if (xs.empty())
    throwAt(loc, "concat: needs at least one tensor");
  Graph &g = graphOf("concat", {&xs[0]}, loc);
  std::vector<ir::Value *> vs;
  for (const Tensor &t : xs)
    vs.push_back(g.use(t, "concat", loc));
  if (xs.size() == 1)
    return xs[0];
  axis = normAxis("concat", axis, xs[0].rank(), xs[0].type(), loc);
  return g.op(OpKind::Concat, std::move(vs), {{"axis", axis}}, {}, loc);
}

std::vector<Tensor> split(const Tensor &x, int64_t n, int64_t axis, SrcLoc loc) {
  graphOf("split", {&x}, loc);
  axis = normAxis("split", axis, x.rank(), x.type(), loc);
  const Dim &d = x.shape()[axis];
  if (n < 1 || !d.isStatic() || d.size() % n != 0)
    throwAt(loc, fmt::format("split: axis {} of {} (size {}) does not split into {} equal parts",
                             axis, x.type().shapeStr(), d.str(), n));
  int64_t step = d.size() / n;
  std::vector<Tensor> parts;
  for (int64_t i = 0; i < n; ++i)
    parts.push_back(slice(x, axis, i * step, (i + 1) * step, loc));
  return parts;
}

Tensor pad(const Tensor &x, Axes low, Axes high, double value, SrcLoc loc) {
  Graph &g = graphOf("pad", {&x}, loc);
  return g.op(OpKind::Pad, {x.value()}, {{"low", low}, {"high", high}, {"value", value}}, {}, loc);
}

Tensor gather(const Tensor &table, const Tensor &idx, int64_t axis, SrcLoc loc) {
  Graph &g = graphOf("gather", {&table, &idx}, loc);
  axis = normAxis("gather", axis, table.rank(), table.type(), loc);
  return g.op(OpKind::Gather, {table.value(), idx.value()}, {{"axis", axis}}, {}, loc);
}

Tensor scatter_add(const Tensor &base, const Tensor &idx, const Tensor &upd, int64_t axis,
                   SrcLoc loc) {
  Graph &g = graphOf("scatter_add", {&base, &idx, &upd}, loc);
  axis = normAxis("scatter_add", axis, base.rank(), base.type(), loc);
  return g.op(OpKind::ScatterAdd, {base.value(), idx.value(), upd.value()}, {{"axis", axis}}, {},
              loc);
}

Tensor sum(const Tensor &x, Axes axes, bool keepdims, SrcLoc loc) {
  return reduce(OpKind::ReduceSum, "sum", x, std::move(axes), keepdims, loc);
}
Tensor max(const Tensor &x, Axes axes, bool keepdims, SrcLoc loc) {
  return reduce(OpKind::ReduceMax, "max", x, std::move(axes), keepdims, loc);
}
Tensor min(const Tensor &x, Axes axes, bool keepdims, SrcLoc loc) {
  return reduce(OpKind::ReduceMin, "min", x, std::move(axes), keepdims, loc);
}
Tensor mean(const Tensor &x, Axes axes, bool keepdims, SrcLoc loc) {
  return reduce(OpKind::ReduceMean, "mean", x, std::move(axes), keepdims, loc);
}

Tensor argmax(const Tensor &x, int64_t axis, SrcLoc loc) {
  Graph &g = graphOf("argmax", {&x}, loc);
  axis = normAxis("argmax", axis, x.rank(), x.type(), loc);
  return g.op(OpKind::Argmax, {x.value()}, {{"axis", axis}}, {}, loc);
}

Tensor matmul(const Tensor &a, const Tensor &b, SrcLoc loc) {
  Graph &g = graphOf("matmul", {&a, &b}, loc);
  const ir::Type &ta = a.type(), &tb = b.type();
  if (ta.rank() < 2 || tb.rank() < 2)
    throwAt(loc, fmt::format("matmul: operands need rank >= 2, got {} and {}", ta.shapeStr(),
                             tb.shapeStr()));
  const Dim &k0 = ta.dim(ta.rank() - 1), &k1 = tb.dim(tb.rank() - 2);
  if (k0 != k1)
    throwAt(loc, fmt::format("matmul: inner dims differ: {} vs {} ({} vs {})", k0.str(), k1.str(),
                             ta.shapeStr(), tb.shapeStr()));
  if (ta.dtype() != tb.dtype())
    throwAt(loc, fmt::format("matmul: dtypes differ: {} vs {}", ta.str(), tb.str()));
  if (tb.rank() == 2 && ta.rank() > 2) {
    // x [..., M, K] x W [K, N]: one [rows, K] x [K, N] product over all leading rows.
    Shape lead(ta.dims().begin(), ta.dims().end() - 1);
    Dim rows(1);
    for (const Dim &d : lead)
      rows = rows * d;
    Tensor flat = reshape(a, {rows, k0}, loc);
    Tensor y = g.op(OpKind::Matmul, {flat.value(), b.value()}, {}, {}, loc);
    lead.push_back(tb.dim(1));
    return reshape(y, lead, loc);
  }
  // Broadcast the batch dims numpy-style.
  ir::Type ba(Shape(ta.dims().begin(), ta.dims().end() - 2), ta.dtype());
  ir::Type bb(Shape(tb.dims().begin(), tb.dims().end() - 2), tb.dtype());
  Shape batch = detail::broadcastShapes("matmul", ba, bb, loc);
  Shape sa = batch, sb = batch;
  sa.insert(sa.end(), ta.dims().end() - 2, ta.dims().end());
  sb.insert(sb.end(), tb.dims().end() - 2, tb.dims().end());
  Tensor xa = detail::broadcastTo("matmul", a, sa, loc);
  Tensor xb = detail::broadcastTo("matmul", b, sb, loc);
  return g.op(OpKind::Matmul, {xa.value(), xb.value()}, {}, {}, loc);
}

Tensor softmax(const Tensor &x, int64_t axis, SrcLoc loc) {
  Tensor shifted = sub(x, max(x, {axis}, /*keepdims=*/true, loc), loc);
  Tensor e = exp(shifted, loc);
  return div(e, sum(e, {axis}, /*keepdims=*/true, loc), loc);
}

Tensor log_softmax(const Tensor &x, int64_t axis, SrcLoc loc) {
  Tensor shifted = sub(x, max(x, {axis}, /*keepdims=*/true, loc), loc);
  Tensor lse = log(sum(exp(shifted, loc), {axis}, /*keepdims=*/true, loc), loc);
  return sub(shifted, lse, loc);
}

} // namespace weft
