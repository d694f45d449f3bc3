//===- frontend/Init.h - parameter initializers ---------------------------===//
//
// How Graph::initParams draws a parameter's first value. Scaled initializers
// read fans from the shape in one of two layouts:
//   FanLayout::InOut (the default): [..., fan_in, fan_out], a weight applied as
//     matmul(x, W); a rank-1 shape [n] has fan_in = fan_out = n.
//   FanLayout::OutIn: PyTorch's [out, in, k...] (nn.Linear's [out, in], a conv's
//     [out, in, kh, kw]): fan_in = in * prod(k), fan_out = out * prod(k), as
//     torch.nn.init computes them.
// Orthogonal ignores the layout: like torch.nn.init.orthogonal_ it flattens the
// shape to [shape[0], rest] and makes its rows or columns orthonormal.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Array.h"

#include <cstdint>
#include <string>
#include <vector>

namespace weft {

/// Where a scaled initializer reads fan_in and fan_out.
enum class FanLayout { InOut, OutIn };

/// An initializer: a distribution, resolved against the parameter's shape when drawn.
struct Init {
  enum class Kind {
    Constant,
    Uniform,
    Normal,
    Xavier,
    XavierNormal,
    He,
    HeUniform,
    Lecun,
    Orthogonal
  };
  Kind kind = Kind::Constant;
  /// Constant: the value; Uniform: low and high; Normal: a is the standard deviation;
  /// Orthogonal: a is the gain.
  double a = 0.0, b = 0.0;
  FanLayout layout = FanLayout::InOut;
  /// When >= 0, this row (index along axis 0) is set to zero after drawing: nn.Embedding's
  /// padding row.
  int64_t zeroRow = -1;
  /// When rowsEnd > rowsBegin, rows [rowsBegin, rowsEnd) of axis 0 are set to rowsValue after
  /// drawing: an LSTM's forget-gate bias.
  int64_t rowsBegin = 0, rowsEnd = 0;
  double rowsValue = 0.0;

  /// The same initializer reading fans in PyTorch's [out, in, ...] layout.
  Init outIn() const {
    Init i = *this;
    i.layout = FanLayout::OutIn;
    return i;
  }
  /// The same initializer with row `row` of axis 0 zeroed.
  Init withZeroRow(int64_t row) const {
    Init i = *this;
    i.zeroRow = row;
    return i;
  }

  /// The same initializer with rows [begin, end) of axis 0 set to `value`.
  Init withRows(int64_t begin, int64_t end, double value) const {
    Init i = *this;
    i.rowsBegin = begin, i.rowsEnd = end, i.rowsValue = value;
    return i;
  }

  /// "xavier", "uniform(-1.0, 1.0)", "he_uniform[out,in]", ... for messages.
  std::string str() const;
};

namespace init {
inline Init zeros() { return {Init::Kind::Constant, 0.0, 0.0}; }
inline Init ones() { return {Init::Kind::Constant, 1.0, 0.0}; }
inline Init constant(double v) { return {Init::Kind::Constant, v, 0.0}; }
/// An LSTM bias [4H] in PyTorch's gate order (i, f, g, o): zeros, with the forget gate's rows
/// [H, 2H) at `value` (Gers et al. 2000; Jozefowicz et al. 2015 use 1), so that the cell keeps
/// its state at the start of training.
inline Init lstmForgetBias(int64_t hiddenSize, double value = 1.0) {
  return constant(0.0).withRows(hiddenSize, 2 * hiddenSize, value);
}
/// Uniform in [lo, hi).
inline Init uniform(double lo, double hi) { return {Init::Kind::Uniform, lo, hi}; }
/// Normal with mean 0.
inline Init normal(double stddev) { return {Init::Kind::Normal, stddev, 0.0}; }
/// Glorot uniform: U(-l, l) with l = sqrt(6 / (fan_in + fan_out)).
inline Init xavier() { return {Init::Kind::Xavier, 0.0, 0.0}; }
inline Init xavierUniform() { return xavier(); }
/// Glorot normal: N(0, 2 / (fan_in + fan_out)).
inline Init xavierNormal() { return {Init::Kind::XavierNormal, 0.0, 0.0}; }
/// He (Kaiming) normal: N(0, 2 / fan_in).
inline Init he() { return {Init::Kind::He, 0.0, 0.0}; }
inline Init heNormal() { return he(); }
/// He (Kaiming) uniform: U(-l, l) with l = sqrt(6 / fan_in).
inline Init heUniform() { return {Init::Kind::HeUniform, 0.0, 0.0}; }
/// LeCun normal: N(0, 1 / fan_in).
inline Init lecun() { return {Init::Kind::Lecun, 0.0, 0.0}; }
/// A (semi-)orthogonal matrix times `gain` (torch.nn.init.orthogonal_).
inline Init orthogonal(double gain = 1.0) { return {Init::Kind::Orthogonal, gain, 0.0}; }

// PyTorch's default initializers, per layer.
/// nn.Linear's weight and bias: U(-1/sqrt(in_features), 1/sqrt(in_features)).
Init torchLinear(int64_t inFeatures);
/// nn.RNN / LSTM / GRU: every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)).
Init torchRecurrent(int64_t hiddenSize);
/// nn.Embedding: N(0, 1), the padding row (if any, else -1) zero.
inline Init torchEmbedding(int64_t paddingIdx = -1) { return normal(1.0).withZeroRow(paddingIdx); }
/// nn.LayerNorm / nn.BatchNorm: weight ones, bias zeros.
inline Init torchNormWeight() { return ones(); }
inline Init torchNormBias() { return zeros(); }
} // namespace init

/// Fills a new array of `dtype` and static `shape` from `init` with the counter-based
/// generator of runtime/Random.h, stream `seed`. Errors (as values) for integer dtypes with a
/// random initializer, and for an orthogonal initializer on a rank-0 or rank-1 shape.
Expected<Array> drawInit(const Init &init, DType dtype, const std::vector<int64_t> &shape,
                         int64_t seed);

} // namespace weft
