//===- backends/cpu/LstmAttentionStepKernel.h - its weights, packed -------===//
//
// Free of LLVM: the scratch of lstm_attention_step's kernel (EmitLstmAttentionStep.cpp), for
// the scratch model (Scratch.cpp). Each weight (wx, wh, wq where Bahdanau's, wa; K x n) is
// copied on each step into column strips of kStripVectors vectors, strip g holding K rows of
// its columns [g * NR, g * NR + NR), zero past n: the kernel's tiles then read a strip as one
// stream. Read in place, a weight whose rows are 4 KB apart (H = 256: wx and wh are 256 x
// 1024) maps every row of a column group to the same few cache sets, and the gate product
// ran at a third of the GEMM's speed. Only where every weight dim is static; else none.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"

#include <vector>

namespace weft::cpu {

/// The vectors of a strip (and of the kernel's register tile): the GEMM's (MatmulBlocks.h).
inline int lstmAttentionStripVectors(int vectorBytes) { return vectorBytes == 64 ? 4 : 2; }

/// The operands the kernel packs, in scratch order: wx, wh, wq (Bahdanau's only), wa.
inline std::vector<size_t> lstmAttentionPackedOperands(const ir::Op &op) {
  if (op.luong())
    return {3, 4, 9};
  return {3, 4, 6, 10};
}

/// Its scratch: each packed operand's strips, or nothing where a weight dim is symbolic.
inline std::vector<ir::Type> lstmAttentionStepScratch(const ir::Op &op, int vectorBytes) {
  std::vector<ir::Type> out;
  for (size_t i : lstmAttentionPackedOperands(op)) {
    const ir::Type &w = op.operand(i)->type();
    if (!w.dim(0).isStatic() || !w.dim(1).isStatic())
      return {};
  }
  DType dt = op.result(0)->type().dtype();
  const int64_t NR =
      lstmAttentionStripVectors(vectorBytes) * vectorBytes / static_cast<int64_t>(dtypeBytes(dt));
  for (size_t i : lstmAttentionPackedOperands(op)) {
    const ir::Type &w = op.operand(i)->type();
    int64_t strips = (w.dim(1).size() + NR - 1) / NR;
    out.push_back(ir::Type({strips * w.dim(0).size() * NR}, dt));
  }
  return out;
}

} // namespace weft::cpu
