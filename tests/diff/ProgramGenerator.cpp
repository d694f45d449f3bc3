//===- tests/diff/ProgramGenerator.cpp - seeded random well-typed IR ------===//
//
// gen(t, exact, depth) makes a value of type t: at depth it takes a leaf (a
// visible value of type t, a new parameter, a constant or iota), otherwise it
// picks an op that can produce t, decides its operand types and generates
// them. Each value carries Info {mag, exact}: |value| <= mag for every
// element, and exact means that only correctly rounded ops made it (+ - * /
// sqrt max min floor ...), so the interpreter and compiled code agree bit for
// bit. Jumping ops (floor, sign, compares, float->int casts, argmax) read
// exact values only; a value whose bound passes kMaxMag is clamped with
// min/max against splats (exact too).
//
// Safety by construction: integer div divides by max(|b|, 1), float div by
// |b| + 0.5, log reads |x| + 0.125, pow a base in [0.5, 4.5] to an exponent
// in [-3, 3], exp an argument in [-6, 6]; gather/scatter indices are clamped
// into range; lengths come from parameters named len<k>_<bound>, which the
// runner fills with values in [0, bound] (DiffRunner.h).
//
//===----------------------------------------------------------------------===//
#include "tests/diff/ProgramGenerator.h"

#include "ir/Builder.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <optional>
#include <random>
#include <unordered_map>

namespace weft::difftest {
namespace {

using namespace ir;

constexpr double kMaxMag = 1e4;        // larger values are clamped
constexpr double kCarryBound = 100;    // loop carries are clamped every step
constexpr int kMaxDepth = 5;           // expression depth
constexpr int kMaxLoopDepth = 2;       // scan in scan, while in scan
constexpr size_t kMaxParams = 10;      // then leaves are constants
constexpr int kMaxOps = 40;            // then only leaves: compile time grows with program size
constexpr int64_t kMaxElements = 1500; // per random type, under the bound dims

struct Info {
  double mag = 1;
  bool exact = true;
};

enum class Choice {
  Unary,
  Binary,
  Compare,
  Select,
  Broadcast,
  Reshape,
  Transpose,
  Slice,
  Concat,
  Pad,
  Gather,
  ScatterAdd,
  Reduce,
  Argmax,
  Matmul,
  Cast,
  Scan,
  While,
  Random,
};

bool isNumeric(DType d) { return d != DType::I1; }

class Generator {
public:
  Generator(uint64_t seed, const GenOptions &o) : rng_(seed), opts_(o) {}

  Program run() {
    Program p;
    p.module = std::make_unique<Module>();
    f_ = &p.module->addFunction("f");
    b_.emplace(f_->body());
    dims_["B"] = chance(0.1) ? 0 : uniform(1, 4);
    dims_["T"] = chance(0.1) ? 0 : uniform(1, 5);
    scopes_.emplace_back();
    std::vector<Value *> results;
    for (int64_t i = 0, n = uniform(1, 3); i < n; ++i)
      results.push_back(gen(randomType(3), chance(0.5), 0));
    auto ret = b_->create(OpKind::Return, results);
    check(ret.status(), "return");
    check(verify(*p.module), "verify");
    p.dims = dims_;
    return p;
  }

private:
  // ---- randomness -------------------------------------------------------------------------
  bool chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  int64_t uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  template <typename T> T pick(const std::vector<T> &v) {
    return v[static_cast<size_t>(uniform(0, static_cast<int64_t>(v.size()) - 1))];
  }

  void check(const Status &s, const char *what) {
    if (s.isOk())
      return;
    std::fprintf(stderr, "difftest generator bug (%s): %s\n%s\n", what, s.message().c_str(),
                 print(*f_).c_str());
    std::abort();
  }

  int64_t size(const Dim &d) const { return *d.evaluate(dims_); }
  int64_t numel(const Type &t) const {
    int64_t n = 1;
    for (const Dim &d : t.dims())
      n *= std::max<int64_t>(size(d), 1);
    return n;
  }
  /// A static size; zero only when known bugs are allowed (empty float constants).
  int64_t staticSize() {
    if (opts_.knownBugs && chance(0.03))
      return 0;
    return chance(0.05) ? pick<int64_t>({17, 33}) : uniform(1, 5);
  }
  Dim randomDim() {
    double r = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (r < 0.35)
      return Dim::symbol("B");
    if (r < 0.5)
      return Dim::symbol("T");
    return Dim(staticSize());
  }
  DType randomDType() {
    return pick<DType>({DType::F32, DType::F32, DType::F32, DType::F64, DType::F64, DType::I32,
                        DType::I32, DType::I1, DType::I64});
  }
  Type randomType(int maxRank, std::optional<DType> dt = std::nullopt) {
    for (;;) {
      std::vector<Dim> dims;
      for (int64_t i = 0, r = uniform(0, maxRank); i < r; ++i)
        dims.push_back(randomDim());
      Type t(dims, dt ? *dt : randomDType());
      if (numel(t) <= kMaxElements)
        return t;
    }
  }
  /// `t` with `d` inserted as axis 0.
  static Type prepend(const Dim &d, const Type &t) {
    std::vector<Dim> dims{d};
    dims.insert(dims.end(), t.dims().begin(), t.dims().end());
    return Type(dims, t.dtype());
  }
  static Type dropFirst(const Type &t) {
    return Type(std::vector<Dim>(t.dims().begin() + 1, t.dims().end()), t.dtype());
  }

  // ---- building -----------------------------------------------------------------------------
  Info &info(const Value *v) { return info_[v]; }

  Value *make(OpKind k, std::vector<Value *> ops, Attrs attrs, std::vector<Type> declared,
              Info inf) {
    auto v = b_->create1(k, std::move(ops), std::move(attrs), std::move(declared));
    check(v.status(), "create");
    ++opsMade_;
    info_[*v] = inf;
    scopes_.back().push_back(*v);
    return *v;
  }
  Value *splat(const Type &t, double v) {
    Value *c = b_->splat(t, v);
    info_[c] = {std::fabs(v), true};
    return c;
  }
  /// min(max(v, -bound), bound): exact, and |result| <= bound.
  Value *clamp(Value *v, double bound) {
    const Type &t = v->type();
    if (!isNumeric(t.dtype()))
      return v;
    if (!isFloat(t.dtype()))
      bound = std::floor(bound);
    Info in = info(v);
    Value *lo = make(OpKind::Max, {v, splat(t, -bound)}, {}, {}, {bound, in.exact});
    return make(OpKind::Min, {lo, splat(t, bound)}, {}, {}, {bound, in.exact});
  }
  Value *bounded(Value *v, double bound = kMaxMag) {
    return info(v).mag > bound ? clamp(v, bound) : v;
  }
  Value *newParam(const Type &t, std::string name = {}) {
    if (name.empty())
      name = "p" + std::to_string(f_->numParams());
    Value *p = f_->addParam(t, name);
    info_[p] = {isFloat(t.dtype()) ? 2.0 : t.dtype() == DType::I1 ? 1.0 : 20.0, true};
    return p;
  }
  /// Values of type t visible here (exact ones when `exact`), innermost scope first.
  Value *visible(const Type &t, bool exact) {
    for (size_t s = scopes_.size(); s-- > 0;) {
      std::vector<Value *> fit;
      for (Value *v : scopes_[s])
        if (v->type() == t && (!exact || info(v).exact))
          fit.push_back(v);
      if (!fit.empty() && (s == 0 || chance(0.7)))
        return pick(fit);
    }
    for (size_t p = 0; p < f_->numParams(); ++p) {
      Value *v = f_->param(p);
      if (v->type() == t && chance(0.5))
        return v;
    }
    return nullptr;
  }

  // ---- leaves -------------------------------------------------------------------------------
  Value *leaf(const Type &t, bool exact) {
    if (chance(0.5))
      if (Value *v = visible(t, exact))
        return v;
    if (f_->numParams() < kMaxParams && chance(0.6))
      return newParam(t);
    if (isNumeric(t.dtype()) && t.rank() > 0 && chance(0.2)) {
      int64_t axis = uniform(0, t.rank() - 1);
      return make(OpKind::Iota, {}, {{"axis", axis}}, {t},
                  {static_cast<double>(size(t.dim(axis))), true});
    }
    return constant(t);
  }
  Value *constant(const Type &t) {
    bool isF = isFloat(t.dtype());
    auto value = [&]() -> double {
      if (t.dtype() == DType::I1)
        return static_cast<double>(uniform(0, 1));
      return isF ? static_cast<double>(uniform(-16, 16)) / 8 : static_cast<double>(uniform(-5, 5));
    };
    Dim n = t.numElements();
    if (!n.isStatic() || n.size() == 0 || n.size() > 64 || chance(0.5))
      return splat(t, value());
    std::vector<double> fs;
    std::vector<int64_t> is;
    double mag = 0;
    for (int64_t i = 0; i < n.size(); ++i) {
      double v = value();
      mag = std::max(mag, std::fabs(v));
      fs.push_back(v);
      is.push_back(static_cast<int64_t>(v));
    }
    Attr a = isF ? Attr(fs) : Attr(is);
    return make(OpKind::Constant, {}, {{"value", a}}, {t}, {mag, true});
  }

  // ---- the choice of op ---------------------------------------------------------------------
  bool hasStaticAxis(const Type &t, int64_t minSize) const {
    for (const Dim &d : t.dims())
      if (d.isStatic() && d.size() >= minSize)
        return true;
    return false;
  }
  int64_t pickStaticAxis(const Type &t, int64_t minSize) {
    std::vector<int64_t> axes;
    for (int64_t a = 0; a < t.rank(); ++a)
      if (t.dim(a).isStatic() && t.dim(a).size() >= minSize)
        axes.push_back(a);
    return pick(axes);
  }

  bool applicable(Choice c, const Type &t, bool exact) const {
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
    case Choice::Scan:
      return loopDepth_ < kMaxLoopDepth;
    case Choice::While:
      return loopDepth_ < kMaxLoopDepth && (t.rank() >= 1 || d == DType::I64);
    case Choice::Random:
      return f && !exact;
    }
    return false;
  }

  Value *gen(const Type &t, bool exact, int depth) {
    double leafChance = 0.1 + 0.18 * depth;
    if (depth >= kMaxDepth || opsMade_ >= kMaxOps || chance(leafChance))
      return leaf(t, exact);
    static const std::vector<std::pair<Choice, double>> weights = {
        {Choice::Unary, 3},     {Choice::Binary, 4},    {Choice::Compare, 4},
        {Choice::Select, 1},    {Choice::Broadcast, 2}, {Choice::Reshape, 1},
        {Choice::Transpose, 1}, {Choice::Slice, 1},     {Choice::Concat, 1},
        {Choice::Pad, 1},       {Choice::Gather, 1},    {Choice::ScatterAdd, 1},
        {Choice::Reduce, 2},    {Choice::Argmax, 2},    {Choice::Matmul, 2},
        {Choice::Cast, 2},      {Choice::Scan, 1.2},    {Choice::While, 0.8},
        {Choice::Random, 0.3}};
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

  // ---- elementwise --------------------------------------------------------------------------
  Value *unary(OpKind k, Value *x, Info inf) { return make(k, {x}, {}, {}, inf); }

  Value *genUnary(const Type &t, bool exact, int d) {
    DType dt = t.dtype();
    if (dt == DType::I1) {
      Value *x = gen(t, exact, d);
      return unary(OpKind::Not, x, info(x));
    }
    std::vector<OpKind> kinds = {OpKind::Neg, OpKind::Abs, OpKind::Sign, OpKind::Relu,
                                 OpKind::StopGradient};
    if (isFloat(dt)) {
      kinds.insert(kinds.end(), {OpKind::Floor, OpKind::Ceil, OpKind::Sqrt});
      if (!exact)
        kinds.insert(kinds.end(), {OpKind::Exp, OpKind::Log, OpKind::Tanh, OpKind::Sigmoid,
                                   OpKind::Rsqrt, OpKind::Sin, OpKind::Cos, OpKind::Erf});
    }
    OpKind k = pick(kinds);
    switch (k) {
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
    case OpKind::Erf:
      return unary(k, gen(t, false, d), {1, false});
    case OpKind::Sin:
    case OpKind::Cos: // large arguments would test range reduction, not the compiler
      return unary(k, bounded(gen(t, false, d), 100), {1, false});
    default: { // neg abs relu stop_gradient
      Value *x = gen(t, exact, d);
      return unary(k, x, info(x));
    }
    }
  }

  /// a `k` b with the safety rules: tame products, safe divisors, a tame pow.
  Value *binary(OpKind k, Value *a, Value *b) {
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
      bool mayFault = !isF && (loopDepth_ == 0 || opts_.knownBugs) && chance(0.05);
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

  Value *genBinary(const Type &t, bool exact, int d) {
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

  Value *genCompare(const Type &t, int d) {
    DType dt = randomDType();
    std::vector<OpKind> kinds = {OpKind::Eq, OpKind::Ne};
    if (isNumeric(dt))
      kinds.insert(kinds.end(), {OpKind::Lt, OpKind::Le, OpKind::Gt, OpKind::Ge});
    Type x = t.withDType(dt);
    Value *a = gen(x, true, d);
    Value *b = gen(x, true, d);
    return make(pick(kinds), {a, b}, {}, {}, {1, true});
  }

  Value *genSelect(const Type &t, bool exact, int d) {
    Value *c = gen(t.withDType(DType::I1), true, d);
    Value *a = gen(t, exact, d);
    Value *b = gen(t, exact, d);
    return make(OpKind::Select, {c, a, b}, {}, {},
                {std::max(info(a).mag, info(b).mag), info(a).exact && info(b).exact});
  }

  Value *genCast(const Type &t, bool exact, int d) {
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

  Value *genRandom(const Type &t) {
    Value *seed = make(OpKind::Constant, {}, {{"value", std::vector<int64_t>{uniform(0, 1000)}}},
                       {Type({}, DType::I64)}, {1000, true});
    OpKind k = chance(0.5) ? OpKind::RandomUniform : OpKind::RandomNormal;
    return bounded(make(k, {seed}, {}, {t}, {10, false}), 10);
  }

  // ---- shape ops ----------------------------------------------------------------------------
  Value *passThrough(OpKind k, Value *x, Attrs attrs, std::vector<Type> declared = {}) {
    return make(k, {x}, std::move(attrs), std::move(declared), info(x));
  }

  Value *genBroadcast(const Type &t, bool exact, int d) {
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

  Value *genReshape(const Type &t, bool exact, int d) {
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

  Value *genTranspose(const Type &t, bool exact, int d) {
    std::vector<int64_t> perm(static_cast<size_t>(t.rank()));
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng_);
    std::vector<Dim> xd(perm.size());
    for (size_t i = 0; i < perm.size(); ++i)
      xd[static_cast<size_t>(perm[i])] = t.dim(i);
    Value *x = gen(Type(xd, t.dtype()), exact, d);
    return passThrough(OpKind::Transpose, x, {{"perm", perm}});
  }

  Value *genSlice(const Type &t, bool exact, int d) {
    int64_t a = pickStaticAxis(t, 1);
    int64_t n = t.dim(a).size(), extra = uniform(1, 3), start = uniform(0, extra);
    std::vector<Dim> xd = t.dims();
    xd[a] = n + extra;
    Value *x = gen(Type(xd, t.dtype()), exact, d);
    return passThrough(OpKind::Slice, x, {{"axis", a}, {"start", start}, {"limit", start + n}});
  }

  Value *genConcat(const Type &t, bool exact, int d) {
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

  Value *genPad(const Type &t, bool exact, int d) {
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
  /// function level (both sides must report the fault) and, with known bugs, in loops.
  Value *indices(const Type &it, int64_t n, int d) {
    Value *i = bounded(gen(it, true, d));
    if ((loopDepth_ == 0 || opts_.knownBugs) && chance(0.05))
      return i;
    Value *lo = make(OpKind::Max, {i, splat(it, 0)}, {}, {}, {info(i).mag, true});
    return make(OpKind::Min, {lo, splat(it, static_cast<double>(n - 1))}, {}, {},
                {static_cast<double>(n), true});
  }
  Type indexType(std::vector<Dim> dims) {
    return Type(std::move(dims), chance(0.5) ? DType::I32 : DType::I64);
  }

  Value *genGather(const Type &t, bool exact, int d) {
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

  Value *genScatterAdd(const Type &t, bool exact, int d) {
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

  // ---- reductions and matmul ----------------------------------------------------------------
  /// t with `count` random axes inserted; their positions in the result, increasing.
  std::pair<Type, std::vector<int64_t>> withInsertedAxes(const Type &t, int64_t count) {
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

  Value *genReduce(const Type &t, bool exact, int d) {
    std::vector<OpKind> kinds = {OpKind::ReduceMax, OpKind::ReduceMin};
    if (!(isFloat(t.dtype()) && exact))
      kinds.push_back(OpKind::ReduceSum);
    if (isFloat(t.dtype()) && !exact)
      kinds.push_back(OpKind::ReduceMean);
    OpKind k = pick(kinds);
    auto [xt, axes] = withInsertedAxes(t, uniform(1, 2));
    Value *x = bounded(gen(xt, exact, d), 1000);
    double n = 1;
    bool mayBeEmpty = false;
    for (int64_t a : axes) {
      n *= static_cast<double>(std::max<int64_t>(size(xt.dim(a)), 1));
      mayBeEmpty |= !xt.dim(a).isStatic() || xt.dim(a).size() == 0;
    }
    bool sums = k == OpKind::ReduceSum;
    Info inf{sums ? info(x).mag * n : info(x).mag,
             info(x).exact &&
                 (k == OpKind::ReduceMax || k == OpKind::ReduceMin || !isFloat(t.dtype()))};
    Value *r = make(k, {x}, {{"axes", axes}}, {}, inf);
    // The max of nothing is -inf (or the lowest integer): clamp it back into the bound.
    if (mayBeEmpty && (k == OpKind::ReduceMax || k == OpKind::ReduceMin))
      return clamp(r, info(x).mag);
    return bounded(r);
  }

  Value *genArgmax(const Type &t, int d) {
    auto [xt, axes] = withInsertedAxes(t, 1);
    DType dt = randomDType();
    while (!isNumeric(dt))
      dt = randomDType();
    Value *x = gen(xt.withDType(dt), true, d);
    double n = static_cast<double>(size(xt.dim(axes[0])));
    return make(OpKind::Argmax, {x}, {{"axis", axes[0]}}, {}, {n, true});
  }

  Value *genMatmul(const Type &t, int d) {
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

  // ---- control flow -------------------------------------------------------------------------
  /// Runs `body` with the builder inside `block` and a new scope of visible values.
  template <typename F> void inBody(Block &block, F body) {
    Block &outer = b_->block();
    b_->setInsertionPointToEnd(block);
    scopes_.emplace_back(block.args());
    ++loopDepth_;
    body();
    --loopDepth_;
    scopes_.pop_back();
    b_->setInsertionPointToEnd(outer);
  }

  /// The next value of a loop carry: usually the carry combined with something new.
  Value *carryUpdate(Value *carry, bool exact, int d) {
    const Type &t = carry->type();
    Value *v;
    if (chance(0.7)) {
      std::vector<OpKind> kinds = {OpKind::Xor, OpKind::Or, OpKind::And};
      if (isNumeric(t.dtype()))
        kinds = {OpKind::Add, OpKind::Sub, OpKind::Max, OpKind::Min, OpKind::Mul};
      OpKind k = pick(kinds);
      Value *other = gen(t, exact, d);
      v = chance(0.5) ? binary(k, carry, other) : binary(k, other, carry);
    } else {
      v = gen(t, exact, d);
    }
    return clamp(v, kCarryBound);
  }

  /// A random type whose axis 0 is `batch` (when given).
  Type batchType(std::optional<Dim> batch) {
    Type r = randomType(2);
    if (!batch)
      return r;
    if (r.rank() == 0 || chance(0.5))
      return prepend(*batch, r);
    std::vector<Dim> dims = r.dims();
    dims[0] = *batch;
    return Type(dims, r.dtype());
  }

  Value *genScan(const Type &t, bool exact, int d) {
    Dim B = Dim::symbol("B");
    bool asEmit = t.rank() >= 1 && chance(0.5) &&
                  (t.dim(0).isStatic() || t.dim(0).symbols().size() == 1) && t.dim(0).coeff() == 1;
    Dim time = asEmit ? t.dim(0) : pick<Dim>({Dim::symbol("T"), Dim::symbol("T"), Dim(1), Dim(3)});
    Type elem = asEmit ? dropFirst(t) : t;
    bool lengthsOk = (size(B) > 0 || opts_.knownBugs) && elem.rank() >= 1 && elem.dim(0) == B;
    bool useLen = lengthsOk && chance(0.5);
    std::optional<Dim> batch = useLen ? std::optional<Dim>(B) : std::nullopt;

    std::vector<Type> carryTypes, seqTypes, emitTypes;
    std::vector<bool> carryExact, emitExact;
    if (!asEmit) {
      carryTypes.push_back(t);
      carryExact.push_back(exact);
    }
    for (int64_t i = 0, n = uniform(asEmit ? 0 : 0, 1); i < n; ++i) {
      carryTypes.push_back(batchType(batch));
      carryExact.push_back(chance(0.5));
    }
    for (int64_t i = 0, n = uniform(1, 2); i < n; ++i)
      seqTypes.push_back(prepend(time, batchType(batch)));
    if (asEmit) {
      emitTypes.push_back(elem);
      emitExact.push_back(exact);
    }
    for (int64_t i = 0, n = uniform(0, 1); i < n; ++i) {
      emitTypes.push_back(batchType(batch));
      emitExact.push_back(chance(0.5));
    }

    std::vector<Value *> operands;
    for (size_t i = 0; i < carryTypes.size(); ++i)
      operands.push_back(gen(carryTypes[i], carryExact[i], d));
    for (const Type &st : seqTypes)
      operands.push_back(bounded(gen(st, chance(0.5), d), 1000));
    if (useLen) {
      std::string name = "len" + std::to_string(f_->numParams()) + "_" + time.str();
      operands.push_back(newParam(Type({B}, chance(0.5) ? DType::I32 : DType::I64), name));
    }
    Attrs attrs = {{"num_carry", static_cast<int64_t>(carryTypes.size())},
                   {"num_seq", static_cast<int64_t>(seqTypes.size())}};
    if (chance(0.3))
      attrs["reverse"] = int64_t(1);
    auto begun = b_->beginRegionOp(OpKind::Scan, operands, attrs);
    check(begun.status(), "scan");
    Op *scan = *begun;
    Block &body = scan->region();
    size_t nc = carryTypes.size();
    for (size_t i = 0; i < nc; ++i)
      info_[body.arg(i)] = {std::max(info(operands[i]).mag, kCarryBound), carryExact[i]};
    for (size_t i = 0; i < seqTypes.size(); ++i)
      info_[body.arg(nc + i)] = info(operands[nc + i]);

    std::vector<Value *> yields;
    int bodyDepth = std::min(d, kMaxDepth - 2);
    inBody(body, [&] {
      for (size_t i = 0; i < nc; ++i)
        yields.push_back(carryUpdate(body.arg(i), carryExact[i], bodyDepth));
      for (size_t i = 0; i < emitTypes.size(); ++i)
        yields.push_back(gen(emitTypes[i], emitExact[i], bodyDepth));
      check(b_->create(OpKind::Yield, yields).status(), "yield");
    });
    check(b_->finishRegionOp(scan), "finish scan");
    for (size_t i = 0; i < scan->numResults(); ++i) {
      Info in = info(yields[i]);
      if (i < nc)
        in = {std::max(info(operands[i]).mag, kCarryBound), carryExact[i]};
      info_[scan->result(i)] = in;
      scopes_.back().push_back(scan->result(i));
    }
    return asEmit ? scan->result(nc) : scan->result(0);
  }

  Value *genWhile(const Type &t, bool exact, int d) {
    enum { Finished, Count, Emit, Carry } role;
    if (t.rank() == 0)
      role = Count; // only i64 scalars get here
    else if (t.rank() == 1 && t.dtype() == DType::I1 && chance(0.3))
      role = Finished;
    else if (t.rank() >= 2 && t.dim(0).isStatic() && chance(0.5))
      role = Emit;
    else
      role = Carry;
    Dim batch = role == Count ? Dim::symbol("B") : role == Emit ? t.dim(1) : t.dim(0);
    int64_t maxTrips = role == Emit ? t.dim(0).size() : pick<int64_t>({0, 1, 2, 3, 5});

    std::vector<Type> carryTypes, emitTypes;
    std::vector<bool> carryExact, emitExact;
    if (role == Carry) {
      carryTypes.push_back(t);
      carryExact.push_back(exact);
    }
    for (int64_t i = 0, n = uniform(role == Carry ? 0 : 1, 1); i < n; ++i) {
      carryTypes.push_back(batchType(batch));
      carryExact.push_back(chance(0.5));
    }
    if (role == Emit) {
      emitTypes.push_back(dropFirst(t));
      emitExact.push_back(exact);
    }
    if (chance(0.4)) {
      emitTypes.push_back(batchType(batch));
      emitExact.push_back(chance(0.5));
    }

    std::vector<Value *> operands = {gen(Type({batch}, DType::I1), true, d)};
    for (size_t i = 0; i < carryTypes.size(); ++i)
      operands.push_back(gen(carryTypes[i], carryExact[i], d));
    auto begun = b_->beginRegionOp(OpKind::While, operands, {{"max_trips", maxTrips}});
    check(begun.status(), "while");
    Op *w = *begun;
    Block &body = w->region();
    size_t nc = carryTypes.size();
    for (size_t i = 0; i < nc; ++i)
      info_[body.arg(i)] = {std::max(info(operands[i + 1]).mag, kCarryBound), carryExact[i]};

    std::vector<Value *> yields;
    int bodyDepth = std::min(d, kMaxDepth - 2);
    inBody(body, [&] {
      yields.push_back(gen(Type({batch}, DType::I1), true, bodyDepth));
      for (size_t i = 0; i < nc; ++i)
        yields.push_back(carryUpdate(body.arg(i), carryExact[i], bodyDepth));
      for (size_t i = 0; i < emitTypes.size(); ++i)
        yields.push_back(gen(emitTypes[i], emitExact[i], bodyDepth));
      check(b_->create(OpKind::Yield, yields).status(), "yield");
    });
    check(b_->finishRegionOp(w), "finish while");
    // Results: finished, carries, emits, trip count.
    for (size_t i = 0; i < w->numResults(); ++i) {
      Info in = {1, true};
      if (i >= 1 && i <= nc)
        in = {std::max(info(operands[i]).mag, kCarryBound), carryExact[i - 1]};
      else if (i > nc && i + 1 < w->numResults())
        in = info(yields[i]);
      else if (i + 1 == w->numResults())
        in = {static_cast<double>(maxTrips), true};
      info_[w->result(i)] = in;
      scopes_.back().push_back(w->result(i));
    }
    switch (role) {
    case Finished:
      return w->result(0);
    case Count:
      return w->result(w->numResults() - 1);
    case Emit:
      return w->result(1 + nc);
    case Carry:
      return w->result(1);
    }
    WEFT_UNREACHABLE("unhandled while role");
  }

  std::mt19937_64 rng_;
  GenOptions opts_;
  Function *f_ = nullptr;
  std::optional<OpBuilder> b_;
  DimBindings dims_;
  std::vector<std::vector<Value *>> scopes_;
  std::unordered_map<const Value *, Info> info_;
  int loopDepth_ = 0;
  int opsMade_ = 0;
};

} // namespace

Program generateProgram(uint64_t seed, const GenOptions &options) {
  return Generator(seed, options).run();
}

} // namespace weft::difftest
