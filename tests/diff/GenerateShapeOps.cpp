//===- tests/diff/GenerateShapeOps.cpp - shape ops, reductions, matmul -===//
//
// The generator (GeneratorImpl.h): shape ops, reductions, matmul.
//
//===----------------------------------------------------------------------===//
#include "tests/diff/GeneratorImpl.h"

#include <numeric>

namespace weft::difftest::detail {

Value *Generator::passThrough(OpKind k, Value *x, Attrs attrs, std::vector<Type> declared) {
  return make(k, {x}, std::move(attrs), std::move(declared), info(x));
}

Value *Generator::genBroadcast(const Type &t, bool exact, int d) {
  std::vector<Dim> xd;
  std::vector<int64_t> kept;
  for (int64_t a = 0; a < t.rank(); ++a) {
    if (chance(0.4))
      continue;
    kept.push_back(a);
    xd.push_back(chance(0.3) ? Dim(1) : t.dim(a));
  }
  Value *x = gen(Type(xd, t.dtype()), exact, d);
  return passThrough(OpKind::Broadcast, x, {{"dims", kept}}, {t});
}

Value *Generator::genReshape(const Type &t, bool exact, int d) {
  std::vector<Dim> xd = t.dims();
  int64_t a = uniform(0, t.rank() - 1);
  const Dim &da = t.dim(a);
  if (a + 1 < t.rank() && chance(0.4)) { // merge two axes of t into one of x
    xd[a] = da * t.dim(a + 1);
    xd.erase(xd.begin() + a + 1);
  } else { // split one axis of t into two of x
    Dim lo = 1, hi = da;
    if (da.isStatic()) {
      std::vector<int64_t> divisors;
      for (int64_t q = 1; q <= da.size(); ++q)
        if (da.size() % q == 0)
          divisors.push_back(q);
      int64_t q = divisors.empty() ? 1 : pick(divisors);
      lo = q;
      hi = da.size() == 0 ? 0 : da.size() / q;
    }
    if (chance(0.5))
      std::swap(lo, hi);
    xd[a] = lo;
    xd.insert(xd.begin() + a + 1, hi);
  }
  Value *x = gen(Type(xd, t.dtype()), exact, d);
  return passThrough(OpKind::Reshape, x, {}, {t});
}

Value *Generator::genTranspose(const Type &t, bool exact, int d) {
  std::vector<int64_t> perm(static_cast<size_t>(t.rank()));
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), rng_);
  std::vector<Dim> xd(perm.size());
  for (size_t i = 0; i < perm.size(); ++i)
    xd[static_cast<size_t>(perm[i])] = t.dim(i);
  Value *x = gen(Type(xd, t.dtype()), exact, d);
  return passThrough(OpKind::Transpose, x, {{"perm", perm}});
}

Value *Generator::genSlice(const Type &t, bool exact, int d) {
  int64_t a = pickStaticAxis(t, 1);
  int64_t n = t.dim(a).size(), extra = uniform(1, 3), start = uniform(0, extra);
  std::vector<Dim> xd = t.dims();
  xd[a] = n + extra;
  Value *x = gen(Type(xd, t.dtype()), exact, d);
  return passThrough(OpKind::Slice, x, {{"axis", a}, {"start", start}, {"limit", start + n}});
}

Value *Generator::genConcat(const Type &t, bool exact, int d) {
  int64_t a = pickStaticAxis(t, 2);
  int64_t n = t.dim(a).size(), first = uniform(1, n - 1);
  std::vector<Value *> parts;
  Info inf{0, true};
  for (int64_t part : {first, n - first}) {
    std::vector<Dim> xd = t.dims();
    xd[a] = part;
    Value *x = gen(Type(xd, t.dtype()), exact, d);
    inf = {std::max(inf.mag, info(x).mag), inf.exact && info(x).exact};
    parts.push_back(x);
  }
  return make(OpKind::Concat, parts, {{"axis", a}}, {}, inf);
}

Value *Generator::genPad(const Type &t, bool exact, int d) {
  int64_t a = pickStaticAxis(t, 2);
  int64_t n = t.dim(a).size(), low = uniform(0, n - 1), high = uniform(0, n - 1 - low);
  std::vector<Dim> xd = t.dims();
  xd[a] = n - low - high;
  std::vector<int64_t> lows(static_cast<size_t>(t.rank()), 0), highs = lows;
  lows[a] = low;
  highs[a] = high;
  double value = t.dtype() == DType::I1 ? 1.0 : pick<double>({0.0, 1.5, -2.0, 3.0});
  if (!isFloat(t.dtype()))
    value = std::trunc(value);
  Value *x = gen(Type(xd, t.dtype()), exact, d);
  return make(OpKind::Pad, {x}, {{"low", lows}, {"high", highs}, {"value", value}}, {},
              {std::max(info(x).mag, std::fabs(value)), info(x).exact});
}

/// Indices of type `it` in [0, n): clamped, except that faulting indices are allowed at
/// function level and in loops (every pass must keep the fault, or remove it with the op).
Value *Generator::indices(const Type &it, int64_t n, int d) {
  Value *i = bounded(gen(it, true, d));
  if (chance(0.05))
    return i;
  Value *lo = make(OpKind::Max, {i, splat(it, 0)}, {}, {}, {info(i).mag, true});
  return make(OpKind::Min, {lo, splat(it, static_cast<double>(n - 1))}, {}, {},
              {static_cast<double>(n), true});
}

Type Generator::indexType(std::vector<Dim> dims) {
  return Type(std::move(dims), chance(0.5) ? DType::I32 : DType::I64);
}

Value *Generator::genGather(const Type &t, bool exact, int d) {
  int64_t a = uniform(0, t.rank());
  int64_t r = uniform(0, std::min<int64_t>(2, t.rank() - a));
  int64_t n = uniform(1, 5);
  std::vector<Dim> table(t.dims().begin(), t.dims().begin() + a);
  table.push_back(n);
  table.insert(table.end(), t.dims().begin() + a + r, t.dims().end());
  Value *tab = gen(Type(table, t.dtype()), exact, d);
  Value *idx = indices(indexType({t.dims().begin() + a, t.dims().begin() + a + r}), n, d);
  return make(OpKind::Gather, {tab, idx}, {{"axis", a}}, {}, info(tab));
}

Value *Generator::genScatterAdd(const Type &t, bool exact, int d) {
  int64_t a = pickStaticAxis(t, 1);
  std::vector<Dim> idxDims;
  for (int64_t i = 0, r = uniform(0, 2); i < r; ++i)
    idxDims.push_back(chance(0.5) ? Dim::symbol("B") : Dim(uniform(1, 4)));
  std::vector<Dim> upd(t.dims().begin(), t.dims().begin() + a);
  upd.insert(upd.end(), idxDims.begin(), idxDims.end());
  upd.insert(upd.end(), t.dims().begin() + a + 1, t.dims().end());
  Value *base = gen(t, exact, d);
  Type it = indexType(idxDims);
  Value *idx = indices(it, t.dim(a).size(), d);
  Value *u = bounded(gen(Type(upd, t.dtype()), exact, d), 100);
  double mag = info(base).mag + info(u).mag * static_cast<double>(numel(it));
  bool ex = info(base).exact && info(u).exact && !isFloat(t.dtype());
  return bounded(make(OpKind::ScatterAdd, {base, idx, u}, {{"axis", a}}, {}, {mag, ex}));
}

std::pair<Type, std::vector<int64_t>> Generator::withInsertedAxes(const Type &t, int64_t count) {
  std::vector<Dim> dims = t.dims();
  for (int64_t i = 0; i < count; ++i) {
    int64_t pos = uniform(0, static_cast<int64_t>(dims.size()));
    dims.insert(dims.begin() + pos, Dim(-1)); // placeholder, replaced below
  }
  std::vector<int64_t> axes;
  for (size_t a = 0; a < dims.size(); ++a)
    if (dims[a].isStatic() && dims[a].size() == -1) {
      axes.push_back(static_cast<int64_t>(a));
      dims[a] = randomDim();
    }
  return {Type(dims, t.dtype()), axes};
}

Value *Generator::genReduce(const Type &t, bool exact, int d) {
  std::vector<OpKind> kinds = {OpKind::ReduceMax, OpKind::ReduceMin};
  if (!(isFloat(t.dtype()) && exact))
    kinds.push_back(OpKind::ReduceSum);
  if (isFloat(t.dtype()) && !exact)
    kinds.push_back(OpKind::ReduceMean);
  OpKind k = pick(kinds);
  auto [xt, axes] = withInsertedAxes(t, uniform(1, 2));
  Value *x = bounded(gen(xt, exact, d), 1000);
  double n = 1;
  for (int64_t a : axes)
    n *= static_cast<double>(std::max<int64_t>(size(xt.dim(a)), 1));
  Info inf{k == OpKind::ReduceSum ? info(x).mag * n : info(x).mag,
           info(x).exact &&
               (k == OpKind::ReduceMax || k == OpKind::ReduceMin || !isFloat(t.dtype()))};
  return bounded(make(k, {x}, {{"axes", axes}}, {}, inf));
}

Value *Generator::genArgmax(const Type &t, int d) {
  auto [xt, axes] = withInsertedAxes(t, 1);
  DType dt = randomDType();
  while (!isNumeric(dt))
    dt = randomDType();
  Value *x = gen(xt.withDType(dt), true, d);
  double n = static_cast<double>(size(xt.dim(axes[0])));
  return make(OpKind::Argmax, {x}, {{"axis", axes[0]}}, {}, {n, true});
}

Value *Generator::genMatmul(const Type &t, int d) {
  Dim k = pick<Dim>(
      {Dim(1), Dim(2), Dim(3), Dim(5), Dim(17), Dim(33), Dim::symbol("B"), Dim::symbol("T")});
  std::vector<Dim> a(t.dims().begin(), t.dims().end() - 1), b = a;
  a.push_back(k);
  b.back() = k;
  b.push_back(t.dims().back());
  double bound = std::sqrt(kMaxMag / static_cast<double>(std::max<int64_t>(size(k), 1)));
  bool isF = isFloat(t.dtype());
  Value *x = bounded(gen(Type(a, t.dtype()), !isF, d), bound);
  Value *y = bounded(gen(Type(b, t.dtype()), !isF, d), bound);
  double mag = info(x).mag * info(y).mag * static_cast<double>(std::max<int64_t>(size(k), 1));
  return bounded(make(OpKind::Matmul, {x, y}, {}, {}, {mag, !isF}));
}

/// attention with result type t ([..., Tq, dv]), or attention_grad whose result `wrt` (dq, dk
/// or dv) is t. q and k are kept within [-1, 1], so that the scores are small enough for f32 to
/// hold the probabilities to its precision whatever order it sums in.
Value *Generator::genAttention(const Type &t, int d) {
  std::vector<Dim> lead(t.dims().begin(), t.dims().end() - 2);
  auto type = [&](const Dim &rows, const Dim &cols) {
    std::vector<Dim> dims = lead;
    dims.push_back(rows);
    dims.push_back(cols);
    return Type(dims, t.dtype());
  };
  auto depth = [&] { return pick<Dim>({Dim(1), Dim(2), Dim(5), Dim(8), Dim::symbol("T")}); };
  bool grad = chance(0.4);
  int64_t wrt = grad ? uniform(0, 2) : -1;
  // The result's rows and columns are [Tq, dv], or those of q, k or v.
  Dim rows = t.dim(t.rank() - 2), cols = t.dim(t.rank() - 1);
  Dim Tq = wrt == 1 || wrt == 2 ? depth() : rows;
  Dim Tk = wrt == 1 || wrt == 2 ? rows : depth();
  Dim D = wrt == 0 || wrt == 1 ? cols : depth();
  Dim Dv = wrt == 2 || wrt == -1 ? cols : depth();
  Value *q = bounded(gen(type(Tq, D), false, d), 1);
  Value *k = bounded(gen(type(Tk, D), false, d), 1);
  Value *v = bounded(gen(type(Tk, Dv), false, d), 1);
  std::vector<Value *> xs = {q, k, v};
  if (grad) {
    xs.push_back(bounded(gen(type(Tq, Dv), false, d), 1)); // o
    xs.push_back(bounded(gen(type(Tq, Dv), false, d), 1)); // do
  }
  if (chance(0.5)) { // a mask, broadcast along some axes
    std::vector<Dim> dims = type(Tq, Tk).dims();
    for (Dim &dim : dims)
      if (chance(0.4))
        dim = Dim(1);
    xs.push_back(bounded(gen(Type(dims, t.dtype()), false, d), 1));
  }
  double scale = pick<double>({1.0, 0.125, 0.5773502691896258});
  Attrs attrs = {{"scale", scale}};
  if (chance(0.3))
    attrs["causal"] = int64_t{1};
  double n = static_cast<double>(std::max<int64_t>({size(Tq), size(Tk), 1}));
  double dn = static_cast<double>(std::max<int64_t>(size(D), 1));
  double mag = grad ? 4 * n * std::max(1.0, scale * dn) : 1;
  if (!grad)
    return bounded(make(OpKind::Attention, xs, attrs, {}, {mag, false}));
  if (chance(0.3)) // some gradients wanted, the one used among them
    attrs["wrt"] = (int64_t{1} << wrt) | uniform(0, 7);
  return bounded(makeNth(OpKind::AttentionGrad, static_cast<size_t>(wrt), xs, attrs, {mag, false}));
}

} // namespace weft::difftest::detail
