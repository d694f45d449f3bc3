//===- bench/rnn_bench.cpp - a GRU or tanh RNN layer, inference and training step -===//
//
// One nn::GRU (PyTorch's form) or nn::RNN (tanh) layer over T steps, built in the DSL as a user
// would, compiled by weft's JIT:
//   infer: the layer's forward (xs [T, B, I], h0 [1, B, H] -> output, h_n) through the
//          `optimize` pipeline (fuse-gru / fuse-rnn: one gru_sequence / rnn_sequence, the cpu
//          backend's kernel); --expanded runs it as the canonical scan instead (expand-gru /
//          expand-rnn after the fusion: the input projection as one GEMM over all T*B rows, one
//          recurrent GEMM per step), the path before the kernels, for a ratio in one run;
//   train: the layer, a linear readout of h_n and an MSE loss, as one training step with Adam
//          (optimize-step after the same fusion and hoisting, the fused op's gradient one
//          gru_sequence_grad / rnn_sequence_grad, the GRU's reading the gates its forward
//          saved (save-gru-gates, as `train`); --recompute: without save-gru-gates, the
//          gradient recomputing the forward's gates (the kernel before the training form);
//          --expanded: BPTT of the canonical scan; the peer is bench/rnn_torch.py).
// Before timing, the forward (T = 5, B = 3, I = 4, H = 6) is checked against the reference
// interpreter. Times are the median per call over about half a second of calls, in wall time,
// or with --cpu-time in the process's CPU time (all its threads), which another process's load
// on the machine moves much less.
//
//   weft-bench-rnn --cell gru|rnn --mode infer|train [--expanded | --recompute] [--cpu-time]
//                  [--threads N] [--raw] [TxBxIxH ...]
// --raw prints "T B I H threads microseconds" per shape, the line bench/compare.py reads.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "backends/reference/Interpreter.h"
#include "bench/BenchTiming.h"
#include "frontend/Weft.h"
#include "frontend/nn/Linear.h"
#include "frontend/nn/Losses.h"
#include "frontend/nn/Recurrent.h"
#include "ir/Signature.h"
#include "passes/PassManager.h"
#include "runtime/Parallel.h"
#include "runtime/Random.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>

using namespace weft;
using namespace weft::bench;

namespace {

struct LayerShape {
  int64_t T, B, I, H;
};

// Fusion and hoisting as `train` does them, before the gradient (the fused ops, differentiated
// as gru_sequence_grad / rnn_sequence_grad); with --expanded the canonical scans, which
// autodiff differentiates by BPTT.
constexpr const char *kForward = "canonicalize,licm,fuse-gru,fuse-rnn,hoist-input-projections";
constexpr const char *kForwardExpanded = "canonicalize,licm,fuse-gru,fuse-rnn,expand-gru,"
                                         "expand-rnn,hoist-input-projections";

std::unique_ptr<nn::Recurrent> layer(const nn::Scope &s, bool gru, const LayerShape &sh) {
  if (gru)
    return std::make_unique<nn::GRU>(s.child("rnn"), sh.I, sh.H);
  return std::make_unique<nn::RNN>(s.child("rnn"), sh.I, sh.H);
}

Array uniform(const ir::Type &t, uint64_t seed) {
  std::vector<int64_t> shape;
  for (const ir::Dim &d : t.dims())
    shape.push_back(d.size());
  Array a(t.dtype(), shape);
  for (int64_t i = 0; i < a.numel(); ++i)
    a.setDouble(i, 2 * random::uniformF64(seed, uint64_t(i)) - 1);
  return a;
}

/// The forward layer with static shapes: inputs xs, h0, then the parameters.
std::unique_ptr<ir::Module> forwardModule(bool gru, const LayerShape &sh) {
  Graph g("rnn");
  Tensor xs = g.input("xs", {sh.T, sh.B, sh.I});
  Tensor h0 = g.input("h0", {1, sh.B, sh.H});
  nn::Scope model(g, nn::Mode::Eval);
  auto l = layer(model, gru, sh);
  nn::RecurrentOutputs out = (*l)(xs, nn::RecurrentInputs().withState(h0));
  g.outputs({out.output, out.h_n});
  return g.build();
}

std::vector<Array> inputsOf(const ir::Function &f) {
  std::vector<Array> in;
  for (size_t p = 0; p < f.numParams(); ++p)
    in.push_back(uniform(f.param(p)->type(), 17 + p));
  return in;
}

/// `optimize`, or with `expanded` the same with the fused ops turned back into their scans.
constexpr const char *kOptimize = "optimize";
constexpr const char *kOptimizeExpanded =
    "canonicalize,fuse-attention,licm,fuse-lstm,fuse-gru,fuse-rnn,expand-gru,expand-rnn,"
    "hoist-input-projections,fuse-elementwise,dce";

/// The median seconds of a call of `f` over about half a second of calls: wall time, or with
/// `cpuTime` the process's CPU time.
template <typename F> double medianCall(F &&f, int minRuns, int maxRuns, bool cpuTime) {
  int runs = 0;
  return medianOverBudget(f, 0.5, minRuns, maxRuns, runs, cpuTime);
}

void checkForward(bool gru, const char *pipeline) {
  const LayerShape small{5, 3, 4, 6};
  auto m = forwardModule(gru, small);
  std::vector<Array> in = inputsOf(*m->functions().front());
  auto want = reference::run(*m->functions().front(), in).take();
  std::ostringstream log;
  passes::PassManager pm(log);
  pm.addPipeline(pipeline).check();
  pm.run(*m).check();
  auto got = cpu::compile(*m).take()->run("rnn", in).take();
  for (size_t r = 0; r < got.size(); ++r)
    for (int64_t e = 0; e < got[r].numel(); ++e)
      if (std::fabs(got[r].getDouble(e) - want[r].getDouble(e)) > 1e-5)
        throw Error(err(fmt::format("result {} element {}: weft {} vs reference {}", r, e,
                                    got[r].getDouble(e), want[r].getDouble(e))));
}

double inferMicros(bool gru, const LayerShape &sh, const char *pipeline, bool cpuTime) {
  auto m = forwardModule(gru, sh);
  std::vector<Array> in = inputsOf(*m->functions().front());
  std::ostringstream log;
  passes::PassManager pm(log);
  pm.addPipeline(pipeline).check();
  pm.run(*m).check();
  auto exe = cpu::compile(*m).take();
  return medianCall([&] { exe->run("rnn", in).take(); }, 5, 2000, cpuTime) * 1e6;
}

double trainMicros(bool gru, const LayerShape &sh, bool expanded, bool recompute, bool cpuTime) {
  Graph g("rnn");
  Tensor xs = g.input("xs", {sh.T, sh.B, sh.I});
  Tensor ys = g.input("ys", {sh.B, 1});
  nn::Scope model(g, nn::Mode::Train);
  auto l = layer(model, gru, sh);
  Tensor pred = nn::linear(model.child("out"), reshape((*l)(xs).h_n, {sh.B, sh.H}), sh.H, 1);
  g.output(nn::mseLoss(pred, ys));
  std::vector<Array> params = g.initParams(1);
  auto m = g.build();
  std::string names;
  for (const ParamInfo &p : g.params())
    names += (names.empty() ? "" : ",") + p.name;
  std::ostringstream log;
  passes::PassManager pm(log);
  pm.addPipeline(fmt::format("{},optimize-step{{kind=adam lr=0.001 params={}}},{}"
                             "hoist-weight-gradients,licm,canonicalize,fuse-elementwise,dce",
                             expanded ? kForwardExpanded : kForward, names,
                             expanded || recompute ? "" : "save-gru-gates,"))
      .check();
  pm.run(*m).check();
  auto exe = cpu::compile(*m).take();
  const ir::Function *step = m->function("rnn_step");
  if (!step)
    throw Error(err("no function @rnn_step"));
  // The step's arguments: parameters, optimizer state (zeros), the batch and the step number,
  // by name; every timed call starts from the same ones.
  std::vector<Array> args;
  for (size_t p = 0; p < step->numParams(); ++p) {
    const ir::Type &t = step->param(p)->type();
    std::vector<int64_t> shape;
    for (const ir::Dim &d : t.dims())
      shape.push_back(d.size());
    args.emplace_back(t.dtype(), shape);
  }
  for (size_t p = 0, k = 0; p < step->numParams(); ++p) {
    const std::string &n = step->param(p)->name();
    if (n == "xs" || n == "ys")
      args[p] = uniform(step->param(p)->type(), 5 + p);
    else if (k < params.size() && n == g.params()[k].name)
      args[p] = params[k++];
  }
  return medianCall([&] { exe->run("rnn_step", args).take(); }, 3, 200, cpuTime) * 1e6;
}

} // namespace

int main(int argc, char **argv) try {
  bool raw = false, gru = true, train = false, expanded = false, recompute = false, cpuTime = false;
  int threads = 0;
  std::vector<LayerShape> shapes;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&] {
      if (i + 1 == argc)
        throw Error(err(fmt::format("option '{}' needs a value", a)));
      return std::string(argv[++i]);
    };
    if (a == "--raw") {
      raw = true;
    } else if (a == "--expanded") {
      expanded = true;
    } else if (a == "--recompute") {
      recompute = true;
    } else if (a == "--cpu-time") {
      cpuTime = true;
    } else if (a == "--threads") {
      threads = std::stoi(value());
    } else if (a == "--cell") {
      std::string v = value();
      if (v != "gru" && v != "rnn")
        throw Error(err(fmt::format("--cell must be gru or rnn, got '{}'", v)));
      gru = v == "gru";
    } else if (a == "--mode") {
      std::string v = value();
      if (v != "infer" && v != "train")
        throw Error(err(fmt::format("--mode must be infer or train, got '{}'", v)));
      train = v == "train";
    } else {
      LayerShape s{};
      if (std::sscanf(a.c_str(), "%ldx%ldx%ldx%ld", &s.T, &s.B, &s.I, &s.H) != 4 || s.T <= 0 ||
          s.B <= 0 || s.I <= 0 || s.H <= 0)
        throw Error(err(fmt::format("expected a shape TxBxIxH, got '{}'", a)));
      shapes.push_back(s);
    }
  }
  if (shapes.empty())
    shapes = {{100, 64, 256, 256}, {100, 64, 512, 512}};
  if (threads > 0)
    setNumThreads(threads);
  const char *pipeline = expanded ? kOptimizeExpanded : kOptimize;
  checkForward(gru, pipeline);
  for (const LayerShape &s : shapes) {
    double us = train ? trainMicros(gru, s, expanded, recompute, cpuTime)
                      : inferMicros(gru, s, pipeline, cpuTime);
    if (raw)
      std::printf("%ld %ld %ld %ld %d %.1f\n", s.T, s.B, s.I, s.H, numThreads(), us);
    else
      std::printf("%s %s T=%ld B=%ld I=%ld H=%ld, %d threads: %.2f ms\n", gru ? "GRU" : "RNN",
                  train ? "training step (Adam)" : "inference", s.T, s.B, s.I, s.H, numThreads(),
                  us / 1e3);
  }
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "weft-bench-rnn: %s\n", e.what());
  return 1;
} catch (const std::exception &e) {
  std::fprintf(stderr, "weft-bench-rnn: %s\n", e.what());
  return 1;
}
