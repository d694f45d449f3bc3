// attention on the CUDA backend's host device against the reference interpreter: heads as batch
// dims, a symbolic batch, key counts past a tile's edge (the host's blocks are smaller than the
// keys), broadcast padding masks with -inf, causal rows, rows whose every key is masked (zeros),
// no keys at all; and the kernel through ptxas for sm_80 and sm_90.
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>

#include <cmath>

namespace cuda_CudaAttentionTest {

using namespace weft;
using testing::checkAgainstInterpreter;
using testing::inputFor;

namespace {

const char *kAttention = R"(
func @padded(%q: tensor<B x 2 x 5 x 3 x f32>, %k: tensor<B x 2 x S x 3 x f32>, %v: tensor<B x 2 x S x 4 x f32>, %mask: tensor<B x 1 x 1 x S x f32>) -> (tensor<B x 2 x 5 x 4 x f32>, tensor<B x 2 x 5 x 4 x f32>) {
  %o = attention %q, %k, %v, %mask {scale = 0.5} : tensor<B x 2 x 5 x 4 x f32>
  %p = attention %q, %k, %v {scale = 0.25} : tensor<B x 2 x 5 x 4 x f32>
  return %o, %p
}
func @causal(%q: tensor<T x 6 x f64>, %k: tensor<T x 6 x f64>, %v: tensor<T x 2 x f64>, %mask: tensor<T x T x f64>) -> (tensor<T x 2 x f64>, tensor<T x 2 x f64>) {
  %o = attention %q, %k, %v {scale = 0.4, causal = 1} : tensor<T x 2 x f64>
  %m = attention %q, %k, %v, %mask {scale = 1.0, causal = 1} : tensor<T x 2 x f64>
  return %o, %m
}
)";

/// A padding mask [B, 1, 1, S]: 0 for the first `keep[b]` keys of example b, -inf after.
Array padding(std::vector<int64_t> keep, int64_t keys) {
  const auto batch = static_cast<int64_t>(keep.size());
  Array m(DType::F32, {batch, 1, 1, keys});
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t j = 0; j < keys; ++j)
      m.setDouble(b * keys + j, j < keep[static_cast<size_t>(b)] ? 0.0 : -INFINITY);
  return m;
}

} // namespace

TEST_CASE("cuda on the host device: attention's online softmax matches the interpreter") {
  // 300 keys: two tiles of the host's blocks and a partial one; example 1 masks every key.
  for (int64_t s : {300, 7}) {
    CAPTURE(s);
    checkAgainstInterpreter(kAttention, "padded",
                            {inputFor(DType::F32, {3, 2, 5, 3}, 1),
                             inputFor(DType::F32, {3, 2, s, 3}, 2),
                             inputFor(DType::F32, {3, 2, s, 4}, 3), padding({s, 0, s / 2}, s)},
                            1e-6);
  }
  // No keys: zeros.
  checkAgainstInterpreter(kAttention, "padded",
                          {inputFor(DType::F32, {1, 2, 5, 3}, 1), Array(DType::F32, {1, 2, 0, 3}),
                           Array(DType::F32, {1, 2, 0, 4}), padding({0}, 0)});
}

TEST_CASE("cuda on the host device: causal attention, with and without a mask, matches") {
  for (int64_t t : {1, 9}) {
    CAPTURE(t);
    Array mask = inputFor(DType::F64, {t, t}, 4);
    mask.setDouble(0, -INFINITY); // row 0's only visible key: a row of zeros
    checkAgainstInterpreter(kAttention, "causal",
                            {inputFor(DType::F64, {t, 6}, 1), inputFor(DType::F64, {t, 6}, 2),
                             inputFor(DType::F64, {t, 2}, 3), mask},
                            1e-13);
  }
}

TEST_CASE("cuda: the attention kernel is PTX that ptxas accepts") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  auto m = ir::parseModule(kAttention);
  REQUIRE_OK(m);
  for (const char *sm : {"sm_80", "sm_90"}) {
    CAPTURE(sm);
    auto ptx = cuda::modulePtx(**m, sm);
    REQUIRE_OK(ptx);
    CHECK(ptx->find("_attention(") != std::string::npos);
    if (ptxas)
      CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
  }
}

} // namespace cuda_CudaAttentionTest
