//===- eval/Elementwise.cpp - one output per input element ----------------===//
//
// Floats are computed in double and stored with Array::setDouble, which rounds
// to f32 for f32 results. Integers are computed in int64 with wrap-around
// (through uint64, so overflow is defined) and stored with Array::setInt, which
// wraps to i32 for i32 results.
//
//===----------------------------------------------------------------------===//
#include "eval/Kernels.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace weft::eval::detail {
namespace {

using ir::OpKind;

int64_t wrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t wrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t wrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

double nanMax(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<double>::quiet_NaN();
  return a > b ? a : b;
}
double nanMin(double a, double b) {
  if (std::isnan(a) || std::isnan(b))
    return std::numeric_limits<double>::quiet_NaN();
  return a < b ? a : b;
}

double unaryFloat(OpKind k, double x) {
  switch (k) {
  case OpKind::Neg:
    return -x;
  case OpKind::Abs:
    return std::fabs(x);
  case OpKind::Sign:
    return x > 0 ? 1.0 : x < 0 ? -1.0 : x; // zeros and NaN map to themselves
  case OpKind::Relu:
    return std::isnan(x) ? x : x > 0 ? x : 0.0;
  case OpKind::Exp:
    return std::exp(x);
  case OpKind::Log:
    return std::log(x);
  case OpKind::Tanh:
    return std::tanh(x);
  case OpKind::Sigmoid:
    return 1.0 / (1.0 + std::exp(-x));
  case OpKind::Sqrt:
    return std::sqrt(x);
  case OpKind::Rsqrt:
    return 1.0 / std::sqrt(x);
  case OpKind::Sin:
    return std::sin(x);
  case OpKind::Cos:
    return std::cos(x);
  case OpKind::Erf:
    return std::erf(x);
  case OpKind::Floor:
    return std::floor(x);
  case OpKind::Ceil:
    return std::ceil(x);
  case OpKind::StopGradient:
    return x;
  default:
    WEFT_UNREACHABLE("not a float unary op");
  }
}

int64_t unaryInt(OpKind k, int64_t x) {
  switch (k) {
  case OpKind::Neg:
    return wrapSub(0, x);
  case OpKind::Abs:
    return x < 0 ? wrapSub(0, x) : x;
  case OpKind::Sign:
    return x > 0 ? 1 : x < 0 ? -1 : 0;
  case OpKind::Relu:
    return x > 0 ? x : 0;
  case OpKind::Not:
    return x == 0 ? 1 : 0;
  case OpKind::StopGradient:
    return x;
  default:
    WEFT_UNREACHABLE("not an integer unary op");
  }
}

double binaryFloat(OpKind k, double a, double b) {
  switch (k) {
  case OpKind::Add:
    return a + b;
  case OpKind::Sub:
    return a - b;
  case OpKind::Mul:
    return a * b;
  case OpKind::Div:
    return a / b;
  case OpKind::Max:
    return nanMax(a, b);
  case OpKind::Min:
    return nanMin(a, b);
  case OpKind::Pow:
    return std::pow(a, b);
  default:
    WEFT_UNREACHABLE("not a float binary op");
  }
}

/// Integer binary ops; division by zero is checked by the caller.
int64_t binaryInt(OpKind k, int64_t a, int64_t b) {
  switch (k) {
  case OpKind::Add:
    return wrapAdd(a, b);
  case OpKind::Sub:
    return wrapSub(a, b);
  case OpKind::Mul:
    return wrapMul(a, b);
  case OpKind::Div:
    if (b == -1) // INT64_MIN / -1 overflows; negation wraps instead
      return wrapSub(0, a);
    return a / b; // C++ truncates toward zero
  case OpKind::Max:
    return a > b ? a : b;
  case OpKind::Min:
    return a < b ? a : b;
  case OpKind::And:
    return (a != 0) && (b != 0);
  case OpKind::Or:
    return (a != 0) || (b != 0);
  case OpKind::Xor:
    return (a != 0) != (b != 0);
  default:
    WEFT_UNREACHABLE("not an integer binary op");
  }
}

template <typename T> bool compare(OpKind k, T a, T b) {
  switch (k) {
  case OpKind::Eq:
    return a == b;
  case OpKind::Ne:
    return a != b;
  case OpKind::Lt:
    return a < b;
  case OpKind::Le:
    return a <= b;
  case OpKind::Gt:
    return a > b;
  case OpKind::Ge:
    return a >= b;
  default:
    WEFT_UNREACHABLE("not a comparison");
  }
}

/// Float to integer: truncate toward zero, saturate to the target range, NaN -> 0.
int64_t floatToInt(double v, DType to) {
  if (std::isnan(v))
    return 0;
  double hi = to == DType::I32 ? 0x1p31 : 0x1p63; // first value above the range
  int64_t maxV =
      to == DType::I32 ? std::numeric_limits<int32_t>::max() : std::numeric_limits<int64_t>::max();
  int64_t minV =
      to == DType::I32 ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int64_t>::min();
  if (v >= hi)
    return maxV;
  if (v <= -hi)
    return minV;
  return static_cast<int64_t>(std::trunc(v));
}

Expected<Array> cast(const ir::Op &op, const Array &x) {
  DType to = op.result()->type().dtype();
  auto out = makeArray(to, x.shape());
  WEFT_TRY(out.status());
  bool fromFloat = isFloat(x.dtype());
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (to == DType::I1)
      out->setInt(i, fromFloat ? x.getDouble(i) != 0.0 : x.getInt(i) != 0);
    else if (isFloat(to))
      out->setDouble(i, x.getDouble(i));
    else
      out->setInt(i, fromFloat ? floatToInt(x.getDouble(i), to) : x.getInt(i));
  }
  return out;
}

Expected<Array> select(const ir::Op &op, Operands xs) {
  const Array &c = *xs[0], &a = *xs[1], &b = *xs[2];
  if (c.shape() != a.shape() || b.shape() != a.shape() || b.dtype() != a.dtype())
    return opError(
        op, fmt::format("operands differ: {}, {}, {}", c.typeStr(), a.typeStr(), b.typeStr()));
  Array out = a;
  size_t width = static_cast<size_t>(dtypeBytes(a.dtype()));
  auto *dst = static_cast<std::byte *>(out.data());
  const auto *src = static_cast<const std::byte *>(b.data());
  for (int64_t i = 0; i < c.numel(); ++i)
    if (!c.data<bool>()[i])
      std::memcpy(dst + i * width, src + i * width, width);
  return out;
}

} // namespace

Expected<Array> evalElementwise(const ir::Op &op, Operands xs, const ir::DimBindings &) {
  OpKind k = op.kind();
  if (k == OpKind::Select)
    return select(op, xs);
  if (k == OpKind::Cast)
    return cast(op, *xs[0]);
  const Array &a = *xs[0];
  bool unary = ir::opCategory(k) == ir::OpCategory::Unary;
  if (!unary && (xs[1]->shape() != a.shape() || xs[1]->dtype() != a.dtype()))
    return opError(op, fmt::format("operands differ: {} vs {}", a.typeStr(), xs[1]->typeStr()));
  DType outType = ir::opCategory(k) == ir::OpCategory::Compare ? DType::I1 : a.dtype();
  auto outOr = makeArray(outType, a.shape());
  WEFT_TRY(outOr.status());
  Array &out = *outOr;
  bool fl = isFloat(a.dtype());
  for (int64_t i = 0; i < a.numel(); ++i) {
    if (unary) {
      if (fl)
        out.setDouble(i, unaryFloat(k, a.getDouble(i)));
      else
        out.setInt(i, unaryInt(k, a.getInt(i)));
      continue;
    }
    const Array &b = *xs[1];
    if (ir::opCategory(k) == ir::OpCategory::Compare) {
      out.setInt(i, fl ? compare(k, a.getDouble(i), b.getDouble(i))
                       : compare(k, a.getInt(i), b.getInt(i)));
      continue;
    }
    if (fl) {
      out.setDouble(i, binaryFloat(k, a.getDouble(i), b.getDouble(i)));
      continue;
    }
    if (k == OpKind::Div && b.getInt(i) == 0)
      return opError(op,
                     fmt::format("integer division by zero at element {} of {}", i, a.typeStr()));
    out.setInt(i, binaryInt(k, a.getInt(i), b.getInt(i)));
  }
  return outOr;
}

} // namespace weft::eval::detail
