//===- eval/Shape.cpp - data movement ops ---------------------------------===//
//
// Every kernel walks the output (or the updates) in row-major order, turns the
// flat position into a multi-index, and computes the source position from it.
// Elements are moved as raw bytes, so every dtype is handled alike.
//
//===----------------------------------------------------------------------===//
#include "eval/Kernels.h"

#include <fmt/format.h>

#include <algorithm>

namespace weft::eval::detail {
namespace {

using ir::OpKind;

/// The multi-index of flat position `i` in `shape`.
Shape unravel(int64_t i, const Shape &shape) {
  Shape idx(shape.size(), 0);
  for (size_t a = shape.size(); a-- > 0;) {
    idx[a] = shape[a] ? i % shape[a] : 0;
    i = shape[a] ? i / shape[a] : 0;
  }
  return idx;
}

int64_t ravel(const Shape &idx, const Shape &strides) {
  int64_t flat = 0;
  for (size_t a = 0; a < idx.size(); ++a)
    flat += idx[a] * strides[a];
  return flat;
}

void copyElem(Array &dst, int64_t di, const Array &src, int64_t si) {
  size_t w = static_cast<size_t>(dtypeBytes(src.dtype()));
  std::memcpy(static_cast<std::byte *>(dst.data()) + di * w,
              static_cast<const std::byte *>(src.data()) + si * w, w);
}

Status checkAxis(const ir::Op &op, int64_t axis, int64_t rank) {
  if (axis >= 0 && axis < rank)
    return {};
  return opError(op, fmt::format("axis {} is out of range for rank {}", axis, rank));
}

Expected<Array> broadcast(const ir::Op &op, const Array &x, const ir::DimBindings &env) {
  auto outShape = declaredShape(op, env);
  WEFT_TRY(outShape.status());
  const std::vector<int64_t> &dims = op.dims();
  int64_t outRank = static_cast<int64_t>(outShape->size());
  if (static_cast<int64_t>(dims.size()) != x.rank())
    return opError(op, fmt::format("dims has {} entries for operand {}", dims.size(), x.typeStr()));
  for (int64_t i = 0; i < x.rank(); ++i) {
    int64_t d = dims[i];
    if (d < 0 || d >= outRank || (i && d <= dims[i - 1]))
      return opError(op, "dims must be increasing result axes");
    if (x.shape()[i] != 1 && x.shape()[i] != (*outShape)[d])
      return opError(op, fmt::format("cannot broadcast {} to {}", formatShape(x.shape()),
                                     formatShape(*outShape)));
  }
  auto out = makeArray(x.dtype(), *outShape);
  WEFT_TRY(out.status());
  Shape xs = stridesOf(x.shape());
  for (int64_t o = 0; o < out->numel(); ++o) {
    Shape oi = unravel(o, *outShape);
    int64_t src = 0;
    for (int64_t i = 0; i < x.rank(); ++i)
      src += (x.shape()[i] == 1 ? 0 : oi[dims[i]]) * xs[i];
    copyElem(*out, o, x, src);
  }
  return out;
}

Expected<Array> reshape(const ir::Op &op, const Array &x, const ir::DimBindings &env) {
  auto outShape = declaredShape(op, env);
  WEFT_TRY(outShape.status());
  auto out = makeArray(x.dtype(), *outShape);
  WEFT_TRY(out.status());
  if (out->numel() != x.numel())
    return opError(
        op, fmt::format("cannot reshape {} to {}", formatShape(x.shape()), formatShape(*outShape)));
  std::memcpy(out->data(), x.data(), x.nbytes());
  return out;
}

Expected<Array> transpose(const ir::Op &op, const Array &x) {
  const std::vector<int64_t> &perm = op.perm();
  Shape sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  bool isPerm = static_cast<int64_t>(sorted.size()) == x.rank();
  for (int64_t i = 0; isPerm && i < x.rank(); ++i)
    isPerm = sorted[i] == i;
  if (!isPerm)
    return opError(op, fmt::format("perm is not a permutation of the axes of {}", x.typeStr()));
  Shape outShape;
  for (int64_t p : perm)
    outShape.push_back(x.shape()[p]);
  auto out = makeArray(x.dtype(), outShape);
  WEFT_TRY(out.status());
  Shape xs = stridesOf(x.shape());
  for (int64_t o = 0; o < out->numel(); ++o) {
    Shape oi = unravel(o, outShape);
    int64_t src = 0;
    for (size_t i = 0; i < oi.size(); ++i)
      src += oi[i] * xs[perm[i]];
    copyElem(*out, o, x, src);
  }
  return out;
}

Expected<Array> slice(const ir::Op &op, const Array &x) {
  int64_t axis = op.axis();
  int64_t start = op.start();
  int64_t limit = op.limit();
  WEFT_TRY(checkAxis(op, axis, x.rank()));
  if (start < 0 || start > limit || limit > x.shape()[axis])
    return opError(op, fmt::format("range [{}, {}) is not within axis {} of {}", start, limit, axis,
                                   x.typeStr()));
  Shape outShape = x.shape();
  outShape[axis] = limit - start;
  auto out = makeArray(x.dtype(), outShape);
  WEFT_TRY(out.status());
  Shape xs = stridesOf(x.shape());
  for (int64_t o = 0; o < out->numel(); ++o) {
    Shape oi = unravel(o, outShape);
    oi[axis] += start;
    copyElem(*out, o, x, ravel(oi, xs));
  }
  return out;
}

Expected<Array> concat(const ir::Op &op, Operands xs) {
  int64_t axis = op.axis();
  const Array &first = *xs[0];
  WEFT_TRY(checkAxis(op, axis, first.rank()));
  Shape outShape = first.shape();
  outShape[axis] = 0;
  for (const Array *x : xs) {
    Shape s = x->shape();
    if (x->rank() == first.rank())
      s[axis] = 0;
    if (s != outShape || x->dtype() != first.dtype())
      return opError(op, fmt::format("operand {} does not match {} outside axis {}", x->typeStr(),
                                     first.typeStr(), axis));
  }
  for (const Array *x : xs)
    outShape[axis] += x->shape()[axis];
  auto out = makeArray(first.dtype(), outShape);
  WEFT_TRY(out.status());
  Shape os = stridesOf(outShape);
  int64_t offset = 0;
  for (const Array *x : xs) {
    for (int64_t i = 0; i < x->numel(); ++i) {
      Shape xi = unravel(i, x->shape());
      xi[axis] += offset;
      copyElem(*out, ravel(xi, os), *x, i);
    }
    offset += x->shape()[axis];
  }
  return out;
}

Expected<Array> pad(const ir::Op &op, const Array &x) {
  const std::vector<int64_t> &low = op.low();
  const std::vector<int64_t> &high = op.high();
  double value = op.padValue();
  if (static_cast<int64_t>(low.size()) != x.rank() || static_cast<int64_t>(high.size()) != x.rank())
    return opError(op, fmt::format("low and high need {} entries, one per axis", x.rank()));
  Shape outShape = x.shape();
  for (int64_t a = 0; a < x.rank(); ++a) {
    if (low[a] < 0 || high[a] < 0)
      return opError(op, "padding amounts must not be negative");
    outShape[a] += low[a] + high[a];
  }
  auto out = makeArray(x.dtype(), outShape);
  WEFT_TRY(out.status());
  for (int64_t o = 0; o < out->numel(); ++o)
    out->setDouble(o, value);
  Shape os = stridesOf(outShape);
  for (int64_t i = 0; i < x.numel(); ++i) {
    Shape xi = unravel(i, x.shape());
    for (int64_t a = 0; a < x.rank(); ++a)
      xi[a] += low[a];
    copyElem(*out, ravel(xi, os), x, i);
  }
  return out;
}

/// For gather and scatter_add: maps each position of the gathered shape
/// table[:axis] + idx + table[axis+1:] to a flat position in the table.
struct Gathering {
  const ir::Op &op;
  const Array &table, &idx;
  int64_t axis;
  Shape outShape, tableStrides;

  static Expected<Gathering> make(const ir::Op &op, const Array &table, const Array &idx) {
    int64_t axis = op.axis();
    WEFT_TRY(checkAxis(op, axis, table.rank()));
    if (!isInteger(idx.dtype()))
      return opError(op, fmt::format("indices must be i32 or i64, got {}", idx.typeStr()));
    Shape s(table.shape().begin(), table.shape().begin() + axis);
    s.insert(s.end(), idx.shape().begin(), idx.shape().end());
    s.insert(s.end(), table.shape().begin() + axis + 1, table.shape().end());
    return Gathering{op, table, idx, axis, s, stridesOf(table.shape())};
  }

  /// The table position of gathered position `o`, or an error for an out-of-range index.
  Expected<int64_t> source(int64_t o) const {
    Shape oi = unravel(o, outShape);
    auto ib = oi.begin() + axis, ie = ib + idx.rank();
    Shape ipos(ib, ie);
    int64_t k = idx.getInt(ravel(ipos, stridesOf(idx.shape())));
    int64_t n = table.shape()[axis];
    if (k < 0 || k >= n)
      return opError(op, fmt::format("index {} at position {} of the indices is out of range "
                                     "[0, {}) for axis {} of {}",
                                     k, formatShape(ipos), n, axis, table.typeStr()));
    Shape ti(oi.begin(), ib);
    ti.push_back(k);
    ti.insert(ti.end(), ie, oi.end());
    return ravel(ti, tableStrides);
  }
};

Expected<Array> gather(const ir::Op &op, const Array &table, const Array &idx) {
  auto g = Gathering::make(op, table, idx);
  WEFT_TRY(g.status());
  auto out = makeArray(table.dtype(), g->outShape);
  WEFT_TRY(out.status());
  for (int64_t o = 0; o < out->numel(); ++o) {
    auto src = g->source(o);
    WEFT_TRY(src.status());
    copyElem(*out, o, table, *src);
  }
  return out;
}

Expected<Array> scatterAdd(const ir::Op &op, const Array &base, const Array &idx,
                           const Array &upd) {
  auto g = Gathering::make(op, base, idx);
  WEFT_TRY(g.status());
  if (upd.shape() != g->outShape || upd.dtype() != base.dtype())
    return opError(op,
                   fmt::format("updates are {} but base {} and indices {} need {}", upd.typeStr(),
                               base.typeStr(), idx.typeStr(), formatShape(g->outShape)));
  Array out = base;
  for (int64_t u = 0; u < upd.numel(); ++u) {
    auto dst = g->source(u);
    WEFT_TRY(dst.status());
    if (isFloat(out.dtype()))
      out.setDouble(*dst, out.getDouble(*dst) + upd.getDouble(u));
    else
      out.setInt(*dst, static_cast<int64_t>(static_cast<uint64_t>(out.getInt(*dst)) +
                                            static_cast<uint64_t>(upd.getInt(u))));
  }
  return out;
}

} // namespace

Expected<Array> evalShapeOp(const ir::Op &op, Operands xs, const ir::DimBindings &dims) {
  switch (op.kind()) {
  case OpKind::Broadcast:
    return broadcast(op, *xs[0], dims);
  case OpKind::Reshape:
    return reshape(op, *xs[0], dims);
  case OpKind::Transpose:
    return transpose(op, *xs[0]);
  case OpKind::Slice:
    return slice(op, *xs[0]);
  case OpKind::Concat:
    return concat(op, xs);
  case OpKind::Pad:
    return pad(op, *xs[0]);
  case OpKind::Gather:
    return gather(op, *xs[0], *xs[1]);
  case OpKind::ScatterAdd:
    return scatterAdd(op, *xs[0], *xs[1], *xs[2]);
  default:
    WEFT_UNREACHABLE("not a shape op");
  }
}

} // namespace weft::eval::detail
