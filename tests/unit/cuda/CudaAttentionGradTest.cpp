// attention_grad on the CUDA backend's host device against the reference interpreter: heads as
// batch dims, a symbolic batch, query and key counts past a tile's edge (the host's blocks are
// 3 threads) and depths past the block's width, broadcast padding masks with -inf, causal rows,
// rows whose every key is masked, no keys at all, each `wrt`; two runs give the same bits (no
// atomics); and the kernels through ptxas for sm_80 and sm_90.
#include "tests/unit/cuda/Parity.h"
#include "tests/unit/cuda/Ptxas.h"

#include <doctest/doctest.h>

#include <cmath>

namespace cuda_CudaAttentionGradTest {

using namespace weft;
using testing::checkAgainstInterpreter;
using testing::inputFor;

namespace {

const char *kAttentionGrad = R"(
func @padded(%q: tensor<B x 2 x Q x 5 x f32>, %k: tensor<B x 2 x S x 5 x f32>, %v: tensor<B x 2 x S x 4 x f32>, %do: tensor<B x 2 x Q x 4 x f32>, %mask: tensor<B x 1 x 1 x S x f32>) -> (tensor<B x 2 x Q x 5 x f32>, tensor<B x 2 x S x 5 x f32>, tensor<B x 2 x S x 4 x f32>) {
  %o = attention %q, %k, %v, %mask {scale = 0.5} : tensor<B x 2 x Q x 4 x f32>
  %dq, %dk, %dv = attention_grad %q, %k, %v, %o, %do, %mask {scale = 0.5} : tensor<B x 2 x Q x 5 x f32>, tensor<B x 2 x S x 5 x f32>, tensor<B x 2 x S x 4 x f32>
  return %dq, %dk, %dv
}
func @causal(%q: tensor<T x 6 x f64>, %k: tensor<T x 6 x f64>, %v: tensor<T x 2 x f64>, %do: tensor<T x 2 x f64>, %mask: tensor<T x T x f64>) -> (tensor<T x 6 x f64>, tensor<T x 6 x f64>, tensor<T x 2 x f64>, tensor<T x 6 x f64>, tensor<T x 6 x f64>, tensor<T x 2 x f64>) {
  %o = attention %q, %k, %v {scale = 0.4, causal = 1} : tensor<T x 2 x f64>
  %dq, %dk, %dv = attention_grad %q, %k, %v, %o, %do {scale = 0.4, causal = 1} : tensor<T x 6 x f64>, tensor<T x 6 x f64>, tensor<T x 2 x f64>
  %m = attention %q, %k, %v, %mask {scale = 1.0, causal = 1} : tensor<T x 2 x f64>
  %mq, %mk, %mv = attention_grad %q, %k, %v, %m, %do, %mask {scale = 1.0, causal = 1} : tensor<T x 6 x f64>, tensor<T x 6 x f64>, tensor<T x 2 x f64>
  return %dq, %dk, %dv, %mq, %mk, %mv
}
func @wrt(%q: tensor<7 x 3 x f32>, %k: tensor<8 x 3 x f32>, %v: tensor<8 x 5 x f32>, %do: tensor<7 x 5 x f32>) -> (tensor<7 x 3 x f32>, tensor<8 x 3 x f32>, tensor<8 x 5 x f32>, tensor<7 x 3 x f32>, tensor<8 x 3 x f32>, tensor<8 x 5 x f32>) {
  %o = attention %q, %k, %v {scale = 0.7} : tensor<7 x 5 x f32>
  %aq, %ak, %av = attention_grad %q, %k, %v, %o, %do {scale = 0.7, wrt = 2} : tensor<7 x 3 x f32>, tensor<8 x 3 x f32>, tensor<8 x 5 x f32>
  %bq, %bk, %bv = attention_grad %q, %k, %v, %o, %do {scale = 0.7, wrt = 5} : tensor<7 x 3 x f32>, tensor<8 x 3 x f32>, tensor<8 x 5 x f32>
  return %aq, %ak, %av, %bq, %bk, %bv
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

std::vector<Array> paddedInputs(int64_t queries, int64_t keys) {
  return {inputFor(DType::F32, {3, 2, queries, 5}, 1), inputFor(DType::F32, {3, 2, keys, 5}, 2),
          inputFor(DType::F32, {3, 2, keys, 4}, 3), inputFor(DType::F32, {3, 2, queries, 4}, 4),
          padding({keys, 0, keys / 2}, keys)};
}

} // namespace

TEST_CASE(
    "cuda on the host device: attention_grad matches the interpreter, padded and multi-head") {
  // Tiles of 3 threads: 7 and 8 end in partial tiles, 1 is one partial tile; example 1 masks
  // every key.
  for (auto [queries, keys] : {std::pair<int64_t, int64_t>{7, 8}, {1, 10}, {9, 3}}) {
    CAPTURE(queries);
    CAPTURE(keys);
    checkAgainstInterpreter(kAttentionGrad, "padded", paddedInputs(queries, keys), 1e-5);
  }
  // No keys: every gradient is zeros.
  checkAgainstInterpreter(kAttentionGrad, "padded", paddedInputs(4, 0));
}

TEST_CASE("cuda on the host device: causal attention_grad, with and without a mask, matches") {
  for (int64_t t : {1, 8}) {
    CAPTURE(t);
    Array mask = inputFor(DType::F64, {t, t}, 4);
    mask.setDouble(0, -INFINITY); // row 0's only visible key: a row of zeros
    checkAgainstInterpreter(kAttentionGrad, "causal",
                            {inputFor(DType::F64, {t, 6}, 1), inputFor(DType::F64, {t, 6}, 2),
                             inputFor(DType::F64, {t, 2}, 3), inputFor(DType::F64, {t, 2}, 5),
                             mask},
                            1e-12);
  }
}

TEST_CASE("cuda on the host device: attention_grad leaves out what wrt does not ask for") {
  std::vector<Array> in = {inputFor(DType::F32, {7, 3}, 1), inputFor(DType::F32, {8, 3}, 2),
                           inputFor(DType::F32, {8, 5}, 3), inputFor(DType::F32, {7, 5}, 4)};
  checkAgainstInterpreter(kAttentionGrad, "wrt", in, 1e-5);
}

TEST_CASE("cuda on the host device: attention_grad gives the same bits on every run") {
  auto m = ir::parseModule(kAttentionGrad, "ops.wir");
  REQUIRE_OK(m);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  std::vector<Array> in = paddedInputs(9, 10);
  auto first = (*exe)->run("padded", in);
  REQUIRE_OK(first);
  auto second = (*exe)->run("padded", in);
  REQUIRE_OK(second);
  REQUIRE(first->size() == 3);
  for (size_t r = 0; r < first->size(); ++r) {
    CAPTURE(r);
    testing::checkClose((*second)[r], (*first)[r], 0);
  }
}

TEST_CASE("cuda: attention_grad deeper than its kernels' shared memory is an error saying so") {
  auto m = ir::parseModule(R"(
func @deep(%q: tensor<2 x 3000 x f32>, %do: tensor<2 x 3000 x f32>) -> (tensor<2 x 3000 x f32>) {
  %dq, %dk, %dv = attention_grad %q, %q, %q, %do, %do {scale = 1.0} : tensor<2 x 3000 x f32>, tensor<2 x 3000 x f32>, tensor<2 x 3000 x f32>
  return %dq
}
)");
  REQUIRE_OK(m);
  cuda::CudaBackend host(cuda::hostDevice());
  auto exe = host.compile(**m);
  REQUIRE_OK(exe);
  std::vector<Array> in = {Array(DType::F32, {2, 3000}), Array(DType::F32, {2, 3000})};
  auto got = (*exe)->run("deep", in);
  REQUIRE_FALSE(got);
  CHECK(got.diag().message.find("attention_grad with d + dv = 6000 is more than") !=
        std::string::npos);
}

TEST_CASE("cuda: the attention_grad kernels are PTX that ptxas accepts") {
  auto ptxas = testing::findPtxas();
  if (!ptxas)
    MESSAGE("ptxas not found (no CUDA toolkit; set WEFT_PTXAS): PTX is generated but not "
            "validated");
  // Masked and causal, and one wanting dk and dv only (dq a fill).
  auto m = ir::parseModule(R"(
func @f(%q: tensor<H x 7 x 3 x f32>, %do: tensor<H x 7 x 3 x f32>, %mask: tensor<1 x 7 x 7 x f32>) -> (tensor<H x 7 x 3 x f32>, tensor<H x 7 x 3 x f32>) {
  %dq, %dk, %dv = attention_grad %q, %q, %q, %do, %do, %mask {scale = 0.5, causal = 1} : tensor<H x 7 x 3 x f32>, tensor<H x 7 x 3 x f32>, tensor<H x 7 x 3 x f32>
  %eq, %ek, %ev = attention_grad %q, %q, %q, %do, %do {scale = 0.5, wrt = 6} : tensor<H x 7 x 3 x f32>, tensor<H x 7 x 3 x f32>, tensor<H x 7 x 3 x f32>
  return %dq, %ek
}
)");
  REQUIRE_OK(m);
  for (const char *sm : {"sm_80", "sm_90"}) {
    CAPTURE(sm);
    auto ptx = cuda::modulePtx(**m, sm);
    REQUIRE_OK(ptx);
    for (const char *kernel : {"_attention_grad_stats(", "_attention_grad_dkdv(",
                               "_attention_grad_dq(", "_attention_grad_zero_dq("})
      CHECK(ptx->find(kernel) != std::string::npos);
    if (ptxas)
      CHECK(testing::ptxasErrors(*ptxas, *ptx, sm) == "");
  }
}

} // namespace cuda_CudaAttentionGradTest
