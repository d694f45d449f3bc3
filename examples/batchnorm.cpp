//===- examples/batchnorm.cpp - a deep sigmoid MLP with and without BatchNorm -===//
//
// Ioffe & Szegedy (2015): normalizing each layer's pre-activations over the batch keeps a deep
// network trainable where the plain one stalls. One MLP of `depth` sigmoid layers (width 32)
// learns a nonlinear two-class problem it generates (is a 2-D point inside a disk), trained
// twice with the same seed, data, batches and optimizer (SGD with momentum): once plain, once
// with nn::batchNorm1d before every sigmoid. The optimize-step pass appends the update to the
// gradient and carries BatchNorm's running statistics (its `carry` option), updating
// parameters, momentum and statistics in place; train::Trainer feeds the step.
//
//   weft-example-batchnorm [--steps N] [--depth L] [--lr X] [--out DIR] [--check]
//
// Writes DIR/batchnorm_loss.svg (both loss curves); its last lines print both final losses.
// --check exits with status 1 unless the loss with BatchNorm ends below the one without.
//
//===----------------------------------------------------------------------===//
#include "frontend/nn/BatchNorm.h"

#include "backends/cpu/CpuBackend.h"
#include "examples/CommandLine.h"
#include "frontend/Weft.h"
#include "frontend/nn/Activations.h"
#include "frontend/nn/Linear.h"
#include "frontend/nn/Losses.h"
#include "ir/Signature.h"
#include "passes/PassManager.h"
#include "passes/optim/StepPipeline.h"
#include "runtime/Random.h"
#include "runtime/Svg.h"
#include "runtime/train/StepLayout.h"
#include "runtime/train/Trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <sstream>

using namespace weft;

namespace {

struct Config {
  int64_t depth = 10, width = 32, batch = 64, steps = 600, examples = 4096;
  double lr = 0.1;
  std::string out = ".";
  bool check = false; ///< fail unless BatchNorm's final loss is the lower (the smoke test)
};

/// Points uniform in [-1, 1]^2 as x [n, 2]; label y [n, 1] is 1 inside the disk r < 0.8
/// (half of the square's area, so that always answering 1/2 scores ln 2 = 0.693), else 0.
train::Dataset diskData(int64_t n, int64_t seed) {
  Array x(DType::F32, {n, 2}), y(DType::F32, {n, 1});
  uint64_t draw = 0;
  for (int64_t i = 0; i < n; ++i) {
    double a = 2 * random::uniformF64(seed, draw++) - 1,
           b = 2 * random::uniformF64(seed, draw++) - 1;
    double r = std::sqrt(a * a + b * b);
    x.setDouble(i * 2, a);
    x.setDouble(i * 2 + 1, b);
    y.setDouble(i, r < 0.8 ? 1.0 : 0.0);
  }
  train::Dataset d;
  d.add("x", std::move(x)).check();
  d.add("y", std::move(y)).check();
  return d;
}

/// One compiled training step and what the Trainer needs to run it.
struct Model {
  std::string stepName;
  std::unique_ptr<ir::Module> module;
  std::unique_ptr<cpu::Executable> exe;
  train::StepLayout layout;
  std::vector<Array> params;            ///< initial values, in layout.params order
  std::map<std::string, Array> initial; ///< every initial value, by name
};

/// The MLP: depth x (linear, [batch norm], sigmoid), a linear readout, binary cross-entropy.
/// Parameters are named as an nn.Sequential's would be: layers.<l>.fc.weight, layers.<l>.bn.*.
/// A parameter named in `shared` starts from that value: both models start from the same
/// weights, which drawing by creation order would not give once BatchNorm's parameters
/// interleave.
Model buildModel(bool batchNorm, const Config &c, const std::map<std::string, Array> &shared) {
  Graph g(batchNorm ? "mlp_bn" : "mlp");
  Dim B = g.dim("B");
  Tensor h = g.input("x", {B, 2});
  Tensor y = g.input("y", {B, 1});
  nn::Scope layers = nn::Scope(g, nn::Mode::Train).child("layers");
  std::vector<Tensor> buffers;
  std::vector<std::string> carry;
  int64_t in = 2;
  for (int64_t l = 0; l < c.depth; ++l) {
    nn::Scope layer = layers.child(std::to_string(l));
    h = nn::linear(layer.child("fc"), h, in, c.width);
    if (batchNorm) {
      nn::BatchNormResult bn = nn::batchNorm1d(layer.child("bn"), h, c.width);
      h = bn.y;
      buffers.insert(buffers.end(), {bn.runningMean, bn.runningVar, bn.numBatchesTracked});
      for (const char *b : {"running_mean", "running_var", "num_batches_tracked"})
        carry.push_back(fmt::format("layers.{}.bn.{}", l, b));
    }
    h = nn::sigmoid(h);
    in = c.width;
  }
  Tensor logits = nn::linear(layers.child("out"), h, c.width, 1);
  g.output(nn::bceWithLogits(logits, y));
  g.outputs(buffers); // results 1, 2, ...: the new running statistics, in `carry` order

  Model m;
  m.module = g.build();
  std::string options = fmt::format("kind=momentum lr={} params=", c.lr);
  for (const std::string &name : g.trainableNames())
    options += name + ",";
  options.pop_back();
  for (size_t k = 0; k < carry.size(); ++k)
    options += (k ? "," : " carry=") + carry[k];
  std::ostringstream log;
  passes::PassManager pm(log);
  pm.addPipeline(optim::trainStepPipeline(options)).check();
  pm.run(*m.module).check();
  m.stepName = g.name() + "_step";
  // Only the step runs: compile it alone.
  auto &fs = m.module->functions();
  fs.erase(
      std::remove_if(fs.begin(), fs.end(), [&](const auto &f) { return f->name() != m.stepName; }),
      fs.end());
  m.exe = cpu::compile(*m.module).take();

  const ir::Function &step = *m.module->function(m.stepName);
  ir::Signature sig = ir::Signature::of(step);
  m.layout = train::stepLayoutFromNames(sig.paramNames, sig.resultNames).take();
  std::vector<Array> init = g.initParams(/*seed=*/1);
  for (size_t k = 0; k < g.params().size(); ++k) {
    auto it = shared.find(g.params()[k].name);
    m.initial[g.params()[k].name] = it != shared.end() ? it->second : init[k];
  }
  for (const train::Carried &p : m.layout.params)
    m.params.push_back(m.initial.at(p.name));
  return m;
}

/// Trains `m`; returns its per-step training losses.
std::vector<double> trainModel(Model &m, const Config &c, const train::Dataset &data) {
  std::vector<Array> state; // momentum buffers, zeros
  for (const train::Carried &s : m.layout.state) {
    const ir::Type &t = m.module->function(m.stepName)->param(s.arg)->type();
    std::vector<int64_t> shape;
    for (const ir::Dim &d : t.dims())
      shape.push_back(d.size());
    state.emplace_back(t.dtype(), shape);
  }
  train::TrainOptions o;
  o.batching = {.batchSize = c.batch, .shuffle = true, .dropLast = true, .seed = 7};
  o.epochs = (c.steps * c.batch + data.size() - 1) / data.size();
  o.maxSteps = c.steps;
  o.progress = train::Progress::Off;
  train::Function run = [&](std::span<Array> a) { return m.exe->runInPlace(m.stepName, a); };
  auto trainer =
      train::Trainer::make(run, m.layout, std::move(m.params), std::move(state), o).take();
  return trainer.fit(data).take().losses;
}

/// The mean of the last `n` values (or of all when fewer).
double tailMean(const std::vector<double> &v, size_t n) {
  n = std::min(n, v.size());
  double s = 0;
  for (size_t i = v.size() - n; i < v.size(); ++i)
    s += v[i];
  return n ? s / double(n) : NAN;
}

} // namespace

int main(int argc, char **argv) try {
  Config c;
  CLI::App app("A deep sigmoid MLP trained with and without BatchNorm.", "weft-example-batchnorm");
  examples::addInteger(app, "--steps", c.steps, "training steps");
  examples::addInteger(app, "--depth", c.depth, "hidden layers");
  examples::addNumber(app, "--lr", c.lr, "SGD's learning rate", 0, 10);
  app.add_option("--out", c.out, "write batchnorm_loss.svg to DIR")->capture_default_str();
  app.add_flag("--check", c.check, "fail unless BatchNorm's final loss is the lower");
  examples::parseCommandLine(app, argc, argv);
  const train::Dataset data = diskData(c.examples, /*seed=*/11);
  std::printf("%lld-layer sigmoid MLP (width %lld) on the disk problem (%lld points), SGD with "
              "momentum 0.9, lr %g, batch %lld, %lld steps, the same seed for both\n",
              (long long)c.depth, (long long)c.width, (long long)c.examples, c.lr,
              (long long)c.batch, (long long)c.steps);
  std::fflush(stdout);
  Model plainModel = buildModel(/*batchNorm=*/false, c, {});
  Model normedModel = buildModel(/*batchNorm=*/true, c, plainModel.initial);
  std::vector<double> plain = trainModel(plainModel, c, data);
  std::vector<double> normed = trainModel(normedModel, c, data);

  LinePlot plot;
  plot.title =
      fmt::format("{}-layer sigmoid MLP: training loss with and without BatchNorm", c.depth);
  plot.xLabel = "step";
  plot.yLabel = "binary cross-entropy (per batch)";
  for (auto [name, losses] :
       {std::pair{"without BatchNorm", &plain}, std::pair{"with BatchNorm", &normed}}) {
    PlotSeries s{name, {}, *losses};
    for (size_t i = 0; i < losses->size(); ++i)
      s.x.push_back(double(i + 1));
    plot.series.push_back(std::move(s));
  }
  std::string svg = c.out + "/batchnorm_loss.svg";
  writeSvg(svg, plot).check();
  std::printf("wrote %s\n", svg.c_str());
  const size_t window = std::max<size_t>(1, size_t(c.steps) / 10);
  std::printf("final loss (mean of the last %zu steps): without BatchNorm %.4f\n", window,
              tailMean(plain, window));
  std::printf("final loss (mean of the last %zu steps): with BatchNorm %.4f\n", window,
              tailMean(normed, window));
  if (c.check && !(tailMean(normed, window) < tailMean(plain, window))) {
    std::fprintf(stderr, "weft-example-batchnorm: --check: BatchNorm's loss is not the lower\n");
    return 1;
  }
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "weft-example-batchnorm: %s\n", e.what());
  return 1;
}
