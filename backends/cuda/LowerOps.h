//===- backends/cuda/LowerOps.h - the primitive ops as steps --------------===//
//
// Internal to backends/cuda: the entry points Lowering.cpp's Lowerer dispatches the primitive
// ops and fusions to (LowerElementwise.cpp, LowerShapeOps.cpp, LowerReductions.cpp), and the
// launch arithmetic they share. The fused ops' gradients are in LowerGrads.h.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cuda/OpLowering.h"

#include <algorithm>
#include <string>
#include <vector>

namespace weft::cuda::detail {

using Shape = std::vector<int64_t>;

inline int64_t numel(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

/// The row-major strides of `shape`, in elements.
inline Shape rowMajor(const Shape &shape) {
  Shape strides(shape.size(), 1);
  for (size_t a = shape.size(); a-- > 1;)
    strides[a - 1] = strides[a] * shape[a];
  return strides;
}

/// The grid for `items` pieces of work that threads stride over, in blocks of any size.
inline Grid strided(const Device &d, int64_t items) {
  int64_t t = d.blockThreads();
  return {std::min((items + t - 1) / t, d.maxBlocks()), t};
}

/// "f32[2, 3]", as the interpreter's errors write a value's type.
inline std::string typeStr(DType t, const Shape &shape) {
  return std::string(dtypeName(t)) + formatShape(shape);
}

// LowerElementwise.cpp: one kernel over the result (a fusion's domain); integer divisions'
// status words checked after it. constant: an upload.
Expected<std::vector<Step>> lowerElementwise(OpLowering &l, const ir::Op &op);
Expected<std::vector<Step>> lowerFusion(OpLowering &l, const ir::Op &op);
Expected<std::vector<Step>> lowerIota(OpLowering &l, const ir::Op &op);
Expected<std::vector<Step>> lowerRandom(OpLowering &l, const ir::Op &op);
Expected<std::vector<Step>> lowerConstant(OpLowering &l, const ir::Op &op);

// LowerShapeOps.cpp: strided copies; gather and scatter_add with their index checks.
/// transpose, broadcast and slice: a copy over the result, reading the operand at strides.
Expected<std::vector<Step>> lowerRestride(OpLowering &l, const ir::Op &op);
Expected<std::vector<Step>> lowerConcat(OpLowering &l, const ir::Op &op);
Expected<std::vector<Step>> lowerPad(OpLowering &l, const ir::Op &op);
/// gather or scatter_add.
Expected<std::vector<Step>> lowerGather(OpLowering &l, const ir::Op &op);

// LowerReductions.cpp: kernels that reduce over an axis.
/// reduce_* or argmax.
Expected<std::vector<Step>> lowerReduction(OpLowering &l, const ir::Op &op);
Expected<std::vector<Step>> lowerMatmul(OpLowering &l, const ir::Op &op);
Expected<std::vector<Step>> lowerAttention(OpLowering &l, const ir::Op &op);
Expected<std::vector<Step>> lowerAdditiveAttention(OpLowering &l, const ir::Op &op);

} // namespace weft::cuda::detail
