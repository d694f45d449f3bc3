#include "PassTestUtil.h"
#include "passes/Rewrite.h"

namespace passes_SimplifyTest {

using namespace weft;
using namespace weft::ir;
using namespace weft::passes;
using namespace weft::passes::test;

namespace {

struct Fixture {
  Module m;
  Function &f = m.addFunction("f");
  OpBuilder b{f.body()};

  Value *param(Type t) { return f.addParam(std::move(t), "x" + std::to_string(f.numParams())); }
  /// Returns `v`, runs simplify and says whether it changed the IR.
  bool simplify(Value *v) {
    REQUIRE(b.create(OpKind::Return, {v}).isOk());
    auto p = createSimplifyPass();
    return runPass(*p, m);
  }
};

const Type kF({2, 3}, DType::F32);
const Type kI({2, 3}, DType::I32);

} // namespace

TEST_CASE("simplify removes binary ops with an identity splat operand") {
  struct Case {
    OpKind kind;
    double c;
    bool constantFirst;
  };
  // -0.0 is the float additive identity (and 0 for integers); x - +0.0 is x.
  const Case cases[] = {{OpKind::Mul, 1, false},    {OpKind::Mul, 1, true},
                        {OpKind::Add, -0.0, false}, {OpKind::Add, -0.0, true},
                        {OpKind::Sub, 0, false},    {OpKind::Div, 1, false}};
  for (const Case &c : cases) {
    for (DType dt : {DType::F32, DType::I64}) {
      CAPTURE(opName(c.kind));
      CAPTURE(c.constantFirst);
      CAPTURE(dtypeName(dt));
      Fixture t;
      Type ty({Dim::symbol("B"), 3}, dt);
      Value *x = t.param(ty);
      Value *k = t.b.splat(ty, c.c);
      Value *r = make(t.b, c.kind, c.constantFirst ? std::vector{k, x} : std::vector{x, k});
      CHECK(t.simplify(r));
      CHECK(returned(t.f) == x);
    }
  }
}

TEST_CASE("simplify keeps ops whose constant is not the identity or is on the wrong side") {
  struct Case {
    OpKind kind;
    double c;
    bool constantFirst;
  };
  // x + +0.0 and x - -0.0 are +0.0 for x = -0.0, not x.
  const Case cases[] = {{OpKind::Mul, 1.5, false}, {OpKind::Sub, 0, true},  {OpKind::Div, 1, true},
                        {OpKind::Add, 1, false},   {OpKind::Add, 0, false}, {OpKind::Add, 0, true},
                        {OpKind::Sub, -0.0, false}};
  for (const Case &c : cases) {
    CAPTURE(opName(c.kind));
    CAPTURE(c.c);
    Fixture t;
    Value *x = t.param(kF);
    Value *k = t.b.splat(kF, c.c);
    Value *r = make(t.b, c.kind, c.constantFirst ? std::vector{k, x} : std::vector{x, k});
    CHECK_FALSE(t.simplify(r));
    CHECK(returned(t.f) == r);
  }
}

TEST_CASE("simplify folds integer x*0 to zero but keeps float x*0") {
  Fixture ti;
  Value *zi = ti.b.splat(kI, 0);
  CHECK(ti.simplify(make(ti.b, OpKind::Mul, {ti.param(kI), zi})));
  CHECK(returned(ti.f) == zi);

  Fixture tf;
  Value *m = make(tf.b, OpKind::Mul, {tf.param(kF), tf.b.splat(kF, 0)});
  CHECK_FALSE(tf.simplify(m));
  CHECK(returned(tf.f) == m);
}

TEST_CASE("simplify cancels neg(neg x) and keeps stop_gradient") {
  Fixture t;
  Value *x = t.param(kF);
  Value *sg = make(t.b, OpKind::StopGradient, {x});
  CHECK(t.simplify(make(t.b, OpKind::Neg, {make(t.b, OpKind::Neg, {sg})})));
  CHECK(returned(t.f) == sg);
}

TEST_CASE("simplify composes transposes and drops identity ones") {
  Fixture t;
  Value *x = t.param(Type({2, 3, 4}, DType::F32));
  auto perm = [](std::vector<int64_t> p) { return Attrs{{"perm", std::move(p)}}; };
  Value *t1 = make(t.b, OpKind::Transpose, {x}, perm({1, 2, 0}));  // [3, 4, 2]
  Value *t2 = make(t.b, OpKind::Transpose, {t1}, perm({1, 0, 2})); // [4, 3, 2]
  CHECK(t.simplify(t2));
  Op *r = returned(t.f)->definingOp();
  REQUIRE(r != nullptr);
  CHECK(r->kind() == OpKind::Transpose);
  CHECK(r->operand(0) == x);
  CHECK(r->intsAttr("perm") == std::vector<int64_t>{2, 1, 0});
  CHECK(r->result()->type() == Type({4, 3, 2}, DType::F32));

  Fixture u;
  Value *y = u.param(Type({2, 3}, DType::F32));
  Value *u1 = make(u.b, OpKind::Transpose, {y}, perm({1, 0}));
  CHECK(u.simplify(make(u.b, OpKind::Transpose, {u1}, perm({1, 0}))));
  CHECK(returned(u.f) == y);
}

TEST_CASE("simplify collapses reshape chains and drops identity reshapes") {
  Fixture t;
  Value *x = t.param(Type({2, 6}, DType::F32));
  Value *r1 = make(t.b, OpKind::Reshape, {x}, {}, {Type({12}, DType::F32)});
  Value *r2 = make(t.b, OpKind::Reshape, {r1}, {}, {Type({3, 4}, DType::F32)});
  CHECK(t.simplify(r2));
  Op *r = returned(t.f)->definingOp();
  REQUIRE(r != nullptr);
  CHECK(r->kind() == OpKind::Reshape);
  CHECK(r->operand(0) == x);

  Fixture u;
  Value *y = u.param(Type({2, 6}, DType::F32));
  Value *s1 = make(u.b, OpKind::Reshape, {y}, {}, {Type({12}, DType::F32)});
  CHECK(u.simplify(make(u.b, OpKind::Reshape, {s1}, {}, {Type({2, 6}, DType::F32)})));
  CHECK(returned(u.f) == y);
}

TEST_CASE("simplify turns a broadcast splat into a splat and drops identity broadcasts") {
  Fixture t;
  Type big({Dim::symbol("B"), 128}, DType::F32);
  Value *c = t.b.splat(Type({128}, DType::F32), 0.5);
  CHECK(t.simplify(make(t.b, OpKind::Broadcast, {c}, {{"dims", std::vector<int64_t>{1}}}, {big})));
  REQUIRE(constantOp(returned(t.f)) != nullptr);
  CHECK(returned(t.f)->type() == big);
  CHECK(splatValue(returned(t.f)) == 0.5);

  Fixture u;
  Value *x = u.param(kF);
  CHECK(
      u.simplify(make(u.b, OpKind::Broadcast, {x}, {{"dims", std::vector<int64_t>{0, 1}}}, {kF})));
  CHECK(returned(u.f) == x);
}

TEST_CASE("simplify drops full slices, one-operand concats and same-dtype casts") {
  Fixture t;
  Value *x = t.param(kF);
  Attrs full{{"axis", int64_t(1)}, {"start", int64_t(0)}, {"limit", int64_t(3)}};
  Value *s = make(t.b, OpKind::Slice, {x}, full);
  Value *c = make(t.b, OpKind::Concat, {s}, {{"axis", int64_t(0)}});
  CHECK(t.simplify(make(t.b, OpKind::Cast, {c}, {}, {kF})));
  CHECK(returned(t.f) == x);

  Fixture u;
  Attrs part{{"axis", int64_t(1)}, {"start", int64_t(1)}, {"limit", int64_t(3)}};
  Value *p = make(u.b, OpKind::Slice, {u.param(kF)}, part);
  CHECK_FALSE(u.simplify(make(u.b, OpKind::Cast, {p}, {}, {Type({2, 2}, DType::F64)})));
}

TEST_CASE("simplify picks the operand of a select on a splat condition") {
  for (int cond : {0, 1}) {
    CAPTURE(cond);
    Fixture t;
    Value *a = t.param(kF), *b = t.param(kF);
    Value *c = t.b.splat(kF.withDType(DType::I1), cond);
    CHECK(t.simplify(make(t.b, OpKind::Select, {c, a, b})));
    CHECK(returned(t.f) == (cond ? a : b));
  }
}

} // namespace passes_SimplifyTest
