//===- backends/cuda/LowerAttentionGrad.cpp - attention_grad as three kernels -===//
//
//   attention_grad %q, %k, %v, %o, %do (, %mask) {scale, causal, wrt} -> dq, dk, dv
//     stats[.., Tq, 3] (f64 scratch) = m, l, D per query row      a block per query row
//     dk, dv                                                      a block per key row
//     dq (zeros when wrt leaves it out)                           a block per query row
// (AttentionGradKernel.cpp). The steps also hold the op's checks: d + dv must fit the kernels'
// shared memory.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/GradKernels.h"
#include "backends/cuda/LowerGrads.h"

#include <fmt/format.h>

#include <algorithm>

namespace weft::cuda::detail {
namespace {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Shape rowMajor(const Shape &shape) {
  Shape strides(shape.size(), 1);
  for (size_t a = shape.size(); a-- > 1;)
    strides[a - 1] = strides[a] * shape[a];
  return strides;
}

/// The scalars of every attention_grad kernel (GradKernels.h) but the first (rows), and the
/// batch's size, for a call's dims.
struct Sizes {
  std::vector<int64_t> scalars; // Tq, Tk, d, dv, batch dims, mask strides
  int64_t batch = 1, tq = 0, tk = 0;
};

Expected<Sizes> sizesOf(const ir::Type &q, const ir::Type &k, const ir::Type &v,
                        const std::optional<ir::Type> &mask, const ir::DimBindings &dims) {
  auto sq = q.evaluateShape(dims);
  WEFT_TRY(sq.status());
  auto sk = k.evaluateShape(dims);
  WEFT_TRY(sk.status());
  auto sv = v.evaluateShape(dims);
  WEFT_TRY(sv.status());
  const size_t r = sq->size();
  const int64_t depth = (*sq)[r - 1], dv = (*sv)[r - 1];
  if (depth + dv > kMaxAttentionGradDepth)
    return err(fmt::format("attention_grad with d + dv = {} is more than the CUDA kernels' "
                           "shared memory holds ({})",
                           depth + dv, kMaxAttentionGradDepth));
  Shape batch(sq->begin(), sq->end() - 2), maskStrides(r, 0);
  if (mask) {
    auto sm = mask->evaluateShape(dims);
    WEFT_TRY(sm.status());
    Shape strides = rowMajor(*sm);
    for (size_t a = 0; a < r; ++a)
      if ((*sm)[a] != 1)
        maskStrides[a] = strides[a];
  }
  Sizes s;
  s.batch = numel(batch);
  s.tq = (*sq)[r - 2];
  s.tk = (*sk)[r - 2];
  s.scalars = {s.tq, s.tk, depth, dv};
  s.scalars.insert(s.scalars.end(), batch.begin(), batch.end());
  s.scalars.insert(s.scalars.end(), maskStrides.begin(), maskStrides.end());
  return s;
}

/// A launch of a block per row over `rows` rows.
Launch perRow(const Sizes &s, int64_t rows, const Device &d) {
  std::vector<int64_t> scalars = {rows};
  scalars.insert(scalars.end(), s.scalars.begin(), s.scalars.end());
  return Launch{std::move(scalars),
                {std::min(std::max<int64_t>(rows, 1), d.maxBlocks()), d.blockThreads()}};
}

} // namespace

Expected<std::vector<Step>> lowerAttentionGrad(OpLowering &l, const ir::Op &op) {
  const ir::Type q = op.operand(0)->type(), k = op.operand(1)->type(), v = op.operand(2)->type();
  const bool hasMask = op.numOperands() == 6;
  const std::optional<ir::Type> mask =
      hasMask ? std::optional<ir::Type>(op.operand(5)->type()) : std::nullopt;
  const int batchRank = static_cast<int>(q.rank()) - 2;
  const DType t = q.dtype();
  const ir::Attr *wrtAttr = op.findAttr(ir::AttrId::Wrt);
  const int64_t wrt = wrtAttr ? std::get<int64_t>(*wrtAttr) : 7;
  if (wrt < 1 || wrt > 7)
    return err(fmt::format("wrt must be a bit set of 1 (dq), 2 (dk), 4 (dv), got {}", wrt),
               op.loc());
  const int stats = l.plan.scratchOf(op).at(0);
  const int qs = l.slot(op.operand(0)), ks = l.slot(op.operand(1)), vs = l.slot(op.operand(2)),
            os = l.slot(op.operand(3)), dos = l.slot(op.operand(4));
  const int masks = hasMask ? l.slot(op.operand(5)) : stats;
  const int dq = l.slot(op.result(0)), dk = l.slot(op.result(1)), dv = l.slot(op.result(2));
  auto sizes = [=](const ir::DimBindings &dims) { return sizesOf(q, k, v, mask, dims); };
  std::vector<Step> steps;

  std::string name = l.kernelName(op, "stats");
  WEFT_TRY(emitAttentionStatsKernel(*l.km.module, name, l.target, t, batchRank, hasMask, op.scale(),
                                    op.causal())
               .status());
  steps.push_back(
      l.kernelStep(op, name, {stats, qs, ks, os, dos, masks},
                   [sizes](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto s = sizes(dims);
                     WEFT_TRY(s.status());
                     return perRow(*s, s->batch * s->tq, d);
                   }));

  name = l.kernelName(op, "dkdv");
  WEFT_TRY(emitAttentionKeyGradKernel(*l.km.module, name, l.target, t, batchRank, hasMask,
                                      op.scale(), op.causal(), wrt & 2, wrt & 4)
               .status());
  steps.push_back(
      l.kernelStep(op, name, {dk, dv, qs, ks, vs, dos, masks, stats},
                   [sizes](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto s = sizes(dims);
                     WEFT_TRY(s.status());
                     return perRow(*s, s->batch * s->tk, d);
                   }));

  if (wrt & 1) {
    name = l.kernelName(op, "dq");
    WEFT_TRY(emitAttentionQueryGradKernel(*l.km.module, name, l.target, t, batchRank, hasMask,
                                          op.scale(), op.causal())
                 .status());
    steps.push_back(
        l.kernelStep(op, name, {dq, qs, ks, vs, dos, masks, stats},
                     [sizes](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                       auto s = sizes(dims);
                       WEFT_TRY(s.status());
                       return perRow(*s, s->batch * s->tq, d);
                     }));
    return steps;
  }
  name = l.kernelName(op, "zero_dq");
  WEFT_TRY(emitFillKernel(*l.km.module, name, l.target, static_cast<int>(dtypeBytes(t))).status());
  steps.push_back(l.kernelStep(
      op, name, {dq}, [q](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
        auto sq = q.evaluateShape(dims);
        WEFT_TRY(sq.status());
        const int64_t n = numel(*sq), threads = d.blockThreads();
        return Launch{
            {n, 0},
            {std::min(std::max<int64_t>((n + threads - 1) / threads, 1), d.maxBlocks()), threads}};
      }));
  return steps;
}

} // namespace weft::cuda::detail

namespace weft::cuda::detail {

/// m, l and D of each query row.
std::vector<ir::Type> attentionGradScratch(const ir::Op &op) {
  std::vector<ir::Dim> dims = op.operand(0)->type().dims();
  dims.back() = ir::Dim(3);
  return {ir::Type(std::move(dims), DType::F64)};
}

} // namespace weft::cuda::detail
