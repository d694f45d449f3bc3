// lstm_attention_step (an LSTM decoder step with Bahdanau's or Luong's attention, and the
// attention vector) on the CUDA backend's host device against the reference interpreter:
// Bahdanau and {luong}, with and without a mask (both steps in one function; a row with every
// key masked has zero weights and context), f32 and f64, odd sizes past the matmul's 64-wide
// tiles and the host block's threads, B = 1 and S = 1; and its kernels through ptxas for sm_80 and
// sm_90.
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>

namespace cuda_CudaLstmAttentionStepTest {

using namespace weft;
using testing::checkAgainstInterpreter;
using testing::inputFor;

namespace {

/// The step's static sizes: input I, hidden H, attention units A (H for Luong), values D,
/// output N; B and S are symbols.
struct Dims {
  int64_t I, H, A, D, N;
};

/// @step(x, h, c, wx, wh, b, [wq,] kp, v | g, values, wa, mask) -> (h2, c2, att, weights) of
/// the step with the mask, then of the step without it.
std::string module(const std::string &dt, Dims d, bool luong) {
  auto T = [&](const std::string &dims) { return fmt::format("tensor<{} x {}>", dims, dt); };
  const int64_t G = 4 * d.H;
  std::string params = fmt::format("%x: {}, %h: {}, %c: {}, %wx: {}, %wh: {}, %b: {}",
                                   T(fmt::format("B x {}", d.I)), T(fmt::format("B x {}", d.H)),
                                   T(fmt::format("B x {}", d.H)), T(fmt::format("{} x {}", d.I, G)),
                                   T(fmt::format("{} x {}", d.H, G)), T(std::to_string(G)));
  if (!luong)
    params += fmt::format(", %wq: {}", T(fmt::format("{} x {}", d.H, d.A)));
  params += fmt::format(
      ", %kp: {}, %v: {}, %vals: {}, %wa: {}, %mask: {}", T(fmt::format("B x S x {}", d.A)),
      luong ? fmt::format("tensor<{}>", dt) : T(std::to_string(d.A)),
      T(fmt::format("B x S x {}", d.D)), T(fmt::format("{} x {}", d.H + d.D, d.N)), T("B x S"));
  const std::string results = fmt::format("{0}, {0}, {1}, {2}", T(fmt::format("B x {}", d.H)),
                                          T(fmt::format("B x {}", d.N)), T("B x S"));
  const std::string operands =
      fmt::format("%x, %h, %c, %wx, %wh, %b, {}%kp, %v, %vals, %wa", luong ? "" : "%wq, ");
  const std::string attr = luong ? " {luong = 1}" : "";
  return fmt::format("func @step({0}) -> ({1}, {1}) {{\n"
                     "  %h2, %c2, %att, %w = lstm_attention_step {2}, %mask{3} : {1}\n"
                     "  %h2n, %c2n, %attn, %wn = lstm_attention_step {2}{3} : {1}\n"
                     "  return %h2, %c2, %att, %w, %h2n, %c2n, %attn, %wn\n}}\n",
                     params, results, operands, attr);
}

/// A mask [B, S]: 0 for the first keep[b] keys of row b, -inf after.
Array lengthsMask(DType t, std::vector<int64_t> keep, int64_t keys) {
  const auto batch = static_cast<int64_t>(keep.size());
  Array m(t, {batch, keys});
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t j = 0; j < keys; ++j)
      m.setDouble(b * keys + j, j < keep[static_cast<size_t>(b)] ? 0.0 : -INFINITY);
  return m;
}

/// Inputs exact in f32; weights scaled down so that the gates and scores stay in the range
/// where sigmoid, tanh and softmax are not flat.
std::vector<Array> operands(DType t, Dims d, int64_t batch, int64_t keys, bool luong, Array mask) {
  auto small = [&](std::vector<int64_t> shape, int64_t seed, double scale) {
    Array a = inputFor(t, std::move(shape), seed);
    for (int64_t i = 0; i < a.numel(); ++i)
      a.setDouble(i, a.getDouble(i) * scale);
    return a;
  };
  const int64_t G = 4 * d.H;
  std::vector<Array> in = {inputFor(t, {batch, d.I}, 1), inputFor(t, {batch, d.H}, 2),
                           inputFor(t, {batch, d.H}, 3), small({d.I, G}, 4, 0.125),
                           small({d.H, G}, 5, 0.125),    inputFor(t, {G}, 6)};
  if (!luong)
    in.push_back(small({d.H, d.A}, 7, 0.25));
  in.push_back(inputFor(t, {batch, keys, d.A}, 8));
  if (luong) {
    Array g(t, {});
    g.setDouble(0, 0.375);
    in.push_back(std::move(g));
  } else {
    in.push_back(inputFor(t, {d.A}, 9));
  }
  in.push_back(inputFor(t, {batch, keys, d.D}, 10));
  in.push_back(small({d.H + d.D, d.N}, 11, 0.25));
  in.push_back(std::move(mask));
  return in;
}

/// One case: B rows, S keys, row b keeping keep[b] keys of the masked step.
void check(DType t, Dims d, bool luong, std::vector<int64_t> keep, int64_t keys) {
  const double tolerance = t == DType::F32 ? 1e-5 : 1e-12;
  const auto batch = static_cast<int64_t>(keep.size());
  checkAgainstInterpreter(module(std::string(dtypeName(t)), d, luong), "step",
                          operands(t, d, batch, keys, luong, lengthsMask(t, keep, keys)),
                          tolerance);
}

} // namespace

TEST_CASE("cuda on the host device: lstm_attention_step matches the interpreter") {
  for (DType t : {DType::F32, DType::F64}) {
    for (bool luong : {false, true}) {
      CAPTURE(dtypeName(t));
      CAPTURE(luong);
      // Odd sizes: 4H = 68 and N = 65 cross the matmul's 64-wide tiles, I = 3, D = 5.
      const Dims odd{3, 17, luong ? 17 : 9, 5, 65};
      check(t, odd, luong, {7, 0, 3}, 7); // row 1 masks every key
      check(t, odd, luong, {1}, 1);       // B = 1, S = 1
      // More keys and channels than the host block's threads; 65 batch rows (two row tiles).
      std::vector<int64_t> keep(65, 300);
      keep[3] = 150;
      check(t, Dims{2, 5, luong ? 5 : 3, 300, 4}, luong, keep, 300);
    }
  }
}

TEST_CASE("cuda: the lstm_attention_step kernels are PTX that ptxas accepts for sm_80 and sm_90") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  // Bahdanau in f32, Luong in f64: every kernel, each dtype once (ptxas is slow).
  for (bool luong : {false, true}) {
    const char *t = luong ? "f64" : "f32";
    CAPTURE(t);
    CAPTURE(luong);
    auto m = ir::parseModule(module(t, Dims{3, 17, luong ? 17 : 9, 5, 65}, luong),
                             "lstm_attention_step.wir");
    REQUIRE_OK(m);
    for (const char *sm : {"sm_80", "sm_90"}) {
      CAPTURE(sm);
      auto ptx = cuda::modulePtx(**m, sm);
      REQUIRE_OK(ptx);
      for (const char *kernel : {"_matmul(", "_cell(", "_attention(", "_attention_vector("})
        CHECK(ptx->find(kernel) != std::string::npos);
      if (ptxas)
        CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
    }
  }
}

} // namespace cuda_CudaLstmAttentionStepTest
