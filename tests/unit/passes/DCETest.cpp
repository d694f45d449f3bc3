#include "PassTestUtil.h"

namespace passes_DCETest {

using namespace weft;
using namespace weft::ir;
using namespace weft::passes;
using namespace weft::passes::test;

namespace {

const Attrs kScan1x1 = {{"num_carry", int64_t(1)}, {"num_seq", int64_t(1)}};

/// scan carry(h0) over(xs) whose body yields (h + x, exp(x)); the exp is also computed twice
/// where nothing uses it.
Op *buildScan(OpBuilder &b, Value *h0, Value *xs) {
  auto scan = b.beginRegionOp(OpKind::Scan, {h0, xs}, kScan1x1);
  REQUIRE(scan.isOk());
  Block &body = (*scan)->region();
  OpBuilder in(body);
  Value *h = make(in, OpKind::Add, {body.arg(0), body.arg(1)});
  Value *e = make(in, OpKind::Exp, {body.arg(1)});
  make(in, OpKind::Tanh, {make(in, OpKind::Log, {body.arg(1)})}); // dead chain
  REQUIRE(in.create(OpKind::Yield, {h, e}).isOk());
  REQUIRE(b.finishRegionOp(*scan).isOk());
  return *scan;
}

} // namespace

TEST_CASE("dce removes chains of unused ops and keeps used ones") {
  Module m;
  Function &f = m.addFunction("f");
  Value *a = f.addParam(Type({2}, DType::F32), "a");
  OpBuilder b(f.body());
  Value *used = make(b, OpKind::Exp, {a});
  make(b, OpKind::Neg, {make(b, OpKind::Tanh, {make(b, OpKind::Log, {a})})});
  REQUIRE(b.create(OpKind::Return, {used}).isOk());
  auto dce = createDCEPass();
  CHECK(runPass(*dce, m));
  CHECK(f.body().ops().size() == 2);
  CHECK(countOps(f, OpKind::Exp) == 1);
  CHECK_FALSE(runPass(*dce, m));
}

TEST_CASE("dce keeps a scan with one used result and cleans its body") {
  Module m;
  Function &f = m.addFunction("f");
  Value *xs = f.addParam(Type({5, 4}, DType::F32), "xs");
  Value *h0 = f.addParam(Type({4}, DType::F32), "h0");
  OpBuilder b(f.body());
  Op *scan = buildScan(b, h0, xs);
  REQUIRE(b.create(OpKind::Return, {scan->result(0)}).isOk());
  auto dce = createDCEPass();
  CHECK(runPass(*dce, m));
  CHECK(countOps(f, OpKind::Scan) == 1);
  CHECK(countOps(f, OpKind::Exp) == 1); // yielded, so used even though result 1 is not
  CHECK(countOps(f, OpKind::Log) == 0);
  CHECK(countOps(f, OpKind::Tanh) == 0);
}

TEST_CASE("dce removes an unused scan with everything only it used") {
  Module m;
  Function &f = m.addFunction("f");
  Value *xs = f.addParam(Type({5, 4}, DType::F32), "xs");
  Value *h0 = f.addParam(Type({4}, DType::F32), "h0");
  OpBuilder b(f.body());
  Value *init = make(b, OpKind::Neg, {h0});
  buildScan(b, init, xs);
  REQUIRE(b.create(OpKind::Return, {h0}).isOk());
  auto dce = createDCEPass();
  CHECK(runPass(*dce, m));
  CHECK(f.body().ops().size() == 1);
}

} // namespace passes_DCETest
