//===- tests/mpi/DataParallelTrain.cpp - one training run, any world size --===//
//
// A small real data-parallel run for the scripts of tests/mpi: an MLP
// regression (x: 8 -> tanh(x W1 + b1) W2 + b2, mean squared error against a
// fixed teacher) trained with Adam by a step built by
// optimize-step{data_parallel=1 bucket_bytes=256} (several buckets) and
// overlap-collectives, JIT-compiled, and driven by train::Trainer over 64
// examples in global batches of 16, shuffled, for 12 steps. Run alone it is one
// process; under mpirun -np N each rank trains on its shard of every global
// batch.
//
//   weft-mpi-train --out FILE [--steps N] [--shards S] [--checkpoints DIR [--resume]]
//       train (until step N in all; bit-identically for any world size dividing S with
//       --shards, TrainOptions::shards; from the newest checkpoint in DIR with --resume,
//       writing one there after every step); rank 0 writes the losses of this run and the
//       parameters to FILE
//   weft-mpi-train --newest DIR --out FILE   the parameters of DIR's newest checkpoint
//   weft-mpi-train --compare A B             exit 1 unless A and B agree within float
//                                            tolerance (their parameters only with --params)
//
// Each rank initializes its parameters from its own seed, so only the Trainer's broadcast
// from rank 0 makes them agree; each checks that its step saw 16 / N (16 / S) examples per call.
//
// Test hooks for faults (here, not in the library): WEFT_TEST_FAULT_RANK=r and
// WEFT_TEST_FAULT_STEP=k make rank r, when called for step k (counting from 0), kill itself
// with SIGKILL (WEFT_TEST_FAULT=kill) or stop answering (WEFT_TEST_FAULT=hang) before the
// step's all_reduce, while the other ranks wait in theirs.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "frontend/Weft.h"
#include "ir/Signature.h"
#include "passes/PassManager.h"
#include "runtime/Collective.h"
#include "runtime/Random.h"
#include "runtime/train/StepLayout.h"
#include "runtime/train/Trainer.h"

#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>

using namespace weft;

namespace {

constexpr int64_t kExamples = 64, kGlobalBatch = 16, kIn = 8, kHidden = 16, kSteps = 12;

train::Dataset teacherData() {
  Array x(DType::F32, {kExamples, kIn}), y(DType::F32, {kExamples, 1});
  for (int64_t b = 0; b < kExamples; ++b) {
    double dot = 0;
    for (int64_t j = 0; j < kIn; ++j) {
      float v = 2.0f * random::uniformF32(/*seed=*/2026, static_cast<uint64_t>(b * kIn + j)) - 1;
      x.data<float>()[b * kIn + j] = v;
      dot += v * (j % 2 ? 0.5 : -0.25);
    }
    y.data<float>()[b] = static_cast<float>(std::tanh(dot));
  }
  train::Dataset d;
  d.add("x", std::move(x)).check();
  d.add("y", std::move(y)).check();
  return d;
}

/// What one invocation does (see the usage above).
struct RunOptions {
  std::string out, checkpoints;
  int64_t steps = kSteps;
  /// TrainOptions::shards: 0, or a bit-identical run cut into this many shards.
  int64_t shards = 0;
  bool resume = false;
  /// Write the newest checkpoint's parameters instead of training.
  bool newestOnly = false;
};

/// Rank `WEFT_TEST_FAULT_RANK` dies or hangs when called for step `WEFT_TEST_FAULT_STEP`.
void faultHook(int rank, int64_t step) {
  const char *r = std::getenv("WEFT_TEST_FAULT_RANK"), *k = std::getenv("WEFT_TEST_FAULT_STEP");
  if (!r || !k || std::atoi(r) != rank || std::atoll(k) != step)
    return;
  const char *how = std::getenv("WEFT_TEST_FAULT");
  if (how && std::string(how) == "hang")
    for (;;)
      pause();
  std::raise(SIGKILL);
}

int trainAndWrite(const RunOptions &ro) {
  const int rank = collective::rank(), world = collective::worldSize();
  Graph g("mlp");
  Dim B = g.dim("B");
  Tensor x = g.input("x", {B, kIn});
  Tensor y = g.input("y", {B, 1});
  Tensor w1 = g.param("fc1.weight", {kIn, kHidden}, init::xavier());
  Tensor b1 = g.param("fc1.bias", {kHidden}, init::zeros());
  Tensor w2 = g.param("fc2.weight", {kHidden, 1}, init::xavier());
  Tensor b2 = g.param("fc2.bias", {1}, init::zeros());
  Tensor e = matmul(tanh(matmul(x, w1) + b1), w2) + b2 - y;
  g.output(mean(e * e, {0, 1}).named("loss"));
  std::vector<Array> params = g.initParams(/*seed=*/100 + rank); // rank 0's win (broadcast)
  auto m = g.build();
  std::ostringstream log;
  passes::PassManager pm(log);
  pm.addPipeline("optimize-step{kind=adam lr=0.02 data_parallel=1 bucket_bytes=256 "
                 "params=fc1.weight,fc1.bias,fc2.weight,fc2.bias},canonicalize,"
                 "overlap-collectives")
      .check();
  pm.run(*m).check();
  cpu::CompileOptions co;
  co.optLevel = 0; // a tiny model: compiling is most of the run
  auto exe = cpu::compile(*m, co).take();

  const ir::Function &step = *m->function("mlp_step");
  ir::Signature sig = ir::Signature::of(step);
  train::StepLayout layout = train::stepLayoutFromNames(sig.paramNames, sig.resultNames).take();
  std::vector<Array> state;
  for (const train::Carried &s : layout.state)
    state.push_back(sig.zerosOf(s.arg).take());
  size_t xArg = 0;
  while (step.param(xArg)->name() != "x")
    ++xArg;
  // With shards, the step runs on several threads at once.
  std::atomic<int64_t> wrongBatches = 0, calls = 0;
  const int64_t shardRows = kGlobalBatch / (ro.shards > 0 ? ro.shards : world);
  train::Function run = [&](std::span<const Array> a) {
    wrongBatches += a[xArg].shape()[0] != shardRows;
    faultHook(rank, calls++);
    return exe->run("mlp_step", a);
  };
  train::TrainOptions o;
  o.batching = {.batchSize = kGlobalBatch, .shuffle = true, .dropLast = false, .seed = 5};
  o.epochs = kSteps * kGlobalBatch / kExamples;
  o.maxSteps = ro.steps;
  o.shards = ro.shards;
  o.progress = train::Progress::Off;
  o.checkpointDir = ro.checkpoints;
  o.checkpointEvery = ro.checkpoints.empty() ? 0 : 1;
  auto trainer = train::Trainer::make(run, layout, std::move(params), std::move(state), o).take();
  if (ro.newestOnly && !trainer.resumeFromCheckpoint().take()) {
    std::fprintf(stderr, "no checkpoint in %s\n", ro.checkpoints.c_str());
    return 1;
  }
  if (ro.resume)
    trainer.resumeFromCheckpoint().take();
  train::History h = ro.newestOnly ? train::History{} : trainer.fit(teacherData()).take();
  if (wrongBatches) {
    std::fprintf(stderr, "rank %d: %lld steps did not get a shard of %lld examples\n", rank,
                 static_cast<long long>(wrongBatches.load()), static_cast<long long>(shardRows));
    return 1;
  }
  if (rank != 0)
    return 0;
  std::ofstream out(ro.out);
  for (double l : h.losses)
    out << fmt::format("loss {:.9g}\n", l);
  for (size_t k = 0; k < layout.params.size(); ++k) {
    const Array &p = trainer.params()[k];
    for (int64_t i = 0; i < p.numel(); ++i)
      out << fmt::format("{}[{}] {:.9g}\n", layout.params[k].name, i, p.getDouble(i));
  }
  std::printf("rank 0 of %d: %zu steps, at step %lld\n", world, h.losses.size(),
              static_cast<long long>(trainer.position().step));
  return out ? 0 : 1;
}

/// Lines "<name> <value>"; the same names in the same order, values within tolerance; with
/// `paramsOnly`, "loss" lines are skipped.
int compare(const std::string &a, const std::string &b, bool paramsOnly) {
  std::ifstream fa(a), fb(b);
  std::string na, nb;
  double va = 0, vb = 0;
  int64_t lines = 0, bad = 0;
  auto next = [&](std::ifstream &f, std::string &n, double &v) {
    while (f >> n >> v)
      if (!paramsOnly || n != "loss")
        return true;
    return false;
  };
  while (next(fa, na, va)) {
    if (!next(fb, nb, vb) || na != nb) {
      std::fprintf(stderr, "%s and %s differ in their entries at line %lld\n", a.c_str(), b.c_str(),
                   static_cast<long long>(lines + 1));
      return 1;
    }
    ++lines;
    // float32 summation order: the gradient is a mean of shard means, not one mean.
    if (std::fabs(va - vb) > 1e-5 + 1e-4 * std::fabs(va) && bad++ < 10)
      std::fprintf(stderr, "%s: %.9g vs %.9g\n", na.c_str(), va, vb);
  }
  if (next(fb, nb, vb) || lines == 0 || bad) {
    std::fprintf(stderr, "%s and %s differ (%lld of %lld entries)\n", a.c_str(), b.c_str(),
                 static_cast<long long>(bad), static_cast<long long>(lines));
    return 1;
  }
  std::printf("%lld entries agree\n", static_cast<long long>(lines));
  return 0;
}

} // namespace

int main(int argc, char **argv) try {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() >= 3 && args[0] == "--compare")
    return compare(args[1], args[2], args.size() == 4 && args[3] == "--params");
  RunOptions ro;
  bool usage = false;
  for (size_t i = 0; i < args.size() && !usage; ++i) {
    const std::string &a = args[i];
    bool hasValue = i + 1 < args.size();
    if (a == "--out" && hasValue)
      ro.out = args[++i];
    else if (a == "--steps" && hasValue)
      ro.steps = std::atoll(args[++i].c_str());
    else if (a == "--shards" && hasValue)
      ro.shards = std::atoll(args[++i].c_str());
    else if (a == "--checkpoints" && hasValue)
      ro.checkpoints = args[++i];
    else if (a == "--newest" && hasValue) {
      ro.checkpoints = args[++i];
      ro.newestOnly = true;
    } else if (a == "--resume")
      ro.resume = true;
    else
      usage = true;
  }
  if (!usage && !ro.out.empty())
    return trainAndWrite(ro);
  std::fprintf(stderr, "usage: weft-mpi-train --out FILE [--steps N] [--shards S] [--checkpoints "
                       "DIR [--resume]] | --newest DIR --out FILE | --compare A B [--params]\n");
  return 2;
} catch (const Error &e) {
  std::fprintf(stderr, "weft-mpi-train: %s\n", e.what());
  return 1;
}
