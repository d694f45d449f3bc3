//===- frontend/nn/attention/PositionalEncoding.cpp -----------------------===//
#include "frontend/nn/attention/PositionalEncoding.h"

#include "frontend/Ops.h"

#include <fmt/format.h>

#include <cmath>

namespace weft::nn {

Tensor sinusoidalPositions(Dim length, int64_t dModel, DType dtype, SrcLoc loc) {
  if (dModel <= 0 || dModel % 2 != 0)
    throwAt(loc, fmt::format("nn sinusoidalPositions: d_model must be positive and even, got {}",
                             dModel));
  if (!isFloat(dtype))
    throwAt(loc, "nn sinusoidalPositions: the encoding needs a float dtype");
  int64_t half = dModel / 2;
  Tensor pos = cast(iota({length, Dim(half)}, 0, DType::I64, loc), dtype, loc);
  Tensor pair = cast(iota({length, Dim(half)}, 1, DType::I64, loc), dtype, loc);
  // 1 / 10000^(2i / d) = exp(-(2i / d) ln 10000).
  Tensor invFreq = exp(At(pair, loc) * (-2.0 * std::log(10000.0) / double(dModel)), loc);
  Tensor angle = mul(pos, invFreq, loc);
  // Interleave: [L, d/2, 2] with (sin, cos) innermost, then [L, d].
  Tensor s = reshape(sin(angle, loc), {length, Dim(half), Dim(1)}, loc);
  Tensor c = reshape(cos(angle, loc), {length, Dim(half), Dim(1)}, loc);
  return reshape(concat({s, c}, 2, loc), {length, Dim(dModel)}, loc);
}

Tensor addPositions(const Tensor &x, bool batchFirst, SrcLoc loc) {
  if (!x.valid() || x.rank() != 3 || !x.shape()[2].isStatic())
    throwAt(loc, fmt::format("nn addPositions: x must be [{}, d] with a static d, got {}",
                             batchFirst ? "B, L" : "L, B",
                             x.valid() ? x.type().str() : "an empty tensor"));
  Dim l = x.shape()[batchFirst ? 1 : 0];
  Tensor pe = sinusoidalPositions(l, x.shape()[2].size(), x.dtype(), loc);
  Shape shape = batchFirst ? Shape{Dim(1), l, x.shape()[2]} : Shape{l, Dim(1), x.shape()[2]};
  return add(x, reshape(pe, shape, loc), loc);
}

} // namespace weft::nn
