#include "ir/Verifier.h"

#include "ir/Builder.h"

#include <doctest/doctest.h>

namespace ir_VerifierTest {

using namespace weft::ir;

namespace {

struct Fixture {
  Module m;
  Function &f = m.addFunction("f");
  Value *x = f.addParam(Type({Dim::symbol("B"), 4}, DType::F32), "x");
  OpBuilder b{f.body()};
};

std::string verifyMessage(const Module &m) {
  weft::Status s = verify(m);
  return s.isOk() ? "ok" : s.diag().message;
}

} // namespace

TEST_CASE("verifier accepts a well-formed function") {
  Fixture t;
  Value *y = *t.b.create1(OpKind::Exp, {t.x});
  REQUIRE(t.b.create(OpKind::Return, {y}).isOk());
  CHECK(verifyMessage(t.m) == "ok");
}

TEST_CASE("verifier requires a return at the end of a function") {
  Fixture t;
  REQUIRE(t.b.create1(OpKind::Exp, {t.x}).isOk());
  CHECK(verifyMessage(t.m) == "function @f: body must end with return");
}

TEST_CASE("verifier rejects a use before its definition") {
  Fixture t;
  Value *y = *t.b.create1(OpKind::Exp, {t.x});
  Value *z = *t.b.create1(OpKind::Tanh, {y});
  REQUIRE(t.b.create(OpKind::Return, {z}).isOk());
  y->definingOp()->setOperand(0, z);
  z->setName("z");
  CHECK(verifyMessage(t.m) == "function @f in 'exp': operand 0 ('%z') does not dominate its use");
}

TEST_CASE("verifier rejects a value of a region used after it") {
  Fixture t;
  Value *xs = t.f.addParam(Type({Dim::symbol("T"), Dim::symbol("B"), 4}, DType::F32), "xs");
  Op *scan = *t.b.beginRegionOp(OpKind::Scan, {t.x, xs},
                                {{"num_carry", int64_t(1)}, {"num_seq", int64_t(1)}});
  OpBuilder in(scan->region());
  Value *inner = *in.create1(OpKind::Add, {scan->region().arg(0), scan->region().arg(1)});
  inner->setName("inner");
  REQUIRE(in.create(OpKind::Yield, {inner}).isOk());
  REQUIRE(t.b.finishRegionOp(scan).isOk());
  REQUIRE(t.b.create(OpKind::Return, {inner}).isOk());
  CHECK(verifyMessage(t.m) ==
        "function @f in 'return': operand 0 ('%inner') does not dominate its use");
}

TEST_CASE("verifier re-infers result types") {
  Fixture t;
  Value *y = *t.b.create1(OpKind::Exp, {t.x});
  REQUIRE(t.b.create(OpKind::Return, {y}).isOk());
  y->setType(Type({Dim::symbol("B"), 5}, DType::F32));
  CHECK(verifyMessage(t.m) == "function @f in 'exp': result 0 has type tensor<B x 5 x f32> but "
                              "its operands give tensor<B x 4 x f32>");
}

TEST_CASE("verifier checks region argument types against the operands") {
  Fixture t;
  Value *xs = t.f.addParam(Type({Dim::symbol("T"), Dim::symbol("B"), 4}, DType::F32), "xs");
  Op *scan = *t.b.beginRegionOp(OpKind::Scan, {t.x, xs},
                                {{"num_carry", int64_t(1)}, {"num_seq", int64_t(1)}});
  OpBuilder in(scan->region());
  REQUIRE(in.create(OpKind::Yield, {scan->region().arg(0)}).isOk());
  REQUIRE(t.b.finishRegionOp(scan).isOk());
  REQUIRE(t.b.create(OpKind::Return, {scan->result(0)}).isOk());
  scan->region().arg(1)->setType(Type({Dim::symbol("B"), 3}, DType::F32));
  CHECK(verifyMessage(t.m) == "function @f in 'scan': body argument 1 has type "
                              "tensor<B x 3 x f32> but needs tensor<B x 4 x f32>");
}

TEST_CASE("verifier rejects a terminator in the middle of a block") {
  Fixture t;
  REQUIRE(t.b.create(OpKind::Return, {t.x}).isOk());
  REQUIRE(t.b.create(OpKind::Return, {t.x}).isOk());
  CHECK(verifyMessage(t.m) == "function @f in 'return': terminator in the middle of a block");
}

TEST_CASE("verifier rejects two functions with one name") {
  Module m;
  for (int i = 0; i < 2; ++i) {
    Function &f = m.addFunction("g");
    OpBuilder b(f.body());
    REQUIRE(b.create(OpKind::Return, {}).isOk());
  }
  CHECK(verifyMessage(m) == "function @g is defined twice");
}

} // namespace ir_VerifierTest
