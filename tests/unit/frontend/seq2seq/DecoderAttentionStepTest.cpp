//===- tests/unit/frontend/seq2seq/DecoderAttentionStepTest.cpp - one attention step by hand ===//
//
// DecoderAttention's a' = [h; context] W_a^T, with the context from Bahdanau's or Luong's
// scores masked by the source lengths, against the same formulas written out in plain loops
// (f64, on the interpreter and the JIT):
//
//   Bahdanau: score[b, t] = sum_u v[u] tanh(sum_d m[b, t, d] W1[u, d] + sum_j h[b, j] W2[u, j])
//   Luong:    score[b, t] = g sum_j h[b, j] sum_d m[b, t, d] W[j, d]
//   alpha[b, t] = softmax over t < len[b] of score[b, t], 0 for t >= len[b]
//   a'[b, k] = sum_j W_a[k, j] [h; sum_t alpha[b, t] m[b, t, :]][j]
//
//===----------------------------------------------------------------------===//
#include "DecoderFixture.h"
#include "frontend/nn/attention/BahdanauAttention.h"
#include "frontend/nn/attention/LuongAttention.h"
#include "frontend/seq2seq/DecoderAttention.h"
#include "tests/unit/frontend/nn/RunBackends.h"

#include <doctest/doctest.h>

#include <cmath>

namespace frontend_seq2seq_DecoderAttentionStepTest {

using namespace weft;

namespace {

constexpr int64_t kB = 2, kTm = 3, kDm = 2, kH = 3, kU = 4, kA = 2;
const int32_t kLengths[kB] = {2, 3};

/// Deterministic values in about [-1, 1] for `shape`, distinct per `salt`.
Array values(std::vector<int64_t> shape, int salt) {
  Array a(DType::F64, shape);
  for (int64_t i = 0; i < a.numel(); ++i)
    a.data<double>()[i] = std::sin(0.7 * double(i + 1) + 1.3 * double(salt));
  return a;
}

/// The value of the parameter whose name ends in `suffix`.
const Array &param(const Graph &g, const std::vector<Array> &params, const std::string &suffix) {
  for (size_t k = 0; k < g.params().size(); ++k) {
    const std::string &name = g.params()[k].name;
    if (name.size() >= suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return params[k];
  }
  FAIL("no parameter named *" << suffix);
  return params[0];
}

/// a' [B, A] by the formulas of the file comment, from the scores [B, Tm].
std::vector<double> attentionByHand(const Array &h, const Array &memory, const Array &wa,
                                    const std::vector<double> &scores) {
  std::vector<double> out(kB * kA, 0.0);
  for (int64_t b = 0; b < kB; ++b) {
    double top = -1e300, total = 0;
    for (int64_t t = 0; t < kLengths[b]; ++t)
      top = std::max(top, scores[size_t(b * kTm + t)]);
    std::vector<double> alpha(kTm, 0.0);
    for (int64_t t = 0; t < kLengths[b]; ++t)
      total += alpha[size_t(t)] = std::exp(scores[size_t(b * kTm + t)] - top);
    std::vector<double> joined;
    for (int64_t j = 0; j < kH; ++j)
      joined.push_back(h.data<double>()[b * kH + j]);
    for (int64_t d = 0; d < kDm; ++d) {
      double c = 0;
      for (int64_t t = 0; t < kTm; ++t)
        c += alpha[size_t(t)] / total * memory.data<double>()[(b * kTm + t) * kDm + d];
      joined.push_back(c);
    }
    for (int64_t k = 0; k < kA; ++k)
      for (int64_t j = 0; j < kH + kDm; ++j)
        out[size_t(b * kA + k)] += wa.data<double>()[k * (kH + kDm) + j] * joined[size_t(j)];
  }
  return out;
}

enum class Score { Bahdanau, Luong };

void checkAgainstHand(Score kind) {
  Graph g("step");
  Tensor h = g.input("h", {kB, kH}, DType::F64);
  Tensor memory = g.input("memory", {kB, kTm, kDm}, DType::F64);
  Tensor lengths = g.input("lengths", {kB}, DType::I32);
  nn::Scope s(g, nn::Mode::Eval);
  std::shared_ptr<const nn::AttentionMechanism> mechanism;
  if (kind == Score::Bahdanau)
    mechanism =
        std::make_shared<nn::BahdanauAttention>(s.child("attention"), kU, memory, lengths, kH);
  else
    mechanism = std::make_shared<nn::LuongAttention>(s.child("attention"), memory, lengths, kH,
                                                     /*scale=*/true);
  seq2seq::DecoderAttention attention(s.child("attention"), mechanism, kA);
  g.output(attention(h));
  auto m = g.build();

  std::vector<Array> params = testing::paramValues(g);
  // Luong's g starts at 1; another value shows that it scales the scores.
  for (size_t k = 0; k < g.params().size(); ++k)
    if (g.params()[k].name.ends_with("attention_g"))
      params[k] = Array::of<double>({}, {1.7});
  Array hv = values({kB, kH}, 1), mv = values({kB, kTm, kDm}, 2);
  // Past example 0's length: a memory row the masked softmax must not read.
  for (int64_t d = 0; d < kDm; ++d)
    mv.data<double>()[(0 * kTm + 2) * kDm + d] = 50.0;

  std::vector<double> scores(kB * kTm, 0.0);
  for (int64_t b = 0; b < kB; ++b)
    for (int64_t t = 0; t < kTm; ++t) {
      const double *mem = mv.data<double>() + (b * kTm + t) * kDm;
      const double *q = hv.data<double>() + b * kH;
      double sc = 0;
      if (kind == Score::Bahdanau) {
        const Array &w1 = param(g, params, "memory_layer.weight");
        const Array &w2 = param(g, params, "query_layer.weight");
        const Array &v = param(g, params, "attention_v");
        for (int64_t u = 0; u < kU; ++u) {
          double pre = 0;
          for (int64_t d = 0; d < kDm; ++d)
            pre += mem[d] * w1.data<double>()[u * kDm + d];
          for (int64_t j = 0; j < kH; ++j)
            pre += q[j] * w2.data<double>()[u * kH + j];
          sc += v.data<double>()[u] * std::tanh(pre);
        }
      } else {
        const Array &w = param(g, params, "memory_layer.weight");
        for (int64_t j = 0; j < kH; ++j)
          for (int64_t d = 0; d < kDm; ++d)
            sc += q[j] * mem[d] * w.data<double>()[j * kDm + d];
        sc *= 1.7;
      }
      scores[size_t(b * kTm + t)] = sc;
    }
  std::vector<double> expected =
      attentionByHand(hv, mv, param(g, params, "attention_layer.weight"), scores);

  Array len = Array::of<int32_t>({kB}, {kLengths[0], kLengths[1]});
  auto results = testing::runBackends(*m, g.arguments({hv, mv, len}, params), {});
  for (auto &[backend, fns] : results) {
    CAPTURE(backend);
    const Array &got = fns.at("step")[0];
    REQUIRE(got.numel() == kB * kA);
    for (int64_t i = 0; i < got.numel(); ++i) {
      CAPTURE(i);
      CHECK(got.data<double>()[i] == doctest::Approx(expected[size_t(i)]).epsilon(1e-12));
    }
  }
}

} // namespace

TEST_CASE("DecoderAttention with Bahdanau scores computes [h; context] W_a^T as written by hand") {
  checkAgainstHand(Score::Bahdanau);
}

TEST_CASE("DecoderAttention with Luong scores computes [h; context] W_a^T as written by hand") {
  checkAgainstHand(Score::Luong);
}

} // namespace frontend_seq2seq_DecoderAttentionStepTest
