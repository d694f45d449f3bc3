//===- tests/diff/GeneratorImpl.h - the generator's state, for its files -===//
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
#pragma once

#include "ir/Builder.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "tests/diff/ProgramGenerator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <random>
#include <unordered_map>
#include <vector>

namespace weft::difftest::detail {

using namespace ir;

constexpr double kMaxMag = 1e4;        // larger values are clamped
constexpr double kCarryBound = 100;    // loop carries are clamped every step
constexpr int kMaxDepth = 5;           // expression depth
constexpr int kMaxLoopDepth = 2;       // scan in scan, while in scan
constexpr size_t kMaxParams = 10;      // then leaves are constants
constexpr int kMaxOps = 40;            // then only leaves: compile time grows with program size
constexpr int64_t kMaxElements = 1500; // per random type, under the bound dims
constexpr int64_t kMaxBigElements = int64_t{1} << 19; // in a big program

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
  Attention,
  Cast,
  Scan,
  While,
  Random,
};

inline bool isNumeric(DType d) { return d != DType::I1; }

class Generator {
public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  Program run() {
    Program p;
    p.module = std::make_unique<Module>();
    f_ = &p.module->addFunction("f");
    b_.emplace(f_->body());
    dims_["B"] = chance(0.1) ? 0 : uniform(1, 4);
    dims_["T"] = chance(0.1) ? 0 : uniform(1, 5);
    // One program in 20 returns a value of over 2^17 elements first, so that fusion kernels
    // take their parallel path and matmuls their larger blocks.
    big_ = chance(0.05);
    scopes_.emplace_back();
    std::vector<Value *> results;
    for (int64_t i = 0, n = uniform(1, 3); i < n; ++i)
      results.push_back(gen(i == 0 && big_ ? bigType() : randomType(3), chance(0.5), 0));
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
  /// A static size, now and then 0 (empty tensors, empty float constants).
  int64_t staticSize() {
    if (chance(0.03))
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
      if (numel(t) <= (big_ ? kMaxBigElements : kMaxElements))
        return t;
    }
  }
  /// 300 x (129 or 300) x (4 or 2), in some order: 155k or 180k elements.
  Type bigType() {
    int64_t n = pick<int64_t>({129, 300});
    std::vector<Dim> dims = {Dim(300), Dim(n), Dim(n == 129 ? 4 : 2)};
    std::shuffle(dims.begin(), dims.end(), rng_);
    return Type(dims, randomDType());
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
  /// Result n of an op with several results; the others go unused.
  Value *makeNth(OpKind k, size_t n, std::vector<Value *> ops, Attrs attrs, Info inf) {
    auto op = b_->create(k, std::move(ops), std::move(attrs));
    check(op.status(), "create");
    ++opsMade_;
    Value *v = (*op)->result(n);
    info_[v] = inf;
    scopes_.back().push_back(v);
    return v;
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
  /// lo + (hi - lo) * sigmoid(v): a float value mapped into [lo, hi].
  Value *intoDomain(Value *v, double lo, double hi) {
    const Type &t = v->type();
    Value *s = make(OpKind::Sigmoid, {v}, {}, {}, {1, false});
    Value *scaled = make(OpKind::Mul, {s, splat(t, hi - lo)}, {}, {}, {hi - lo, false});
    return make(OpKind::Add, {scaled, splat(t, lo)}, {}, {},
                {std::max(std::fabs(lo), std::fabs(hi)), false});
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

  // ---- shared by the op generators below --------------------------------------------------
  Value *unary(OpKind k, Value *x, Info inf) { return make(k, {x}, {}, {}, inf); }
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

  // the choice of op (ProgramGenerator.cpp)
  bool hasStaticAxis(const Type &t, int64_t minSize) const;
  int64_t pickStaticAxis(const Type &t, int64_t minSize);
  bool applicable(Choice c, const Type &t, bool exact) const;
  Value *gen(const Type &t, bool exact, int depth);

  // elementwise ops (ProgramGenerator.cpp)
  Value *genUnary(const Type &t, bool exact, int d);
  Value *binary(OpKind k, Value *a, Value *b);
  Value *genBinary(const Type &t, bool exact, int d);
  Value *genCompare(const Type &t, int d);
  Value *genSelect(const Type &t, bool exact, int d);
  Value *genCast(const Type &t, bool exact, int d);
  Value *genRandom(const Type &t);

  // shape ops, reductions, matmul (GenerateShapeOps.cpp)
  /// t with `count` random axes inserted, static or symbolic (either may be 0); their positions
  /// in the result, increasing.
  std::pair<Type, std::vector<int64_t>> withInsertedAxes(const Type &t, int64_t count);
  Value *passThrough(OpKind k, Value *x, Attrs attrs, std::vector<Type> declared = {});
  Value *genBroadcast(const Type &t, bool exact, int d);
  Value *genReshape(const Type &t, bool exact, int d);
  Value *genTranspose(const Type &t, bool exact, int d);
  Value *genSlice(const Type &t, bool exact, int d);
  Value *genConcat(const Type &t, bool exact, int d);
  Value *genPad(const Type &t, bool exact, int d);
  Value *indices(const Type &it, int64_t n, int d);
  Type indexType(std::vector<Dim> dims);
  Value *genGather(const Type &t, bool exact, int d);
  Value *genScatterAdd(const Type &t, bool exact, int d);
  Value *genReduce(const Type &t, bool exact, int d);
  Value *genArgmax(const Type &t, int d);
  Value *genMatmul(const Type &t, int d);
  Value *genAttention(const Type &t, int d);

  // scan and while (GenerateLoops.cpp)
  Value *carryUpdate(Value *carry, bool exact, int d);
  Type batchType(std::optional<Dim> batch);
  Value *genScan(const Type &t, bool exact, int d);
  Value *genWhile(const Type &t, bool exact, int d);

  std::mt19937_64 rng_;
  Function *f_ = nullptr;
  std::optional<OpBuilder> b_;
  DimBindings dims_;
  std::vector<std::vector<Value *>> scopes_;
  std::unordered_map<const Value *, Info> info_;
  int loopDepth_ = 0;
  int opsMade_ = 0;
  bool big_ = false;
};

} // namespace weft::difftest::detail
