//===- eval/Math.cpp - reductions, matmul and producers -------------------===//
//
// Float reductions and matmul accumulate in double and round once at the end;
// integer ones accumulate in int64 with wrap-around.
//
//===----------------------------------------------------------------------===//
#include "eval/Kernels.h"
#include "runtime/Random.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace weft::eval::detail {
namespace {

using ir::OpKind;

int64_t wrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
int64_t wrapMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

/// True when `a` should replace the running maximum `best` (NaN wins, the first one kept).
bool beats(double a, double best) { return !std::isnan(best) && (std::isnan(a) || a > best); }

Expected<Array> reduce(const ir::Op &op, const Array &x) {
  const std::vector<int64_t> &axes = op.axes();
  std::vector<bool> reduced(x.rank(), false);
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = axes[i];
    if (a < 0 || a >= x.rank() || (i && a <= axes[i - 1]))
      return opError(op, fmt::format("axes must be increasing axes of {}", x.typeStr()));
    reduced[a] = true;
  }
  Shape outShape, xStrides = stridesOf(x.shape());
  int64_t count = 1;
  for (int64_t a = 0; a < x.rank(); ++a) {
    if (reduced[a])
      count *= x.shape()[a];
    else
      outShape.push_back(x.shape()[a]);
  }
  auto out = makeArray(x.dtype(), outShape);
  WEFT_TRY(out.status());
  OpKind k = op.kind();
  bool isMax = k == OpKind::ReduceMax, isMin = k == OpKind::ReduceMin;
  if ((isMax || isMin) && count == 0 && out->numel() > 0)
    return opError(op, fmt::format("cannot reduce {} over an empty axis", x.typeStr()));
  bool fl = isFloat(x.dtype());
  std::vector<double> accF(out->numel(), 0.0);
  std::vector<int64_t> accI(out->numel(), 0);
  std::vector<bool> seen(out->numel(), false);
  Shape outStrides = stridesOf(outShape);
  for (int64_t i = 0; i < x.numel(); ++i) {
    int64_t rest = i, o = 0;
    for (int64_t a = 0, oa = 0; a < x.rank(); ++a) {
      int64_t ia = rest / xStrides[a];
      rest %= xStrides[a];
      if (!reduced[a])
        o += ia * outStrides[oa++];
    }
    if (fl) {
      double v = x.getDouble(i);
      if (isMax)
        accF[o] = !seen[o] || beats(v, accF[o]) ? v : accF[o];
      else if (isMin)
        accF[o] = !seen[o] || beats(-v, -accF[o]) ? v : accF[o];
      else
        accF[o] += v;
    } else {
      int64_t v = x.getInt(i);
      if (isMax)
        accI[o] = !seen[o] || v > accI[o] ? v : accI[o];
      else if (isMin)
        accI[o] = !seen[o] || v < accI[o] ? v : accI[o];
      else
        accI[o] = wrapAdd(accI[o], v);
    }
    seen[o] = true;
  }
  for (int64_t o = 0; o < out->numel(); ++o) {
    if (!fl)
      out->setInt(o, accI[o]);
    else if (k == OpKind::ReduceMean)
      out->setDouble(o, accF[o] / static_cast<double>(count));
    else
      out->setDouble(o, accF[o]);
  }
  return out;
}

Expected<Array> argmax(const ir::Op &op, const Array &x) {
  int64_t axis = op.axis();
  if (axis < 0 || axis >= x.rank())
    return opError(op, fmt::format("axis {} is out of range for {}", axis, x.typeStr()));
  Shape outShape = x.shape();
  int64_t n = outShape[axis];
  outShape.erase(outShape.begin() + axis);
  auto out = makeArray(DType::I64, outShape);
  WEFT_TRY(out.status());
  if (n == 0 && out->numel() > 0)
    return opError(op, fmt::format("argmax of {} over an empty axis", x.typeStr()));
  int64_t inner = stridesOf(x.shape())[axis];
  bool fl = isFloat(x.dtype());
  for (int64_t o = 0; o < out->numel(); ++o) {
    int64_t base = (o / inner) * n * inner + o % inner, best = 0;
    for (int64_t k = 1; k < n; ++k) {
      int64_t i = base + k * inner, b = base + best * inner;
      bool better = fl ? beats(x.getDouble(i), x.getDouble(b)) : x.getInt(i) > x.getInt(b);
      if (better)
        best = k;
    }
    out->setInt(o, best);
  }
  return out;
}

Expected<Array> matmul(const ir::Op &op, const Array &a, const Array &b) {
  int64_t r = a.rank();
  bool ok =
      r >= 2 && b.rank() == r && a.dtype() == b.dtype() && a.shape()[r - 1] == b.shape()[r - 2];
  for (int64_t i = 0; ok && i + 2 < r; ++i)
    ok = a.shape()[i] == b.shape()[i];
  if (!ok)
    return opError(op, fmt::format("cannot multiply {} by {}", a.typeStr(), b.typeStr()));
  int64_t M = a.shape()[r - 2], K = a.shape()[r - 1], N = b.shape()[r - 1];
  Shape outShape = a.shape();
  outShape[r - 1] = N;
  auto out = makeArray(a.dtype(), outShape);
  WEFT_TRY(out.status());
  int64_t batches = M * N != 0 ? out->numel() / (M * N) : 0;
  bool fl = isFloat(a.dtype());
  for (int64_t bt = 0; bt < batches; ++bt)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double accF = 0;
        int64_t accI = 0;
        for (int64_t k = 0; k < K; ++k) {
          int64_t ia = (bt * M + m) * K + k, ib = (bt * K + k) * N + n;
          if (fl)
            accF += a.getDouble(ia) * b.getDouble(ib);
          else
            accI = wrapAdd(accI, wrapMul(a.getInt(ia), b.getInt(ib)));
        }
        int64_t o = (bt * M + m) * N + n;
        if (fl)
          out->setDouble(o, accF);
        else
          out->setInt(o, accI);
      }
  return out;
}

Expected<Array> constant(const ir::Op &op, const ir::DimBindings &env) {
  auto shape = declaredShape(op, env);
  WEFT_TRY(shape.status());
  auto out = makeArray(op.result()->type().dtype(), *shape);
  WEFT_TRY(out.status());
  const auto *fs = std::get_if<std::vector<double>>(&op.value());
  const auto *is = std::get_if<std::vector<int64_t>>(&op.value());
  bool fl = isFloat(out->dtype());
  if ((fl && !fs) || (!fl && !is))
    return opError(op, fmt::format("needs a list of {} in 'value'", fl ? "floats" : "integers"));
  int64_t n = static_cast<int64_t>(fl ? fs->size() : is->size());
  if (n != 1 && n != out->numel())
    return opError(op, fmt::format("value has {} entries but {} has {} elements", n, out->typeStr(),
                                   out->numel()));
  for (int64_t i = 0; i < out->numel(); ++i) {
    int64_t j = n == 1 ? 0 : i;
    if (fl)
      out->setDouble(i, (*fs)[j]);
    else
      out->setInt(i, (*is)[j]);
  }
  return out;
}

Expected<Array> iota(const ir::Op &op, const ir::DimBindings &env) {
  auto shape = declaredShape(op, env);
  WEFT_TRY(shape.status());
  int64_t axis = op.axis();
  if (axis < 0 || axis >= static_cast<int64_t>(shape->size()))
    return opError(op, fmt::format("axis {} is out of range for {}", axis, formatShape(*shape)));
  auto out = makeArray(op.result()->type().dtype(), *shape);
  WEFT_TRY(out.status());
  int64_t inner = stridesOf(*shape)[axis], n = (*shape)[axis];
  for (int64_t i = 0; i < out->numel(); ++i)
    out->setInt(i, (i / inner) % n);
  return out;
}

Expected<Array> random(const ir::Op &op, const Array &seedArr, const ir::DimBindings &env) {
  auto shape = declaredShape(op, env);
  WEFT_TRY(shape.status());
  auto out = makeArray(op.result()->type().dtype(), *shape);
  WEFT_TRY(out.status());
  if (!isFloat(out->dtype()) || seedArr.numel() != 1 || seedArr.dtype() != DType::I64)
    return opError(op, "needs an i64 scalar seed and a float result");
  int64_t seed = seedArr.getInt(0);
  for (int64_t i = 0; i < out->numel(); ++i) {
    auto u = static_cast<uint64_t>(i);
    if (op.kind() == OpKind::RandomNormal)
      out->setDouble(i, random::normalF64(seed, u));
    else if (out->dtype() == DType::F32)
      out->data<float>()[i] = random::uniformF32(seed, u);
    else
      out->data<double>()[i] = random::uniformF64(seed, u);
  }
  return out;
}

} // namespace

Expected<Array> evalMathOp(const ir::Op &op, Operands xs, const ir::DimBindings &dims) {
  if (ir::hasTrait(op.kind(), ir::trait::Reduction))
    return reduce(op, *xs[0]);
  switch (op.kind()) {
  case OpKind::Argmax:
    return argmax(op, *xs[0]);
  case OpKind::Matmul:
    return matmul(op, *xs[0], *xs[1]);
  case OpKind::Constant:
    return constant(op, dims);
  case OpKind::Iota:
    return iota(op, dims);
  case OpKind::RandomUniform:
  case OpKind::RandomNormal:
    return random(op, *xs[0], dims);
  case OpKind::AllReduce:
    // The interpreter is one process, so every group is a group of one: the sum and the mean
    // over it are the operand itself.
    return *xs[0];
  default:
    return opError(op, "has no reference kernel");
  }
}

} // namespace weft::eval::detail
