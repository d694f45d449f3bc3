//===- examples/gat.cpp - node classification: a GAT against an MLP -------===//
//
// A graph drawn from a stochastic block model: N nodes in C equal communities, an edge between
// two nodes of one community with probability pIn and across communities with pOut < pIn.
// Each node's features are its community's centroid plus Gaussian noise strong enough that the
// features alone say little. The task: a node's community, learned from the labels of a
// training fraction of the nodes and measured on the held-out rest.
//
// An MLP sees only each node's own features. A two-layer graph attention network
// (nn::graphAttention, multi-head) attends over each node's neighbours, whose features average
// out the noise, so it classifies far better: the point of using the edges.
//
// Both train full-batch with Adam through the optimize-step pass on the CPU JIT: one call per
// step runs the forward pass, the gradient and the update.
//
//   weft-example-gat [--steps N] [--nodes N] [--seed S] [--opt-level 0-3]
//
// Its last line: `test accuracy: gat=<a> mlp=<b>`.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "examples/CommandLine.h"
#include "frontend/Weft.h"
#include "frontend/nn/Activations.h"
#include "frontend/nn/Linear.h"
#include "frontend/nn/Losses.h"
#include "frontend/nn/attention/GraphAttention.h"
#include "passes/PassManager.h"
#include "passes/optim/StepPipeline.h"
#include "runtime/Random.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>

using namespace weft;

namespace {

struct Config {
  int64_t nodes = 300, classes = 3, features = 16, steps = 200, seed = 1;
  /// LLVM's level; the smoke test takes 0, since compiling costs more than its few steps.
  int64_t optLevel = 2;
  double pIn = 0.05, pOut = 0.005, signal = 0.4, trainFraction = 0.3, lr = 0.01;
};

/// The generated graph: features x [N, F], adjacency [N, N] (symmetric 0/1), labels [N], and
/// the training mask [N] (1 for training nodes, 0 for held-out ones).
struct Dataset {
  Array x, adj, labels, trainMask;
};

Dataset generate(const Config &c) {
  int64_t n = c.nodes, f = c.features;
  uint64_t draw = 0;
  auto uniform = [&] { return random::uniformF64(c.seed, draw++); };
  auto normal = [&] { return random::normalF64(c.seed + 1, draw++); };
  Dataset d{Array(DType::F32, {n, f}), Array(DType::F32, {n, n}), Array(DType::I64, {n}),
            Array(DType::F32, {n})};
  // Centroids of +-signal per feature.
  std::vector<double> centroid(size_t(c.classes * f));
  for (double &v : centroid)
    v = uniform() < 0.5 ? -c.signal : c.signal;
  for (int64_t i = 0; i < n; ++i) {
    int64_t label = i * c.classes / n;
    d.labels.data<int64_t>()[i] = label;
    for (int64_t k = 0; k < f; ++k)
      d.x.data<float>()[i * f + k] = float(centroid[size_t(label * f + k)] + normal());
    d.trainMask.data<float>()[i] = uniform() < c.trainFraction ? 1.0f : 0.0f;
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) {
      bool same = d.labels.data<int64_t>()[i] == d.labels.data<int64_t>()[j];
      float edge = uniform() < (same ? c.pIn : c.pOut) ? 1.0f : 0.0f;
      d.adj.data<float>()[i * n + j] = d.adj.data<float>()[j * n + i] = edge;
    }
  return d;
}

/// One model: its module (@<name> -> (loss, logits) and @<name>_step), its initial parameters.
struct Model {
  std::string name;
  std::unique_ptr<ir::Module> module;
  std::vector<ParamInfo> params;
  std::vector<Array> init;
};

Model buildModel(bool gat, const Config &c) {
  Model m;
  m.name = gat ? "gat" : "mlp";
  Graph g(m.name);
  Dim n(c.nodes);
  Tensor x = g.input("x", {n, c.features});
  Tensor adj = g.input("adj", {n, n});
  Tensor labels = g.input("labels", {n}, DType::I64);
  Tensor trainMask = g.input("train_mask", {n});
  nn::Scope s(g, nn::Mode::Train);
  Tensor logits;
  if (gat) {
    // 4 heads of 8 features, concatenated; then one head to the classes (Velickovic et al.).
    Tensor h = nn::graphAttention(s.child("gat1"), x, adj, c.features, 8,
                                  nn::GraphAttentionOptions().withHeads(4));
    logits = nn::graphAttention(s.child("gat2"), nn::elu(h), adj, 32, c.classes);
  } else {
    Tensor h = relu(nn::linear(s.child("fc1"), x, c.features, 32));
    logits = nn::linear(s.child("fc2"), h, 32, c.classes);
  }
  g.outputs({nn::crossEntropy(logits, labels, trainMask), logits});
  m.params = g.params();
  m.init = g.initParams(c.seed + (gat ? 10 : 20));
  m.module = g.build();

  std::string names;
  for (const ParamInfo &p : m.params)
    names += (names.empty() ? "" : ",") + p.name;
  std::ostringstream log;
  passes::PassManager pm(log);
  pm.addPipeline(optim::trainStepPipeline(
                     fmt::format("kind=adam lr={} weight_decay=5e-4 params={}", c.lr, names)))
      .check();
  pm.run(*m.module).check();
  return m;
}

const ir::Function &function(const ir::Module &m, const std::string &name) {
  for (const auto &f : m.functions())
    if (f->name() == name)
      return *f;
  throw Error(err(fmt::format("the module has no function @{}", name)));
}

/// A zero array of a function parameter's (static) type.
Array zerosOf(const ir::Value &v) {
  std::vector<int64_t> shape;
  for (const ir::Dim &d : v.type().dims())
    shape.push_back(d.size());
  return Array(v.type().dtype(), shape);
}

/// Trains `m` and returns its accuracy on the nodes outside the training mask.
double trainAndTest(Model &m, const Dataset &d, const Config &c) {
  cpu::CompileOptions options;
  options.optLevel = static_cast<int>(c.optLevel);
  auto exe = cpu::compile(*m.module, options).take();
  const ir::Function &step = function(*m.module, m.name + "_step");
  const ir::Function &forward = function(*m.module, m.name);
  // Every argument by name: parameters, optimizer state (zeros), the data, the step number.
  std::map<std::string, Array> values{
      {"x", d.x}, {"adj", d.adj}, {"labels", d.labels}, {"train_mask", d.trainMask}};
  for (size_t i = 0; i < m.params.size(); ++i)
    values[m.params[i].name] = m.init[i];
  for (size_t i = 0; i < step.numParams(); ++i)
    if (!values.count(step.param(i)->name()))
      values[step.param(i)->name()] = zerosOf(*step.param(i));
  auto argsOf = [&](const ir::Function &f) {
    std::vector<Array> args;
    for (size_t i = 0; i < f.numParams(); ++i)
      args.push_back(values.at(f.param(i)->name()));
    return args;
  };
  std::vector<const ir::Value *> results(step.returnOp()->operands().begin(),
                                         step.returnOp()->operands().end());
  double loss = 0;
  for (int64_t t = 0; t < c.steps; ++t) {
    values["step"] = Array::of<int64_t>({}, {t});
    std::vector<Array> out = exe->run(step.name(), argsOf(step)).take();
    loss = out[0].getDouble(0);
    // Result X.new replaces argument X.
    for (size_t r = 1; r < out.size(); ++r) {
      std::string carried = results[r]->name();
      values[carried.substr(0, carried.size() - 4)] = std::move(out[r]);
    }
  }
  Array logits = exe->run(forward.name(), argsOf(forward)).take()[1];
  int64_t correct = 0, held = 0;
  for (int64_t i = 0; i < c.nodes; ++i) {
    if (d.trainMask.getDouble(i) != 0)
      continue;
    int64_t best = 0;
    for (int64_t k = 1; k < c.classes; ++k)
      if (logits.getDouble(i * c.classes + k) > logits.getDouble(i * c.classes + best))
        best = k;
    correct += best == d.labels.data<int64_t>()[i];
    ++held;
  }
  std::printf("%s: %lld steps of Adam, final training loss %.4f\n", m.name.c_str(),
              static_cast<long long>(c.steps), loss);
  return double(correct) / double(held);
}

} // namespace

int main(int argc, char **argv) try {
  Config c;
  CLI::App app("Node classification: a graph attention network against an MLP.",
               "weft-example-gat");
  examples::addInteger(app, "--steps", c.steps, "training steps");
  examples::addInteger(app, "--nodes", c.nodes, "nodes of the graph", 2 * c.classes);
  examples::addInteger(app, "--seed", c.seed, "the seed of the graph and the weights");
  examples::addInteger(app, "--opt-level", c.optLevel, "LLVM's level for the JIT", 0, 3);
  examples::parseCommandLine(app, argc, argv);
  Dataset d = generate(c);
  int64_t edges = 0;
  for (int64_t i = 0; i < d.adj.numel(); ++i)
    edges += d.adj.getDouble(i) != 0;
  std::printf("graph: %lld nodes in %lld communities, %lld edges, %lld features\n",
              static_cast<long long>(c.nodes), static_cast<long long>(c.classes),
              static_cast<long long>(edges / 2), static_cast<long long>(c.features));
  Model gat = buildModel(true, c), mlp = buildModel(false, c);
  double gatAccuracy = trainAndTest(gat, d, c);
  double mlpAccuracy = trainAndTest(mlp, d, c);
  std::printf("test accuracy: gat=%.3f mlp=%.3f\n", gatAccuracy, mlpAccuracy);
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "weft-example-gat: %s\n", e.what());
  return 1;
}
