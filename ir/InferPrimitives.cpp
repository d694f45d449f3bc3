//===- ir/InferPrimitives.cpp - typing rules of the primitive ops ---------===//
//
// elementwise and select; broadcast, reshape, transpose, slice, concat and pad; gather and
// scatter_add; the reductions, argmax and matmul; the producers constant, iota and random_*;
// cast and all_reduce. Infer.cpp dispatches here.
//
//===----------------------------------------------------------------------===//
#include "ir/InferDetail.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace weft::ir::detail {

Expected<Types> inferElementwise(OpKind k, std::span<Value *const> ops) {
  OpCategory c = opCategory(k);
  const Type &a = ops[0]->type();
  WEFT_TRY(checkDType(k, a, "operand"));
  if (ops.size() == 2 && ops[1]->type() != a)
    return opError(k, fmt::format("operand types differ: {} vs {}", a.str(), ops[1]->type().str()));
  return one(c == OpCategory::Compare ? a.withDType(DType::I1) : a);
}

Expected<Types> inferSelect(std::span<Value *const> ops) {
  OpKind k = OpKind::Select;
  const Type &c = ops[0]->type(), &a = ops[1]->type(), &b = ops[2]->type();
  if (c.dtype() != DType::I1)
    return opError(k, fmt::format("condition must be i1, got {}", dtypeName(c.dtype())));
  if (a != b)
    return opError(k, fmt::format("value types differ: {} vs {}", a.str(), b.str()));
  if (c.dims() != a.dims())
    return opError(k, fmt::format("condition shape {} differs from value shape {}", c.shapeStr(),
                                  a.shapeStr()));
  return one(a);
}

Expected<Types> inferBroadcast(std::span<Value *const> ops, const Attrs &attrs, const Type &out) {
  OpKind k = OpKind::Broadcast;
  const Type &x = ops[0]->type();
  auto dims = attr<std::vector<int64_t>>(k, attrs, AttrId::Dims);
  WEFT_TRY(dims.status());
  if (static_cast<int64_t>(dims->size()) != x.rank())
    return opError(
        k, fmt::format("dims has {} entries but the operand has rank {}", dims->size(), x.rank()));
  WEFT_TRY(checkIncreasingAxes(k, *dims, out.rank(), "dims"));
  if (out.dtype() != x.dtype())
    return opError(k, "result dtype must equal the operand dtype");
  for (size_t i = 0; i < dims->size(); ++i) {
    const Dim &d = x.dim(i), &r = out.dim((*dims)[i]);
    if (d != r && d != Dim(1))
      return opError(k, fmt::format("cannot broadcast {} to {}: operand axis {} has size {} "
                                    "but result axis {} has size {}",
                                    x.shapeStr(), out.shapeStr(), i, d.str(), (*dims)[i], r.str()));
  }
  return one(out);
}

Expected<Types> inferReshape(std::span<Value *const> ops, const Type &out) {
  OpKind k = OpKind::Reshape;
  const Type &x = ops[0]->type();
  if (out.dtype() != x.dtype())
    return opError(k, "result dtype must equal the operand dtype");
  if (x.numElements() != out.numElements())
    return opError(k,
                   fmt::format("cannot reshape {} ({} elements) to {} ({} elements)", x.shapeStr(),
                               x.numElements().str(), out.shapeStr(), out.numElements().str()));
  return one(out);
}

Expected<Types> inferTranspose(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::Transpose;
  const Type &x = ops[0]->type();
  auto perm = attr<std::vector<int64_t>>(k, attrs, AttrId::Perm);
  WEFT_TRY(perm.status());
  std::vector<int64_t> sorted = *perm;
  std::sort(sorted.begin(), sorted.end());
  bool isPerm = static_cast<int64_t>(sorted.size()) == x.rank();
  for (size_t i = 0; isPerm && i < sorted.size(); ++i)
    isPerm = sorted[i] == static_cast<int64_t>(i);
  if (!isPerm)
    return opError(k, fmt::format("perm must be a permutation of 0..{} for operand {}",
                                  x.rank() - 1, x.shapeStr()));
  std::vector<Dim> dims;
  for (int64_t p : *perm)
    dims.push_back(x.dim(p));
  return one(Type(dims, x.dtype()));
}

Expected<Types> inferSlice(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::Slice;
  const Type &x = ops[0]->type();
  auto axis = attr<int64_t>(k, attrs, AttrId::Axis);
  auto start = attr<int64_t>(k, attrs, AttrId::Start);
  auto limit = attr<int64_t>(k, attrs, AttrId::Limit);
  WEFT_TRY(axis.status());
  WEFT_TRY(start.status());
  WEFT_TRY(limit.status());
  WEFT_TRY(checkAxis(k, *axis, x.rank()));
  const Dim &d = x.dim(*axis);
  if (!d.isStatic())
    return opError(k, fmt::format("axis {} of {} has symbolic size {}; only static axes can be "
                                  "sliced",
                                  *axis, x.shapeStr(), d.str()));
  if (*start < 0 || *start > *limit || *limit > d.size())
    return opError(k, fmt::format("range [{}, {}) is not within axis {} of size {}", *start, *limit,
                                  *axis, d.size()));
  std::vector<Dim> dims = x.dims();
  dims[*axis] = Dim(*limit - *start);
  return one(Type(dims, x.dtype()));
}

Expected<Types> inferConcat(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::Concat;
  if (ops.empty())
    return opError(k, "expects at least one operand");
  const Type &x = ops[0]->type();
  auto axis = attr<int64_t>(k, attrs, AttrId::Axis);
  WEFT_TRY(axis.status());
  WEFT_TRY(checkAxis(k, *axis, x.rank()));
  std::vector<Dim> dims = x.dims();
  for (size_t i = 1; i < ops.size(); ++i) {
    const Type &y = ops[i]->type();
    bool same = y.dtype() == x.dtype() && y.rank() == x.rank();
    for (int64_t a = 0; same && a < x.rank(); ++a)
      same = a == *axis || y.dim(a) == x.dim(a);
    if (!same)
      return opError(k, fmt::format("operand {} has type {} which does not match {} outside "
                                    "axis {}",
                                    i, y.str(), x.str(), *axis));
    int64_t total = 0;
    bool overflows = __builtin_add_overflow(dims[*axis].coeff(), y.dim(*axis).coeff(), &total);
    auto sum = overflows ? std::nullopt : dims[*axis].plus(y.dim(*axis));
    if (!sum)
      return opError(k, fmt::format("cannot add sizes {} and {} along axis {}", dims[*axis].str(),
                                    y.dim(*axis).str(), *axis));
    dims[*axis] = *sum;
  }
  return one(Type(dims, x.dtype()));
}

Expected<Types> inferPad(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::Pad;
  const Type &x = ops[0]->type();
  auto low = attr<std::vector<int64_t>>(k, attrs, AttrId::Low);
  auto high = attr<std::vector<int64_t>>(k, attrs, AttrId::High);
  auto value = attr<double>(k, attrs, AttrId::PadValue);
  WEFT_TRY(low.status());
  WEFT_TRY(high.status());
  WEFT_TRY(value.status());
  if (static_cast<int64_t>(low->size()) != x.rank() ||
      static_cast<int64_t>(high->size()) != x.rank())
    return opError(k, fmt::format("low and high need {} entries, one per axis", x.rank()));
  if (!isFloat(x.dtype()) && *value != std::trunc(*value))
    return opError(k, "padding value of an integer tensor must be an integer");
  std::vector<Dim> dims = x.dims();
  for (int64_t a = 0; a < x.rank(); ++a) {
    int64_t lo = (*low)[a], hi = (*high)[a];
    if (lo < 0 || hi < 0)
      return opError(k, "padding amounts must not be negative");
    if (lo == 0 && hi == 0)
      continue;
    if (!dims[a].isStatic())
      return opError(k, fmt::format("axis {} has symbolic size {}; only static axes can be "
                                    "padded",
                                    a, dims[a].str()));
    int64_t grown = 0;
    if (__builtin_add_overflow(dims[a].size(), lo, &grown) ||
        __builtin_add_overflow(grown, hi, &grown))
      return opError(k, fmt::format("padded size of axis {} overflows int64", a));
    dims[a] = Dim(grown);
  }
  return one(Type(dims, x.dtype()));
}

namespace {

/// table[:axis] + idx + table[axis+1:]
Expected<Type> gatherShape(OpKind k, const Type &table, const Type &idx, int64_t axis) {
  WEFT_TRY(checkAxis(k, axis, table.rank()));
  if (!isInteger(idx.dtype()))
    return opError(k, fmt::format("indices must be i32 or i64, got {}", dtypeName(idx.dtype())));
  std::vector<Dim> dims(table.dims().begin(), table.dims().begin() + axis);
  dims.insert(dims.end(), idx.dims().begin(), idx.dims().end());
  dims.insert(dims.end(), table.dims().begin() + axis + 1, table.dims().end());
  return Type(dims, table.dtype());
}

} // namespace

Expected<Types> inferGather(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::Gather;
  auto axis = attr<int64_t>(k, attrs, AttrId::Axis);
  WEFT_TRY(axis.status());
  auto t = gatherShape(k, ops[0]->type(), ops[1]->type(), *axis);
  WEFT_TRY(t.status());
  return one(*t);
}

Expected<Types> inferScatterAdd(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::ScatterAdd;
  const Type &base = ops[0]->type();
  WEFT_TRY(checkDType(k, base, "base"));
  auto axis = attr<int64_t>(k, attrs, AttrId::Axis);
  WEFT_TRY(axis.status());
  auto want = gatherShape(k, base, ops[1]->type(), *axis);
  WEFT_TRY(want.status());
  if (ops[2]->type() != *want)
    return opError(k, fmt::format("updates have type {} but base {} and indices {} need {}",
                                  ops[2]->type().str(), base.shapeStr(), ops[1]->type().shapeStr(),
                                  want->str()));
  return one(base);
}

Expected<Types> inferReduce(OpKind k, std::span<Value *const> ops, const Attrs &attrs) {
  const Type &x = ops[0]->type();
  WEFT_TRY(checkDType(k, x, "operand"));
  auto axes = attr<std::vector<int64_t>>(k, attrs, AttrId::Axes);
  WEFT_TRY(axes.status());
  WEFT_TRY(checkIncreasingAxes(k, *axes, x.rank(), "axes"));
  std::vector<Dim> dims;
  for (int64_t a = 0; a < x.rank(); ++a)
    if (std::find(axes->begin(), axes->end(), a) == axes->end())
      dims.push_back(x.dim(a));
  return one(Type(dims, x.dtype()));
}

Expected<Types> inferArgmax(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::Argmax;
  const Type &x = ops[0]->type();
  WEFT_TRY(checkDType(k, x, "operand"));
  auto axis = attr<int64_t>(k, attrs, AttrId::Axis);
  WEFT_TRY(axis.status());
  WEFT_TRY(checkAxis(k, *axis, x.rank()));
  std::vector<Dim> dims = x.dims();
  dims.erase(dims.begin() + *axis);
  return one(Type(dims, DType::I64));
}

Expected<Types> inferMatmul(std::span<Value *const> ops) {
  OpKind k = OpKind::Matmul;
  const Type &a = ops[0]->type(), &b = ops[1]->type();
  WEFT_TRY(checkDType(k, a, "lhs"));
  if (a.dtype() != b.dtype())
    return opError(
        k, fmt::format("dtypes differ: {} vs {}", dtypeName(a.dtype()), dtypeName(b.dtype())));
  if (a.rank() < 2 || a.rank() != b.rank())
    return opError(k, fmt::format("operands must have the same rank >= 2, got {} and {}",
                                  a.shapeStr(), b.shapeStr()));
  int64_t r = a.rank();
  for (int64_t i = 0; i + 2 < r; ++i)
    if (a.dim(i) != b.dim(i))
      return opError(k, fmt::format("batch dims differ: {} vs {}", a.shapeStr(), b.shapeStr()));
  if (a.dim(r - 1) != b.dim(r - 2))
    return opError(k, fmt::format("inner dims differ: {} vs {} ({} vs {})", a.dim(r - 1).str(),
                                  b.dim(r - 2).str(), a.shapeStr(), b.shapeStr()));
  std::vector<Dim> dims = a.dims();
  dims[r - 1] = b.dim(r - 1);
  return one(Type(dims, a.dtype()));
}

Expected<Types> inferConstant(std::span<Value *const> ops, const Attrs &attrs, const Type &out) {
  OpKind k = OpKind::Constant;
  auto it = attrs.find(attrKey(AttrId::Value));
  if (it == attrs.end())
    return opError(k, "missing attribute 'value'");
  size_t n = 0;
  if (isFloat(out.dtype())) {
    auto *vs = std::get_if<std::vector<double>>(&it->second);
    if (!vs)
      return opError(k, "value of a float constant must be a list of floats");
    n = vs->size();
  } else {
    auto *vs = std::get_if<std::vector<int64_t>>(&it->second);
    if (!vs)
      return opError(k, "value of an integer constant must be a list of integers");
    n = vs->size();
    if (out.dtype() == DType::I1)
      for (int64_t v : *vs)
        if (v != 0 && v != 1)
          return opError(k, "value of an i1 constant must be 0 or 1");
  }
  if (n == 1)
    return one(out);
  Dim count = out.numElements();
  if (!count.isStatic() || static_cast<int64_t>(n) != count.size())
    return opError(k, fmt::format("value has {} entries but {} has {} elements (give one value "
                                  "for a splat)",
                                  n, out.shapeStr(), count.str()));
  return one(out);
}

Expected<Types> inferIota(std::span<Value *const> ops, const Attrs &attrs, const Type &out) {
  OpKind k = OpKind::Iota;
  WEFT_TRY(checkDType(k, out, "result"));
  auto axis = attr<int64_t>(k, attrs, AttrId::Axis);
  WEFT_TRY(axis.status());
  WEFT_TRY(checkAxis(k, *axis, out.rank()));
  return one(out);
}

Expected<Types> inferCast(std::span<Value *const> ops, const Type &out) {
  OpKind k = OpKind::Cast;
  if (ops[0]->type().dims() != out.dims())
    return opError(k, fmt::format("cast keeps the shape: {} vs {}", ops[0]->type().shapeStr(),
                                  out.shapeStr()));
  return one(out);
}

Expected<Types> inferAllReduce(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::AllReduce;
  WEFT_TRY(checkDType(k, ops[0]->type(), "operand"));
  auto group = attr<int64_t>(k, attrs, AttrId::Group);
  WEFT_TRY(group.status());
  if (*group < 0)
    return opError(k, fmt::format("group {} is negative", *group));
  return one(ops[0]->type());
}

Expected<Types> inferRandom(OpKind k, std::span<Value *const> ops, const Type &out) {
  if (ops[0]->type() != Type({}, DType::I64))
    return opError(k, fmt::format("seed must be tensor<i64>, got {}", ops[0]->type().str()));
  WEFT_TRY(checkDType(k, out, "result"));
  return one(out);
}
} // namespace weft::ir::detail
