//===- frontend/seq2seq/BasicDecoder.cpp ----------------------------------===//
//
// The training decode is
//
//   %state..., %logits, %ids = scan carry(%s0...) over(%inputs) [lengths(%len)] {
//     step; yield %state'..., %logits, argmax(%logits)
//   }
//
// and the inference decode
//
//   %fin, %state..., %in, %len, %logits, %ids, %trips =
//       while finished(false) carry(%s0..., embed(%start), 0) {max_trips = maximumIterations} {
//     step; %ids = choose(%logits, max(%len)); yield %ids == end, %state'..., embed(%ids),
//                                                  %len + 1, %logits, %ids
//   }
//
// %len counts the trips an example ran: every unfinished example has run all of them, so
// max(%len) is the current trip, which seeds the sampler's draw.
//
//===----------------------------------------------------------------------===//
#include "frontend/seq2seq/BasicDecoder.h"

#include "frontend/Control.h"
#include "frontend/Ops.h"

#include <fmt/format.h>

namespace weft::seq2seq {

namespace {

template <class... F> struct Overloaded : F... {
  using F::operator()...;
};

/// Builds a region with a body that takes and yields lists, closing it if `body` throws.
template <class Body>
std::vector<Tensor> buildRegion(detail::RegionFrame f, Body &&body,
                                std::vector<Tensor> (*end)(detail::RegionFrame &,
                                                           std::vector<Tensor>, SrcLoc),
                                SrcLoc loc) {
  try {
    std::vector<Tensor> yields = body(f.args);
    return end(f, std::move(yields), loc);
  } catch (...) {
    detail::abortRegion(f);
    throw;
  }
}

DecoderOutputs teacherForced(const BasicDecoder &d, const TrainingHelper &h, SrcLoc loc) {
  if (!h.inputs.valid() || h.inputs.rank() != 3)
    throwAt(loc, fmt::format("seq2seq::dynamicDecode: a TrainingHelper's inputs must be "
                             "[T, B, E], got {}",
                             h.inputs.valid() ? h.inputs.type().str() : "no tensor"));
  const State &s0 = d.initialState();
  size_t ns = s0.size();
  ScanOptions opts;
  if (h.lengths.valid())
    opts.withLengths(h.lengths);
  detail::RegionFrame f = detail::beginScan({h.inputs}, s0, opts, 1 + ns, ns, loc);
  std::vector<Tensor> r = buildRegion(
      f,
      [&](const std::vector<Tensor> &args) {
        State state(args.begin() + 1, args.end());
        BasicDecoder::StepResult step = d.step(args[0], state, loc);
        std::vector<Tensor> yields = step.state;
        yields.push_back(step.logits);
        yields.push_back(argmax(step.logits, 1, loc));
        return yields;
      },
      detail::endScan, loc);
  DecoderOutputs out;
  out.finalState.assign(r.begin(), r.begin() + static_cast<ptrdiff_t>(ns));
  out.logits = r[ns];
  out.sampleIds = r[ns + 1];
  if (h.lengths.valid()) {
    out.lengths = cast(h.lengths, DType::I64, loc);
  } else {
    // Every example ran all T steps: T as a [B] tensor (T may be symbolic).
    Dim T = h.inputs.shape()[0], B = h.inputs.shape()[1];
    out.lengths = sum(full({T, B}, 1.0, DType::I64, loc), {0}, /*keepdims=*/false, loc);
  }
  return out;
}

/// The greedy and the sampling helpers differ only in how they choose a token.
template <class H>
DecoderOutputs fedBack(const BasicDecoder &d, const H &h, const DecodeOptions &o, SrcLoc loc) {
  if (o.maximumIterations < 1)
    throwAt(loc, fmt::format("seq2seq::dynamicDecode: maximumIterations must be at least 1 for "
                             "an inference decode, got {}",
                             o.maximumIterations));
  if (!h.embedding.valid() || h.embedding.rank() != 2)
    throwAt(loc, "seq2seq::dynamicDecode: the helper's embedding must be a table [V, E]");
  if (!h.startTokens.valid() || h.startTokens.rank() != 1 || !isInteger(h.startTokens.dtype()))
    throwAt(loc, fmt::format("seq2seq::dynamicDecode: the helper's start tokens must be integer "
                             "ids [B], got {}",
                             h.startTokens.valid() ? h.startTokens.type().str() : "no tensor"));
  const State &s0 = d.initialState();
  size_t ns = s0.size();
  Dim B = h.startTokens.shape()[0];
  std::vector<Tensor> init = s0;
  init.push_back(gather(h.embedding, h.startTokens, 0, loc));
  init.push_back(full({B}, 0.0, DType::I64, loc));
  Tensor notFinished = full({B}, 0.0, DType::I1, loc);
  detail::RegionFrame f =
      detail::beginWhile(notFinished, init, o.maximumIterations, ns + 2, ns + 2, loc);
  std::vector<Tensor> r = buildRegion(
      f,
      [&](const std::vector<Tensor> &args) {
        State state(args.begin(), args.begin() + static_cast<ptrdiff_t>(ns));
        const Tensor &input = args[ns], &len = args[ns + 1];
        BasicDecoder::StepResult step = d.step(input, state, loc);
        Tensor trip = max(len, {0}, /*keepdims=*/false, loc);
        Tensor ids = chooseTokens(h, step.logits, trip, loc);
        Tensor done = eq(ids, full_like(ids, double(h.endToken), loc), loc);
        std::vector<Tensor> yields{done};
        yields.insert(yields.end(), step.state.begin(), step.state.end());
        yields.push_back(gather(h.embedding, ids, 0, loc));
        yields.push_back(add(len, full_like(len, 1.0, loc), loc));
        yields.push_back(step.logits);
        yields.push_back(ids);
        return yields;
      },
      detail::endWhile, loc);
  // finished, carries (state, input, len), logits, ids, trips.
  DecoderOutputs out;
  out.finished = r[0];
  out.finalState.assign(r.begin() + 1, r.begin() + 1 + static_cast<ptrdiff_t>(ns));
  out.lengths = r[ns + 2];
  out.logits = r[ns + 3];
  out.sampleIds = r[ns + 4];
  out.trips = r[ns + 5];
  return out;
}

} // namespace

BasicDecoder::BasicDecoder(const StackedCell &cell, Helper helper, State initialState,
                           const Dense &outputLayer, Tensor context, SrcLoc loc)
    : cell_(cell), helper_(std::move(helper)), initialState_(std::move(initialState)),
      outputLayer_(outputLayer), context_(context) {
  checkCellState(initialState_, loc);
  if (outputLayer.inFeatures() != cell.hiddenSize())
    throwAt(loc, fmt::format("seq2seq::BasicDecoder: the output layer takes {} features; the cell "
                             "gives {}",
                             outputLayer.inFeatures(), cell.hiddenSize()));
  if (context_.valid() && context_.rank() != 2)
    throwAt(loc, fmt::format("seq2seq::BasicDecoder: the context must be [B, C], got {}",
                             context_.type().str()));
}

BasicDecoder::BasicDecoder(const StackedCell &cell, Helper helper, State initialState,
                           const Dense &outputLayer, DecoderAttention attention, SrcLoc loc)
    : cell_(cell), helper_(std::move(helper)), initialState_(std::move(initialState)),
      outputLayer_(outputLayer), attention_(std::move(attention)) {
  checkCellState(initialState_, loc);
  if (outputLayer.inFeatures() != attention_->size())
    throwAt(loc, fmt::format("seq2seq::BasicDecoder: the output layer takes {} features; the "
                             "attention gives {}",
                             outputLayer.inFeatures(), attention_->size()));
  if (attention_->mechanism().queryDepth() != cell.hiddenSize())
    throwAt(loc, fmt::format("seq2seq::BasicDecoder: the attention's query depth ({}) must be "
                             "the cell's hidden size ({})",
                             attention_->mechanism().queryDepth(), cell.hiddenSize()));
  initialState_.push_back(attention_->zeroState(loc));
}

void BasicDecoder::checkCellState(const State &cellState, SrcLoc loc) const {
  if (cellState.size() != cell_.stateSize())
    throwAt(loc, fmt::format("seq2seq::BasicDecoder: the initial state has {} tensors; the cell "
                             "takes {}",
                             cellState.size(), cell_.stateSize()));
  for (const Tensor &s : cellState)
    if (!s.valid() || s.rank() != 2 || s.shape()[1] != Dim(cell_.hiddenSize()))
      throwAt(loc, fmt::format("seq2seq::BasicDecoder: every initial state tensor must be [B, {}], "
                               "got {}",
                               cell_.hiddenSize(), s.valid() ? s.type().str() : "no tensor"));
}

BasicDecoder::StepResult BasicDecoder::step(const Tensor &input, const State &state,
                                            SrcLoc loc) const {
  // With attention, the state's last tensor is the attention vector a (DecoderAttention.h).
  State cellState = state;
  Tensor x = input;
  if (attention_) {
    x = concat({input, cellState.back()}, 1, loc);
    cellState.pop_back();
  } else if (context_.valid()) {
    x = concat({input, context_}, 1, loc);
  }
  if (x.rank() != 2 || x.shape()[1] != Dim(cell_.inputSize()))
    throwAt(loc, fmt::format("seq2seq::BasicDecoder: the cell takes inputs of {} features, but "
                             "the helper's input{} gives {}",
                             cell_.inputSize(),
                             attention_         ? " with the attention"
                             : context_.valid() ? " with the context"
                                                : "",
                             x.type().shapeStr()));
  auto [h, next] = cell_(x, cellState, loc);
  if (!attention_)
    return {outputLayer_(h, loc), std::move(next)};
  Tensor a = (*attention_)(h, loc);
  next.push_back(a);
  return {outputLayer_(a, loc), std::move(next)};
}

DecoderOutputs dynamicDecode(const BasicDecoder &decoder, const DecodeOptions &options,
                             SrcLoc loc) {
  return std::visit(
      Overloaded{[&](const TrainingHelper &h) { return teacherForced(decoder, h, loc); },
                 [&](const GreedyEmbeddingHelper &h) { return fedBack(decoder, h, options, loc); },
                 [&](const SampleEmbeddingHelper &h) { return fedBack(decoder, h, options, loc); }},
      decoder.helper());
}

} // namespace weft::seq2seq
