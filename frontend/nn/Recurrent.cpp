//===- frontend/nn/Recurrent.cpp ------------------------------------------===//
//
// One scan per layer and direction, the layers stacked in the graph:
//
//   in = xs                                           [T, B, I]
//   for l in 0..L-1:
//     for d in 0..D-1:                                d = 1 is a reverse scan
//       hT[, cT], hs = scan(in, state0[l*D + d]) { cell step }   hs [T, B, H]
//     in = concat(hs over d, axis 2)                  [T, B, D*H]
//     in = dropout(in) unless l is the last layer
//   output = in;  h_n = stack(hT),  c_n = stack(cT)   [L*D, B, H]
//
//===----------------------------------------------------------------------===//
#include "frontend/nn/Recurrent.h"

#include "frontend/Control.h"
#include "frontend/OpSupport.h"
#include "frontend/Ops.h"
#include "frontend/nn/Dropout.h"

#include <fmt/format.h>

namespace weft::nn {
namespace {

/// Row k of a stacked state [L*D, B, H], as [B, H].
Tensor stateAt(const Tensor &stacked, int64_t k, SrcLoc loc) {
  const Shape &s = stacked.shape();
  return reshape(slice(stacked, 0, k, k + 1, loc), {s[1], s[2]}, loc);
}

/// [B, H] states stacked on a new axis 0.
Tensor stack(const std::vector<Tensor> &states, SrcLoc loc) {
  std::vector<Tensor> rows;
  for (const Tensor &s : states)
    rows.push_back(reshape(s, {Dim(1), s.shape()[0], s.shape()[1]}, loc));
  return rows.size() == 1 ? rows[0] : concat(rows, 0, loc);
}

} // namespace

Recurrent::Recurrent(const Scope &scope, CellKind kind, int64_t inputSize, int64_t hiddenSize,
                     RecurrentOptions opts, SrcLoc loc)
    : scope_(scope), kind_(kind), inputSize_(inputSize), hiddenSize_(hiddenSize), opts_(opts) {
  if (inputSize <= 0 || hiddenSize <= 0)
    throwAt(loc, fmt::format("{}: input_size and hidden_size must be positive, got {} and {}",
                             describe(), inputSize, hiddenSize));
  if (opts.numLayers < 1)
    throwAt(loc,
            fmt::format("{}: num_layers must be at least 1, got {}", describe(), opts.numLayers));
  if (!(opts.dropout >= 0.0 && opts.dropout <= 1.0))
    throwAt(loc, fmt::format("{}: dropout must be in [0, 1], got {}", describe(), opts.dropout));
  if (kind != CellKind::SimpleRNN && opts.nonlinearity != Nonlinearity::Tanh)
    throwAt(loc, fmt::format("{}: relu() applies to nn.RNN only", describe()));
  if (kind != CellKind::GRU && opts.gruReset != GruReset::AfterMatmul)
    throwAt(loc, fmt::format("{}: withGruReset() applies to nn.GRU only", describe()));
  if (kind != CellKind::LSTM && opts.forgetBias)
    throwAt(loc, fmt::format("{}: withForgetBias() applies to nn.LSTM only", describe()));
  if (opts.forgetBias && !opts.bias)
    throwAt(loc, fmt::format("{}: withForgetBias() needs the biases (withBias(true))", describe()));
  if (!isFloat(opts.dtype))
    throwAt(loc, fmt::format("{}: parameters must be f32 or f64", describe()));
  for (int64_t l = 0; l < opts.numLayers; ++l)
    for (int64_t d = 0; d < directions(); ++d)
      cells_.push_back(CellParams::declare(
          scope, kind, l == 0 ? inputSize : directions() * hiddenSize, hiddenSize, opts.bias,
          fmt::format("_l{}{}", l, d == 1 ? "_reverse" : ""), opts.dtype, loc, opts.forgetBias));
}

std::string Recurrent::describe() const {
  const char *name = cellName(kind_, /*sequence=*/true);
  return scope_.prefix().empty() ? name : fmt::format("{} '{}'", name, scope_.prefix());
}

void Recurrent::checkInputs(const Tensor &xs, const RecurrentInputs &in, SrcLoc loc) const {
  if (!xs.valid())
    throwAt(loc, fmt::format("{}: xs is an empty Tensor", describe()));
  if (xs.graph() != &scope_.graph())
    throwAt(loc, fmt::format("{}: xs belongs to another graph than the layer", describe()));
  DType dt = opts_.dtype;
  if (xs.rank() != 3 || xs.dtype() != dt || xs.shape()[2] != Dim(inputSize_))
    throwAt(loc, fmt::format("{}: xs must be time-major [T, B, {}] of {}, got {}", describe(),
                             inputSize_, dtypeName(dt), xs.type().str()));
  const Dim &batch = xs.shape()[1];
  if (in.lengths.valid()) {
    const Tensor &len = in.lengths;
    if (len.rank() != 1 || len.shape()[0] != batch ||
        (len.dtype() != DType::I32 && len.dtype() != DType::I64))
      throwAt(loc,
              fmt::format("{}: lengths must be tensor<{} x i32> or tensor<{} x i64> (one "
                          "per example of xs {}), got {}",
                          describe(), batch.str(), batch.str(), xs.type().str(), len.type().str()));
  }
  ir::Type state({Dim(opts_.numLayers * directions()), batch, Dim(hiddenSize_)}, dt);
  auto checkState = [&](const Tensor &s, const char *name) {
    if (s.valid() && s.type() != state)
      throwAt(loc,
              fmt::format("{}: {} must be {} ([num_layers * directions, B, hidden_size]), got {}",
                          describe(), name, state.str(), s.type().str()));
  };
  checkState(in.h0, "h0");
  checkState(in.c0, "c0");
  if (kind_ != CellKind::LSTM && in.c0.valid())
    throwAt(loc, fmt::format("{}: only an LSTM takes c0", describe()));
  if (kind_ == CellKind::LSTM && in.h0.valid() != in.c0.valid())
    throwAt(loc, fmt::format("{}: give both h0 and c0, or neither", describe()));
}

RecurrentOutputs Recurrent::operator()(const Tensor &xs, const RecurrentInputs &in,
                                       SrcLoc loc) const {
  checkInputs(xs, in, loc);
  Graph &g = scope_.graph();
  const Dim &batch = xs.shape()[1];
  Tensor zeroState = detail::splat(g, ir::Type({batch, Dim(hiddenSize_)}, xs.dtype()), 0.0, loc);
  ScanOptions scanOpts;
  if (in.lengths.valid())
    scanOpts.withLengths(in.lengths);

  Tensor layerIn = xs;
  std::vector<Tensor> hFinal, cFinal;
  for (int64_t l = 0; l < opts_.numLayers; ++l) {
    std::vector<Tensor> outs;
    for (int64_t d = 0; d < directions(); ++d) {
      int64_t k = l * directions() + d;
      CellWeights w = cell(l, d).weights(loc);
      Tensor h0 = in.h0.valid() ? stateAt(in.h0, k, loc) : zeroState;
      ScanOptions so = scanOpts;
      so.reversed(d == 1);
      if (kind_ == CellKind::LSTM) {
        Tensor c0 = in.c0.valid() ? stateAt(in.c0, k, loc) : zeroState;
        auto [hT, cT, hs] = scan(
            layerIn, {h0, c0},
            [&](Tensor x, Tensor h, Tensor c) {
              auto [h2, c2] = lstmStep(w, x, h, c, loc);
              return carry(h2, c2).emit(h2);
            },
            so, loc);
        hFinal.push_back(hT);
        cFinal.push_back(cT);
        outs.push_back(hs);
        continue;
      }
      auto [hT, hs] = scan(
          layerIn, {h0},
          [&](Tensor x, Tensor h) {
            Tensor h2 = kind_ == CellKind::GRU ? gruStep(w, x, h, opts_.gruReset, loc)
                                               : rnnStep(w, x, h, opts_.nonlinearity, loc);
            return carry(h2).emit(h2);
          },
          so, loc);
      hFinal.push_back(hT);
      outs.push_back(hs);
    }
    layerIn = outs.size() == 1 ? outs[0] : concat(outs, 2, loc);
    if (l + 1 < opts_.numLayers)
      layerIn = dropout(scope_, layerIn, opts_.dropout, loc);
  }
  RecurrentOutputs r;
  r.output = layerIn;
  r.h_n = stack(hFinal, loc);
  if (kind_ == CellKind::LSTM)
    r.c_n = stack(cFinal, loc);
  return r;
}

} // namespace weft::nn
