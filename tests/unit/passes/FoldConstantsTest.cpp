#include "PassTestUtil.h"
#include "passes/Rewrite.h"

namespace passes_FoldConstantsTest {

using namespace weft;
using namespace weft::ir;
using namespace weft::passes;
using namespace weft::passes::test;

namespace {

Value *constant(OpBuilder &b, Type t, Attr value) {
  return make(b, OpKind::Constant, {}, {{"value", std::move(value)}}, {std::move(t)});
}

} // namespace

TEST_CASE("fold-constants keeps shape ops on splats symbolic") {
  Module m;
  Function &f = m.addFunction("f");
  OpBuilder b(f.body());
  Type bt({Dim::symbol("B"), 128}, DType::F32);
  Value *z = b.splat(Type({128}, DType::F32), 2.0);
  Value *bc = make(b, OpKind::Broadcast, {z}, {{"dims", std::vector<int64_t>{1}}}, {bt});
  Value *r = make(b, OpKind::Reshape, {bc}, {}, {Type({Dim::symbol("B"), 2, 64}, DType::F32)});
  REQUIRE(b.create(OpKind::Return, {r}).isOk());
  auto fold = createFoldConstantsPass();
  CHECK(runPass(*fold, m));
  CHECK(constantOp(returned(f)) != nullptr);
  CHECK(splatValue(returned(f)) == 2.0);
  CHECK(returned(f)->type() == Type({Dim::symbol("B"), 2, 64}, DType::F32));
}

TEST_CASE("fold-constants leaves ops with a non-constant operand") {
  Module m;
  Function &f = m.addFunction("f");
  Value *x = f.addParam(Type({2}, DType::F32), "x");
  OpBuilder b(f.body());
  Value *r = make(b, OpKind::Add, {x, b.splat(Type({2}, DType::F32), 1.0)});
  REQUIRE(b.create(OpKind::Return, {r}).isOk());
  auto fold = createFoldConstantsPass();
  CHECK_FALSE(runPass(*fold, m));
}

TEST_CASE("fold-constants evaluates elementwise ops on symbolic splats once") {
  Module m;
  Function &f = m.addFunction("f");
  OpBuilder b(f.body());
  Type bt({Dim::symbol("B"), 128}, DType::F32);
  Value *r = make(b, OpKind::Add, {b.splat(bt, 1.5), b.splat(bt, 2.0)});
  Value *e = make(b, OpKind::Lt, {r, b.splat(bt, 4.0)});
  REQUIRE(b.create(OpKind::Return, {r, e}).isOk());
  auto fold = createFoldConstantsPass();
  CHECK(runPass(*fold, m));
  CHECK(splatValue(returned(f, 0)) == 3.5);
  CHECK(returned(f, 0)->type() == bt);
  CHECK(splatValue(returned(f, 1)) == 1.0);
  CHECK(returned(f, 1)->type() == bt.withDType(DType::I1));
}

TEST_CASE("fold-constants evaluates static ops with the reference interpreter") {
  Module m;
  Function &f = m.addFunction("f");
  OpBuilder b(f.body());
  Value *a = constant(b, Type({2, 2}, DType::F32), std::vector<double>{1, 2, 3, 4});
  Value *id = constant(b, Type({2, 2}, DType::F32), std::vector<double>{1, 0, 0, 1});
  Value *mm = make(b, OpKind::Matmul, {a, id});
  Value *s = make(b, OpKind::ReduceSum, {mm}, {{"axes", std::vector<int64_t>{1}}});
  REQUIRE(b.create(OpKind::Return, {s}).isOk());
  auto fold = createFoldConstantsPass();
  CHECK(runPass(*fold, m));
  const Op *c = constantOp(returned(f));
  REQUIRE(c != nullptr);
  CHECK(c->floatsAttr("value") == std::vector<double>{3, 7});
}

TEST_CASE("fold-constants leaves integer division by zero for run time") {
  Module m;
  Function &f = m.addFunction("f");
  OpBuilder b(f.body());
  Type t({2}, DType::I32);
  Value *d = make(b, OpKind::Div, {constant(b, t, std::vector<int64_t>{4, 6}), b.splat(t, 0)});
  REQUIRE(b.create(OpKind::Return, {d}).isOk());
  auto fold = createFoldConstantsPass();
  CHECK_FALSE(runPass(*fold, m));
}

TEST_CASE("fold-constants does not create constants above the size limit") {
  Module m;
  Function &f = m.addFunction("f");
  OpBuilder b(f.body());
  Type t({kMaxFoldedElements + 1}, DType::I64);
  Value *many = constant(b, t, std::vector<int64_t>(kMaxFoldedElements + 1, 7));
  Value *big = make(b, OpKind::Add, {many, many});
  Value *r = make(b, OpKind::Add,
                  {constant(b, Type({2}, DType::I64), std::vector<int64_t>{1, 2}),
                   constant(b, Type({2}, DType::I64), std::vector<int64_t>{3, 4})});
  REQUIRE(b.create(OpKind::Return, {r, big}).isOk());
  auto fold = createFoldConstantsPass();
  CHECK(runPass(*fold, m));
  CHECK(constantOp(returned(f, 0)) != nullptr);
  CHECK(constantOp(returned(f, 1)) == nullptr);
}

} // namespace passes_FoldConstantsTest
