//===- bench/lstm_attention_step_bench.cpp - the fused decoder step vs its ops ===//
//
// An attention decoder's scan over T steps, as seq2seq::DecoderAttention writes it (an LSTM
// cell, Bahdanau's or Luong's attention queried by its new h, the attention vector
// concat(h2, context) . wa; tests/unit/cpu/LstmAttentionStepTest.cpp has the same IR), compiled
// by cpu::compile after the `optimize` pipeline with fuse-lstm-attention (one
// lstm_attention_step per step) and without it (the cell, additive_attention and the output
// matmul apart). Both are timed alternately, per shape, and the medians printed with the
// ratio (> 1: the fused step is faster). CPU time under WEFT_BENCH_CLOCK=cpu.
//
// Usage: weft-bench-lstm-attention-step [--threads N] [--luong] [BxHxS ...]
//   (I = A = D = N = H, T = 8; default shapes 128x50x10 and 64x256x50)
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "bench/BenchTiming.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "passes/PassManager.h"
#include "runtime/Parallel.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <string>

using namespace weft;
using namespace weft::bench;

namespace {

constexpr int64_t kSteps = 8;
const char *kUnfused = "optimize";
const char *kFused = "canonicalize,fuse-attention,licm,fuse-additive-attention,fuse-lstm-attention,"
                     "fuse-lstm,fuse-gru,fuse-rnn,hoist-input-projections,fuse-elementwise,dce";

/// @f(xs, h0, c0, wx, wh, b, wq, keys, v, mem, wa) -> (hT, cT, as, al), every size H.
std::string decoderText(int64_t H, bool luong) {
  auto T = [&](const std::string &dims) { return fmt::format("tensor<{} x f32>", dims); };
  auto bx = [&](int64_t n) { return T(fmt::format("B x {}", n)); };
  const int64_t G = 4 * H;
  std::string hh = T(fmt::format("{} x {}", H, H));
  std::string params = fmt::format(
      "%xs: {}, %h0: {}, %c0: {}, %wx: {}, %wh: {}, %b: {}, %wq: {}, %keys: {}, %v: {}, %mem: {}, "
      "%wa: {}",
      T(fmt::format("T x B x {}", H)), bx(H), bx(H), T(fmt::format("{} x {}", H, G)),
      T(fmt::format("{} x {}", H, G)), T(std::to_string(G)), hh, T(fmt::format("B x S x {}", H)),
      luong ? std::string("tensor<f32>") : T(std::to_string(H)), T(fmt::format("B x S x {}", H)),
      T(fmt::format("{} x {}", 2 * H, H)));
  std::string s;
  auto line = [&](const std::string &text) { s += "    " + text + "\n"; };
  line(fmt::format("%gx = matmul %x, %wx : {}", bx(G)));
  line(fmt::format("%gh = matmul %h, %wh : {}", bx(G)));
  line(fmt::format("%bb = broadcast %b {{dims = [1]}} : {}", bx(G)));
  line(fmt::format("%z0 = add %gx, %gh : {}", bx(G)));
  line(fmt::format("%z = add %bb, %z0 : {}", bx(G)));
  const char *names = "ifgo";
  for (int64_t k = 0; k < 4; ++k)
    line(fmt::format("%z{} = slice %z {{axis = 1, limit = {}, start = {}}} : {}", names[k],
                     (k + 1) * H, k * H, bx(H)));
  line(fmt::format("%i = sigmoid %zi : {}", bx(H)));
  line(fmt::format("%f = sigmoid %zf : {}", bx(H)));
  line(fmt::format("%g = tanh %zg : {}", bx(H)));
  line(fmt::format("%o = sigmoid %zo : {}", bx(H)));
  line(fmt::format("%fc = mul %c, %f : {}", bx(H)));
  line(fmt::format("%ig = mul %i, %g : {}", bx(H)));
  line(fmt::format("%c2 = add %ig, %fc : {}", bx(H)));
  line(fmt::format("%tc = tanh %c2 : {}", bx(H)));
  line(fmt::format("%h2 = mul %o, %tc : {}", bx(H)));
  std::string bsa = T(fmt::format("B x S x {}", H)), bs = T("B x S");
  if (luong) { // Luong's score as nn::LuongAttention writes it: g (h2 . kT), kT made before the
               // loop
    line(fmt::format("%q3 = reshape %h2 : {}", T(fmt::format("B x 1 x {}", H))));
    line(fmt::format("%sk = matmul %q3, %kT : {}", T("B x 1 x S")));
    line(fmt::format("%s1 = reshape %sk : {}", bs));
    line(fmt::format("%vb = broadcast %v {{dims = []}} : {}", bs));
    line(fmt::format("%s0 = mul %s1, %vb : {}", bs));
  } else {
    line(fmt::format("%q = matmul %h2, %wq : {}", bx(H)));
    line(fmt::format("%q3 = reshape %q : {}", T(fmt::format("B x 1 x {}", H))));
    line(fmt::format("%qb = broadcast %q3 {{dims = [0, 1, 2]}} : {}", bsa));
    line(fmt::format("%pre = add %keys, %qb : {}", bsa));
    line(fmt::format("%hid = tanh %pre : {}", bsa));
    line(fmt::format("%vb = broadcast %v {{dims = [2]}} : {}", bsa));
    line(fmt::format("%hv = mul %hid, %vb : {}", bsa));
    line(fmt::format("%s0 = reduce_sum %hv {{axes = [2]}} : {}", bs));
  }
  line(fmt::format("%m = reduce_max %s0 {{axes = [1]}} : {}", T("B")));
  line(fmt::format("%mk = reshape %m : {}", T("B x 1")));
  line(fmt::format("%mb = broadcast %mk {{dims = [0, 1]}} : {}", bs));
  line(fmt::format("%sh = sub %s0, %mb : {}", bs));
  line(fmt::format("%e = exp %sh : {}", bs));
  line(fmt::format("%zs = reduce_sum %e {{axes = [1]}} : {}", T("B")));
  line(fmt::format("%zb = broadcast %zs {{dims = [0]}} : {}", bs));
  line(fmt::format("%p = div %e, %zb : {}", bs));
  line(fmt::format("%p3 = reshape %p : {}", T("B x 1 x S")));
  line(fmt::format("%c3 = matmul %p3, %mem : {}", T(fmt::format("B x 1 x {}", H))));
  line(fmt::format("%ctx = reshape %c3 : {}", bx(H)));
  line(fmt::format("%hc = concat %h2, %ctx {{axis = 1}} : {}", bx(2 * H)));
  line(fmt::format("%a2 = matmul %hc, %wa : {}", bx(H)));
  line("yield %h2, %c2, %a2, %p");
  std::string results =
      fmt::format("{}, {}, {}, {}", bx(H), bx(H), T(fmt::format("T x B x {}", H)), T("T x B x S"));
  std::string keysT = luong ? fmt::format("  %kT = transpose %keys {{perm = [0, 2, 1]}} : {}\n",
                                          T(fmt::format("B x {} x S", H)))
                            : "";
  return fmt::format("func @f({}) -> ({}) {{\n{}"
                     "  %hT, %cT, %as, %al = scan carry(%h0, %c0) over(%xs) {{\n"
                     "  ^body(%h: {}, %c: {}, %x: {}):\n{}  }} : {}\n"
                     "  return %hT, %cT, %as, %al\n}}\n",
                     params, results, keysT, bx(H), bx(H), bx(H), s, results);
}

std::unique_ptr<cpu::Executable> compileWith(const std::string &text, const char *pipeline,
                                             size_t &fusedSteps) {
  auto module = ir::parseModule(text).take();
  passes::PassManager pm(std::cerr);
  pm.addPipeline(pipeline).check();
  pm.run(*module).check();
  fusedSteps = ir::print(*module).find("lstm_attention_step") != std::string::npos;
  return cpu::compile(*module).take();
}

} // namespace

int main(int argc, char **argv) {
  int threads = 1;
  bool luong = false;
  std::vector<std::string> shapes;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc)
      threads = std::max(1, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--luong"))
      luong = true;
    else
      shapes.emplace_back(argv[i]);
  }
  if (shapes.empty())
    shapes = {"128x50x10", "64x256x50"};
  setNumThreads(threads);
  for (const std::string &shape : shapes) {
    int64_t B = 0, H = 0, S = 0;
    if (std::sscanf(shape.c_str(), "%ldx%ldx%ld", &B, &H, &S) != 3 || B < 1 || H < 1 || S < 1) {
      fmt::print(stderr, "weft-bench-lstm-attention-step: bad shape '{}' (want BxHxS)\n", shape);
      return 2;
    }
    std::string text = decoderText(H, luong);
    size_t onFused = 0, offFused = 0;
    auto on = compileWith(text, kFused, onFused);
    auto off = compileWith(text, kUnfused, offFused);
    if (!onFused || offFused) {
      fmt::print(stderr, "weft-bench-lstm-attention-step: the fusion did not apply as expected\n");
      return 1;
    }
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<float> u(-0.3f, 0.3f);
    auto arr = [&](std::vector<int64_t> dims) {
      Array a(DType::F32, std::move(dims));
      for (int64_t i = 0; i < a.numel(); ++i)
        a.setDouble(i, u(rng));
      return a;
    };
    std::vector<Array> in = {arr({kSteps, B, H}), arr({B, H}),     arr({B, H}),
                             arr({H, 4 * H}),     arr({H, 4 * H}), arr({4 * H}),
                             arr({H, H}),         arr({B, S, H}),  luong ? arr({}) : arr({H}),
                             arr({B, S, H}),      arr({2 * H, H})};
    bool ok = true;
    auto runOn = [&](const cpu::Executable &exe) { ok = exe.run("f", in).isOk() && ok; };
    std::vector<double> ton, toff;
    runOn(*on), runOn(*off);
    for (int pass = 0; pass < 7; ++pass) {
      std::vector<double> a, b;
      for (int k = 0; k < 20; ++k) {
        a.push_back(timeOnce([&] { runOn(*on); }));
        b.push_back(timeOnce([&] { runOn(*off); }));
      }
      ton.push_back(median(a)), toff.push_back(median(b));
    }
    if (!ok) {
      fmt::print(stderr, "weft-bench-lstm-attention-step: a run failed\n");
      return 1;
    }
    double mon = median(ton) * 1e6 / kSteps, moff = median(toff) * 1e6 / kSteps;
    fmt::print("{} B {} H {} S {}, {} thr: fused {:.1f} us/step, unfused {:.1f} us/step, "
               "speedup {:.2f}x{}\n",
               luong ? "luong" : "bahdanau", B, H, S, threads, mon, moff, moff / mon,
               cpuClock() ? " (CPU time)" : "");
  }
}
