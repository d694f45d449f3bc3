#include "ir/Builder.h"

#include <doctest/doctest.h>

namespace ir_InferTest {

using namespace weft::ir;

namespace {

/// Builds one op on fresh parameters and returns its result type or error message.
struct OneOp {
  Module m;
  Function &f = m.addFunction("f");
  OpBuilder b{f.body()};

  Value *param(Type t) { return f.addParam(std::move(t), ""); }
  std::string run(OpKind k, std::vector<Value *> ops, Attrs attrs = {},
                  std::vector<Type> declared = {}) {
    auto op = b.create(k, std::move(ops), std::move(attrs), std::move(declared));
    if (!op)
      return op.diag().message;
    std::string s;
    for (Value *r : (*op)->results())
      s += (s.empty() ? "" : ", ") + r->type().str();
    return s;
  }
};

const Dim B = Dim::symbol("B");
const Dim T = Dim::symbol("T");
Type f32(std::vector<Dim> d) { return Type(std::move(d), DType::F32); }
Type i64(std::vector<Dim> d) { return Type(std::move(d), DType::I64); }

} // namespace

TEST_CASE("elementwise ops need equal types and allowed dtypes") {
  OneOp o;
  Value *a = o.param(f32({B, 4})), *c = o.param(f32({B, 5})), *n = o.param(i64({B, 4}));
  CHECK(o.run(OpKind::Add, {a, a}) == "tensor<B x 4 x f32>");
  CHECK(o.run(OpKind::Lt, {a, a}) == "tensor<B x 4 x i1>");
  CHECK(o.run(OpKind::Add, {a, c}) ==
        "add: operand types differ: tensor<B x 4 x f32> vs tensor<B x 5 x f32>");
  CHECK(o.run(OpKind::Exp, {n}) ==
        "exp: operand has dtype i64 but must have a float dtype (f32, f64)");
  CHECK(o.run(OpKind::Exp, {a, a}) == "exp: expects 1 operand, got 2");
}

TEST_CASE("shape ops infer their result shapes") {
  OneOp o;
  Value *x = o.param(f32({T, B, 6}));
  CHECK(o.run(OpKind::Transpose, {x}, {{"perm", std::vector<int64_t>{1, 0, 2}}}) ==
        "tensor<B x T x 6 x f32>");
  CHECK(o.run(OpKind::Slice, {x},
              {{"axis", int64_t(2)}, {"start", int64_t(1)}, {"limit", int64_t(4)}}) ==
        "tensor<T x B x 3 x f32>");
  CHECK(o.run(OpKind::Slice, {x},
              {{"axis", int64_t(0)}, {"start", int64_t(0)}, {"limit", int64_t(1)}}) ==
        "slice: axis 0 of [T, B, 6] has symbolic size T; only static axes can be sliced");
  CHECK(o.run(OpKind::Concat, {x, x}, {{"axis", int64_t(1)}}) == "tensor<T x 2*B x 6 x f32>");
  CHECK(o.run(OpKind::Reshape, {x}, {}, {f32({B * T, 6})}) == "tensor<B*T x 6 x f32>");
  CHECK(o.run(OpKind::Reshape, {x}, {}, {f32({B, 6})}) ==
        "reshape: cannot reshape [T, B, 6] (6*B*T elements) to [B, 6] (6*B elements)");
  CHECK(o.run(OpKind::Pad, {x},
              {{"low", std::vector<int64_t>{0, 0, 1}},
               {"high", std::vector<int64_t>{0, 0, 2}},
               {"value", 0.0}}) == "tensor<T x B x 9 x f32>");
  CHECK(o.run(OpKind::ReduceSum, {x}, {{"axes", std::vector<int64_t>{0, 2}}}) == "tensor<B x f32>");
  CHECK(o.run(OpKind::ReduceSum, {x}, {{"axes", std::vector<int64_t>{2, 0}}}) ==
        "reduce_sum: axes must be strictly increasing");
  CHECK(o.run(OpKind::Argmax, {x}, {{"axis", int64_t(2)}}) == "tensor<T x B x i64>");
}

TEST_CASE("broadcast checks each operand axis against the declared result") {
  OneOp o;
  Value *v = o.param(f32({4}));
  CHECK(o.run(OpKind::Broadcast, {v}, {{"dims", std::vector<int64_t>{1}}}, {f32({B, 4})}) ==
        "tensor<B x 4 x f32>");
  CHECK(o.run(OpKind::Broadcast, {v}, {{"dims", std::vector<int64_t>{0}}}, {f32({B, 4})}) ==
        "broadcast: cannot broadcast [4] to [B, 4]: operand axis 0 has size 4 but result axis 0 "
        "has size B");
}

TEST_CASE("gather, scatter_add and matmul infer shapes") {
  OneOp o;
  Value *table = o.param(f32({100, 8})), *idx = o.param(i64({T, B}));
  CHECK(o.run(OpKind::Gather, {table, idx}, {{"axis", int64_t(0)}}) == "tensor<T x B x 8 x f32>");
  Value *upd = o.param(f32({T, B, 8}));
  CHECK(o.run(OpKind::ScatterAdd, {table, idx, upd}, {{"axis", int64_t(0)}}) ==
        "tensor<100 x 8 x f32>");
  Value *a = o.param(f32({T, B, 8})), *w = o.param(f32({T, 8, 3}));
  CHECK(o.run(OpKind::Matmul, {a, w}) == "tensor<T x B x 3 x f32>");
  CHECK(o.run(OpKind::Matmul, {a, table}) ==
        "matmul: operands must have the same rank >= 2, got [T, B, 8] and [100, 8]");
}

TEST_CASE("constants need one value or one per element") {
  OneOp o;
  CHECK(o.run(OpKind::Constant, {}, {{"value", std::vector<double>{1.0, 2.0}}}, {f32({2})}) ==
        "tensor<2 x f32>");
  CHECK(o.run(OpKind::Constant, {}, {{"value", std::vector<double>{1.0, 2.0}}}, {f32({3})}) ==
        "constant: value has 2 entries but [3] has 3 elements (give one value for a splat)");
  CHECK(o.run(OpKind::Constant, {}, {{"value", std::vector<int64_t>{1}}}, {f32({3})}) ==
        "constant: value of a float constant must be a list of floats");
  CHECK(o.run(OpKind::Constant, {}, {}, {f32({3})}) == "constant: missing attribute 'value'");
}

TEST_CASE("while results: finished flags, carries, stacked emits, trip count") {
  OneOp o;
  Value *fin = o.param(Type({B}, DType::I1)), *tok = o.param(i64({B}));
  Op *w = *o.b.beginRegionOp(OpKind::While, {fin, tok}, {{"max_trips", int64_t(7)}});
  OpBuilder in(w->region());
  Value *done = *in.create1(OpKind::Eq, {w->region().arg(0), w->region().arg(0)});
  REQUIRE(in.create(OpKind::Yield, {done, w->region().arg(0), w->region().arg(0)}).isOk());
  REQUIRE(o.b.finishRegionOp(w).isOk());
  std::string types;
  for (Value *r : w->results())
    types += r->type().str() + ";";
  CHECK(types == "tensor<B x i1>;tensor<B x i64>;tensor<7 x B x i64>;tensor<i64>;");
}

TEST_CASE("additive_attention: context [B, D] and weights [B, S]; misshapen operands are named") {
  OneOp o;
  const Dim S = Dim::symbol("S");
  Value *qp = o.param(f32({B, 5})), *kp = o.param(f32({B, S, 5})), *v = o.param(f32({5}));
  Value *values = o.param(f32({B, S, 3})), *mask = o.param(f32({B, S}));
  CHECK(o.run(OpKind::AdditiveAttention, {qp, kp, v, values}) ==
        "tensor<B x 3 x f32>, tensor<B x S x f32>");
  CHECK(o.run(OpKind::AdditiveAttention, {qp, kp, v, values, mask}) ==
        "tensor<B x 3 x f32>, tensor<B x S x f32>");
  CHECK(o.run(OpKind::AdditiveAttention, {qp, kp, v}) ==
        "additive_attention: expects 4 or 5 operands (qp, kp, v, values, mask), got 3");
  CHECK(o.run(OpKind::AdditiveAttention, {qp, kp, o.param(f32({4})), values}) ==
        "additive_attention: v must be [5] for qp [B, 5], got [4]");
  CHECK(o.run(OpKind::AdditiveAttention, {qp, o.param(f32({B, S, 4})), v, values}) ==
        "additive_attention: kp must be [B, S, 5] for qp [B, 5], got [B, S, 4]");
  CHECK(o.run(OpKind::AdditiveAttention, {qp, kp, v, o.param(f32({B, T, 3}))}) ==
        "additive_attention: values must be [B, S, D] for kp [B, S, 5], got [B, T, 3]");
  CHECK(o.run(OpKind::AdditiveAttention, {qp, kp, v, values, o.param(f32({B, 1}))}) ==
        "additive_attention: the mask must be [B, S] (the scores), got [B, 1]");
  CHECK(o.run(OpKind::AdditiveAttention, {qp, kp, v, o.param(i64({B, S, 3}))}) ==
        "additive_attention: operand 3 is tensor<B x S x 3 x i64> but qp is f32");
}

} // namespace ir_InferTest
