//===- tests/unit/cpu/OpParityTest.cpp - every op kind: JIT vs interpreter ===//
//
// Each case is a small function run on the reference interpreter and on the
// JIT with the same seeded random inputs; elementwise ops also run on every
// pair of special values (NaN, infinities, signed zeros, subnormals, the
// largest finite values) passed in at run time, so LLVM cannot fold them.
// Tolerances (Tolerance.h): exact for add/sub/mul/div, select, shape ops,
// integer ops, casts, uniform random and sums (the JIT accumulates float sums
// in double in the interpreter's order); 4 ulps for transcendental functions
// (f32 intrinsics / libm vs double libm rounded to f32); matmul accumulates in
// its dtype: a sum of K terms of size at most 4 (inputs in [-2, 2]).
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "ir/Walk.h"
#include "tests/unit/UnaryOpTests.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace cpu_OpParityTest {

using namespace weft;
using namespace weft::cputest;

namespace {

struct Case {
  Case(std::string text, ir::DimBindings dims, Tolerance tol = Tolerance::exact(),
       std::map<size_t, ParamGen> gens = {})
      : text(std::move(text)), dims(std::move(dims)), tol(tol), gens(std::move(gens)) {}
  std::string text;
  ir::DimBindings dims;
  Tolerance tol;
  std::map<size_t, ParamGen> gens;
};

const char *kFloats[] = {"f32", "f64"};
const char *kNumeric[] = {"f32", "f64", "i32", "i64"};

std::string unary(const std::string &op, const std::string &in, const std::string &out,
                  const std::string &shape) {
  return fmt::format("func @f(%x: tensor<{0} x {1}>) -> (tensor<{0} x {2}>) {{\n"
                     "  %y = {3} %x : tensor<{0} x {2}>\n  return %y\n}}\n",
                     shape, in, out, op);
}

std::string binary(const std::string &op, const std::string &in, const std::string &out,
                   const std::string &shape) {
  return fmt::format("func @f(%a: tensor<{0} x {1}>, %b: tensor<{0} x {1}>) -> (tensor<{0} x {2}>) "
                     "{{\n  %y = {3} %a, %b : tensor<{0} x {2}>\n  return %y\n}}\n",
                     shape, in, out, op);
}

std::vector<Case> elementwiseCases() {
  std::vector<Case> cs;
  ir::DimBindings n1023{{"N", 1023}}, b7{{"B", 7}};
  for (const char *op : {"neg", "abs", "sign", "relu"})
    for (const char *t : kNumeric)
      cs.emplace_back(Case{unary(op, t, t, "N"), n1023});
  for (const test::UnaryOpTest &u : test::unaryOpTests())
    for (const char *t : kFloats) {
      std::string op(ir::opName(u.kind));
      Case c{unary(op, t, t, "B x 33"), b7, u.exact ? Tolerance::exact() : Tolerance::ulp(4)};
      if (u.lo > 0) // a domain of positive numbers: log, sqrt, rsqrt
        c.gens[0] = {Gen::Positive};
      cs.push_back(c);
    }
  cs.emplace_back(Case{unary("not", "i1", "i1", "N"), n1023});
  for (const char *t : {"f32", "i1", "i64"})
    cs.emplace_back(Case{unary("stop_gradient", t, t, "B x 33"), b7});
  for (const char *op : {"add", "sub", "mul", "div", "max", "min"})
    for (const char *t : kNumeric) {
      Case c{binary(op, t, t, "N"), n1023};
      if (std::string(op) == "div" && t[0] == 'i')
        c.gens[1] = {Gen::NonZero};
      cs.push_back(c);
    }
  for (const char *t : kFloats)
    cs.emplace_back(
        Case{binary("pow", t, t, "B x 33"), b7, Tolerance::ulp(4), {{0, {Gen::Positive}}}});
  for (const char *op : {"eq", "ne", "lt", "le", "gt", "ge"})
    for (const char *t : kNumeric)
      cs.emplace_back(Case{binary(op, t, "i1", "N"), n1023});
  for (const char *op : {"eq", "ne", "and", "or", "xor"})
    cs.emplace_back(Case{binary(op, "i1", "i1", "N"), n1023});
  for (const char *t : {"f32", "i64", "i1"})
    cs.emplace_back(
        Case{fmt::format("func @f(%c: tensor<B x 33 x i1>, %a: tensor<B x 33 x {0}>, "
                         "%b: tensor<B x 33 x {0}>) -> (tensor<B x 33 x {0}>) {{\n"
                         "  %y = select %c, %a, %b : tensor<B x 33 x {0}>\n  return %y\n}}\n",
                         t),
             b7});
  for (const char *from : {"f32", "f64", "i32", "i64", "i1"})
    for (const char *to : {"f32", "f64", "i32", "i64", "i1"})
      cs.emplace_back(Case{unary("cast", from, to, "N"), ir::DimBindings{{"N", 33}}});
  return cs;
}

std::vector<Case> structuralCases() {
  std::vector<Case> cs;
  ir::DimBindings b7{{"B", 7}}, b1{{"B", 1}};
  std::string bc = R"(
func @f(%v: tensor<N x f32>, %r: tensor<1 x N x i32>) -> (tensor<B x N x f32>, tensor<B x N x i32>) {
  %a = broadcast %v {dims = [1]} : tensor<B x N x f32>
  %b = broadcast %r {dims = [0, 1]} : tensor<B x N x i32>
  return %a, %b
})";
  cs.emplace_back(Case{bc, {{"B", 7}, {"N", 33}}});
  cs.emplace_back(Case{bc, {{"B", 1}, {"N", 1}}});
  std::string shapes = R"(
func @f(%x: tensor<B x 6 x f32>, %y: tensor<2 x 3 x B x i64>, %z: tensor<B x 7 x f64>, %w: tensor<B x 4 x f64>) -> (tensor<B x 2 x 3 x f32>, tensor<B x 2 x 3 x i64>, tensor<B x 3 x f64>, tensor<B x 11 x f64>, tensor<2*B x 4 x f64>, tensor<B x 7 x f32>, tensor<3*B x 6 x f32>) {
  %r = reshape %x : tensor<B x 2 x 3 x f32>
  %t = transpose %y {perm = [2, 0, 1]} : tensor<B x 2 x 3 x i64>
  %s = slice %z {axis = 1, limit = 5, start = 2} : tensor<B x 3 x f64>
  %c = concat %z, %w {axis = 1} : tensor<B x 11 x f64>
  %c0 = concat %w, %w {axis = 0} : tensor<2*B x 4 x f64>
  %p = pad %x {high = [0, 0], low = [0, 1], value = 0.5} : tensor<B x 7 x f32>
  %c3 = concat %x, %x, %x {axis = 0} : tensor<3*B x 6 x f32>
  return %r, %t, %s, %c, %c0, %p, %c3
})";
  cs.emplace_back(Case{shapes, b7});
  cs.emplace_back(Case{shapes, b1});
  cs.emplace_back(Case{R"(
func @f(%x: tensor<3 x 4 x i32>, %b: tensor<2 x 2 x i1>) -> (tensor<6 x 7 x i32>, tensor<3 x 4 x i1>) {
  %p = pad %x {high = [2, 3], low = [1, 0], value = -3.0} : tensor<6 x 7 x i32>
  %q = pad %b {high = [1, 1], low = [0, 1], value = 1.0} : tensor<3 x 4 x i1>
  return %p, %q
})",
                       {}});
  cs.emplace_back(Case{R"(
func @f(%table: tensor<V x 8 x f32>, %ids: tensor<B x T x i32>, %x: tensor<B x 10 x i64>, %i: tensor<3 x i64>) -> (tensor<B x T x 8 x f32>, tensor<B x 3 x i64>, tensor<V x 8 x f32>, tensor<B x 10 x i64>) {
  %e = gather %table, %ids {axis = 0} : tensor<B x T x 8 x f32>
  %g = gather %x, %i {axis = 1} : tensor<B x 3 x i64>
  %r = reduce_sum %e {axes = [1]} : tensor<B x 8 x f32>
  %s = scatter_add %table, %ids, %e {axis = 0} : tensor<V x 8 x f32>
  %s2 = scatter_add %x, %i, %g {axis = 1} : tensor<B x 10 x i64>
  return %e, %g, %s, %s2
})",
                       {{"V", 33}, {"B", 7}, {"T", 5}},
                       Tolerance::exact(),
                       {{1, {Gen::Index, 33}}, {3, {Gen::Index, 10}}}});
  return cs;
}

std::vector<Case> mathCases() {
  std::vector<Case> cs;
  for (const char *t : kNumeric) {
    bool fl = t[0] == 'f';
    std::string text = fmt::format(R"(
func @f(%x: tensor<B x 7 x N x {0}>) -> (tensor<B x N x {0}>, tensor<7 x {0}>, tensor<B x 7 x {0}>, tensor<N x {0}>, tensor<B x 7 x {0}>, tensor<B x N x i64>, tensor<{0}>) {{
  %s = reduce_sum %x {{axes = [1]}} : tensor<B x N x {0}>
  %s2 = reduce_sum %x {{axes = [0, 2]}} : tensor<7 x {0}>
  %mx = reduce_max %x {{axes = [2]}} : tensor<B x 7 x {0}>
  %mn = reduce_min %x {{axes = [0, 1]}} : tensor<N x {0}>
  %me = {1} %x {{axes = [2]}} : tensor<B x 7 x {0}>
  %am = argmax %x {{axis = 1}} : tensor<B x N x i64>
  %all = reduce_sum %x {{axes = [0, 1, 2]}} : tensor<{0}>
  return %s, %s2, %mx, %mn, %me, %am, %all
}})",
                                   t, fl ? "reduce_mean" : "reduce_max");
    cs.emplace_back(Case{text, {{"B", 3}, {"N", 33}}});
    cs.emplace_back(Case{text, {{"B", 1}, {"N", 1}}});
    std::string mm = fmt::format(R"(
func @f(%a: tensor<M x K x {0}>, %b: tensor<K x N x {0}>, %c: tensor<2 x M x K x {0}>, %d: tensor<2 x K x 5 x {0}>) -> (tensor<M x N x {0}>, tensor<2 x M x 5 x {0}>) {{
  %p = matmul %a, %b : tensor<M x N x {0}>
  %q = matmul %c, %d : tensor<2 x M x 5 x {0}>
  return %p, %q
}})",
                                 t);
    for (int64_t K : {1, 7, 33, 100})
      cs.emplace_back(Case{mm, {{"M", 7}, {"K", K}, {"N", 33}}, matmulTolerance(K)});
  }
  // One process: the call into runtime/Collective.h leaves the copy as it is. %x dies at the
  // first all_reduce, so the buffer plan may give its result %x's buffer.
  for (const char *t : kFloats)
    cs.emplace_back(Case{fmt::format(R"(
func @f(%x: tensor<B x 5 x {0}>) -> (tensor<B x 5 x {0}>, tensor<B x 5 x {0}>) {{
  %s = all_reduce %x {{group = 0}} : tensor<B x 5 x {0}>
  %m = all_reduce %s {{group = 1, mean = 1}} : tensor<B x 5 x {0}>
  %y = add %s, %m : tensor<B x 5 x {0}>
  return %y, %m
}})",
                                     t),
                         {{"B", 3}}});
  cs.emplace_back(Case{R"(
func @f(%seed: tensor<i64>) -> (tensor<2 x 3 x f32>, tensor<f64>, tensor<2 x 2 x i32>, tensor<3 x i1>, tensor<B x 4 x f32>, tensor<B x 3 x i64>, tensor<B x 3 x f32>, tensor<N x f32>, tensor<N x f64>, tensor<N x f32>, tensor<N x f64>) {
  %c = constant {value = [1.0, -2.5, 0.1, 1e-05, inf, -inf]} : tensor<2 x 3 x f32>
  %n = constant {value = [nan]} : tensor<f64>
  %i = constant {value = [1, -2, 3, 4]} : tensor<2 x 2 x i32>
  %b = constant {value = [0, 1, 1]} : tensor<3 x i1>
  %s = constant {value = [0.3]} : tensor<B x 4 x f32>
  %io = iota {axis = 1} : tensor<B x 3 x i64>
  %iof = iota {axis = 0} : tensor<B x 3 x f32>
  %u = random_uniform %seed : tensor<N x f32>
  %u2 = random_uniform %seed : tensor<N x f64>
  %g = random_normal %seed : tensor<N x f32>
  %g2 = random_normal %seed : tensor<N x f64>
  return %c, %n, %i, %b, %s, %io, %iof, %u, %u2, %g, %g2
})",
                       {{"B", 7}, {"N", 1023}},
                       Tolerance::ulp(4)});
  // NaN, signed zeros and saturating casts.
  cs.emplace_back(Case{R"(
func @f() -> (tensor<6 x f32>, tensor<6 x f32>, tensor<6 x f32>, tensor<6 x f32>, tensor<f32>, tensor<f32>, tensor<i64>, tensor<6 x i32>, tensor<6 x i64>, tensor<6 x i1>) {
  %a = constant {value = [nan, 1.0, -0.0, 0.0, -inf, 3.0]} : tensor<6 x f32>
  %b = constant {value = [2.0, nan, 0.0, -0.0, 1.0, 3.0]} : tensor<6 x f32>
  %mx = max %a, %b : tensor<6 x f32>
  %mn = min %a, %b : tensor<6 x f32>
  %r = relu %a : tensor<6 x f32>
  %s = sign %a : tensor<6 x f32>
  %rm = reduce_max %b {axes = [0]} : tensor<f32>
  %rn = reduce_min %a {axes = [0]} : tensor<f32>
  %am = argmax %a {axis = 0} : tensor<i64>
  %big = constant {value = [1e+10, -1e+10, nan, 2.5, -2.5, 2147483647.0]} : tensor<6 x f32>
  %ci = cast %big : tensor<6 x i32>
  %cl = cast %big : tensor<6 x i64>
  %cb = cast %big : tensor<6 x i1>
  return %mx, %mn, %r, %s, %rm, %rn, %am, %ci, %cl, %cb
})",
                       {}});
  return cs;
}

std::vector<Case> allCases() {
  std::vector<Case> cs = elementwiseCases();
  for (auto *more : {structuralCases, mathCases})
    for (Case &c : more())
      cs.push_back(std::move(c));
  return cs;
}

void runCases(const std::vector<Case> &cs) {
  for (const Case &c : cs) {
    CAPTURE(c.text);
    Compiled compiled = compileText(c.text);
    checkParity(compiled, "f", c.dims, c.tol, c.gens);
  }
}

/// The gens that give every float parameter of `f` special values, each pair of float
/// operands meeting every pair of values; other parameters as in `gens`.
std::map<size_t, ParamGen> specialGens(const ir::Function &f, std::map<size_t, ParamGen> gens) {
  int64_t floats = 0;
  for (size_t i = 0; i < f.numParams(); ++i)
    if (isFloat(f.param(i)->type().dtype()))
      gens[i] = {Gen::Special, floats++};
  return gens;
}

/// Runs the cases on special values: their 1023 elements hold every pair of the 16 values.
void runOnSpecialValues(const std::vector<Case> &cs) {
  auto n = static_cast<int64_t>(specialValues(DType::F32).size());
  ir::DimBindings dims{{"N", 1023}, {"B", 31}};
  REQUIRE(n * n <= 31 * 33);
  int64_t withFloats = 0;
  for (const Case &c : cs) {
    CAPTURE(c.text);
    Compiled compiled = compileText(c.text);
    std::map<size_t, ParamGen> gens = specialGens(*compiled.module->function("f"), c.gens);
    withFloats += std::any_of(gens.begin(), gens.end(),
                              [](const auto &g) { return g.second.gen == Gen::Special; });
    checkParity(compiled, "f", dims, c.tol, gens);
  }
  CHECK(withFloats >= 40); // the float cases did run on special values
}

} // namespace

TEST_CASE("cpu: elementwise ops match the interpreter in every dtype") {
  runCases(elementwiseCases());
}

TEST_CASE("cpu: elementwise ops match the interpreter on NaN, infinities, signed zeros and "
          "subnormals given at run time") {
  runOnSpecialValues(elementwiseCases());
}

TEST_CASE("cpu: shape ops, gather and scatter_add match the interpreter") {
  runCases(structuralCases());
}

TEST_CASE("cpu: reductions, argmax, matmul and producers match the interpreter") {
  runCases(mathCases());
}

TEST_CASE("cpu: the parity cases cover every op kind") {
  std::set<ir::OpKind> seen{ir::OpKind::Scan,         ir::OpKind::While,
                            ir::OpKind::Yield,        // ControlFlowTest
                            ir::OpKind::Fusion,       // FusionParityTest
                            ir::OpKind::LstmSequence, // LstmSequenceTest
                            ir::OpKind::Attention,    ir::OpKind::AttentionGrad}; // AttentionTest
  seen.insert({ir::OpKind::GruSequence, ir::OpKind::RnnSequence});         // GruRnnSequenceTest
  seen.insert(ir::OpKind::LstmSequenceGrad);                               // LstmGradKernelTest
  seen.insert({ir::OpKind::GruSequenceGrad, ir::OpKind::RnnSequenceGrad}); // GruRnnGradKernelTest
  // (and their training forms, {save_gates}: GruSavedGatesKernelTest)
  seen.insert(ir::OpKind::AdditiveAttention); // AdditiveAttentionTest
  seen.insert(ir::OpKind::LstmAttentionStep); // LstmAttentionStepTest
  for (const Case &c : allCases()) {
    auto m = ir::parseModule(c.text);
    REQUIRE(m);
    for (auto &f : (*m)->functions())
      ir::walk(f->body(), [&](ir::Op &op) { seen.insert(op.kind()); });
  }
  for (ir::OpKind k : ir::allOpKinds()) {
    CAPTURE(ir::opName(k));
    CHECK(seen.count(k) == 1);
  }
}

TEST_CASE("cpu: f32 tanh and sigmoid match the interpreter over their whole range") {
  // They run in double through an inline exp (EmitCore.cpp, expDouble): check it where it
  // clamps (|2x| > 708), where tanh switches to x (2^-12), at subnormal sigmoid results,
  // infinities, NaN and signed zeros, besides a sweep of ordinary values.
  std::vector<float> xs = {0.0f,    -0.0f,    1e-30f,    -1e-30f, 0x1p-12f, -0x1p-12f, 0x1.1p-12f,
                           1e-3f,   -1e-3f,   0.3466f,   0.5f,    -0.7f,    1.0f,      -2.5f,
                           9.0f,    -9.0f,    20.0f,     -20.0f,  88.0f,    -88.0f,    -90.0f,
                           -100.0f, -103.0f,  354.0f,    -354.5f, 710.0f,   -800.0f,   3e38f,
                           -3e38f,  INFINITY, -INFINITY, NAN};
  for (int k = -4000; k <= 4000; k += 7)
    xs.push_back(static_cast<float>(k) * 0.01f);
  auto n = static_cast<int64_t>(xs.size());
  for (const char *op : {"tanh", "sigmoid"}) {
    CAPTURE(op);
    Compiled c = compileText(fmt::format(
        "func @f(%x: tensor<N x f32>) -> (tensor<N x f32>) {{\n  %y = {} %x : tensor<N x "
        "f32>\n  return %y\n}}\n",
        op));
    std::vector<Array> in{Array(DType::F32, {n})};
    std::copy(xs.begin(), xs.end(), in[0].data<float>());
    checkAgainstInterpreter(c, "f", *c.module->function("f"), in, {{"N", n}}, Tolerance::ulp(4));
  }
}

} // namespace cpu_OpParityTest
