//===- bench/lstm_onednn.cpp - oneDNN's LSTM layer, the peer of weft's -----===//
//
// One LSTM layer over T steps with oneDNN's RNN primitive (forward inference, left to right,
// gate order i, f, g, o as PyTorch and weft), weights reordered once into the layout the
// primitive prefers, as a user of oneDNN would do. Before timing, a small shape (T=5, B=3,
// I=4, H=6) is checked against a plain C++ LSTM, so the peer computes what weft computes.
// Prints the median microseconds per call; --raw prints "T B I H threads us" per measurement,
// the form bench/lstm_inference.sh reads.
//
// Usage: weft-bench-lstm-onednn [--raw] [--threads N] [TxBxIxH ...]
//
//===----------------------------------------------------------------------===//
#include "bench/BenchTiming.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <dnnl.hpp>
#include <omp.h>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

using namespace weft::bench;
using dnnl::memory;

namespace {

struct SeqShape {
  int64_t T, B, I, H;
};

/// An LSTM layer set up for one shape: user buffers in PyTorch's layout, the primitive and its
/// memories, weights already reordered.
class OneDnnLstm {
public:
  OneDnnLstm(const SeqShape &s, const std::vector<float> &xs, const std::vector<float> &wx,
             const std::vector<float> &wh, const std::vector<float> &b)
      : eng_(dnnl::engine::kind::cpu, 0), stream_(eng_), xs_(xs), h0_(s.B * s.H, 0.f),
        c0_(s.B * s.H, 0.f), hs_(s.T * s.B * s.H), hT_(s.B * s.H), cT_(s.B * s.H) {
    using tag = memory::format_tag;
    auto f32 = memory::data_type::f32;
    memory::desc srcLayer({s.T, s.B, s.I}, f32, tag::tnc), state({1, 1, s.B, s.H}, f32, tag::ldnc),
        wLayerUser({1, 1, s.I, 4, s.H}, f32, tag::ldigo),
        wIterUser({1, 1, s.H, 4, s.H}, f32, tag::ldigo), bias({1, 1, 4, s.H}, f32, tag::ldgo),
        dstLayer({s.T, s.B, s.H}, f32, tag::tnc);
    memory::desc wLayerAny({1, 1, s.I, 4, s.H}, f32, tag::any),
        wIterAny({1, 1, s.H, 4, s.H}, f32, tag::any);
    dnnl::lstm_forward::desc desc(dnnl::prop_kind::forward_inference,
                                  dnnl::rnn_direction::unidirectional_left2right, srcLayer, state,
                                  state, wLayerAny, wIterAny, bias, dstLayer, state, state);
    dnnl::lstm_forward::primitive_desc pd(desc, eng_);
    prim_ = dnnl::lstm_forward(pd);

    // The user's weights are [I, 4H] and [H, 4H] row-major: exactly ldigo with l = d = 1.
    wxUser_ = wx;
    whUser_ = wh;
    b_ = b;
    memory wxMem(wLayerUser, eng_, wxUser_.data()), whMem(wIterUser, eng_, whUser_.data());
    wLayer_ = memory(pd.weights_layer_desc(), eng_);
    wIter_ = memory(pd.weights_iter_desc(), eng_);
    dnnl::reorder(wxMem, wLayer_).execute(stream_, wxMem, wLayer_);
    dnnl::reorder(whMem, wIter_).execute(stream_, whMem, wIter_);
    stream_.wait();

    args_ = {{DNNL_ARG_SRC_LAYER, memory(srcLayer, eng_, xs_.data())},
             {DNNL_ARG_SRC_ITER, memory(state, eng_, h0_.data())},
             {DNNL_ARG_SRC_ITER_C, memory(state, eng_, c0_.data())},
             {DNNL_ARG_WEIGHTS_LAYER, wLayer_},
             {DNNL_ARG_WEIGHTS_ITER, wIter_},
             {DNNL_ARG_BIAS, memory(bias, eng_, b_.data())},
             {DNNL_ARG_DST_LAYER, memory(dstLayer, eng_, hs_.data())},
             {DNNL_ARG_DST_ITER, memory(state, eng_, hT_.data())},
             {DNNL_ARG_DST_ITER_C, memory(state, eng_, cT_.data())}};
  }

  void run() {
    prim_.execute(stream_, args_);
    stream_.wait();
  }
  const std::vector<float> &hs() const { return hs_; }

private:
  dnnl::engine eng_;
  dnnl::stream stream_;
  std::vector<float> xs_, h0_, c0_, hs_, hT_, cT_, wxUser_, whUser_, b_;
  memory wLayer_, wIter_;
  dnnl::lstm_forward prim_;
  std::unordered_map<int, memory> args_;
};

float sigmoid(float x) { return 1.f / (1.f + std::exp(-x)); }

/// The plain LSTM the check compares oneDNN with: hs [T, B, H] from zero initial states.
std::vector<float> plainLstm(const SeqShape &s, const std::vector<float> &xs,
                             const std::vector<float> &wx, const std::vector<float> &wh,
                             const std::vector<float> &b) {
  std::vector<float> h(s.B * s.H, 0.f), c(s.B * s.H, 0.f), hs;
  std::vector<float> z(4 * s.H);
  for (int64_t t = 0; t < s.T; ++t) {
    std::vector<float> h2(h.size());
    for (int64_t n = 0; n < s.B; ++n) {
      for (int64_t j = 0; j < 4 * s.H; ++j) {
        float acc = b[j];
        for (int64_t k = 0; k < s.I; ++k)
          acc += xs[(t * s.B + n) * s.I + k] * wx[k * 4 * s.H + j];
        for (int64_t k = 0; k < s.H; ++k)
          acc += h[n * s.H + k] * wh[k * 4 * s.H + j];
        z[j] = acc;
      }
      for (int64_t j = 0; j < s.H; ++j) {
        float i = sigmoid(z[j]), f = sigmoid(z[s.H + j]), g = std::tanh(z[2 * s.H + j]),
              o = sigmoid(z[3 * s.H + j]);
        float &cj = c[n * s.H + j];
        cj = f * cj + i * g;
        h2[n * s.H + j] = o * std::tanh(cj);
      }
    }
    h = h2;
    hs.insert(hs.end(), h.begin(), h.end());
  }
  return hs;
}

std::vector<float> uniform(size_t n, float bound, std::mt19937 &rng) {
  std::uniform_real_distribution<float> d(-bound, bound);
  std::vector<float> v(n);
  for (float &x : v)
    x = d(rng);
  return v;
}

struct Inputs {
  std::vector<float> xs, wx, wh, b;
};

Inputs randomInputs(const SeqShape &s) {
  std::mt19937 rng(7);
  float k = 1.f / std::sqrt(static_cast<float>(s.H)); // PyTorch's default init bound
  return {uniform(s.T * s.B * s.I, 1.f, rng), uniform(s.I * 4 * s.H, k, rng),
          uniform(s.H * 4 * s.H, k, rng), uniform(4 * s.H, k, rng)};
}

bool checkSmall() {
  SeqShape s{5, 3, 4, 6};
  Inputs in = randomInputs(s);
  OneDnnLstm lstm(s, in.xs, in.wx, in.wh, in.b);
  lstm.run();
  std::vector<float> want = plainLstm(s, in.xs, in.wx, in.wh, in.b);
  double worst = 0;
  for (size_t i = 0; i < want.size(); ++i)
    worst = std::max(worst, static_cast<double>(std::fabs(want[i] - lstm.hs()[i])));
  if (worst > 1e-5) {
    fmt::print(stderr, "oneDNN LSTM differs from the plain LSTM by {:.2e}  WRONG\n", worst);
    return false;
  }
  return true;
}

bool parseShape(const char *text, SeqShape &s) {
  long long t, b, i, h;
  char tail;
  if (std::sscanf(text, "%lldx%lldx%lldx%lld%c", &t, &b, &i, &h, &tail) != 4 || t < 1 || b < 1 ||
      i < 1 || h < 1)
    return false;
  s = {t, b, i, h};
  return true;
}

} // namespace

int main(int argc, char **argv) try {
  bool raw = false;
  std::vector<int> threadCounts{1, 2};
  std::vector<SeqShape> shapes;
  for (int k = 1; k < argc; ++k) {
    SeqShape s;
    if (std::strcmp(argv[k], "--raw") == 0) {
      raw = true;
    } else if (std::strcmp(argv[k], "--threads") == 0 && k + 1 < argc) {
      threadCounts = {std::atoi(argv[++k])};
    } else if (parseShape(argv[k], s)) {
      shapes.push_back(s);
    } else {
      fmt::print(stderr, "usage: weft-bench-lstm-onednn [--raw] [--threads N] [TxBxIxH ...]\n");
      return 2;
    }
  }
  if (shapes.empty())
    shapes = {{100, 64, 256, 256}, {100, 64, 512, 512}};
  if (!checkSmall())
    return 1;
  if (!raw)
    fmt::print("oneDNN {}.{}.{} LSTM layer, forward inference: median microseconds per call\n",
               dnnl_version()->major, dnnl_version()->minor, dnnl_version()->patch);
  for (const SeqShape &s : shapes) {
    Inputs in = randomInputs(s);
    for (int threads : threadCounts) {
      // Before the primitive is made: oneDNN fixes its thread count when it creates one.
      omp_set_num_threads(threads);
      OneDnnLstm lstm(s, in.xs, in.wx, in.wh, in.b);
      int runs = 0;
      double us = 1e6 * medianOverBudget([&] { lstm.run(); }, 0.5, 10, 2000, runs);
      if (raw)
        fmt::print("{} {} {} {} {} {:.1f}\n", s.T, s.B, s.I, s.H, threads, us);
      else
        fmt::print("{:>4} {:>4} {:>5} {:>5} {:>3} {:>10.1f} us\n", s.T, s.B, s.I, s.H, threads, us);
    }
  }
  return 0;
} catch (const dnnl::error &e) {
  std::fprintf(stderr, "oneDNN: %s (status %d)\n", e.what(), static_cast<int>(e.status));
  return 1;
}
