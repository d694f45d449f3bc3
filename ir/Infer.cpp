//===- ir/Infer.cpp - typing rules of every op ----------------------------===//
#include "ir/Infer.h"

#include "ir/Fusion.h"
#include "ir/InferDetail.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace weft::ir {
namespace detail {

Diag opError(OpKind k, const std::string &msg) {
  return err(fmt::format("{}: {}", opName(k), msg));
}

} // namespace detail
namespace {

using detail::flag;
using detail::opError;
using Types = std::vector<Type>;

bool dtypeAllowed(OperandDTypes allowed, DType t) {
  switch (allowed) {
  case OperandDTypes::Float:
    return isFloat(t);
  case OperandDTypes::Numeric:
    return t != DType::I1;
  case OperandDTypes::Bool:
    return t == DType::I1;
  case OperandDTypes::Any:
    return true;
  }
  WEFT_UNREACHABLE("unhandled OperandDTypes");
}

const char *allowedStr(OperandDTypes allowed) {
  switch (allowed) {
  case OperandDTypes::Float:
    return "a float dtype (f32, f64)";
  case OperandDTypes::Numeric:
    return "a numeric dtype (f32, f64, i32, i64)";
  case OperandDTypes::Bool:
    return "i1";
  case OperandDTypes::Any:
    return "any dtype";
  }
  WEFT_UNREACHABLE("unhandled OperandDTypes");
}

} // namespace

namespace detail {

Status checkDType(OpKind k, const Type &t, const char *what) {
  if (dtypeAllowed(opOperandDTypes(k), t.dtype()))
    return {};
  return opError(k, fmt::format("{} has dtype {} but must have {}", what, dtypeName(t.dtype()),
                                allowedStr(opOperandDTypes(k))));
}

bool flag(const Attrs &attrs, AttrId id) {
  auto it = attrs.find(attrKey(id));
  if (it == attrs.end())
    return false;
  const int64_t *v = std::get_if<int64_t>(&it->second);
  return v && *v != 0;
}

Expected<SequenceDims> sequenceDims(OpKind k, const Type &xs, const Type &h0) {
  WEFT_TRY(checkDType(k, xs, "xs"));
  if (xs.rank() != 3 || h0.rank() != 2)
    return opError(k, fmt::format("xs must be [T, B, I] and h0 [B, H], got {} and {}",
                                  xs.shapeStr(), h0.shapeStr()));
  if (!h0.dim(1).isStatic())
    return opError(k, fmt::format("the hidden size must be static, got {}", h0.dim(1).str()));
  return SequenceDims{xs.dim(1), xs.dim(2), h0.dim(1)};
}

Status checkSequenceOperands(OpKind k, std::span<Value *const> ops, std::span<const Type> want,
                             std::span<const char *const> names) {
  for (size_t i = 1; i < want.size(); ++i)
    if (ops[i]->type() != want[i])
      return opError(k,
                     fmt::format("{} must be {} (xs {}, h0 {}), got {}", names[i], want[i].str(),
                                 ops[0]->type().str(), ops[1]->type().str(), ops[i]->type().str()));
  return {};
}

Status checkSequenceLengths(OpKind k, const Type &len, const Dim &batch) {
  if (len.rank() != 1 || len.dim(0) != batch ||
      (len.dtype() != DType::I32 && len.dtype() != DType::I64))
    return opError(
        k, fmt::format("lengths must be tensor<{} x i32|i64>, got {}", batch.str(), len.str()));
  return {};
}

} // namespace detail

namespace {

using detail::checkDType;
using detail::checkSequenceLengths;
using detail::checkSequenceOperands;
using detail::sequenceDims;

Status checkArity(OpKind k, size_t n, size_t want) {
  if (n == want)
    return {};
  return opError(k, fmt::format("expects {} operand{}, got {}", want, want == 1 ? "" : "s", n));
}

template <typename T> Expected<T> attr(OpKind k, const Attrs &attrs, AttrId id) {
  std::string_view key = attrKey(id);
  auto it = attrs.find(key);
  if (it == attrs.end())
    return opError(k, fmt::format("missing attribute '{}'", key));
  if (const T *v = std::get_if<T>(&it->second))
    return *v;
  const char *want = std::is_same_v<T, int64_t>                ? "an integer"
                     : std::is_same_v<T, double>               ? "a float"
                     : std::is_same_v<T, std::vector<int64_t>> ? "a list of integers"
                     : std::is_same_v<T, std::vector<double>>  ? "a list of floats"
                                                               : "a string";
  return opError(k, fmt::format("attribute '{}' must be {}", key, want));
}

Status checkAxis(OpKind k, int64_t axis, int64_t rank, const char *what = "axis") {
  if (axis >= 0 && axis < rank)
    return {};
  return opError(k, fmt::format("{} {} is out of range for rank {}", what, axis, rank));
}

Status checkIncreasingAxes(OpKind k, const std::vector<int64_t> &axes, int64_t rank,
                           const char *what) {
  for (size_t i = 0; i < axes.size(); ++i) {
    WEFT_TRY(checkAxis(k, axes[i], rank, what));
    if (i && axes[i] <= axes[i - 1])
      return opError(k, fmt::format("{} must be strictly increasing", what));
  }
  return {};
}

Expected<Types> one(Type t) { return Types{std::move(t)}; }

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

/// lstm_sequence %xs[T,B,I], %h0[B,H], %c0[B,H], %wx[I,4H], %wh[H,4H], %b[4H] [, %len[B]];
/// {save_gates} adds the results gates[T,B,4H] and cs[T,B,H].
Expected<Types> inferLstmSequence(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::LstmSequence;
  if (ops.size() != 6 && ops.size() != 7)
    return opError(k, fmt::format("expects 6 operands (xs, h0, c0, wx, wh, b) and optional "
                                  "lengths, got {}",
                                  ops.size()));
  const Type &xs = ops[0]->type();
  auto dims = sequenceDims(k, xs, ops[1]->type());
  WEFT_TRY(dims.status());
  const Dim &batch = dims->batch, &in = dims->in, &hidden = dims->hidden;
  Dim gates(4 * hidden.size());
  const char *names[] = {"xs", "h0", "c0", "wx", "wh", "b"};
  std::vector<Type> want = {xs,
                            Type({batch, hidden}, xs.dtype()),
                            Type({batch, hidden}, xs.dtype()),
                            Type({in, gates}, xs.dtype()),
                            Type({hidden, gates}, xs.dtype()),
                            Type({gates}, xs.dtype())};
  WEFT_TRY(checkSequenceOperands(k, ops, want, names));
  if (ops.size() == 7)
    WEFT_TRY(checkSequenceLengths(k, ops[6]->type(), batch));
  Types out{Type({xs.dim(0), batch, hidden}, xs.dtype()), want[1], want[2]};
  if (flag(attrs, AttrId::SaveGates)) {
    out.push_back(Type({xs.dim(0), batch, gates}, xs.dtype()));
    out.push_back(out[0]);
  }
  return out;
}

/// lstm_sequence_grad %xs, %h0, %c0, %wx, %wh, %b, %hs[T,B,H], %dhs[T,B,H], %dhT[B,H],
/// %dcT[B,H] [, %gates[T,B,4H], %cs[T,B,H] with {save_gates}] [, %len]: the forward's operands
/// as lstm_sequence checks them, its hs (gates and cs) and the adjoints of its three results;
/// results dxs, dh0, dc0, dwx, dwh, db (the operands' types).
Expected<Types> inferLstmSequenceGrad(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::LstmSequenceGrad;
  const bool saved = flag(attrs, AttrId::SaveGates);
  const size_t fixed = saved ? 12 : 10;
  if (ops.size() != fixed && ops.size() != fixed + 1)
    return opError(k, fmt::format("expects {} operands (xs, h0, c0, wx, wh, b, hs, dhs, dhT, "
                                  "dcT{}) and optional lengths, got {}",
                                  fixed, saved ? ", gates, cs" : "", ops.size()));
  std::vector<Value *> forward(ops.begin(), ops.begin() + 6);
  if (ops.size() == fixed + 1)
    forward.push_back(ops[fixed]);
  auto fwd = inferLstmSequence(forward, {{std::string(attrKey(AttrId::SaveGates)), int64_t{1}}});
  if (!fwd)
    return opError(k, fwd.diag().message);
  const Types &r = *fwd; // hs, hT, cT, gates, cs
  const char *names[] = {"hs", "dhs", "dhT", "dcT", "gates", "cs"};
  const Type *want[] = {&r[0], &r[0], &r[1], &r[2], &r[3], &r[4]};
  for (size_t i = 0; i < fixed - 6; ++i)
    if (ops[6 + i]->type() != *want[i])
      return opError(k, fmt::format("{} must be {}, got {}", names[i], want[i]->str(),
                                    ops[6 + i]->type().str()));
  Types out;
  for (size_t i = 0; i < 6; ++i)
    out.push_back(ops[i]->type());
  return out;
}

/// lstm_attention_step %x[B,I], %h[B,H], %c[B,H], %wx[I,4H], %wh[H,4H], %b[4H], %wq[H,A],
/// %kp[B,S,A], %v[A], %values[B,S,D], %wa[H+D,N] (, %mask[B,S]); with {luong}, no %wq and a
/// scale %g[] for %v, A = H. Results h2, c2 [B,H], att [B,N], weights [B,S].
Expected<Types> inferLstmAttentionStep(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::LstmAttentionStep;
  bool luong = attrs.count("luong") && std::get<int64_t>(attrs.at("luong")) != 0;
  const size_t base = luong ? 10 : 11;
  if (ops.size() != base && ops.size() != base + 1)
    return opError(k, fmt::format("expects {} operands ({}) and an optional mask, got {}", base,
                                  luong ? "x, h, c, wx, wh, b, kp, g, values, wa"
                                        : "x, h, c, wx, wh, b, wq, kp, v, values, wa",
                                  ops.size()));
  const Type &x = ops[0]->type(), &h = ops[1]->type();
  WEFT_TRY(checkDType(k, x, "x"));
  if (x.rank() != 2 || h.rank() != 2)
    return opError(
        k, fmt::format("x must be [B, I] and h [B, H], got {} and {}", x.shapeStr(), h.shapeStr()));
  const Dim &batch = x.dim(0), &in = x.dim(1), &hidden = h.dim(1);
  const size_t kpAt = luong ? 6 : 7, valuesAt = luong ? 8 : 9, waAt = luong ? 9 : 10;
  const Type &kp = ops[kpAt]->type(), &values = ops[valuesAt]->type(), &wa = ops[waAt]->type();
  if (!hidden.isStatic() || kp.rank() != 3 || values.rank() != 3 || wa.rank() != 2 ||
      !kp.dim(2).isStatic() || !values.dim(2).isStatic())
    return opError(k, fmt::format("the hidden size must be static, kp [B, S, A] and values "
                                  "[B, S, D] with static A and D, wa [H + D, N]; got h {}, kp {}, "
                                  "values {}, wa {}",
                                  h.shapeStr(), kp.shapeStr(), values.shapeStr(), wa.shapeStr()));
  const Dim &len = kp.dim(1), &units = kp.dim(2), &depth = values.dim(2);
  Dim gates(4 * hidden.size()), concat(hidden.size() + depth.size());
  DType dt = x.dtype();
  std::vector<std::pair<const char *, Type>> want = {{"x", x},
                                                     {"h", Type({batch, hidden}, dt)},
                                                     {"c", Type({batch, hidden}, dt)},
                                                     {"wx", Type({in, gates}, dt)},
                                                     {"wh", Type({hidden, gates}, dt)},
                                                     {"b", Type({gates}, dt)}};
  if (luong) {
    want.push_back({"kp", Type({batch, len, hidden}, dt)});
    want.push_back({"g", Type({}, dt)});
  } else {
    want.push_back({"wq", Type({hidden, units}, dt)});
    want.push_back({"kp", Type({batch, len, units}, dt)});
    want.push_back({"v", Type({units}, dt)});
  }
  want.push_back({"values", Type({batch, len, depth}, dt)});
  want.push_back({"wa", Type({concat, wa.dim(1)}, dt)});
  Type weights({batch, len}, dt);
  if (ops.size() == base + 1)
    want.push_back({"mask", weights});
  for (size_t i = 1; i < want.size(); ++i)
    if (ops[i]->type() != want[i].second)
      return opError(k, fmt::format("{} must be {} (x {}, h {}, kp {}, values {}), got {}",
                                    want[i].first, want[i].second.str(), x.shapeStr(), h.shapeStr(),
                                    kp.shapeStr(), values.shapeStr(), ops[i]->type().str()));
  return Types{want[1].second, want[2].second, Type({batch, wa.dim(1)}, dt), weights};
}

/// The scores' shape [..., Tq, Tk] of attention or attention_grad with operands q, k, v
/// (, mask), after checking them: one float dtype, rank >= 2, equal batch dims, q and k of one
/// depth, k and v of one length, a mask of the scores' rank whose dims are 1 or the scores'.
Status checkAttentionOperands(OpKind k, const Type &q, const Type &kt, const Type &v,
                              const Type *mask) {
  WEFT_TRY(checkDType(k, q, "q"));
  for (const Type *t : {&kt, &v, mask})
    if (t && t->dtype() != q.dtype())
      return opError(k, fmt::format("dtypes differ: q is {} but {} is {}", dtypeName(q.dtype()),
                                    t == &kt  ? "k"
                                    : t == &v ? "v"
                                              : "the mask",
                                    dtypeName(t->dtype())));
  int64_t r = q.rank();
  if (r < 2 || kt.rank() != r || v.rank() != r)
    return opError(k, fmt::format("q, k and v must have one rank >= 2, got {}, {} and {}",
                                  q.shapeStr(), kt.shapeStr(), v.shapeStr()));
  for (int64_t i = 0; i + 2 < r; ++i)
    if (kt.dim(i) != q.dim(i) || v.dim(i) != q.dim(i))
      return opError(k, fmt::format("batch dims differ: q {}, k {}, v {}", q.shapeStr(),
                                    kt.shapeStr(), v.shapeStr()));
  if (kt.dim(r - 1) != q.dim(r - 1))
    return opError(
        k, fmt::format("q and k must have one depth, got {} and {}", q.shapeStr(), kt.shapeStr()));
  if (v.dim(r - 2) != kt.dim(r - 2))
    return opError(
        k, fmt::format("k and v must have one length, got {} and {}", kt.shapeStr(), v.shapeStr()));
  if (!mask)
    return {};
  std::vector<Dim> scores = q.dims();
  scores[r - 1] = kt.dim(r - 2);
  bool ok = mask->rank() == r;
  for (int64_t i = 0; ok && i < r; ++i)
    ok = mask->dim(i) == scores[i] || mask->dim(i) == Dim(1);
  if (!ok)
    return opError(k, fmt::format("the mask {} does not broadcast to the scores {}",
                                  mask->shapeStr(), Type(scores, q.dtype()).shapeStr()));
  return {};
}

/// additive_attention %qp[B,A], %kp[B,S,A], %v[A], %values[B,S,D] (, %mask[B,S]).
Expected<Types> inferAdditiveAttention(std::span<Value *const> ops) {
  OpKind k = OpKind::AdditiveAttention;
  if (ops.size() != 4 && ops.size() != 5)
    return opError(
        k, fmt::format("expects 4 or 5 operands (qp, kp, v, values, mask), got {}", ops.size()));
  const Type &qp = ops[0]->type(), &kp = ops[1]->type(), &values = ops[3]->type();
  WEFT_TRY(checkDType(k, qp, "qp"));
  for (size_t i = 1; i < ops.size(); ++i)
    if (ops[i]->type().dtype() != qp.dtype())
      return opError(k, fmt::format("operand {} is {} but qp is {}", i, ops[i]->type().str(),
                                    dtypeName(qp.dtype())));
  if (qp.rank() != 2 || kp.rank() != 3 || values.rank() != 3)
    return opError(k, fmt::format("qp must be [B, A], kp [B, S, A] and values [B, S, D], got "
                                  "{}, {} and {}",
                                  qp.shapeStr(), kp.shapeStr(), values.shapeStr()));
  const Dim &batch = qp.dim(0), &units = qp.dim(1), &len = kp.dim(1);
  if (kp.dim(0) != batch || kp.dim(2) != units)
    return opError(k, fmt::format("kp must be [{}, S, {}] for qp {}, got {}", batch.str(),
                                  units.str(), qp.shapeStr(), kp.shapeStr()));
  if (ops[2]->type() != Type({units}, qp.dtype()))
    return opError(k, fmt::format("v must be [{}] for qp {}, got {}", units.str(), qp.shapeStr(),
                                  ops[2]->type().shapeStr()));
  if (values.dim(0) != batch || values.dim(1) != len)
    return opError(k, fmt::format("values must be [{}, {}, D] for kp {}, got {}", batch.str(),
                                  len.str(), kp.shapeStr(), values.shapeStr()));
  Type weights({batch, len}, qp.dtype());
  if (ops.size() == 5 && ops[4]->type() != weights)
    return opError(k, fmt::format("the mask must be {} (the scores), got {}", weights.shapeStr(),
                                  ops[4]->type().shapeStr()));
  return Types{Type({batch, values.dim(2)}, qp.dtype()), weights};
}

Expected<Types> inferAttention(std::span<Value *const> ops) {
  OpKind k = OpKind::Attention;
  if (ops.size() != 3 && ops.size() != 4)
    return opError(k, fmt::format("expects 3 or 4 operands (q, k, v, mask), got {}", ops.size()));
  const Type &q = ops[0]->type(), &v = ops[2]->type();
  WEFT_TRY(
      checkAttentionOperands(k, q, ops[1]->type(), v, ops.size() == 4 ? &ops[3]->type() : nullptr));
  std::vector<Dim> dims = q.dims();
  dims.back() = v.dims().back();
  return one(Type(dims, q.dtype()));
}

Expected<Types> inferAttentionGrad(std::span<Value *const> ops, const Attrs &attrs) {
  OpKind k = OpKind::AttentionGrad;
  if (ops.size() != 5 && ops.size() != 6)
    return opError(
        k, fmt::format("expects 5 or 6 operands (q, k, v, o, do, mask), got {}", ops.size()));
  const Type &q = ops[0]->type(), &v = ops[2]->type();
  WEFT_TRY(
      checkAttentionOperands(k, q, ops[1]->type(), v, ops.size() == 6 ? &ops[5]->type() : nullptr));
  std::vector<Dim> dims = q.dims();
  dims.back() = v.dims().back();
  Type o(dims, q.dtype());
  for (size_t i : {3, 4})
    if (ops[i]->type() != o)
      return opError(k, fmt::format("{} must be {} (attention's result), got {}",
                                    i == 3 ? "o" : "do", o.str(), ops[i]->type().str()));
  if (attrs.count(attrKey(AttrId::Wrt))) {
    auto wrt = attr<int64_t>(k, attrs, AttrId::Wrt);
    WEFT_TRY(wrt.status());
    if (*wrt < 1 || *wrt > 7)
      return opError(k,
                     fmt::format("wrt must be a bit set of 1 (dq), 2 (dk), 4 (dv), got {}", *wrt));
  }
  return Types{q, ops[1]->type(), v}; // dq, dk, dv
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

Status checkBatchAxis(OpKind k, const Type &t, int64_t axis, const Dim &b, const char *what) {
  if (t.rank() > axis && t.dim(axis) == b)
    return {};
  return opError(k, fmt::format("{} {} must have size {} on axis {} to be masked per example", what,
                                t.str(), b.str(), axis));
}

Expected<Types> inferScan(std::span<Value *const> ops, const Attrs &attrs, const Block *body) {
  OpKind k = OpKind::Scan;
  auto groups = scanOperands(ops.size(), attrs);
  WEFT_TRY(groups.status());
  auto argTypes = regionArgTypes(k, ops, attrs);
  WEFT_TRY(argTypes.status());
  if (!body)
    return opError(k, "has no body");
  const Op *yield = body->back();
  if (!yield || yield->kind() != OpKind::Yield)
    return opError(k, "body must end with yield");
  size_t nc = groups->numCarry;
  if (yield->numOperands() < nc)
    return opError(
        k, fmt::format("body yields {} values but there are {} carries", yield->numOperands(), nc));
  Types results;
  for (size_t i = 0; i < nc; ++i) {
    if (yield->operand(i)->type() != ops[i]->type())
      return opError(k, fmt::format("carry {} enters as {} but the body yields {}", i,
                                    ops[i]->type().str(), yield->operand(i)->type().str()));
    results.push_back(ops[i]->type());
  }
  const Dim &steps = ops[nc]->type().dim(0);
  std::optional<Dim> batch;
  if (groups->hasLengths)
    batch = ops.back()->type().dim(0);
  for (size_t i = nc; i < yield->numOperands(); ++i) {
    const Type &e = yield->operand(i)->type();
    if (batch)
      WEFT_TRY(checkBatchAxis(k, e, 0, *batch, "emit"));
    results.push_back(e.stacked(steps));
  }
  return results;
}

Expected<Types> inferWhile(std::span<Value *const> ops, const Attrs &attrs, const Block *body) {
  OpKind k = OpKind::While;
  auto argTypes = regionArgTypes(k, ops, attrs);
  WEFT_TRY(argTypes.status());
  int64_t maxTrips = *attr<int64_t>(k, attrs, AttrId::MaxTrips);
  if (!body)
    return opError(k, "has no body");
  const Op *yield = body->back();
  if (!yield || yield->kind() != OpKind::Yield)
    return opError(k, "body must end with yield");
  size_t nc = ops.size() - 1;
  if (yield->numOperands() < nc + 1)
    return opError(k, fmt::format("body yields {} values but needs the done flags and {} carries",
                                  yield->numOperands(), nc));
  const Type &fin = ops[0]->type();
  if (yield->operand(0)->type() != fin)
    return opError(k, fmt::format("body yields done flags of type {} but finished is {}",
                                  yield->operand(0)->type().str(), fin.str()));
  Types results{fin};
  for (size_t i = 0; i < nc; ++i) {
    if (yield->operand(i + 1)->type() != ops[i + 1]->type())
      return opError(k, fmt::format("carry {} enters as {} but the body yields {}", i,
                                    ops[i + 1]->type().str(), yield->operand(i + 1)->type().str()));
    results.push_back(ops[i + 1]->type());
  }
  for (size_t i = nc + 1; i < yield->numOperands(); ++i) {
    const Type &e = yield->operand(i)->type();
    WEFT_TRY(checkBatchAxis(k, e, 0, fin.dim(0), "emit"));
    results.push_back(e.stacked(Dim(maxTrips)));
  }
  results.push_back(Type({}, DType::I64));
  return results;
}

Expected<Types> inferFusion(std::span<Value *const> ops, const Block *body) {
  if (!body)
    return opError(OpKind::Fusion, "has no body");
  auto form = fusionForm(*body);
  WEFT_TRY(form.status());
  Types results;
  for (const Value *v : body->back()->operands())
    results.push_back(v->type());
  return results;
}

} // namespace

Expected<ScanOperands> scanOperands(size_t numOperands, const Attrs &attrs) {
  OpKind k = OpKind::Scan;
  auto nc = attr<int64_t>(k, attrs, AttrId::NumCarry);
  auto ns = attr<int64_t>(k, attrs, AttrId::NumSeq);
  WEFT_TRY(nc.status());
  WEFT_TRY(ns.status());
  if (*nc < 0 || *ns < 1)
    return opError(k, "needs at least one sequence (and a non-negative carry count)");
  size_t used = static_cast<size_t>(*nc + *ns);
  if (numOperands != used && numOperands != used + 1)
    return opError(
        k, fmt::format("has {} operands for {} carries and {} sequences", numOperands, *nc, *ns));
  return ScanOperands{static_cast<size_t>(*nc), static_cast<size_t>(*ns), numOperands == used + 1};
}

Expected<std::vector<Type>> regionArgTypes(OpKind kind, std::span<Value *const> ops,
                                           const Attrs &attrs) {
  WEFT_TRY(checkAttrs(kind, attrs));
  Types args;
  if (kind == OpKind::Scan) {
    auto g = scanOperands(ops.size(), attrs);
    WEFT_TRY(g.status());
    for (size_t i = 0; i < g->numCarry; ++i)
      args.push_back(ops[i]->type());
    const Type &first = ops[g->numCarry]->type();
    for (size_t i = g->numCarry; i < g->numCarry + g->numSeq; ++i) {
      const Type &s = ops[i]->type();
      if (s.rank() < 1 || first.rank() < 1 || s.dim(0) != first.dim(0))
        return opError(kind, fmt::format("sequences must share their leading (time) axis: {} "
                                         "vs {}",
                                         first.str(), s.str()));
      args.push_back(Type(std::vector<Dim>(s.dims().begin() + 1, s.dims().end()), s.dtype()));
    }
    if (g->hasLengths) {
      const Type &len = ops.back()->type();
      if (len.rank() != 1 || !isInteger(len.dtype()))
        return opError(kind, fmt::format("lengths must be tensor<B x i32|i64>, got {}", len.str()));
      for (size_t i = 0; i < g->numCarry; ++i)
        WEFT_TRY(checkBatchAxis(kind, ops[i]->type(), 0, len.dim(0), "carry"));
      for (size_t i = g->numCarry; i < g->numCarry + g->numSeq; ++i)
        WEFT_TRY(checkBatchAxis(kind, ops[i]->type(), 1, len.dim(0), "sequence"));
    }
    return args;
  }
  if (kind == OpKind::Fusion) {
    for (const Value *v : ops)
      args.push_back(v->type());
    return args;
  }
  WEFT_CHECK(kind == OpKind::While, "regionArgTypes of an op without a region");
  if (ops.empty())
    return opError(kind, "needs the finished flags operand");
  const Type &fin = ops[0]->type();
  if (fin.rank() != 1 || fin.dtype() != DType::I1)
    return opError(kind, fmt::format("finished must be tensor<B x i1>, got {}", fin.str()));
  auto maxTrips = attr<int64_t>(kind, attrs, AttrId::MaxTrips);
  WEFT_TRY(maxTrips.status());
  if (*maxTrips < 0)
    return opError(kind, "max_trips must not be negative");
  for (size_t i = 1; i < ops.size(); ++i) {
    WEFT_TRY(checkBatchAxis(kind, ops[i]->type(), 0, fin.dim(0), "carry"));
    args.push_back(ops[i]->type());
  }
  return args;
}

Expected<std::vector<Type>> inferResultTypes(OpKind k, std::span<Value *const> ops,
                                             const Attrs &attrs, std::span<const Type> declared,
                                             const Block *region) {
  WEFT_TRY(checkAttrs(k, attrs));
  if (auto arity = opArity(k))
    WEFT_TRY(checkArity(k, ops.size(), *arity));
  if (hasDeclaredResultType(k) && declared.size() != 1)
    return opError(k, "needs exactly one declared result type");
  switch (opCategory(k)) {
  case OpCategory::Unary:
  case OpCategory::Binary:
  case OpCategory::Compare:
  case OpCategory::Logical:
    return inferElementwise(k, ops);
  case OpCategory::Reduce:
    return inferReduce(k, ops, attrs);
  default:
    break;
  }
  switch (k) {
  case OpKind::Select:
    return inferSelect(ops);
  case OpKind::Broadcast:
    return inferBroadcast(ops, attrs, declared[0]);
  case OpKind::Reshape:
    return inferReshape(ops, declared[0]);
  case OpKind::Transpose:
    return inferTranspose(ops, attrs);
  case OpKind::Slice:
    return inferSlice(ops, attrs);
  case OpKind::Concat:
    return inferConcat(ops, attrs);
  case OpKind::Pad:
    return inferPad(ops, attrs);
  case OpKind::Gather:
    return inferGather(ops, attrs);
  case OpKind::ScatterAdd:
    return inferScatterAdd(ops, attrs);
  case OpKind::Argmax:
    return inferArgmax(ops, attrs);
  case OpKind::Matmul:
    return inferMatmul(ops);
  case OpKind::Attention:
    return inferAttention(ops);
  case OpKind::AttentionGrad:
    return inferAttentionGrad(ops, attrs);
  case OpKind::AdditiveAttention:
    return inferAdditiveAttention(ops);
  case OpKind::Constant:
    return inferConstant(ops, attrs, declared[0]);
  case OpKind::Iota:
    return inferIota(ops, attrs, declared[0]);
  case OpKind::Cast:
    return inferCast(ops, declared[0]);
  case OpKind::RandomUniform:
  case OpKind::RandomNormal:
    return inferRandom(k, ops, declared[0]);
  case OpKind::AllReduce:
    return inferAllReduce(ops, attrs);
  case OpKind::Scan:
    return inferScan(ops, attrs, region);
  case OpKind::While:
    return inferWhile(ops, attrs, region);
  case OpKind::Fusion:
    return inferFusion(ops, region);
  case OpKind::LstmSequence:
    return inferLstmSequence(ops, attrs);
  case OpKind::LstmSequenceGrad:
    return inferLstmSequenceGrad(ops, attrs);
  case OpKind::LstmAttentionStep:
    return inferLstmAttentionStep(ops, attrs);
  case OpKind::GruSequence:
  case OpKind::RnnSequence:
    return detail::inferGatedSequence(k, ops, attrs);
  case OpKind::GruSequenceGrad:
  case OpKind::RnnSequenceGrad:
    return detail::inferGatedSequenceGrad(k, ops, attrs);
  case OpKind::Yield:
  case OpKind::Return:
    return Types{};
  default:
    WEFT_UNREACHABLE("op kind without a typing rule");
  }
}

} // namespace weft::ir
