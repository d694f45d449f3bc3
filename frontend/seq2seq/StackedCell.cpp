//===- frontend/seq2seq/StackedCell.cpp -----------------------------------===//
#include "frontend/seq2seq/StackedCell.h"

#include "frontend/Ops.h"

#include <fmt/format.h>

namespace weft::seq2seq {

StackedCell::StackedCell(const nn::Scope &scope, nn::CellKind kind, int64_t inputSize,
                         int64_t hiddenSize, int64_t layers, SrcLoc loc)
    : kind_(kind), inputSize_(inputSize), hiddenSize_(hiddenSize) {
  if (kind != nn::CellKind::LSTM && kind != nn::CellKind::GRU)
    throwAt(loc, "seq2seq::StackedCell: the cell kind must be LSTM or GRU");
  if (inputSize < 1 || hiddenSize < 1 || layers < 1)
    throwAt(loc, fmt::format("seq2seq::StackedCell '{}': input size, hidden size and layers must "
                             "be positive, got {}, {} and {}",
                             scope.prefix(), inputSize, hiddenSize, layers));
  for (int64_t l = 0; l < layers; ++l) {
    nn::CellParams p =
        nn::CellParams::declare(scope, kind, l == 0 ? inputSize : hiddenSize, hiddenSize,
                                /*bias=*/true, fmt::format("_l{}", l), DType::F32, loc);
    weights_.push_back(p.weights(loc));
  }
}

std::pair<Tensor, State> StackedCell::operator()(const Tensor &x, const State &state,
                                                 SrcLoc loc) const {
  if (state.size() != stateSize())
    throwAt(loc, fmt::format("seq2seq::StackedCell: the state has {} tensors; a {}-layer {} "
                             "cell takes {}",
                             state.size(), layers(), nn::cellName(kind_, false), stateSize()));
  State next;
  Tensor input = x;
  size_t per = stateTensorsPerLayer();
  for (size_t l = 0; l < weights_.size(); ++l) {
    if (kind_ == nn::CellKind::LSTM) {
      auto [h, c] = nn::lstmStep(weights_[l], input, state[l * per], state[l * per + 1], loc);
      next.push_back(h);
      next.push_back(c);
      input = h;
    } else {
      Tensor h = nn::gruStep(weights_[l], input, state[l * per], nn::GruReset::AfterMatmul, loc);
      next.push_back(h);
      input = h;
    }
  }
  return {input, next};
}

State StackedCell::zeroState(Dim batch, SrcLoc loc) const {
  State s;
  for (size_t i = 0; i < stateSize(); ++i)
    s.push_back(zeros({batch, Dim(hiddenSize_)}, DType::F32, loc));
  return s;
}

} // namespace weft::seq2seq
