//===- examples/adding.cpp - the adding problem: why LSTMs train where RNNs don't -===//
//
// Hochreiter & Schmidhuber (1997), experiment 4: a sequence of T pairs (value in [0, 1],
// marker in {0, 1}); exactly two positions are marked, one in each half, and the target is
// the sum of their two values. The answer depends on inputs up to T steps back, so the
// gradient must survive T steps of backpropagation through time. An LSTM learns it; a tanh
// RNN of the same size does not, and stays near the 1/6 = 0.167 mean squared error of always
// answering 1 (the variance of a sum of two U(0, 1) values).
//
// Both models are weft::nn layers (nn::LSTM, nn::RNN, nn::linear, nn::mseLoss); the
// optimize-step pass appends Adam to their gradient, so one compiled call per batch runs the
// forward pass, BPTT and the update; train::Trainer feeds it.
//
//   weft-example-adding [--steps N] [--length T] [--hidden H] [--out DIR]
//
// Its last line: `test MSE: lstm=<x> rnn=<y> baseline=<z>`.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/CpuBackend.h"
#include "examples/CommandLine.h"
#include "examples/models/AddingProblem.h"
#include "frontend/Weft.h"
#include "ir/Signature.h"
#include "passes/PassManager.h"
#include "passes/optim/StepPipeline.h"
#include "runtime/train/StepLayout.h"
#include "runtime/train/Trainer.h"

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>
#include <sstream>

using namespace weft;

namespace {

struct Config {
  int64_t length = 100, hidden = 32, batch = 64, steps = 3000, trainSize = 8192, testSize = 1024;
  double lr = 0.01;
  std::string out;
};

/// The model with optimize-step's Adam appended: @adding (the loss) and @adding_step.
std::unique_ptr<ir::Module> buildModel(bool lstm, const Config &c, std::vector<Array> *init) {
  examples::AddingModel model = examples::buildAddingModel(lstm, c.length, c.hidden);
  *init = std::move(model.init);
  std::ostringstream log;
  passes::PassManager pm(log);
  pm.addPipeline(
        optim::trainStepPipeline(fmt::format("kind=adam lr={} params={}", c.lr, model.paramNames)))
      .check();
  pm.run(*model.module).check();
  return std::move(model.module);
}

const ir::Function &function(const ir::Module &m, std::string_view name) {
  for (const auto &f : m.functions())
    if (f->name() == name)
      return *f;
  throw Error(err(fmt::format("the module has no function @{}", name)));
}

/// Trains one model; returns its held-out MSE.
double trainModel(bool lstm, const Config &c, const train::Dataset &trainSet,
                  const train::Dataset &testSet) {
  const char *name = lstm ? "lstm" : "rnn";
  std::vector<Array> params;
  auto m = buildModel(lstm, c, &params);
  auto exe = cpu::compile(*m).take();
  const ir::Function &step = function(*m, "adding_step"), &loss = function(*m, "adding");
  ir::Signature sig = ir::Signature::of(step);
  train::StepLayout layout = train::stepLayoutFromNames(sig.paramNames, sig.resultNames).take();

  // Adam's state starts at zeros, one array per state argument of the step.
  std::vector<Array> state;
  for (const train::Carried &s : layout.state)
    state.push_back(sig.zerosOf(s.arg).take());

  train::TrainOptions o;
  o.batching = {.batchSize = c.batch, .shuffle = true, .dropLast = false, .seed = 7};
  o.epochs = (c.steps * c.batch + trainSet.size() - 1) / trainSet.size();
  o.maxSteps = c.steps;
  o.lineEvery = 250;
  if (!c.out.empty()) {
    o.metricsCsv = fmt::format("{}/{}_metrics.csv", c.out, name);
    o.lossSvg = fmt::format("{}/{}_loss.svg", c.out, name);
  }
  train::Function run = [&](std::span<Array> a) { return exe->runInPlace("adding_step", a); };
  auto trainer = train::Trainer::make(run, layout, std::move(params), std::move(state), o).take();

  train::Evaluation e;
  e.function = [&](std::span<const Array> a) { return exe->run("adding", a); };
  std::vector<std::string> lossArgs = ir::Signature::of(loss).paramNames;
  e.numArgs = lossArgs.size();
  for (const train::Carried &p : layout.params)
    e.paramArgs.push_back(static_cast<size_t>(std::find(lossArgs.begin(), lossArgs.end(), p.name) -
                                              lossArgs.begin()));
  e.batch = {{"xs", static_cast<size_t>(std::find(lossArgs.begin(), lossArgs.end(), "xs") -
                                        lossArgs.begin())},
             {"ys", static_cast<size_t>(std::find(lossArgs.begin(), lossArgs.end(), "ys") -
                                        lossArgs.begin())}};
  e.metrics = {"mse"};
  trainer.evaluateWith(e);

  std::printf("%s: %lld steps of Adam (lr %g), batch %lld, T = %lld, hidden %lld\n", name,
              static_cast<long long>(c.steps), c.lr, static_cast<long long>(c.batch),
              static_cast<long long>(c.length), static_cast<long long>(c.hidden));
  std::fflush(stdout);
  trainer.fit(trainSet).take();
  return trainer.evaluate(testSet).take()[0];
}

} // namespace

int main(int argc, char **argv) try {
  Config c;
  CLI::App app("The adding problem: an LSTM and a tanh RNN trained with Adam.",
               "weft-example-adding");
  examples::addInteger(app, "--steps", c.steps, "training steps");
  examples::addInteger(app, "--length", c.length, "sequence length", 2);
  examples::addInteger(app, "--hidden", c.hidden, "hidden units");
  app.add_option("--out", c.out, "write the loss curves to DIR");
  examples::parseCommandLine(app, argc, argv);
  train::Dataset trainSet = examples::addingData(c.trainSize, c.length, 11);
  train::Dataset testSet = examples::addingData(c.testSize, c.length, 12);

  // Baseline: always answering 1, the mean of the target.
  double baseline = 0;
  const Array &ys = testSet.array(1);
  for (int64_t i = 0; i < ys.numel(); ++i)
    baseline += (ys.getDouble(i) - 1.0) * (ys.getDouble(i) - 1.0) / double(ys.numel());

  double lstm = trainModel(true, c, trainSet, testSet);
  double rnn = trainModel(false, c, trainSet, testSet);
  std::printf("test MSE: lstm=%.4f rnn=%.4f baseline=%.4f\n", lstm, rnn, baseline);
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "weft-example-adding: %s\n", e.what());
  return 1;
}
