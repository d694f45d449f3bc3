//===- bench/data_parallel_bench.cpp - what data parallelism costs a step ---===//
//
// The numbers bench/data_parallel.py turns into issue 15's scaling table: for one model's
// data-parallel training step (optimize-step{kind=adam data_parallel=1}), the bytes it
// all-reduces per step and in how many buckets, and the median times of the whole step, of its
// forward pass alone, and of an all_reduce of that many bytes alone. Run it alone, or under
// `mpirun -np N`: every rank takes its shard of the same global batch, as train::Trainer would.
//
//   weft-bench-data-parallel --model adding|sort-letters [--global-batch G] [--steps K]
//                            [--bucket-bytes N] [--threads N]
//
// Models: `adding`, the adding problem's LSTM (examples/models/AddingProblem.h: T = 100,
// 32 units, batch 64); `sort-letters`, the seq2seq exercise's encoder-decoder
// (examples/models/SortLettersModel.h: embedding 15, 2 + 2 LSTM layers of 50, batch 128, on
// random words of up to 7 letters).
//
// Rank 0 prints one line of key=value pairs: model, world, batch (per rank), params,
// bytes, buckets, step_us, forward_us, allreduce_us (0 in a world of one).
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "bench/BenchTiming.h"
#include "examples/models/AddingProblem.h"
#include "examples/models/SortLettersModel.h"
#include "ir/Signature.h"
#include "ir/Walk.h"
#include "passes/PassManager.h"
#include "runtime/Collective.h"
#include "runtime/Parallel.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>

using namespace weft;

namespace {

struct Config {
  std::string model = "adding";
  int64_t globalBatch = 0, steps = 20, bucketBytes = 25 << 20, threads = 1;
};

/// A model's loss function, its parameters and one global batch of its inputs, by name.
struct Workload {
  std::unique_ptr<ir::Module> module;
  std::vector<Array> init;
  std::string paramNames;
  std::map<std::string, Array> batch;
};

Workload workload(const Config &c, int64_t localBatch, int64_t rank) {
  Workload w;
  if (c.model == "adding") {
    examples::AddingModel m = examples::buildAddingModel(/*lstm=*/true, 100, 32);
    w.module = std::move(m.module);
    w.init = std::move(m.init);
    w.paramNames = m.paramNames;
    train::Dataset d = examples::addingData(localBatch, 100, /*seed=*/100 + rank);
    w.batch.emplace("xs", d.array(0));
    w.batch.emplace("ys", d.array(1));
    return w;
  }
  if (c.model == "sort-letters") {
    examples::SortLettersBatch batch = examples::sortLettersBatch(localBatch, /*seed=*/100 + rank);
    Graph g("sort_letters");
    examples::buildSortLettersModel(g, examples::Decode::TeacherForcing, {}, batch.vocab.size(), 0);
    w.init = g.initParams(/*seed=*/1);
    for (const ParamInfo &p : g.params())
      w.paramNames += (w.paramNames.empty() ? "" : ",") + p.name;
    w.module = g.build();
    w.batch.emplace("source", std::move(batch.sourceIds));
    w.batch.emplace("source_lengths", std::move(batch.sourceLengths));
    w.batch.emplace("targets", std::move(batch.targetIds));
    w.batch.emplace("targets_lengths", std::move(batch.targetLengths));
    return w;
  }
  throw Error(err(fmt::format("unknown model '{}'; models: adding, sort-letters", c.model)));
}

int64_t defaultBatch(const std::string &model) { return model == "sort-letters" ? 128 : 64; }

ir::Function &function(ir::Module &m, std::string_view suffix) {
  for (const auto &f : m.functions())
    if (f->name().ends_with(suffix))
      return *f;
  throw Error(err(fmt::format("the module has no function @*{}", suffix)));
}

/// The bytes the step's all_reduce ops send, and how many there are.
std::pair<int64_t, int64_t> allReducedBytes(ir::Function &step) {
  int64_t bytes = 0, count = 0;
  ir::walk(step.body(), [&](ir::Op &op) {
    if (op.kind() != ir::OpKind::AllReduce)
      return;
    bytes += static_cast<int64_t>(op.result(0)->type().evaluateBytes({}).take());
    ++count;
  });
  return {bytes, count};
}

/// The arguments of `f` by name: parameters, zeroed state, and the batch.
std::vector<Array> arguments(const ir::Function &f, const Workload &w) {
  std::vector<std::string> names;
  std::stringstream ss(w.paramNames);
  for (std::string n; std::getline(ss, n, ',');)
    names.push_back(n);
  std::vector<Array> args;
  for (size_t i = 0; i < f.numParams(); ++i) {
    const ir::Value *p = f.param(i);
    auto param = std::find(names.begin(), names.end(), p->name());
    if (param != names.end()) {
      args.push_back(w.init[static_cast<size_t>(param - names.begin())]);
    } else if (auto in = w.batch.find(std::string(p->name())); in != w.batch.end()) {
      args.push_back(in->second);
    } else {
      args.push_back(ir::Signature::of(f).zerosOf(i).take()); // optimizer state: zeros
    }
  }
  return args;
}

Config parseArgs(int argc, char **argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    if (i + 1 >= argc)
      throw Error(err(fmt::format("'{}' needs a value", argv[i])));
    const char *flag = argv[i], *v = argv[++i];
    if (!std::strcmp(flag, "--model"))
      c.model = v;
    else if (!std::strcmp(flag, "--global-batch"))
      c.globalBatch = std::atoll(v);
    else if (!std::strcmp(flag, "--steps"))
      c.steps = std::atoll(v);
    else if (!std::strcmp(flag, "--bucket-bytes"))
      c.bucketBytes = std::atoll(v);
    else if (!std::strcmp(flag, "--threads"))
      c.threads = std::atoll(v);
    else
      throw Error(err(fmt::format("unknown option '{}'; options: --model adding|sort-letters "
                                  "--global-batch G --steps K --bucket-bytes N --threads N",
                                  flag)));
  }
  if (c.globalBatch == 0)
    c.globalBatch = defaultBatch(c.model);
  if (c.steps < 1 || c.bucketBytes < 1 || c.threads < 1 || c.globalBatch < 1)
    throw Error(err("--steps, --bucket-bytes, --threads and --global-batch take positive values"));
  return c;
}

} // namespace

int main(int argc, char **argv) try {
  Config c = parseArgs(argc, argv);
  setNumThreads(static_cast<int>(c.threads));
  const int rank = collective::rank(), world = collective::worldSize();
  if (c.globalBatch % world)
    throw Error(err(fmt::format("a global batch of {} does not split over {} processes",
                                c.globalBatch, world)));
  const int64_t local = c.globalBatch / world;

  Workload w = workload(c, local, rank);
  std::ostringstream log;
  passes::PassManager pm(log);
  pm.addPipeline(fmt::format("canonicalize,optimize-step{{kind=adam lr=0.001 data_parallel=1 "
                             "bucket_bytes={} params={}}},hoist-weight-gradients,licm,"
                             "canonicalize,fuse-elementwise,dce",
                             c.bucketBytes, w.paramNames))
      .check();
  pm.run(*w.module).check();
  auto exe = cpu::compile(*w.module).take();
  ir::Function &step = function(*w.module, "_step");
  const ir::Function &loss = *w.module->functions()[0];
  auto [bytes, buckets] = allReducedBytes(step);
  int64_t params = 0;
  for (const Array &p : w.init)
    params += p.numel();

  std::vector<Array> stepArgs = arguments(step, w), lossArgs = arguments(loss, w);
  // Every rank makes the same number of calls: the step's all_reduce ops pair them up.
  auto timeCalls = [&](auto &&call) {
    call();
    std::vector<double> t;
    for (int64_t k = 0; k < c.steps; ++k)
      t.push_back(bench::timeOnce(call));
    return bench::median(t) * 1e6;
  };
  double stepUs = timeCalls([&] { exe->run(step.name(), stepArgs).take(); });
  double forwardUs = timeCalls([&] { exe->run(loss.name(), lossArgs).take(); });
  std::vector<float> buffer(static_cast<size_t>(bytes / 4), 1.0f);
  double reduceUs = world == 1 ? 0.0 : timeCalls([&] {
    collective::allReduce(buffer.data(), static_cast<int64_t>(buffer.size()), DType::F32, 0, true)
        .check();
  });
  if (rank == 0)
    std::printf("model=%s world=%d batch=%lld params=%lld bytes=%lld buckets=%lld step_us=%.1f "
                "forward_us=%.1f allreduce_us=%.1f\n",
                c.model.c_str(), world, static_cast<long long>(local),
                static_cast<long long>(params), static_cast<long long>(bytes),
                static_cast<long long>(buckets), stepUs, forwardUs, reduceUs);
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "weft-bench-data-parallel: %s\n", e.what());
  return 1;
}
