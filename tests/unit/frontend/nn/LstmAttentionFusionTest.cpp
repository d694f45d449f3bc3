//===- tests/unit/frontend/nn/LstmAttentionFusionTest.cpp - decoder step fused ===//
//
// The decoder of examples/dates and sort_letters --attention in small: nn::AttentionWrapper
// around an LSTM cell with an attention layer, over a memory with lengths, scored by
// nn::BahdanauAttention or nn::LuongAttention (with and without its scale), run by a
// teacher-forced `scan` and by a greedy `while`. After licm and fuse-additive-attention,
// fuse-lstm-attention turns each step's cell, attention and attention vector into one
// lstm_attention_step, and the fused model computes what the unfused one does, on the
// interpreter and the CPU backend: the outputs and the alignment history.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "backends/reference/Interpreter.h"
#include "frontend/Weft.h"
#include "frontend/nn/attention/AttentionWrapper.h"
#include "frontend/nn/attention/BahdanauAttention.h"
#include "frontend/nn/attention/LuongAttention.h"
#include "ir/Printer.h"
#include "ir/Walk.h"
#include "passes/PassManager.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <sstream>

namespace frontend_nn_LstmAttentionFusionTest {

using namespace weft;

namespace {

constexpr DType f64 = DType::F64;

int countOps(ir::Module &m, ir::OpKind kind) {
  int n = 0;
  for (auto &f : m.functions())
    ir::walk(f->body(), [&](ir::Op &op) { n += op.kind() == kind; });
  return n;
}

enum class Loop { Scan, While };
enum class Score { Bahdanau, Luong, LuongScaled };

/// The decoder over `memory` [B, 5, 3] with lengths; its outputs and alignment history.
void buildDecoder(Graph &g, Loop loop, Score score) {
  Dim B = g.dim("B");
  Tensor memory = g.input("memory", {B, 5, 3}, f64);
  Tensor len = g.input("len", {B}, DType::I64);
  nn::Scope s(g, nn::Mode::Eval);
  constexpr int64_t H = 4, I = 2, A = 3;
  std::shared_ptr<const nn::AttentionMechanism> mech;
  if (score == Score::Bahdanau)
    mech = std::make_shared<nn::BahdanauAttention>(s.child("att"), 5, memory, len, H);
  else
    mech = std::make_shared<nn::LuongAttention>(s.child("att"), memory, len, H,
                                                /*scale=*/score == Score::LuongScaled);
  nn::AttentionWrapper wrapper(s.child("dec"), nn::LSTMCell(s.child("cell"), I + A, H, true, f64),
                               mech, nn::AttentionWrapperOptions().withAttentionLayerSize(A));
  nn::AttentionWrapperState s0 = wrapper.zeroState();
  if (loop == Loop::Scan) {
    Tensor xs = g.input("xs", {3, B, I}, f64);
    nn::AttentionWrapperSequence seq = wrapper.unroll(xs, s0);
    g.outputs({seq.outputs, seq.alignmentHistory});
    return;
  }
  Tensor x0 = g.input("x0", {B, I}, f64);
  Tensor wx = g.input("wx", {A, I}, f64);
  auto [finished, h, c, a, x, out, alignments, trips] =
      while_loop(full({B}, 0.0, DType::I1), {s0.h, s0.c, s0.attention, x0}, 4,
                 [&](Tensor h, Tensor c, Tensor a, Tensor x) {
                   nn::AttentionWrapperStep st = wrapper(x, {h, c, a});
                   const nn::AttentionWrapperState &n = st.state;
                   Tensor next = tanh(matmul(st.output, wx));
                   return done(gt(sum(next, {1}), full({B}, 1.5, f64)))
                       .carry(n.h, n.c, n.attention, next)
                       .emit(st.output, st.alignments);
                 });
  g.outputs({out, alignments});
}

std::vector<Array> randomInputs(const ir::Function &f, const ir::DimBindings &dims) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> uni(-1.0, 1.0);
  std::vector<Array> in;
  for (size_t p = 0; p < f.numParams(); ++p) {
    auto shape = f.param(p)->type().evaluateShape(dims);
    REQUIRE_OK(shape);
    Array a(f.param(p)->type().dtype(), *shape);
    for (int64_t e = 0; e < a.numel(); ++e) {
      if (isFloat(a.dtype()))
        a.setDouble(e, uni(rng));
      else
        a.setInt(e, 1 + static_cast<int64_t>(rng() % 5)); // lengths 1..5
    }
    in.push_back(std::move(a));
  }
  return in;
}

void checkNear(const std::vector<Array> &got, const std::vector<Array> &want) {
  REQUIRE(got.size() == want.size());
  for (size_t r = 0; r < got.size(); ++r) {
    CAPTURE(r);
    REQUIRE(got[r].shape() == want[r].shape());
    for (int64_t e = 0; e < got[r].numel(); ++e)
      CHECK(std::fabs(got[r].getDouble(e) - want[r].getDouble(e)) <= 1e-12);
  }
}

/// `g`'s function after the passes with and without fuse-lstm-attention, on the interpreter
/// (both) and the CPU backend (fused).
void checkFused(const Graph &g) {
  const std::string unfused = "licm,fuse-additive-attention,dce";
  const std::string fused = "licm,fuse-additive-attention,fuse-lstm-attention,dce";
  auto off = g.build(), on = g.build();
  std::ostringstream log;
  passes::PassManager pmOn(log), pmOff(log);
  REQUIRE(pmOn.addPipeline(fused).isOk());
  REQUIRE(pmOn.run(*on).isOk());
  REQUIRE(pmOff.addPipeline(unfused).isOk());
  REQUIRE(pmOff.run(*off).isOk());
  INFO(ir::print(*on));
  CHECK(countOps(*on, ir::OpKind::LstmAttentionStep) == 1);
  CHECK(countOps(*off, ir::OpKind::LstmAttentionStep) == 0);
  CHECK(countOps(*on, ir::OpKind::Sigmoid) == 0);
  auto exe = cpu::compile(*on);
  REQUIRE_OK(exe);
  const std::string fn(g.name());
  for (int64_t batch : {1, 3, 6}) {
    CAPTURE(batch);
    ir::DimBindings dims{{"B", batch}};
    std::vector<Array> in = randomInputs(*off->function(fn), dims);
    auto want = reference::run(*off->function(fn), in, dims);
    REQUIRE_OK(want);
    auto got = reference::run(*on->function(fn), in, dims);
    REQUIRE_OK(got);
    checkNear(*got, *want);
    auto gotCpu = (*exe)->run(fn, in, {.dims = dims});
    REQUIRE_OK(gotCpu);
    checkNear(*gotCpu, *want);
  }
}

} // namespace

TEST_CASE("fuse-lstm-attention: the nn decoder's scan and greedy while fuse, Bahdanau and Luong; "
          "outputs match") {
  for (Score score : {Score::Bahdanau, Score::Luong, Score::LuongScaled})
    for (Loop loop : {Loop::Scan, Loop::While}) {
      CAPTURE(static_cast<int>(score));
      CAPTURE(static_cast<int>(loop));
      Graph g(loop == Loop::Scan ? "decoder" : "greedy");
      buildDecoder(g, loop, score);
      checkFused(g);
    }
}

} // namespace frontend_nn_LstmAttentionFusionTest
