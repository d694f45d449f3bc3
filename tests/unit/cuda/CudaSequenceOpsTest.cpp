// lstm_sequence, gru_sequence and rnn_sequence on the CUDA backend's host device against the
// reference interpreter, with lengths, reverse and a symbolic batch. lstm_sequence of this size
// takes the persistent kernel (CudaPersistentLstmTest.cpp has its cases); gru_sequence and
// rnn_sequence have no fused GPU kernels yet: the backend lowers the scans they stand for
// (transforms/ExpandGruRnn.h).
#include "tests/unit/cuda/Parity.h"

#include <doctest/doctest.h>

namespace cuda_CudaSequenceOpsTest {

using namespace weft;
using testing::checkAgainstInterpreter;

namespace {

const char *kSequences = R"(
func @lstm(%xs: tensor<T x B x 3 x f32>, %h0: tensor<B x 4 x f32>, %c0: tensor<B x 4 x f32>, %wx: tensor<3 x 16 x f32>, %wh: tensor<4 x 16 x f32>, %b: tensor<16 x f32>, %len: tensor<B x i64>) -> (tensor<T x B x 4 x f32>, tensor<B x 4 x f32>, tensor<B x 4 x f32>, tensor<T x B x 4 x f32>, tensor<B x 4 x f32>, tensor<B x 4 x f32>) {
  %hs, %hT, %cT = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b : tensor<T x B x 4 x f32>, tensor<B x 4 x f32>, tensor<B x 4 x f32>
  %rs, %rT, %rc = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b, %len {reverse = 1} : tensor<T x B x 4 x f32>, tensor<B x 4 x f32>, tensor<B x 4 x f32>
  return %hs, %hT, %cT, %rs, %rT, %rc
}
func @gru_rnn(%xs: tensor<T x B x 3 x f32>, %h0: tensor<B x 4 x f32>, %wx: tensor<3 x 12 x f32>, %wh: tensor<4 x 12 x f32>, %bx: tensor<12 x f32>, %bh: tensor<12 x f32>, %vx: tensor<3 x 4 x f32>, %vh: tensor<4 x 4 x f32>, %vb: tensor<4 x f32>, %len: tensor<B x i32>) -> (tensor<T x B x 4 x f32>, tensor<B x 4 x f32>, tensor<T x B x 4 x f32>, tensor<B x 4 x f32>, tensor<T x B x 4 x f32>, tensor<B x 4 x f32>) {
  %gs, %gT = gru_sequence %xs, %h0, %wx, %wh, %bx, %bh, %len {linear_before_reset = 1} : tensor<T x B x 4 x f32>, tensor<B x 4 x f32>
  %ks, %kT = gru_sequence %xs, %h0, %wx, %wh, %bx, %bh {reverse = 1} : tensor<T x B x 4 x f32>, tensor<B x 4 x f32>
  %rs, %rT = rnn_sequence %xs, %h0, %vx, %vh, %vb, %len {relu = 1} : tensor<T x B x 4 x f32>, tensor<B x 4 x f32>
  return %gs, %gT, %ks, %kT, %rs, %rT
}
)";

Array lengths(DType t, int64_t batch, int64_t steps) {
  Array a(t, {batch});
  for (int64_t b = 0; b < batch; ++b)
    a.setInt(b, (steps - b) > 0 ? steps - b : 0);
  return a;
}

} // namespace

TEST_CASE("cuda on the host device: lstm, gru and rnn sequences match the interpreter") {
  using testing::inputFor;
  const int64_t t = 3;
  for (int64_t b : {1, 3}) {
    CAPTURE(b);
    checkAgainstInterpreter(kSequences, "lstm",
                            {inputFor(DType::F32, {t, b, 3}, 1), inputFor(DType::F32, {b, 4}, 2),
                             inputFor(DType::F32, {b, 4}, 3), inputFor(DType::F32, {3, 16}, 4),
                             inputFor(DType::F32, {4, 16}, 5), inputFor(DType::F32, {16}, 6),
                             lengths(DType::I64, b, t)},
                            1e-6);
    checkAgainstInterpreter(kSequences, "gru_rnn",
                            {inputFor(DType::F32, {t, b, 3}, 1), inputFor(DType::F32, {b, 4}, 2),
                             inputFor(DType::F32, {3, 12}, 3), inputFor(DType::F32, {4, 12}, 4),
                             inputFor(DType::F32, {12}, 5), inputFor(DType::F32, {12}, 6),
                             inputFor(DType::F32, {3, 4}, 7), inputFor(DType::F32, {4, 4}, 8),
                             inputFor(DType::F32, {4}, 9), lengths(DType::I32, b, t)},
                            1e-6);
  }
}

} // namespace cuda_CudaSequenceOpsTest
