//===- bench/seq2seq_bench.cpp - the sort-letters training step and decoder -===//
//
// The model of weft-example-sort-letters (examples/models/SortLettersModel.h: embedding 15, 2-layer
// LSTM encoder and decoder of 50, dense output over 30 letters and specials), on one fixed
// seeded batch of 128 words of 1 to 7 letters (source S = 7 steps, target T = 8 with <EOS>):
//   train:  the training step as the example compiles it (teacher forcing, masked
//           cross-entropy, optimize-step with Adam 0.001 and clip 5), called in place;
//   decode: the greedy decoder (a `while` of at most T steps that stops when every word has
//           emitted <EOS>) on the same batch, with the initial parameters, after the passes of
//           --decoder-passes: `optimize` by default (the input projections hoisted out of the
//           encoder's scans, the gate nonlinearities fused), `none` to compile the graph as
//           built, as the example does for now (about twice as slow: every elementwise op of
//           the cells a loop of its own over memory).
// Prints the median microseconds per call over about half a second of calls (--seconds: under a
// profiler, longer) after a warm-up, in wall time or with --cpu-time in the process's CPU time
// (on a loaded machine, a single-threaded call's own cost);
// bench/seq2seq_torch.py is the PyTorch peer and bench/compare.py runs both (suite seq2seq).
//
//   weft-bench-seq2seq [--mode train|decode] [--threads N] [--decoder-passes P|none] [--raw]
//                      [--print-ir] [--seconds S] [--cpu-time] [--attention bahdanau|luong]
// --attention adds attention over the encoder's outputs to the decoder (the example's
// --attention [--score luong]); bench/lstm_attention.sh times its decode with fuse-lstm-attention
// on and off.
// --raw prints "mode B S T threads microseconds_per_call", the line bench/compare.py reads.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "bench/BenchTiming.h"
#include "examples/models/SortLettersModel.h"
#include "frontend/Weft.h"
#include "ir/Printer.h"
#include "ir/Signature.h"
#include "passes/PassManager.h"
#include "passes/optim/StepPipeline.h"
#include "runtime/Parallel.h"
#include "runtime/Random.h"
#include "runtime/text/Vocabulary.h"
#include "runtime/train/StepLayout.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

using namespace weft;
using examples::Decode;

namespace {

constexpr int64_t kBatch = 128, kLongest = 7;

struct Config {
  std::string mode = "train";
  int64_t threads = 0;
  bool raw = false;
  /// Prints the compiled module's IR to stderr (to read what a call runs).
  bool printIR = false;
  /// The passes run on the decoder before it is compiled; "none" compiles it as built, as
  /// weft-example-sort-letters does for now.
  std::string decoderPasses = "optimize";
  /// About how long the timed calls take in all (longer under a profiler).
  double seconds = 0.5;
  /// Times calls in process CPU seconds: on a loaded machine, what a single-threaded call costs.
  bool cpuTime = false;
  /// The model's sizes; --attention bahdanau|luong adds attention to the decoder, as the
  /// example's --attention [--score luong] does.
  examples::SortLettersSizes sizes;
};

Config config;

using Batch = examples::SortLettersBatch;

/// 128 words of 1 to 7 random letters (seed 1) and their sorted letters.
Batch makeBatch() { return examples::sortLettersBatch(kBatch, /*seed=*/1); }

const ir::Function &function(const ir::Module &m, std::string_view name) {
  for (const auto &f : m.functions())
    if (f->name() == name)
      return *f;
  throw Error(err(fmt::format("no function @{}", name)));
}

/// Median seconds per training step, compiled as weft-example-sort-letters compiles it.
double timeTrainingStep(const Batch &batch, int &runs) {
  Graph g("sort_letters");
  examples::buildSortLettersModel(g, Decode::TeacherForcing, config.sizes, batch.vocab.size(), 0);
  std::vector<Array> params = g.initParams(1);
  auto m = g.build();
  std::string names;
  for (const std::string &p : g.trainableNames())
    names += (names.empty() ? "" : ",") + p;
  std::ostringstream log;
  passes::PassManager pm(log);
  pm.addPipeline(
        optim::trainStepPipeline(fmt::format("kind=adam lr=0.001 clip_norm=5 params={}", names)))
      .check();
  pm.run(*m).check();
  if (config.printIR)
    std::fputs(ir::print(*m).c_str(), stderr);
  auto exe = cpu::compile(*m).take();
  const ir::Function &step = function(*m, "sort_letters_step");
  ir::Signature sig = ir::Signature::of(step);
  train::StepLayout layout = train::stepLayoutFromNames(sig.paramNames, sig.resultNames).take();

  // Arguments live in `args` across calls: runInPlace updates parameters and Adam's state in
  // their own buffers and hands them back, and they are moved back in for the next call.
  std::vector<Array> args(layout.numArgs);
  for (size_t i = 0; i < layout.params.size(); ++i)
    args[layout.params[i].arg] = std::move(params[i]);
  for (const train::Carried &s : layout.state)
    args[s.arg] = sig.zerosOf(s.arg).take();
  for (const train::Fed &f : layout.batch) {
    const Array *a = f.name == "source"            ? &batch.sourceIds
                     : f.name == "source_lengths"  ? &batch.sourceLengths
                     : f.name == "targets"         ? &batch.targetIds
                     : f.name == "targets_lengths" ? &batch.targetLengths
                                                   : nullptr;
    if (!a)
      throw Error(err(fmt::format("the training step takes an unknown input '{}'", f.name)));
    args[f.arg] = *a;
  }
  int64_t stepNumber = 0;
  return bench::medianOverBudget(
      [&] {
        if (layout.stepArg)
          args[*layout.stepArg] = Array::of<int64_t>({}, {stepNumber++});
        std::vector<Array> out = exe->runInPlace("sort_letters_step", args).take();
        for (const train::Carried &c : layout.params)
          args[c.arg] = std::move(out[c.result]);
        for (const train::Carried &c : layout.state)
          args[c.arg] = std::move(out[c.result]);
      },
      config.seconds, 10, 1000000, runs, config.cpuTime);
}

/// Median seconds per greedy decode of the batch; `steps` is the longest answer.
double timeGreedyDecode(const Batch &batch, int &runs, int64_t &steps) {
  Graph g("sort_letters_infer");
  examples::buildSortLettersModel(g, Decode::Greedy, config.sizes, batch.vocab.size(),
                                  kLongest + 1);
  std::vector<Array> args = g.arguments({batch.sourceIds, batch.sourceLengths}, g.initParams(1));
  auto m = g.build();
  if (config.decoderPasses != "none") {
    std::ostringstream log;
    passes::PassManager pm(log);
    pm.addPipeline(config.decoderPasses).check();
    pm.run(*m).check();
  }
  if (config.printIR)
    std::fputs(ir::print(*m).c_str(), stderr);
  auto exe = cpu::compile(*m).take();
  std::vector<Array> out;
  double s = bench::medianOverBudget([&] { out = exe->run("sort_letters_infer", args).take(); },
                                     config.seconds, 10, 1000000, runs, config.cpuTime);
  steps = 0;
  for (int64_t b = 0; b < out[1].numel(); ++b)
    steps = std::max<int64_t>(steps, out[1].dtype() == DType::I64 ? out[1].data<int64_t>()[b]
                                                                  : out[1].data<int32_t>()[b]);
  return s;
}

Config parseArgs(int argc, char **argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--cpu-time")) {
      c.cpuTime = true;
      continue;
    }
    if (!std::strcmp(argv[i], "--raw") || !std::strcmp(argv[i], "--print-ir")) {
      (argv[i][2] == 'r' ? c.raw : c.printIR) = true;
      continue;
    }
    if (i + 1 == argc)
      throw Error(err(fmt::format("option '{}' needs a value", argv[i])));
    const char *v = argv[++i];
    if (!std::strcmp(argv[i - 1], "--mode") &&
        (!std::strcmp(v, "train") || !std::strcmp(v, "decode")))
      c.mode = v;
    else if (!std::strcmp(argv[i - 1], "--threads") && std::atoi(v) > 0)
      c.threads = std::atoi(v);
    else if (!std::strcmp(argv[i - 1], "--decoder-passes"))
      c.decoderPasses = v;
    else if (!std::strcmp(argv[i - 1], "--seconds") && std::atof(v) > 0)
      c.seconds = std::atof(v);
    else if (!std::strcmp(argv[i - 1], "--attention") &&
             (!std::strcmp(v, "bahdanau") || !std::strcmp(v, "luong"))) {
      c.sizes.attention = true;
      c.sizes.score =
          v[0] == 'b' ? examples::AttentionScore::Bahdanau : examples::AttentionScore::Luong;
    } else
      throw Error(err(
          fmt::format("bad option '{} {}'; options: --mode train|decode, "
                      "--threads N (N > 0), --decoder-passes PIPELINE|none, --seconds S (S > 0), "
                      "--attention bahdanau|luong, --raw, --print-ir, --cpu-time",
                      argv[i - 1], v)));
  }
  return c;
}

} // namespace

int main(int argc, char **argv) try {
  config = parseArgs(argc, argv);
  const Config &c = config;
  if (c.threads > 0)
    setNumThreads(static_cast<int>(c.threads));
  Batch batch = makeBatch();
  int runs = 0;
  int64_t steps = kLongest + 1;
  double s =
      c.mode == "train" ? timeTrainingStep(batch, runs) : timeGreedyDecode(batch, runs, steps);
  if (c.raw) {
    std::printf("%s %lld %lld %lld %d %.1f\n", c.mode.c_str(), (long long)kBatch,
                (long long)kLongest, (long long)(kLongest + 1), numThreads(), s * 1e6);
    return 0;
  }
  std::printf("sort-letters %s, B = %lld, S = %lld, T = %lld, vocabulary %d, %d thread(s): "
              "%.1f us per call (median of %d)%s\n",
              c.mode == "train" ? "training step (Adam)" : "greedy decode", (long long)kBatch,
              (long long)kLongest, (long long)(kLongest + 1), batch.vocab.size(), numThreads(),
              s * 1e6, runs,
              c.mode == "decode" ? fmt::format(", longest answer {} steps", steps).c_str() : "");
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "weft-bench-seq2seq: %s\n", e.what());
  return 1;
}
