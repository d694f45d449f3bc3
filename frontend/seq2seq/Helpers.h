//===- frontend/seq2seq/Helpers.h - what a decoder reads at each step -----===//
//
// TF1's tf.contrib.seq2seq helpers: a helper chooses the decoder's input at every step and,
// at inference, the token it emits.
//
//   TrainingHelper         teacher forcing: the inputs are given, [T, B, E]: the embedded
//                          target shifted right (<BOS>, y_0, ..., y_{T-2}, see shiftRight), so
//                          step t predicts y_t having seen y_{<t}. dynamicDecode runs a `scan`.
//   GreedyEmbeddingHelper  the argmax of the logits, embedded, is the next input; starts from
//                          the start tokens (<BOS>), a sequence ends when it emits endToken.
//                          dynamicDecode runs a `while`.
//   SampleEmbeddingHelper  as greedy, but the token is drawn from softmax(logits / temperature)
//                          by the Gumbel-max trick: argmax(logits / temperature + g), g
//                          = -log(-log(u)), u ~ U(0, 1) from random_uniform. The draw of step t
//                          uses the seed seed * 2^20 + t, so one seed gives one sequence of
//                          samples on every backend, and two seeds give unrelated ones. As the
//                          temperature goes to 0 the choice becomes the greedy one.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Tensor.h"

#include <cstdint>
#include <variant>

namespace weft::seq2seq {

/// targets [T, B] (integer ids, each sequence ending in <EOS>) -> [T, B]: row 0 is `bos`, row t
/// is targets[t - 1]. T may be symbolic. The last row of targets is dropped: it is the <EOS>
/// (or <PAD>) that no step reads. Throws at `loc` for a non-integer or non-[T, B] input.
Tensor shiftRight(const Tensor &targets, int64_t bos, SrcLoc loc = SrcLoc::current());

struct TrainingHelper {
  /// The decoder's inputs [T, B, E], time-major.
  Tensor inputs;
  /// tensor<B x i32|i64>, or empty when every sequence runs all T steps.
  Tensor lengths;
};

struct GreedyEmbeddingHelper {
  /// The embedding table [V, E] the chosen tokens are looked up in.
  Tensor embedding;
  /// tensor<B x integer>: the first input of each sequence, usually <BOS>.
  Tensor startTokens;
  int64_t endToken = 3;
};

struct SampleEmbeddingHelper {
  Tensor embedding, startTokens;
  int64_t endToken = 3;
  /// Above 0; logits are divided by it before sampling.
  double temperature = 1.0;
  /// The seed: `seedTensor` (a tensor<i64> scalar, e.g. a graph input) when set, else `seed`.
  int64_t seed = 0;
  Tensor seedTensor;
};

using Helper = std::variant<TrainingHelper, GreedyEmbeddingHelper, SampleEmbeddingHelper>;

/// The token of each row of logits [B, V] as the helper draws it at step `step` (a tensor<i64>
/// scalar): i64 [B]. Greedy: the argmax; sample: see the file comment.
Tensor chooseTokens(const GreedyEmbeddingHelper &h, const Tensor &logits, const Tensor &step,
                    SrcLoc loc = SrcLoc::current());
Tensor chooseTokens(const SampleEmbeddingHelper &h, const Tensor &logits, const Tensor &step,
                    SrcLoc loc = SrcLoc::current());

} // namespace weft::seq2seq
