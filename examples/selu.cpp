//===- examples/selu.cpp - self-normalizing networks, measured ------------===//
//
// Klambauer et al. (2017): with LeCun-normal weights (N(0, 1/fan_in)) and zero biases, SELU
// keeps a deep network's activations near mean 0 and variance 1 on N(0, 1) inputs; ReLU
// halves the second moment at every layer and tanh shrinks the variance layer by layer. A
// 32-layer MLP of width 256, forward only, the same weights for all three activations; we
// print the mean and variance of every layer's activations and draw the variances by depth.
//
//   weft-example-selu [out.svg]     (default: selu.svg)
//
//===----------------------------------------------------------------------===//
#include "examples/ExampleSupport.h"
#include "frontend/nn/Activations.h"
#include "frontend/nn/Linear.h"
#include "runtime/Svg.h"

#ifdef WEFT_HAVE_CPU
#include "backends/cpu/CpuBackend.h"
#endif

#include <functional>

using namespace weft;

namespace {

constexpr int64_t kDepth = 32, kWidth = 256, kBatch = 512;

struct Activation {
  const char *name;
  std::function<Tensor(const Tensor &)> fn;
};

/// Per layer l: mean and variance over every activation of layer l (batch and units).
struct LayerStats {
  std::vector<double> mean, var;
};

/// The MLP's graph: x -> 32 x (linear, act); results: each layer's mean, then its variance.
/// Parameters are named as an nn.Sequential's state_dict names them: layers.<l>.weight.
void buildMlp(Graph &g, const Activation &act) {
  nn::Scope layers = nn::Scope(g, nn::Mode::Eval).child("layers");
  Tensor h = g.input("x", {kBatch, kWidth});
  std::vector<Tensor> means, vars;
  for (int64_t l = 0; l < kDepth; ++l) {
    auto options = nn::LinearOptions()
                       .withWeightInit(init::lecun().outIn()) // PyTorch layout: [out, in]
                       .withBiasInit(init::zeros());
    h = act.fn(nn::linear(layers.child(std::to_string(l)), h, kWidth, kWidth, options));
    Tensor m = mean(h, {0, 1});
    Tensor d = h - m;
    means.push_back(m);
    vars.push_back(mean(d * d, {0, 1}));
  }
  g.outputs(means);
  g.outputs(vars);
}

std::vector<Array> run(const Graph &g, const std::vector<Array> &args) {
  auto m = g.build();
#ifdef WEFT_HAVE_CPU
  auto exe = cpu::compile(*m).take();
  return exe->run(m->functions()[0]->name(), args, {}).take();
#else
  return reference::run(*m->functions()[0], args).take();
#endif
}

LayerStats measure(const Activation &act, const Array &x) {
  Graph g(act.name);
  buildMlp(g, act);
  // The same seed draws the same weights for every activation: parameter k from stream k.
  std::vector<Array> out = run(g, g.arguments({x}, g.initParams(/*seed=*/1)));
  LayerStats s;
  for (int64_t l = 0; l < kDepth; ++l) {
    s.mean.push_back(out[static_cast<size_t>(l)].getDouble(0));
    s.var.push_back(out[static_cast<size_t>(kDepth + l)].getDouble(0));
  }
  return s;
}

} // namespace

int main(int argc, char **argv) try {
  std::string svgPath = argc > 1 ? argv[1] : "selu.svg";
  const std::vector<Activation> acts{
      {"selu", [](const Tensor &t) { return nn::selu(t); }},
      {"relu", [](const Tensor &t) { return nn::relu(t); }},
      {"tanh", [](const Tensor &t) { return nn::tanh(t); }},
  };
  Array x = drawInit(init::normal(1.0), DType::F32, {kBatch, kWidth}, /*seed=*/7).take();
  std::vector<LayerStats> stats;
  for (const Activation &a : acts)
    stats.push_back(measure(a, x));

  std::printf("%d-layer MLP, width %d, LeCun-normal weights, zero biases, %d N(0,1) inputs\n",
              int(kDepth), int(kWidth), int(kBatch));
  std::printf(
      "layer |      selu mean       var |      relu mean       var |      tanh mean       var\n");
  for (int64_t l = 0; l < kDepth; ++l) {
    std::printf("%5d |", int(l + 1));
    for (const LayerStats &s : stats)
      std::printf(" %+14.4f %9.3g |", s.mean[static_cast<size_t>(l)],
                  s.var[static_cast<size_t>(l)]);
    std::printf("\n");
  }

  LinePlot plot;
  plot.title =
      fmt::format("activation variance by depth ({} layers, width {}, LeCun init)", kDepth, kWidth);
  plot.xLabel = "layer";
  plot.yLabel = "variance of the activations";
  plot.logY = true;
  for (size_t k = 0; k < acts.size(); ++k) {
    PlotSeries ser{acts[k].name, {}, stats[k].var};
    for (int64_t l = 1; l <= kDepth; ++l)
      ser.x.push_back(double(l));
    plot.series.push_back(std::move(ser));
  }
  writeSvg(svgPath, plot).check();
  std::printf("wrote %s\n", svgPath.c_str());
  auto last = [](const std::vector<double> &v) { return v.back(); };
  std::printf("layer %d mean/variance: selu=%.3f/%.3f relu=%.3g/%.3g tanh=%.3f/%.3g\n", int(kDepth),
              last(stats[0].mean), last(stats[0].var), last(stats[1].mean), last(stats[1].var),
              last(stats[2].mean), last(stats[2].var));
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
