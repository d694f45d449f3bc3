//===- tests/unit/cpu/MemoryPlanTest.cpp - arena planning and in-place ops ===//
//
// The planned arena is smaller than one range per buffer, results still match
// the interpreter, elementwise chains run in place where that is legal and
// nowhere else, and plans per shape are safe to share between threads.
//
//===----------------------------------------------------------------------===//
#include "Corpus.h"
#include "Parity.h"

#include <thread>

namespace cpu_MemoryPlanTest {

using namespace weft;
using namespace weft::cputest;

namespace {

size_t aligned(size_t n) { return (n + 63) / 64 * 64; }

cpu::MemoryReport report(const Compiled &c, const std::string &fn, const ir::DimBindings &dims) {
  auto r = c.cpu->memoryPlan(fn, dims);
  REQUIRE_OK(r);
  return *r;
}

const char *kMlp = R"(
func @mlp(%x: tensor<B x 64 x f64>, %W1: tensor<64 x 128 x f64>, %b1: tensor<128 x f64>, %W2: tensor<128 x 128 x f64>, %b2: tensor<128 x f64>, %W3: tensor<128 x 10 x f64>) -> (tensor<B x 10 x f64>) {
  %h1 = matmul %x, %W1 : tensor<B x 128 x f64>
  %bb1 = broadcast %b1 {dims = [1]} : tensor<B x 128 x f64>
  %z1 = add %h1, %bb1 : tensor<B x 128 x f64>
  %a1 = tanh %z1 : tensor<B x 128 x f64>
  %h2 = matmul %a1, %W2 : tensor<B x 128 x f64>
  %bb2 = broadcast %b2 {dims = [1]} : tensor<B x 128 x f64>
  %z2 = add %h2, %bb2 : tensor<B x 128 x f64>
  %a2 = tanh %z2 : tensor<B x 128 x f64>
  %y = matmul %a2, %W3 : tensor<B x 10 x f64>
  return %y
}
)";

/// kLstm's layer with a loss on every hidden state, for the train pipeline.
std::string lstmLoss(const std::string &dtype) {
  std::string text = kLstm;
  auto swap = [&](const std::string &from, const std::string &to) {
    size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    text.replace(at, from.size(), to);
  };
  swap("%c0: tensor<B x 32 x f32>) -> (tensor<B x 32 x f32>, tensor<T x B x 32 x f32>)",
       "%c0: tensor<B x 32 x f32>, %r: tensor<T x B x 32 x f32>) -> (tensor<f32>)");
  swap("  return %hT, %hs\n", "  %w = mul %hs, %r : tensor<T x B x 32 x f32>\n"
                              "  %l = reduce_sum %w {axes = [0, 1, 2]} : tensor<f32>\n"
                              "  return %l\n");
  for (size_t at = text.find("f32"); at != std::string::npos; at = text.find("f32", at + 3))
    text.replace(at, 3, dtype);
  return text;
}

Compiled compileTrained(const std::string &text) {
  auto m = ir::parseModule(text);
  REQUIRE_OK(m);
  runPipeline(**m, "train");
  REQUIRE((*m)->function("lstm_grad"));
  return compileModule(std::move(*m));
}

} // namespace

TEST_CASE("memory plan: an MLP's arena is smaller than one range per buffer; results match") {
  Compiled c = compileText(kMlp);
  cpu::MemoryReport r = report(c, "mlp", {{"B", 64}});
  MESSAGE("MLP B=64: arena " << r.arenaBytes << " bytes, unplanned " << r.unplannedBytes);
  CHECK(r.arenaBytes < r.unplannedBytes);
  // f64 sums of at most 128 products of numbers below 2 in magnitude, tanh in between.
  checkParity(c, "mlp", {{"B", 64}}, Tolerance::sum(128, 4 * 128), {}, 3);
  checkParity(c, "mlp", {{"B", 5}}, Tolerance::sum(128, 4 * 128), {}, 4);
}

TEST_CASE("memory plan: an LSTM forward and training graph share arena bytes; results match") {
  Compiled fwd = compileText(kLstm);
  ir::DimBindings dims{{"T", 100}, {"B", 32}};
  cpu::MemoryReport f = report(fwd, "lstm", dims);
  MESSAGE("LSTM forward T=100 B=32 H=32: arena " << f.arenaBytes << " bytes (" << f.buffers
                                                 << " buffers), unplanned " << f.unplannedBytes);
  CHECK(f.arenaBytes < f.unplannedBytes);
  // As LstmTest: f32 drifts from the interpreter's sums over 100 steps; B = 32 drifts past
  // this bound with or without the memory plan, so parity runs at B = 8.
  checkParity(fwd, "lstm", {{"T", 100}, {"B", 8}}, kLstmTolerance, {}, 4);

  Compiled train = compileTrained(lstmLoss("f32"));
  cpu::MemoryReport t = report(train, "lstm_grad", dims);
  MESSAGE("LSTM training T=100 B=32 H=32: arena " << t.arenaBytes << " bytes (" << t.buffers
                                                  << " buffers), unplanned " << t.unplannedBytes);
  CHECK(t.arenaBytes < t.unplannedBytes);
  auto in = randomInputs(*train.module->function("lstm_grad"), dims, {}, 5);
  CHECK(train.cpu->run("lstm_grad", in, dims));

  // The training graph in f64 against the interpreter (sums in another order: 1e-12).
  Compiled train64 = compileTrained(lstmLoss("f64"));
  ir::DimBindings small{{"T", 9}, {"B", 3}};
  const ir::Function *g = train64.module->function("lstm_grad");
  auto in64 = randomInputs(*g, small, {}, 6);
  auto want = reference::run(*g, in64, small);
  REQUIRE_OK(want);
  auto got = train64.cpu->run("lstm_grad", in64, small);
  REQUIRE_OK(got);
  REQUIRE(got->size() == want->size());
  for (size_t k = 0; k < got->size(); ++k)
    for (int64_t i = 0; i < (*got)[k].numel(); ++i) {
      double gv = (*got)[k].getDouble(i), wv = (*want)[k].getDouble(i);
      CAPTURE(k);
      CAPTURE(i);
      CHECK(std::abs(gv - wv) <= 1e-12 * (1.0 + std::abs(wv)));
    }
}

TEST_CASE("memory plan: exp(tanh(x) + 1) runs in place in one buffer besides the constant") {
  Compiled c = compileText(R"(
func @chain(%x: tensor<N x f32>) -> (tensor<N x f32>) {
  %t = tanh %x : tensor<N x f32>
  %one = constant {value = [1.0]} : tensor<N x f32>
  %a = add %t, %one : tensor<N x f32>
  %e = exp %a : tensor<N x f32>
  %y = mul %e, %x : tensor<N x f32>
  return %y
}
)");
  // Without reuse %t, %one and %a are live together at the add: three buffers at least.
  // In place, %a and %e are written into %t's buffer: only it and %one are in the arena.
  cpu::MemoryReport r = report(c, "chain", {{"N", 1000}});
  CHECK(r.buffers == 2);
  CHECK(r.arenaBytes == 2 * aligned(4000));
  CHECK(r.unplannedBytes == 2 * aligned(4000));
  checkParity(c, "chain", {{"N", 1000}}, Tolerance::ulp(4));
  checkParity(c, "chain", {{"N", 3}}, Tolerance::ulp(4));
}

TEST_CASE("memory plan: values read again later are not overwritten in place") {
  // %t and %a are read again after the op that could have reused them; %m is returned;
  // %s and %n die at their consumer and may be reused.
  Compiled c = compileText(R"(
func @reuse(%x: tensor<N x i32>, %y: tensor<N x i32>) -> (tensor<N x f32>, tensor<N x i32>) {
  %t = abs %x : tensor<N x i32>
  %a = add %t, %y : tensor<N x i32>
  %e = neg %a : tensor<N x i32>
  %m = mul %e, %t : tensor<N x i32>
  %s = sub %m, %a : tensor<N x i32>
  %n = neg %s : tensor<N x i32>
  %k = mul %n, %m : tensor<N x i32>
  %c = cast %k : tensor<N x f32>
  %d = add %c, %c : tensor<N x f32>
  return %d, %m
}
)");
  for (int64_t n : {1, 17, 1000, 4099}) {
    CAPTURE(n);
    checkParity(c, "reuse", {{"N", n}}, Tolerance::exact(), {}, static_cast<uint64_t>(n));
  }
}

TEST_CASE("memory plan: a loop never overwrites a captured value, a carry or a sequence step") {
  // %w is last read inside the loop, so it must survive every trip; %h is a carry and %x a
  // step of %xs; %u and %v die inside the body and may be reused there.
  Compiled c = compileText(R"(
func @loop(%p: tensor<B x 8 x i64>, %xs: tensor<T x B x 8 x i64>, %h0: tensor<B x 8 x i64>) -> (tensor<B x 8 x i64>, tensor<T x B x 8 x i64>, tensor<T x B x 8 x i64>) {
  %w = abs %p : tensor<B x 8 x i64>
  %hT, %hs = scan carry(%h0) over(%xs) {
  ^body(%h: tensor<B x 8 x i64>, %x: tensor<B x 8 x i64>):
    %u = add %h, %w : tensor<B x 8 x i64>
    %v = relu %u : tensor<B x 8 x i64>
    %q = sub %x, %v : tensor<B x 8 x i64>
    %r = neg %h : tensor<B x 8 x i64>
    %h2 = max %q, %r : tensor<B x 8 x i64>
    yield %h2, %q
  } : tensor<B x 8 x i64>, tensor<T x B x 8 x i64>
  %z = neg %xs : tensor<T x B x 8 x i64>
  return %hT, %hs, %z
}
)");
  checkParity(c, "loop", {{"T", 7}, {"B", 3}}, Tolerance::exact(), {}, 2);
  checkParity(c, "loop", {{"T", 1}, {"B", 50}}, Tolerance::exact(), {}, 3);
}

TEST_CASE("memory plan: one Executable run from 4 threads at 4 shapes matches single runs") {
  Compiled c = compileText(kLstm);
  const ir::Function &f = *c.module->function("lstm");
  std::vector<ir::DimBindings> shapes = {
      {{"T", 5}, {"B", 3}}, {{"T", 9}, {"B", 1}}, {{"T", 2}, {"B", 7}}, {{"T", 5}, {"B", 4}}};
  std::vector<std::vector<Array>> inputs, want;
  for (size_t s = 0; s < shapes.size(); ++s) {
    inputs.push_back(randomInputs(f, shapes[s], {}, s + 10));
    auto r = c.cpu->run("lstm", inputs[s], shapes[s]);
    REQUIRE_OK(r);
    want.push_back(std::move(*r));
  }
  std::vector<std::vector<std::vector<Array>>> got(4);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < got.size(); ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 12; ++rep) {
        size_t s = (t + static_cast<size_t>(rep)) % shapes.size();
        auto r = c.cpu->run("lstm", inputs[s], shapes[s]);
        got[t].push_back(r ? std::move(*r) : std::vector<Array>{});
      }
    });
  for (std::thread &t : threads)
    t.join();
  for (size_t t = 0; t < got.size(); ++t)
    for (size_t rep = 0; rep < got[t].size(); ++rep) {
      CAPTURE(t);
      CAPTURE(rep);
      size_t s = (t + rep) % shapes.size();
      REQUIRE(got[t][rep].size() == want[s].size());
      for (size_t r = 0; r < want[s].size(); ++r)
        checkClose(got[t][rep][r], want[s][r], Tolerance::exact());
    }
}

TEST_CASE("memory plan: corpus functions match the interpreter at two shapes in a row") {
  std::vector<CorpusFile> files = compileCorpus();
  CHECK(checkCorpusParity(files, {{"B", 3}, {"T", 4}, {"S", 2}, {"N", 5}}, 21) == kCorpusFunctions);
  CHECK(checkCorpusParity(files, {{"B", 2}, {"T", 7}, {"S", 3}, {"N", 1}}, 22) == kCorpusFunctions);
}

} // namespace cpu_MemoryPlanTest
