//===- tests/diff/ProgramGenerator.cpp - picking ops, elementwise ops -===//
//
// The generator (GeneratorImpl.h): picking ops, elementwise ops.
//
//===----------------------------------------------------------------------===//
#include "tests/diff/GeneratorImpl.h"
#include "tests/unit/UnaryOpTests.h"

#include <numeric>

namespace weft::difftest::detail {

bool Generator::hasStaticAxis(const Type &t, int64_t minSize) const {
  for (const Dim &d : t.dims())
    if (d.isStatic() && d.size() >= minSize)
      return true;
  return false;
}

int64_t Generator::pickStaticAxis(const Type &t, int64_t minSize) {
  std::vector<int64_t> axes;
  for (int64_t a = 0; a < t.rank(); ++a)
    if (t.dim(a).isStatic() && t.dim(a).size() >= minSize)
      axes.push_back(a);
  return pick(axes);
}

bool Generator::applicable(Choice c, const Type &t, bool exact) const {
  DType d = t.dtype();
  bool f = isFloat(d), num = isNumeric(d);
  switch (c) {
  case Choice::Unary:
  case Choice::Binary:
  case Choice::Select:
  case Choice::Cast:
  case Choice::Gather:
    return true;
  case Choice::Compare:
    return d == DType::I1;
  case Choice::Broadcast:
  case Choice::Reshape:
    return t.rank() >= 1;
  case Choice::Transpose:
    return t.rank() >= 2;
  case Choice::Slice:
    return hasStaticAxis(t, 1);
  case Choice::Concat:
  case Choice::Pad:
    return hasStaticAxis(t, 2);
  case Choice::ScatterAdd:
    return num && hasStaticAxis(t, 1) && !(f && exact);
  case Choice::Reduce:
    return num;
  case Choice::Argmax:
    return d == DType::I64;
  case Choice::Matmul:
    return num && t.rank() >= 2 && !(f && exact);
  case Choice::Attention:
    return f && t.rank() >= 2 && !exact;
  case Choice::Scan:
    return loopDepth_ < kMaxLoopDepth;
  case Choice::While:
    return loopDepth_ < kMaxLoopDepth && (t.rank() >= 1 || d == DType::I64);
  case Choice::Random:
    return f && !exact;
  }
  return false;
}

Value *Generator::gen(const Type &t, bool exact, int depth) {
  double leafChance = 0.1 + 0.18 * depth;
  if (depth >= kMaxDepth || opsMade_ >= kMaxOps || chance(leafChance))
    return leaf(t, exact);
  static const std::vector<std::pair<Choice, double>> weights = {
      {Choice::Unary, 3},     {Choice::Binary, 4},  {Choice::Compare, 4},   {Choice::Select, 1},
      {Choice::Broadcast, 2}, {Choice::Reshape, 1}, {Choice::Transpose, 1}, {Choice::Slice, 1},
      {Choice::Concat, 1},    {Choice::Pad, 1},     {Choice::Gather, 1},    {Choice::ScatterAdd, 1},
      {Choice::Reduce, 2},    {Choice::Argmax, 2},  {Choice::Matmul, 2},    {Choice::Cast, 2},
      {Choice::Attention, 1}, {Choice::Scan, 1.2},  {Choice::While, 0.8},   {Choice::Random, 0.3}};
  std::vector<Choice> choices;
  std::vector<double> w;
  for (auto [c, weight] : weights)
    if (applicable(c, t, exact)) {
      choices.push_back(c);
      w.push_back(weight);
    }
  Choice c = choices[std::discrete_distribution<size_t>(w.begin(), w.end())(rng_)];
  int d = depth + 1;
  switch (c) {
  case Choice::Unary:
    return genUnary(t, exact, d);
  case Choice::Binary:
    return genBinary(t, exact, d);
  case Choice::Compare:
    return genCompare(t, d);
  case Choice::Select:
    return genSelect(t, exact, d);
  case Choice::Broadcast:
    return genBroadcast(t, exact, d);
  case Choice::Reshape:
    return genReshape(t, exact, d);
  case Choice::Transpose:
    return genTranspose(t, exact, d);
  case Choice::Slice:
    return genSlice(t, exact, d);
  case Choice::Concat:
    return genConcat(t, exact, d);
  case Choice::Pad:
    return genPad(t, exact, d);
  case Choice::Gather:
    return genGather(t, exact, d);
  case Choice::ScatterAdd:
    return genScatterAdd(t, exact, d);
  case Choice::Reduce:
    return genReduce(t, exact, d);
  case Choice::Argmax:
    return genArgmax(t, d);
  case Choice::Matmul:
    return genMatmul(t, d);
  case Choice::Attention:
    return genAttention(t, d);
  case Choice::Cast:
    return genCast(t, exact, d);
  case Choice::Scan:
    return genScan(t, exact, d);
  case Choice::While:
    return genWhile(t, exact, d);
  case Choice::Random:
    return genRandom(t);
  }
  WEFT_UNREACHABLE("unhandled generator choice");
}

Value *Generator::genUnary(const Type &t, bool exact, int d) {
  DType dt = t.dtype();
  if (dt == DType::I1) {
    Value *x = gen(t, exact, d);
    return unary(OpKind::Not, x, info(x));
  }
  std::vector<OpKind> kinds = {OpKind::Neg, OpKind::Abs, OpKind::Sign, OpKind::Relu,
                               OpKind::StopGradient};
  // The float-only ops of tests/unit/UnaryOpTests.h; those the JIT may round differently from
  // the interpreter only where inexact values are allowed.
  if (isFloat(dt))
    for (const test::UnaryOpTest &u : test::unaryOpTests())
      if (u.exact || !exact)
        kinds.push_back(u.kind);
  if (isFloat(dt)) // one process: the identity, which no pass may drop or merge
    kinds.push_back(OpKind::AllReduce);
  OpKind k = pick(kinds);
  switch (k) {
  case OpKind::AllReduce: {
    Value *x = gen(t, exact, d);
    Attrs attrs{{"group", int64_t{uniform(0, 2)}}};
    if (chance(0.5))
      attrs["mean"] = int64_t{1};
    return make(k, {x}, std::move(attrs), {}, info(x));
  }
  case OpKind::Sign:
  case OpKind::Floor:
  case OpKind::Ceil: { // jumps: exact operands only
    Value *x = gen(t, true, d);
    return unary(k, x, {k == OpKind::Sign ? 1.0 : info(x).mag + 1, true});
  }
  case OpKind::Sqrt: {
    Value *x = gen(t, exact, d);
    Value *ax = unary(OpKind::Abs, x, info(x));
    return unary(k, ax, {std::sqrt(info(x).mag), info(x).exact});
  }
  case OpKind::Exp: {
    Value *x = clamp(gen(t, false, d), 6);
    return unary(k, x, {std::exp(6.0), false});
  }
  case OpKind::Log:
  case OpKind::Rsqrt: {
    Value *x = bounded(gen(t, false, d));
    double shift = k == OpKind::Log ? 0.125 : 0.25;
    Value *ax = unary(OpKind::Abs, x, info(x));
    Value *pos = make(OpKind::Add, {ax, splat(t, shift)}, {}, {}, {info(x).mag + shift, false});
    double mag = k == OpKind::Log ? std::max(2.1, std::log(info(x).mag + shift)) : 2.0;
    return unary(k, pos, {mag, false});
  }
  case OpKind::Tanh:
  case OpKind::Sigmoid:
    return unary(k, gen(t, false, d), {1, false});
  case OpKind::Sin:
  case OpKind::Cos: // large arguments would test range reduction, not the compiler
    return unary(k, bounded(gen(t, false, d), 100), {1, false});
  default: {
    // Any other op of the unary test table (erf, say) runs on its tested domain.
    if (const test::UnaryOpTest *u = test::findUnaryOpTest(k))
      return unary(k, intoDomain(gen(t, false, d), u->lo, u->hi), {u->bound, false});
    Value *x = gen(t, exact, d); // neg abs relu stop_gradient
    return unary(k, x, info(x));
  }
  }
}

/// a `k` b with the safety rules: tame products, safe divisors, a tame pow.
Value *Generator::binary(OpKind k, Value *a, Value *b) {
  const Type &t = a->type();
  bool isF = isFloat(t.dtype());
  switch (k) {
  case OpKind::Mul: {
    a = bounded(a, 100);
    b = bounded(b, 100);
    break;
  }
  case OpKind::Div: {
    b = bounded(b);
    // A divisor that may be 0 only where a fault is well defined for every pass (see indices).
    bool mayFault = !isF && chance(0.05);
    if (!mayFault) {
      Value *ab = unary(OpKind::Abs, b, info(b));
      b = isF ? make(OpKind::Add, {ab, splat(t, 0.5)}, {}, {}, {info(b).mag + 0.5, info(b).exact})
              : make(OpKind::Max, {ab, splat(t, 1)}, {}, {}, {info(b).mag, info(b).exact});
    }
    break;
  }
  case OpKind::Pow: {
    Value *ab = unary(OpKind::Abs, bounded(a, 4), {4, info(a).exact});
    a = make(OpKind::Add, {ab, splat(t, 0.5)}, {}, {}, {4.5, info(a).exact});
    b = bounded(b, 3);
    break;
  }
  default:
    break;
  }
  Info ia = info(a), ib = info(b);
  double mag = ia.mag + ib.mag;
  if (k == OpKind::Mul)
    mag = ia.mag * ib.mag;
  else if (k == OpKind::Div)
    mag = isF ? 2 * ia.mag : ia.mag;
  else if (k == OpKind::Pow)
    mag = std::pow(4.5, 3);
  else if (k == OpKind::Max || k == OpKind::Min)
    mag = std::max(ia.mag, ib.mag);
  else if (t.dtype() == DType::I1)
    mag = 1;
  bool exact = ia.exact && ib.exact && k != OpKind::Pow;
  return bounded(make(k, {a, b}, {}, {}, {mag, exact}));
}

Value *Generator::genBinary(const Type &t, bool exact, int d) {
  std::vector<OpKind> kinds = {OpKind::And, OpKind::Or, OpKind::Xor};
  if (isNumeric(t.dtype())) {
    kinds = {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div, OpKind::Max, OpKind::Min};
    if (isFloat(t.dtype()) && !exact)
      kinds.push_back(OpKind::Pow);
  }
  OpKind k = pick(kinds);
  Value *a = gen(t, exact, d);
  Value *b = gen(t, exact, d);
  return binary(k, a, b);
}

Value *Generator::genCompare(const Type &t, int d) {
  DType dt = randomDType();
  std::vector<OpKind> kinds = {OpKind::Eq, OpKind::Ne};
  if (isNumeric(dt))
    kinds.insert(kinds.end(), {OpKind::Lt, OpKind::Le, OpKind::Gt, OpKind::Ge});
  Type x = t.withDType(dt);
  Value *a = gen(x, true, d);
  Value *b = gen(x, true, d);
  return make(pick(kinds), {a, b}, {}, {}, {1, true});
}

Value *Generator::genSelect(const Type &t, bool exact, int d) {
  Value *c = gen(t.withDType(DType::I1), true, d);
  Value *a = gen(t, exact, d);
  Value *b = gen(t, exact, d);
  return make(OpKind::Select, {c, a, b}, {}, {},
              {std::max(info(a).mag, info(b).mag), info(a).exact && info(b).exact});
}

Value *Generator::genCast(const Type &t, bool exact, int d) {
  DType src = randomDType();
  while (src == t.dtype())
    src = randomDType();
  bool jumps = isFloat(src) && !isFloat(t.dtype()); // float -> int or i1
  // f32 -> f64 would hold f32's rounding noise to f64's tolerance.
  bool widens = src == DType::F32 && t.dtype() == DType::F64;
  Value *x = bounded(gen(t.withDType(src), exact || jumps || widens, d));
  double mag = t.dtype() == DType::I1 ? 1 : info(x).mag + 1;
  return make(OpKind::Cast, {x}, {}, {t}, {mag, info(x).exact});
}

Value *Generator::genRandom(const Type &t) {
  Value *seed = make(OpKind::Constant, {}, {{"value", std::vector<int64_t>{uniform(0, 1000)}}},
                     {Type({}, DType::I64)}, {1000, true});
  OpKind k = chance(0.5) ? OpKind::RandomUniform : OpKind::RandomNormal;
  return bounded(make(k, {seed}, {}, {t}, {10, false}), 10);
}

} // namespace weft::difftest::detail

namespace weft::difftest {

Program generateProgram(uint64_t seed) { return detail::Generator(seed).run(); }

} // namespace weft::difftest
