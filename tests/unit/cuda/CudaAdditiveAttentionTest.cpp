// additive_attention (Bahdanau's step) on the CUDA backend's host device against the reference
// interpreter: odd sizes, more keys and channels than the host's block has threads, f32 and
// f64, masks with -inf (a row with every key masked is zeros), no keys at all, and huge,
// negative and infinite scores; and the kernel through ptxas for sm_80 and sm_90.
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>

namespace cuda_CudaAdditiveAttentionTest {

using namespace weft;
using testing::checkAgainstInterpreter;
using testing::inputFor;

namespace {

std::string module(const char *t) {
  return fmt::format(R"(
func @step(%qp: tensor<B x A x {0}>, %kp: tensor<B x S x A x {0}>, %v: tensor<A x {0}>, %vals: tensor<B x S x D x {0}>, %mask: tensor<B x S x {0}>) -> (tensor<B x D x {0}>, tensor<B x S x {0}>, tensor<B x D x {0}>, tensor<B x S x {0}>) {{
  %c, %w = additive_attention %qp, %kp, %v, %vals, %mask : tensor<B x D x {0}>, tensor<B x S x {0}>
  %cn, %wn = additive_attention %qp, %kp, %v, %vals : tensor<B x D x {0}>, tensor<B x S x {0}>
  return %c, %w, %cn, %wn
}}
)",
                     t);
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

std::vector<Array> operands(DType t, int64_t a, int64_t s, int64_t d, Array mask) {
  const int64_t batch = mask.shape()[0];
  return {inputFor(t, {batch, a}, 1), inputFor(t, {batch, s, a}, 2), inputFor(t, {a}, 3),
          inputFor(t, {batch, s, d}, 4), std::move(mask)};
}

} // namespace

TEST_CASE("cuda on the host device: additive_attention matches the interpreter") {
  for (DType t : {DType::F32, DType::F64}) {
    const std::string text = module(std::string(dtypeName(t)).c_str());
    const double tolerance = t == DType::F32 ? 1e-6 : 1e-13;
    CAPTURE(dtypeName(t));
    // 300 keys and channels: past the host block's threads; row 1 masks every key.
    checkAgainstInterpreter(
        text, "step", operands(t, 7, 300, 300, lengthsMask(t, {300, 0, 150}, 300)), tolerance);
    checkAgainstInterpreter(text, "step", operands(t, 5, 3, 1, lengthsMask(t, {1, 3}, 3)),
                            tolerance);
    // No keys: zero contexts.
    checkAgainstInterpreter(text, "step", operands(t, 3, 0, 2, lengthsMask(t, {0, 0, 0}, 0)));
  }
}

TEST_CASE("cuda on the host device: additive_attention with huge and infinite scores") {
  // v scaled to 1e30 makes the scores huge (one dominates); an infinite qp makes tanh 1.
  std::vector<Array> in = operands(DType::F64, 4, 9, 3, lengthsMask(DType::F64, {9, 4}, 9));
  for (int64_t a = 0; a < 4; ++a)
    in[2].setDouble(a, in[2].getDouble(a) * 1e30);
  in[0].setDouble(1, INFINITY);
  in[0].setDouble(6, -INFINITY);
  checkAgainstInterpreter(module("f64"), "step", in, 1e-13);
}

TEST_CASE("cuda: the additive_attention kernel is PTX that ptxas accepts for sm_80 and sm_90") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  for (const char *t : {"f32", "f64"}) {
    auto m = ir::parseModule(module(t), "additive.wir");
    REQUIRE_OK(m);
    for (const char *sm : {"sm_80", "sm_90"}) {
      CAPTURE(sm);
      auto ptx = cuda::modulePtx(**m, sm);
      REQUIRE_OK(ptx);
      if (ptxas)
        CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
    }
  }
}

} // namespace cuda_CudaAdditiveAttentionTest
