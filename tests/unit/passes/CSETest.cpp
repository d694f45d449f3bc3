#include "PassTestUtil.h"

namespace passes_CSETest {

using namespace weft;
using namespace weft::ir;
using namespace weft::passes;
using namespace weft::passes::test;

namespace {

const Attrs kScan1x1 = {{"num_carry", int64_t(1)}, {"num_seq", int64_t(1)}};

/// Builds `scan carry(h0) over(xs)` whose body computes fn(h, x) and yields it twice.
Op *buildScan(OpBuilder &b, Value *h0, Value *xs,
              const std::function<Value *(OpBuilder &, Value *, Value *)> &fn) {
  auto scan = b.beginRegionOp(OpKind::Scan, {h0, xs}, kScan1x1);
  REQUIRE(scan.isOk());
  Block &body = (*scan)->region();
  OpBuilder in(body);
  Value *h = fn(in, body.arg(0), body.arg(1));
  REQUIRE(in.create(OpKind::Yield, {h, h}).isOk());
  REQUIRE(b.finishRegionOp(*scan).isOk());
  return *scan;
}

} // namespace

TEST_CASE("cse merges identical pure ops and keeps a name hint") {
  Module m;
  Function &f = m.addFunction("f");
  Value *a = f.addParam(Type({2}, DType::F32), "a");
  OpBuilder b(f.body());
  Value *e1 = make(b, OpKind::Exp, {a});
  Value *e2 = make(b, OpKind::Exp, {a});
  e2->setName("named");
  Value *r = make(b, OpKind::Add, {e1, e2});
  REQUIRE(b.create(OpKind::Return, {r}).isOk());
  auto cse = createCSEPass();
  CHECK(runPass(*cse, m));
  CHECK(countOps(f, OpKind::Exp) == 1);
  Op *add = returned(f)->definingOp();
  CHECK(add->operand(0) == add->operand(1));
  CHECK(add->operand(0)->name() == "named");
  CHECK_FALSE(runPass(*cse, m));
}

TEST_CASE("cse keeps ops that differ in attributes, result type or float sign") {
  Module m;
  Function &f = m.addFunction("f");
  Value *a = f.addParam(Type({2, 3}, DType::F32), "a");
  OpBuilder b(f.body());
  Value *s1 = make(b, OpKind::ReduceSum, {a}, {{"axes", std::vector<int64_t>{0}}});
  Value *s2 = make(b, OpKind::ReduceSum, {a}, {{"axes", std::vector<int64_t>{1}}});
  Value *z = b.splat(Type({3}, DType::F32), 0.0);
  Value *nz = b.splat(Type({3}, DType::F32), -0.0);
  Value *zi = b.splat(Type({3}, DType::I32), 0.0);
  REQUIRE(b.create(OpKind::Return, {s1, s2, z, nz, zi}).isOk());
  auto cse = createCSEPass();
  CHECK_FALSE(runPass(*cse, m));
  CHECK(countOps(f, OpKind::ReduceSum) == 2);
  CHECK(countOps(f, OpKind::Constant) == 3);
}

TEST_CASE("cse lets a region op reuse a dominating outer op, but not the reverse") {
  Module m;
  Function &f = m.addFunction("f");
  Value *xs = f.addParam(Type({5, 4}, DType::F32), "xs");
  Value *w = f.addParam(Type({4}, DType::F32), "w");
  OpBuilder b(f.body());
  Value *outer = make(b, OpKind::Tanh, {w});
  Op *scan = buildScan(b, w, xs, [&](OpBuilder &in, Value *h, Value *x) {
    Value *t = make(in, OpKind::Tanh, {w}); // same as `outer`: reuses it
    Value *e = make(in, OpKind::Exp, {w});  // only inside: stays inside
    return make(in, OpKind::Add, {make(in, OpKind::Add, {h, x}), make(in, OpKind::Mul, {t, e})});
  });
  Value *after = make(b, OpKind::Exp, {w}); // same as the inner exp: must not reuse it
  Value *r = make(b, OpKind::Add, {scan->result(0), make(b, OpKind::Add, {outer, after})});
  REQUIRE(b.create(OpKind::Return, {r}).isOk());
  auto cse = createCSEPass();
  CHECK(runPass(*cse, m));
  CHECK(countOps(f, OpKind::Tanh) == 1);
  CHECK(countOps(f, OpKind::Exp) == 2);
  CHECK(after->definingOp()->parentBlock() == &f.body());
}

TEST_CASE("cse never merges scans") {
  Module m;
  Function &f = m.addFunction("f");
  Value *xs = f.addParam(Type({5, 4}, DType::F32), "xs");
  Value *h0 = f.addParam(Type({4}, DType::F32), "h0");
  OpBuilder b(f.body());
  auto body = [](OpBuilder &in, Value *h, Value *x) { return make(in, OpKind::Add, {h, x}); };
  Op *s1 = buildScan(b, h0, xs, body);
  Op *s2 = buildScan(b, h0, xs, body);
  REQUIRE(b.create(OpKind::Return, {s1->result(0), s2->result(0)}).isOk());
  auto cse = createCSEPass();
  CHECK_FALSE(runPass(*cse, m));
  CHECK(countOps(f, OpKind::Scan) == 2);
}

} // namespace passes_CSETest
