//===- backends/cuda/LowerReductions.cpp - ops whose kernels reduce over an axis ===//
//
// reduce_* and argmax, one reduction kernel (ReduceKernels.cpp); matmul, one tiled kernel
// (MatmulKernel.cpp); attention, a block per query row with an online softmax
// (AttentionKernel.cpp); additive_attention, a block per batch row
// (AdditiveAttentionKernel.cpp). Lowering.cpp dispatches here.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/LowerOps.h"

#include <fmt/format.h>

#include <algorithm>

namespace weft::cuda::detail {

using ir::OpKind;

Expected<std::vector<Step>> lowerReduction(OpLowering &l, const ir::Op &op) {
  const ir::Type in = op.operand(0)->type();
  const int rank = static_cast<int>(in.rank());
  std::vector<bool> reduced(static_cast<size_t>(rank), false);
  const bool arg = op.kind() == OpKind::Argmax;
  for (int64_t a : arg ? std::vector<int64_t>{op.axis()} : op.axes())
    reduced.at(static_cast<size_t>(a)) = true;
  const int reducedRank = static_cast<int>(std::count(reduced.begin(), reduced.end(), true));
  ReduceKind kind = arg                               ? ReduceKind::Argmax
                    : op.kind() == OpKind::ReduceSum  ? ReduceKind::Sum
                    : op.kind() == OpKind::ReduceMean ? ReduceKind::Mean
                    : op.kind() == OpKind::ReduceMax  ? ReduceKind::Max
                                                      : ReduceKind::Min;
  std::string name = l.kernelName(op);
  WEFT_TRY(emitReduceKernel(*l.km.module, name, l.target, kind, in.dtype(),
                            op.result()->type().dtype(), rank - reducedRank, reducedRank)
               .status());
  const bool picks = kind != ReduceKind::Sum && kind != ReduceKind::Mean;
  return std::vector<Step>{l.kernelStep(
      op, name, {l.slot(op.result()), l.slot(op.operand(0))},
      [in, reduced, picks](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
        auto shape = in.evaluateShape(dims);
        WEFT_TRY(shape.status());
        std::vector<int64_t> scalars = reduceScalars(*shape, reduced);
        const int64_t outputs = scalars[0], count = scalars[1];
        if (picks && count == 0 && outputs > 0) // the interpreter's words
          return err(
              fmt::format("cannot reduce {} over an empty axis", typeStr(in.dtype(), *shape)));
        return Launch{std::move(scalars), {std::min(outputs, d.maxBlocks()), d.blockThreads()}};
      })};
}

Expected<std::vector<Step>> lowerMatmul(OpLowering &l, const ir::Op &op) {
  const ir::Type a = op.operand(0)->type(), b = op.operand(1)->type();
  std::string name = l.kernelName(op);
  const bool tensorCores = l.options.tf32 && a.dtype() == DType::F32;
  WEFT_TRY((tensorCores ? emitMatmulTf32Kernel(*l.km.module, name, l.target)
                        : emitMatmulKernel(*l.km.module, name, l.target, a.dtype()))
               .status());
  const int64_t threads = tensorCores ? kMmaThreads : kMatmulThreads;
  return std::vector<Step>{l.kernelStep(
      op, name, {l.slot(op.result()), l.slot(op.operand(0)), l.slot(op.operand(1))},
      [a, b, threads](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
        auto sa = a.evaluateShape(dims);
        WEFT_TRY(sa.status());
        auto sb = b.evaluateShape(dims);
        WEFT_TRY(sb.status());
        const size_t r = sa->size();
        const int64_t M = (*sa)[r - 2], K = (*sa)[r - 1], N = (*sb)[r - 1];
        const int64_t batches = numel(Shape(sa->begin(), sa->end() - 2));
        const int64_t tiles = batches * ((M + kTileM - 1) / kTileM) * ((N + kTileN - 1) / kTileN);
        return Launch{{batches, M, K, N}, {std::min(tiles, d.maxBlocks()), threads}};
      })};
}

/// attention: a block per query row (AttentionKernel.cpp).
Expected<std::vector<Step>> lowerAttention(OpLowering &l, const ir::Op &op) {
  const ir::Type q = op.operand(0)->type(), k = op.operand(1)->type(), v = op.operand(2)->type();
  const bool hasMask = op.numOperands() == 4;
  const ir::Type mask = hasMask ? op.operand(3)->type() : q;
  const int batchRank = static_cast<int>(q.rank()) - 2;
  std::string name = l.kernelName(op);
  WEFT_TRY(emitAttentionKernel(*l.km.module, name, l.target, q.dtype(), batchRank, hasMask,
                               op.scale(), op.causal())
               .status());
  std::vector<int> slots = {l.slot(op.result()), l.slot(op.operand(0)), l.slot(op.operand(1)),
                            l.slot(op.operand(2)),
                            hasMask ? l.slot(op.operand(3)) : l.slot(op.result())};
  return std::vector<Step>{l.kernelStep(
      op, name, std::move(slots),
      [q, k, v, mask, hasMask](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
        auto sq = q.evaluateShape(dims);
        WEFT_TRY(sq.status());
        auto sk = k.evaluateShape(dims);
        WEFT_TRY(sk.status());
        auto sv = v.evaluateShape(dims);
        WEFT_TRY(sv.status());
        const size_t r = sq->size();
        const int64_t tq = (*sq)[r - 2], tk = (*sk)[r - 2], depth = (*sq)[r - 1], dv = (*sv)[r - 1];
        if (depth + dv > kMaxAttentionDepth)
          return err(fmt::format("attention with d + dv = {} is more than the CUDA kernel's "
                                 "shared memory holds ({})",
                                 depth + dv, kMaxAttentionDepth));
        Shape batch(sq->begin(), sq->end() - 2), maskStrides(r, 0);
        if (hasMask) {
          auto sm = mask.evaluateShape(dims);
          WEFT_TRY(sm.status());
          Shape strides = rowMajor(*sm);
          for (size_t a = 0; a < r; ++a)
            if ((*sm)[a] != 1)
              maskStrides[a] = strides[a];
        }
        std::vector<int64_t> scalars = {numel(batch) * tq, tq, tk, depth, dv};
        scalars.insert(scalars.end(), batch.begin(), batch.end());
        scalars.insert(scalars.end(), maskStrides.begin(), maskStrides.end());
        return Launch{
            std::move(scalars),
            {std::min(std::max<int64_t>(numel(batch) * tq, 1), d.maxBlocks()), d.blockThreads()}};
      })};
}

/// additive_attention: a block per batch row (AdditiveAttentionKernel.cpp).
Expected<std::vector<Step>> lowerAdditiveAttention(OpLowering &l, const ir::Op &op) {
  const bool hasMask = op.numOperands() == 5;
  const ir::Type kp = op.operand(1)->type(), values = op.operand(3)->type();
  std::string name = l.kernelName(op);
  WEFT_TRY(emitAdditiveAttentionKernel(*l.km.module, name, l.target, kp.dtype(), hasMask).status());
  std::vector<int> slots = {l.slot(op.result(0)), l.slot(op.result(1))};
  for (size_t i = 0; i < 4; ++i)
    slots.push_back(l.slot(op.operand(i)));
  slots.push_back(hasMask ? l.slot(op.operand(4)) : l.slot(op.result(0)));
  return std::vector<Step>{l.kernelStep(
      op, name, std::move(slots),
      [kp, values](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
        auto sk = kp.evaluateShape(dims);
        WEFT_TRY(sk.status());
        auto sv = values.evaluateShape(dims);
        WEFT_TRY(sv.status());
        const int64_t rows = (*sk)[0];
        return Launch{{rows, (*sk)[1], (*sk)[2], (*sv)[2]},
                      {std::min(std::max<int64_t>(rows, 1), d.maxBlocks()), d.blockThreads()}};
      })};
}

} // namespace weft::cuda::detail
