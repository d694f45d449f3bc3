//===- frontend/Ops.cpp - elementwise ops, broadcasting and producers -----===//
#include "frontend/Ops.h"

#include "frontend/OpSupport.h"

#include <fmt/format.h>

namespace weft {

using ir::OpKind;

namespace detail {

Graph &graphOf(const char *what, std::initializer_list<const Tensor *> ts, SrcLoc loc) {
  Graph *g = nullptr;
  for (const Tensor *t : ts) {
    if (!t->valid())
      throwAt(loc, fmt::format("{}: the tensor is empty (default-constructed)", what));
    if (!g)
      g = t->graph();
    g->use(*t, what, loc);
  }
  WEFT_CHECK(g, "graphOf without tensors");
  return *g;
}

int64_t normAxis(const char *what, int64_t axis, int64_t rank, const ir::Type &t, SrcLoc loc) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    throwAt(loc, fmt::format("{}: axis {} is out of range for shape {}", what, axis, t.shapeStr()));
  return a;
}

Shape broadcastShapes(const char *what, const ir::Type &a, const ir::Type &b, SrcLoc loc) {
  int64_t r = std::max(a.rank(), b.rank());
  Shape out(static_cast<size_t>(r));
  for (int64_t i = 0; i < r; ++i) {
    int64_t ia = i - (r - a.rank()), ib = i - (r - b.rank());
    Dim da = ia >= 0 ? a.dim(ia) : Dim(1), db = ib >= 0 ? b.dim(ib) : Dim(1);
    if (da == db || db == Dim(1))
      out[i] = da;
    else if (da == Dim(1))
      out[i] = db;
    else
      throwAt(loc, fmt::format("{}: shapes {} and {} do not broadcast: sizes {} and {} differ "
                               "on axis {} (aligned from the right)",
                               what, a.shapeStr(), b.shapeStr(), da.str(), db.str(), i));
  }
  return out;
}

Tensor broadcastTo(const char *what, const Tensor &x, const Shape &shape, SrcLoc loc) {
  Graph &g = graphOf(what, {&x}, loc);
  ir::Type want(shape, x.dtype());
  if (x.type() == want)
    return x;
  int64_t off = want.rank() - x.rank();
  bool ok = off >= 0;
  std::vector<int64_t> dims;
  for (int64_t i = 0; ok && i < x.rank(); ++i) {
    ok = x.shape()[i] == shape[i + off] || x.shape()[i] == Dim(1);
    dims.push_back(i + off);
  }
  if (!ok)
    throwAt(loc, fmt::format("{}: cannot broadcast {} to {}", what, x.type().shapeStr(),
                             want.shapeStr()));
  return g.op(OpKind::Broadcast, {x.value()}, {{"dims", dims}}, {want}, loc);
}

Tensor splat(Graph &g, const ir::Type &t, double v, SrcLoc loc) {
  return Tensor(&g, g.builder().splat(t, v, toLoc(loc)));
}

} // namespace detail

namespace {

Tensor unary(OpKind k, const Tensor &x, SrcLoc loc) {
  std::string what(ir::opName(k));
  Graph &g = detail::graphOf(what.c_str(), {&x}, loc);
  return g.op(k, {x.value()}, {}, {}, loc);
}

Tensor binary(OpKind k, const Tensor &a, const Tensor &b, SrcLoc loc) {
  std::string what(ir::opName(k));
  Graph &g = detail::graphOf(what.c_str(), {&a, &b}, loc);
  if (a.dtype() != b.dtype())
    throwAt(loc, fmt::format("{}: dtypes differ: {} vs {} ({} vs {}); use cast()", what,
                             dtypeName(a.dtype()), dtypeName(b.dtype()), a.type().str(),
                             b.type().str()));
  Shape s = detail::broadcastShapes(what.c_str(), a.type(), b.type(), loc);
  Tensor ba = detail::broadcastTo(what.c_str(), a, s, loc);
  Tensor bb = detail::broadcastTo(what.c_str(), b, s, loc);
  return g.op(k, {ba.value(), bb.value()}, {}, {}, loc);
}

Tensor withScalar(OpKind k, const Tensor &x, double s, bool scalarFirst, SrcLoc loc) {
  Graph &g = detail::graphOf(std::string(ir::opName(k)).c_str(), {&x}, loc);
  Tensor c = detail::splat(g, x.type(), s, loc);
  return scalarFirst ? binary(k, c, x, loc) : binary(k, x, c, loc);
}

Graph &currentGraph(SrcLoc loc) { return Graph::current(loc); }

Tensor seedTensor(Graph &g, int64_t seed, SrcLoc loc) {
  return g.op(OpKind::Constant, {}, {{"value", std::vector<int64_t>{seed}}},
              {ir::Type({}, DType::I64)}, loc);
}

Tensor random(OpKind k, Shape shape, const Tensor &seed, DType dtype, SrcLoc loc) {
  Graph &g = detail::graphOf(std::string(ir::opName(k)).c_str(), {&seed}, loc);
  return g.op(k, {seed.value()}, {}, {ir::Type(std::move(shape), dtype)}, loc);
}

} // namespace

#define WEFT_UNARY(fn, Kind)                                                                       \
  Tensor fn(const Tensor &x, SrcLoc loc) { return unary(OpKind::Kind, x, loc); }
// One per UNARY op of ir/Ops.def, as declared in Ops.h.
#define WEFT_UNARY_Numeric(fn, Kind) WEFT_UNARY(fn, Kind)
#define WEFT_UNARY_Float(fn, Kind) WEFT_UNARY(fn, Kind)
#define WEFT_UNARY_Any(fn, Kind) WEFT_UNARY(fn, Kind)
#define WEFT_UNARY_Bool(fn, Kind)
#define UNARY(Enum, Name, Operands) WEFT_UNARY_##Operands(Name, Enum)
#include "ir/Ops.def"
WEFT_UNARY(logical_not, Not)
#undef WEFT_UNARY
#undef WEFT_UNARY_Numeric
#undef WEFT_UNARY_Float
#undef WEFT_UNARY_Any
#undef WEFT_UNARY_Bool

#define WEFT_BINARY(fn, Kind)                                                                      \
  Tensor fn(const Tensor &a, const Tensor &b, SrcLoc loc) {                                        \
    return binary(OpKind::Kind, a, b, loc);                                                        \
  }
WEFT_BINARY(add, Add)
WEFT_BINARY(sub, Sub)
WEFT_BINARY(mul, Mul)
WEFT_BINARY(div, Div)
WEFT_BINARY(max, Max)
WEFT_BINARY(min, Min)
WEFT_BINARY(pow, Pow)
WEFT_BINARY(eq, Eq)
WEFT_BINARY(ne, Ne)
WEFT_BINARY(lt, Lt)
WEFT_BINARY(le, Le)
WEFT_BINARY(gt, Gt)
WEFT_BINARY(ge, Ge)
WEFT_BINARY(logical_and, And)
WEFT_BINARY(logical_or, Or)
WEFT_BINARY(logical_xor, Xor)
#undef WEFT_BINARY

Tensor pow(const Tensor &x, double p, SrcLoc loc) {
  return withScalar(OpKind::Pow, x, p, /*scalarFirst=*/false, loc);
}

Tensor select(const Tensor &cond, const Tensor &a, const Tensor &b, SrcLoc loc) {
  Graph &g = detail::graphOf("select", {&cond, &a, &b}, loc);
  if (cond.dtype() != DType::I1)
    throwAt(loc, fmt::format("select: condition must be i1, got {}", cond.type().str()));
  if (a.dtype() != b.dtype())
    throwAt(loc,
            fmt::format("select: value dtypes differ: {} vs {}", a.type().str(), b.type().str()));
  Shape s = detail::broadcastShapes("select", a.type(), b.type(), loc);
  s = detail::broadcastShapes("select", cond.type(), ir::Type(s, a.dtype()), loc);
  Tensor bc = detail::broadcastTo("select", cond, s, loc);
  Tensor ba = detail::broadcastTo("select", a, s, loc);
  Tensor bb = detail::broadcastTo("select", b, s, loc);
  return g.op(OpKind::Select, {bc.value(), ba.value(), bb.value()}, {}, {}, loc);
}

Tensor operator+(const Tensor &a, At b) { return add(a, b.t, b.loc); }
Tensor operator-(const Tensor &a, At b) { return sub(a, b.t, b.loc); }
Tensor operator*(const Tensor &a, At b) { return mul(a, b.t, b.loc); }
Tensor operator/(const Tensor &a, At b) { return div(a, b.t, b.loc); }
Tensor operator+(At a, double s) { return withScalar(OpKind::Add, a.t, s, false, a.loc); }
Tensor operator-(At a, double s) { return withScalar(OpKind::Sub, a.t, s, false, a.loc); }
Tensor operator*(At a, double s) { return withScalar(OpKind::Mul, a.t, s, false, a.loc); }
Tensor operator/(At a, double s) { return withScalar(OpKind::Div, a.t, s, false, a.loc); }
Tensor operator+(double s, At b) { return withScalar(OpKind::Add, b.t, s, true, b.loc); }
Tensor operator-(double s, At b) { return withScalar(OpKind::Sub, b.t, s, true, b.loc); }
Tensor operator*(double s, At b) { return withScalar(OpKind::Mul, b.t, s, true, b.loc); }
Tensor operator/(double s, At b) { return withScalar(OpKind::Div, b.t, s, true, b.loc); }
Tensor operator-(At x) { return neg(x.t, x.loc); }

Tensor full_like(const Tensor &x, double v, SrcLoc loc) {
  Graph &g = detail::graphOf("full_like", {&x}, loc);
  return detail::splat(g, x.type(), v, loc);
}

Tensor full(Shape shape, double v, DType dtype, SrcLoc loc) {
  return detail::splat(currentGraph(loc), ir::Type(std::move(shape), dtype), v, loc);
}
Tensor zeros(Shape shape, DType dtype, SrcLoc loc) { return full(std::move(shape), 0, dtype, loc); }
Tensor ones(Shape shape, DType dtype, SrcLoc loc) { return full(std::move(shape), 1, dtype, loc); }

Tensor iota(Shape shape, int64_t axis, DType dtype, SrcLoc loc) {
  ir::Type t(std::move(shape), dtype);
  axis = detail::normAxis("iota", axis, t.rank(), t, loc);
  return currentGraph(loc).op(OpKind::Iota, {}, {{"axis", axis}}, {t}, loc);
}

Tensor random_uniform(Shape shape, int64_t seed, DType dtype, SrcLoc loc) {
  Tensor s = seedTensor(currentGraph(loc), seed, loc);
  return random(OpKind::RandomUniform, std::move(shape), s, dtype, loc);
}
Tensor random_normal(Shape shape, int64_t seed, DType dtype, SrcLoc loc) {
  Tensor s = seedTensor(currentGraph(loc), seed, loc);
  return random(OpKind::RandomNormal, std::move(shape), s, dtype, loc);
}
Tensor random_uniform(Shape shape, const Tensor &seed, DType dtype, SrcLoc loc) {
  return random(OpKind::RandomUniform, std::move(shape), seed, dtype, loc);
}
Tensor random_normal(Shape shape, const Tensor &seed, DType dtype, SrcLoc loc) {
  return random(OpKind::RandomNormal, std::move(shape), seed, dtype, loc);
}

Tensor cast(const Tensor &x, DType dtype, SrcLoc loc) {
  Graph &g = detail::graphOf("cast", {&x}, loc);
  if (x.dtype() == dtype)
    return x;
  return g.op(OpKind::Cast, {x.value()}, {}, {x.type().withDType(dtype)}, loc);
}

Tensor broadcast_to(const Tensor &x, Shape shape, SrcLoc loc) {
  return detail::broadcastTo("broadcast_to", x, shape, loc);
}

} // namespace weft
