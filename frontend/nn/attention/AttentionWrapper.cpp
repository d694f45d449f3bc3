//===- frontend/nn/attention/AttentionWrapper.cpp -------------------------===//
#include "frontend/nn/attention/AttentionWrapper.h"

#include "frontend/Control.h"
#include "frontend/Ops.h"
#include "frontend/nn/LayerLabel.h"

namespace weft::nn {
namespace {

const CellParams &paramsOf(const WrappedCell &cell) {
  return std::visit([](const auto &c) -> const CellParams & { return c.params(); }, cell);
}

bool isLstm(const WrappedCell &cell) { return std::holds_alternative<LSTMCell>(cell); }

} // namespace

AttentionWrapper::AttentionWrapper(const Scope &scope, WrappedCell cell,
                                   std::shared_ptr<const AttentionMechanism> mechanism,
                                   const AttentionWrapperOptions &options, SrcLoc loc)
    : label_(layerLabel("AttentionWrapper", scope)), cell_(std::move(cell)),
      mechanism_(std::move(mechanism)), options_(options) {
  if (!mechanism_)
    throwAt(loc, fmt::format("{}: the attention mechanism is null", label_));
  const CellParams &p = paramsOf(cell_);
  hidden_ = p.weightHh.shape()[1].size();
  if (options.attentionLayerSize && *options.attentionLayerSize <= 0)
    throwAt(loc, fmt::format("{}: attention_layer_size must be positive, got {}", label_,
                             *options.attentionLayerSize));
  if (mechanism_->queryDepth() != hidden_)
    throwAt(loc, fmt::format("{}: the mechanism's query depth ({}) must be the cell's hidden "
                             "size ({})",
                             label_, mechanism_->queryDepth(), hidden_));
  if (p.weightIh.shape()[1].size() <= attentionSize())
    throwAt(loc, fmt::format("{}: the cell's input size ({}) must be the step input's size plus "
                             "the attention size ({})",
                             label_, p.weightIh.shape()[1].size(), attentionSize()));
  if (options.attentionLayerSize) {
    int64_t in = hidden_ + mechanism_->memoryDepth();
    Tensor w = scope.child("attention_layer", loc)
                   .param("weight", {*options.attentionLayerSize, in}, init::torchLinear(in),
                          mechanism_->memory().dtype(), loc);
    attentionWeightT_ = transpose(w, {1, 0}, loc); // outside the decoder's loop
  }
}

int64_t AttentionWrapper::attentionSize() const {
  return options_.attentionLayerSize.value_or(mechanism_->memoryDepth());
}

int64_t AttentionWrapper::outputSize() const {
  return options_.outputAttention ? attentionSize() : hidden_;
}

AttentionWrapperState AttentionWrapper::zeroState(SrcLoc loc) const {
  Dim b = mechanism_->batch();
  DType dt = mechanism_->memory().dtype();
  AttentionWrapperState s;
  s.h = zeros({b, Dim(hidden_)}, dt, loc);
  if (isLstm(cell_))
    s.c = zeros({b, Dim(hidden_)}, dt, loc);
  s.attention = zeros({b, Dim(attentionSize())}, dt, loc);
  return s;
}

AttentionWrapperStep AttentionWrapper::operator()(const Tensor &x,
                                                  const AttentionWrapperState &state,
                                                  SrcLoc loc) const {
  requireInput(x, label_, loc);
  int64_t inputSize = paramsOf(cell_).weightIh.shape()[1].size() - attentionSize();
  if (x.rank() != 2 || x.shape()[1] != Dim(inputSize))
    throwAt(loc, fmt::format("{}: the step input must be [B, {}], got {}", label_, inputSize,
                             x.type().str()));
  Tensor cellInput = concat({x, state.attention}, 1, loc);
  AttentionWrapperStep step;
  Tensor out;
  if (const auto *lstm = std::get_if<LSTMCell>(&cell_)) {
    auto [h, c] = (*lstm)(cellInput, state.h, state.c, loc);
    out = h;
    step.state.c = c;
  } else if (const auto *gru = std::get_if<GRUCell>(&cell_)) {
    out = (*gru)(cellInput, state.h, loc);
  } else {
    out = std::get<RNNCell>(cell_)(cellInput, state.h, loc);
  }
  step.state.h = out;
  Alignment a = (*mechanism_)(out, loc);
  Tensor attention = a.context;
  if (attentionWeightT_.valid())
    attention = matmul(concat({out, a.context}, 1, loc), attentionWeightT_, loc);
  step.state.attention = attention;
  step.output = options_.outputAttention ? attention : out;
  step.alignments = a.alignments;
  return step;
}

AttentionWrapperSequence
AttentionWrapper::unroll(const Tensor &xs, const AttentionWrapperState &initial, SrcLoc loc) const {
  requireInput(xs, label_, loc);
  if (xs.rank() != 3)
    throwAt(loc, fmt::format("{}: the inputs must be time-major [T, B, I], got {}", label_,
                             xs.type().str()));
  AttentionWrapperSequence out;
  if (isLstm(cell_)) {
    auto [h, c, a, ys, history] = scan(
        xs, {initial.h, initial.c, initial.attention},
        [&](Tensor x, Tensor h, Tensor c, Tensor att) {
          AttentionWrapperStep s = (*this)(x, {h, c, att}, loc);
          return carry(s.state.h, s.state.c, s.state.attention).emit(s.output, s.alignments);
        },
        {}, loc);
    out = {ys, {h, c, a}, history};
  } else {
    auto [h, a, ys, history] = scan(
        xs, {initial.h, initial.attention},
        [&](Tensor x, Tensor h, Tensor att) {
          AttentionWrapperStep s = (*this)(x, {h, {}, att}, loc);
          return carry(s.state.h, s.state.attention).emit(s.output, s.alignments);
        },
        {}, loc);
    out = {ys, {h, {}, a}, history};
  }
  return out;
}

} // namespace weft::nn
