//===- examples/vanishing_gradients.cpp - why LSTMs train where RNNs don't -===//
//
// The first lesson of sequence models, measured. A tanh RNN and an LSTM run
// over T = 100 steps with the usual initializations (Xavier weights, zero
// biases; the LSTM's forget-gate bias at 1, as Jozefowicz et al. 2015 advise, and
// at 3); the loss is the sum of the final hidden state. A zero input eps_t is added to each hidden
// state h_t, so the gradient with respect to eps_t is dL/dh_t, which autodiff (BPTT, the VJP of
// scan) computes for every t at once. We print ||dL/dh_t|| against the
// distance T - t from the loss and draw both curves, log-scaled, as an SVG.
//
//   weft-example-vanishing [out.svg]     (default: vanishing_gradients.svg)
//
//===----------------------------------------------------------------------===//
#include "backends/reference/Interpreter.h"
#include "examples/ExampleSupport.h"
#include "passes/autodiff/Autodiff.h"

#include <cmath>

using namespace weft;

namespace {

constexpr int64_t kT = 100, kB = 8, kIn = 16, kHidden = 32;

enum class Cell { TanhRNN, LSTM };

/// Builds loss = sum(h_T) for one cell type into `g`, with eps added to every hidden state.
void buildModel(Graph &g, Cell cell) {
  Tensor xs = g.input("xs", {kT, kB, kIn});
  Tensor eps = g.input("eps", {kT, kB, kHidden});
  Tensor h0 = zeros({kB, kHidden});
  Tensor loss;
  if (cell == Cell::TanhRNN) {
    Tensor Wx = g.param("Wx", {kIn, kHidden}, init::xavier());
    Tensor Wh = g.param("Wh", {kHidden, kHidden}, init::xavier());
    Tensor b = g.param("b", {kHidden}, init::zeros());
    auto [hT, hs] = scan({xs, eps}, {h0}, [&](Tensor x, Tensor e, Tensor h) {
      Tensor h2 = tanh(matmul(x, Wx) + matmul(h, Wh) + b) + e;
      return carry(h2).emit(h2);
    });
    loss = sum(hT, {0, 1});
  } else {
    Tensor W = g.param("W", {kIn + kHidden, 4 * kHidden}, init::xavier());
    Tensor b = g.param("b", {4 * kHidden}, init::zeros());
    auto [hT, cT, hs] = scan({xs, eps}, {h0, h0}, [&](Tensor x, Tensor e, Tensor h, Tensor c) {
      auto [i, f, gg, o] = split<4>(matmul(concat({x, h}, 1), W) + b, 1);
      Tensor c2 = sigmoid(f) * c + sigmoid(i) * tanh(gg);
      Tensor h2 = sigmoid(o) * tanh(c2) + e;
      return carry(h2, c2).emit(h2);
    });
    loss = sum(hT, {0, 1});
  }
  g.output(loss.named("loss"));
}

/// ||dL/dh_t|| for t = 0 .. T-1.
std::vector<double> gradientNorms(Cell cell, double forgetBias = 0.0) {
  Graph g(cell == Cell::LSTM ? "lstm" : "rnn");
  buildModel(g, cell);
  auto module = g.build();
  autodiff::GradOptions options;
  options.wrt = {"eps"};
  ir::Function *grad = autodiff::buildGradient(*module, *module->functions()[0], options).take();

  std::vector<Array> params = g.initParams(/*seed=*/1);
  if (cell == Cell::LSTM) // gates are [i, f, g, o]
    for (int64_t k = kHidden; k < 2 * kHidden; ++k)
      params[1].setDouble(k, forgetBias);
  Array xs = examples::uniformArray({kT, kB, kIn}, -1.0, 1.0, /*seed=*/7);
  Array eps(DType::F32, {kT, kB, kHidden});
  auto out = reference::run(*grad, g.arguments({xs, eps}, params)).take();

  const Array &dEps = out[1];
  std::vector<double> norms(kT, 0.0);
  for (int64_t t = 0; t < kT; ++t) {
    for (int64_t k = 0; k < kB * kHidden; ++k) {
      double v = dEps.getDouble(t * kB * kHidden + k);
      norms[t] += v * v;
    }
    norms[t] = std::sqrt(norms[t]);
  }
  return norms;
}

/// Both curves against the distance T - t, log10 on the y axis.
std::string svg(const std::vector<double> &rnn, const std::vector<double> &lstm1,
                const std::vector<double> &lstm3) {
  const double w = 640, h = 400, left = 70, right = 20, top = 30, bottom = 50;
  double lo = 1e300, hi = -1e300;
  for (const auto *curve : {&rnn, &lstm1, &lstm3})
    for (double v : *curve) {
      lo = std::min(lo, std::log10(std::max(v, 1e-30)));
      hi = std::max(hi, std::log10(std::max(v, 1e-30)));
    }
  lo = std::floor(lo), hi = std::ceil(hi);
  auto px = [&](int64_t distance) { return left + (w - left - right) * distance / (kT - 1.0); };
  auto py = [&](double v) {
    return top + (h - top - bottom) * (hi - std::log10(std::max(v, 1e-30))) / (hi - lo);
  };
  std::string s = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" "
                              "height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n"
                              "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
                              w, h);
  for (double e = lo; e <= hi; ++e)
    s += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#ddd\"/>"
                     "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">1e{5}</text>\n",
                     left, w - right, py(std::pow(10.0, e)), left - 6, py(std::pow(10.0, e)) + 4,
                     static_cast<int>(e));
  for (int64_t d = 0; d < kT; d += 10)
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(d),
                     h - bottom + 18, d);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">distance from the loss, "
                   "T - t (steps)</text>\n",
                   (left + w - right) / 2, h - 10);
  s += fmt::format("<text x=\"{}\" y=\"{}\">||dL/dh_t||, T = {}, Xavier init</text>\n", left,
                   top - 10, kT);
  auto line = [&](const std::vector<double> &curve, const char *color, const char *label, int row) {
    std::string pts;
    for (int64_t t = 0; t < kT; ++t)
      pts += fmt::format("{:.1f},{:.1f} ", px(kT - 1 - t), py(curve[t]));
    s += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" points=\"{}\"/>\n"
                     "<text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>\n",
                     color, pts, w - right - 150, top + 20 + 16 * row, color, label);
  };
  line(rnn, "#c0392b", "tanh RNN", 0);
  line(lstm1, "#2471a3", "LSTM, forget bias 1", 1);
  line(lstm3, "#1e8449", "LSTM, forget bias 3", 2);
  return s + "</svg>\n";
}

} // namespace

int main(int argc, char **argv) try {
  std::vector<double> rnn = gradientNorms(Cell::TanhRNN);
  std::vector<double> lstm1 = gradientNorms(Cell::LSTM, 1.0);
  std::vector<double> lstm3 = gradientNorms(Cell::LSTM, 3.0);
  std::printf("||dL/dh_t|| at distance T - t from the loss\n");
  std::printf("distance      tanh RNN   LSTM (forget bias 1)   LSTM (forget bias 3)\n");
  for (int64_t d = 0; d < kT; d += 10)
    std::printf("%8lld  %12.3e  %21.3e  %21.3e\n", static_cast<long long>(d), rnn[kT - 1 - d],
                lstm1[kT - 1 - d], lstm3[kT - 1 - d]);
  std::string path = argc > 1 ? argv[1] : "vanishing_gradients.svg";
  examples::writeFileAtomically(path, svg(rnn, lstm1, lstm3));
  std::printf("wrote %s\n", path.c_str());
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "%s\n", e.what());
  return 1;
}
