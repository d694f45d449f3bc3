//===- frontend/nn/attention/Masks.cpp ------------------------------------===//
#include "frontend/nn/attention/Masks.h"

#include "frontend/Ops.h"

#include <fmt/format.h>

#include <limits>

namespace weft::nn {

Tensor additiveMask(const Tensor &keep, DType dtype, SrcLoc loc) {
  if (!keep.valid() || keep.dtype() != DType::I1)
    throwAt(loc, fmt::format("nn additiveMask: the mask must be an i1 tensor, got {}",
                             keep.valid() ? keep.type().str() : "an empty tensor"));
  if (!isFloat(dtype))
    throwAt(loc, "nn additiveMask: the additive mask needs a float dtype");
  Tensor zero = full(keep.shape(), 0.0, dtype, loc);
  Tensor blocked = full(keep.shape(), -std::numeric_limits<double>::infinity(), dtype, loc);
  return select(keep, zero, blocked, loc);
}

Tensor causalMask(Dim lq, Dim lk, DType dtype, SrcLoc loc) {
  Tensor row = iota({lq, lk}, 0, DType::I64, loc);
  Tensor col = iota({lq, lk}, 1, DType::I64, loc);
  return additiveMask(le(col, row, loc), dtype, loc);
}

Tensor lengthMask(const Tensor &lengths, Dim length, SrcLoc loc) {
  if (!lengths.valid() || lengths.rank() != 1 ||
      (lengths.dtype() != DType::I32 && lengths.dtype() != DType::I64))
    throwAt(loc, fmt::format("nn lengthMask: lengths must be tensor<B x i32|i64>, got {}",
                             lengths.valid() ? lengths.type().str() : "an empty tensor"));
  Dim b = lengths.shape()[0];
  Tensor positions = iota({b, length}, 1, DType::I64, loc);
  Tensor len = reshape(cast(lengths, DType::I64, loc), {b, Dim(1)}, loc);
  return lt(positions, len, loc);
}

Tensor keyPaddingMask(const Tensor &lengths, Dim lk, DType dtype, SrcLoc loc) {
  return additiveMask(lengthMask(lengths, lk, loc), dtype, loc);
}

} // namespace weft::nn
