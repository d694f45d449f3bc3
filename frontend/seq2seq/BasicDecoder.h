//===- frontend/seq2seq/BasicDecoder.h - TF1's BasicDecoder and dynamic_decode ===//
//
// One decoder body, two loops. BasicDecoder::step is the body: the helper's input for this
// step (with the context vector, when there is one, appended), one step of the cell, then the
// output layer:
//
//   x = [input, context]  ->  cell(x, state) -> (h, state')  ->  logits = output_layer(h)
//
// dynamicDecode runs it
//   - with a TrainingHelper as a `scan` over the given inputs (teacher forcing), masked by the
//     helper's lengths: the training graph;
//   - with a Greedy/SampleEmbeddingHelper as a `while` of at most maximumIterations trips with
//     per-example finished flags: an example finishes on the step it emits the end token, and
//     the loop exits as soon as every example has finished. The inference graph.
//
// Both call the same step with the same cell and output layer, so a model function that builds
// the decoder once per graph (training, inference) reads the same parameters by name.
//
// Finished examples, as docs/IR.md's `while` defines it: from the step after their end token,
// their state stays as it was and their outputs are zero, so their sample ids are <PAD> (0) and
// their logits 0 — TF's impute_finished=True, which is the only behaviour weft's while has. The
// loop stops when all examples are done, so a batch that finishes early costs no more trips;
// within a trip the body still computes every row, and the finished rows' results are dropped
// (the CPU backend does not compact the batch).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/seq2seq/DecoderAttention.h"
#include "frontend/seq2seq/Helpers.h"
#include "frontend/seq2seq/Layers.h"
#include "frontend/seq2seq/StackedCell.h"

#include <optional>

namespace weft::seq2seq {

class BasicDecoder {
public:
  /// `initialState` as the cell takes it (StackedCell::zeroState, or an encoder's final state:
  /// Encoder.h). `context`, [B, C] or empty: a vector appended to the input of every step (the
  /// cell's input size must then be E + C). Throws at `loc` when the sizes do not fit.
  BasicDecoder(const StackedCell &cell, Helper helper, State initialState, const Dense &outputLayer,
               Tensor context = {}, SrcLoc loc = SrcLoc::current());
  /// With attention (DecoderAttention.h): the cell's input size must be E + attention.size() and
  /// the output layer's attention.size(); initialState is the cell's, and the decoder's
  /// initialState() is it with the attention's zeros appended.
  BasicDecoder(const StackedCell &cell, Helper helper, State initialState, const Dense &outputLayer,
               DecoderAttention attention, SrcLoc loc = SrcLoc::current());

  struct StepResult {
    Tensor logits; ///< [B, V]
    State state;
  };
  /// The decoder body: one step from `input` [B, E] and `state`.
  StepResult step(const Tensor &input, const State &state, SrcLoc loc = SrcLoc::current()) const;

  const StackedCell &cell() const { return cell_; }
  const Helper &helper() const { return helper_; }
  const State &initialState() const { return initialState_; }
  const Dense &outputLayer() const { return outputLayer_; }
  const Tensor &context() const { return context_; }
  const std::optional<DecoderAttention> &attention() const { return attention_; }

private:
  void checkCellState(const State &cellState, SrcLoc loc) const;

  StackedCell cell_;
  Helper helper_;
  State initialState_;
  Dense outputLayer_;
  Tensor context_;
  std::optional<DecoderAttention> attention_;
};

struct DecodeOptions {
  /// The most steps of an inference decode (the `while`'s max_trips); at least 1 there. A
  /// teacher-forced decode runs over its inputs' T and ignores it.
  int64_t maximumIterations = 0;
};

/// TF1's (outputs, final_state, final_sequence_lengths), time-major.
struct DecoderOutputs {
  /// [T, B, V]: T is the inputs' T under teacher forcing, maximumIterations at inference.
  Tensor logits;
  /// [T, B] i64: the argmax (training) or the helper's choice; <PAD> after an example's end.
  Tensor sampleIds;
  /// The state after each example's last step.
  State finalState;
  /// [B] i64: the steps each example ran, its end token included.
  Tensor lengths;
  /// [B] i1 at inference: whether the example emitted the end token (false when it ran out of
  /// steps). Empty under teacher forcing.
  Tensor finished;
  /// tensor<i64> at inference: the steps the loop ran, the longest length. Empty under teacher
  /// forcing.
  Tensor trips;
};

/// Runs `decoder` as the file comment says. Throws at `loc` for a maximumIterations below 1 at
/// inference.
DecoderOutputs dynamicDecode(const BasicDecoder &decoder, const DecodeOptions &options = {},
                             SrcLoc loc = SrcLoc::current());

} // namespace weft::seq2seq
