//===- backends/cuda/LowerLstmAttentionStep.cpp - lstm_attention_step as steps -===//
//
//   lstm_attention_step %x[B,I], %h, %c[B,H], %wx[I,4H], %wh[H,4H], %b[4H], %wq[H,A],
//                       %kp[B,S,A], %v[A], %values[B,S,D], %wa[H+D,N] (, %mask[B,S])
//     -> h2, c2[B,H], att[B,N], weights[B,S]
//   {luong}: %wq and %v give way to a scale %g[] (A = H), the score g (h2 . kp[b, j]).
//
// Five or six launches over scratch of the op's own (in its dtype):
//
//   zx[B,4H] = x wx;  zh[B,4H] = h wh                 tiled matmuls (MatmulKernel.cpp)
//   h2, c2 = cell(zx + zh + b, c)                     LstmAttentionStepKernels.cpp
//   q[B,A] = h2 wq                                    tiled matmul (Bahdanau only)
//   ctx[B,D], weights = attention(q or h2, kp, v or g, values, mask)
//                                                     a block per batch row
//                                                     (AdditiveAttentionKernel.cpp)
//   att = h2 wa[:H] + ctx wa[H:]                       attention vector kernel: no concat
//
// The matmuls accumulate in the op's dtype, the other kernels in double, as the interpreter.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/LowerGrads.h"
#include "backends/cuda/LstmAttentionStepKernels.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace weft::cuda::detail {
namespace {

/// The op's sizes for a call's dims.
struct Sizes {
  int64_t B = 0, I = 0, H = 0, S = 0, A = 0, D = 0, N = 0;
};

/// The scratch's order in the buffer plan; Bahdanau's query last, Luong has none.
enum Scratch { Zx, Zh, Ctx, Query };

/// Where the operands are, with and without {luong}.
struct Operands {
  size_t x = 0, h = 1, c = 2, wx = 3, wh = 4, bias = 5, wq, kp, v, values, wa, mask;
  bool hasMask;
  explicit Operands(const ir::Op &op) {
    const bool luong = op.luong();
    const size_t base = luong ? 10 : 11;
    wq = luong ? 0 : 6; // unused for Luong
    kp = luong ? 6 : 7;
    v = kp + 1;
    values = kp + 2;
    wa = kp + 3;
    mask = base;
    hasMask = op.numOperands() == base + 1;
  }
};

Grid strided(const Device &d, int64_t items) {
  const int64_t t = d.blockThreads();
  return {std::max<int64_t>(1, std::min((items + t - 1) / t, d.maxBlocks())), t};
}

Launch matmulLaunch(const Device &d, int64_t M, int64_t K, int64_t N) {
  const int64_t tiles = ((M + kTileM - 1) / kTileM) * ((N + kTileN - 1) / kTileN);
  return Launch{{1, M, K, N},
                {std::max<int64_t>(1, std::min(tiles, d.maxBlocks())), kMatmulThreads}};
}

} // namespace

std::vector<ir::Type> lstmAttentionStepScratch(const ir::Op &op) {
  const Operands o(op);
  const std::vector<ir::Dim> &x = op.operand(o.x)->type().dims(),
                             &kp = op.operand(o.kp)->type().dims(),
                             &values = op.operand(o.values)->type().dims();
  const ir::Dim B = x[0], G = op.operand(o.wx)->type().dims()[1];
  const DType t = op.operand(o.x)->type().dtype();
  std::vector<ir::Type> out = {ir::Type({B, G}, t), ir::Type({B, G}, t),
                               ir::Type({B, values[2]}, t)};
  if (!op.luong())
    out.emplace_back(std::vector<ir::Dim>{B, kp[2]}, t);
  return out;
}

Expected<std::vector<Step>> lowerLstmAttentionStep(OpLowering &l, const ir::Op &op) {
  const Operands o(op);
  const bool luong = op.luong();
  const ir::Type xType = op.operand(o.x)->type(), hType = op.operand(o.h)->type(),
                 kpType = op.operand(o.kp)->type(), valuesType = op.operand(o.values)->type(),
                 waType = op.operand(o.wa)->type();
  const DType t = xType.dtype();
  const std::vector<int> &s = l.plan.scratchOf(op);
  auto in = [&](size_t i) { return l.slot(op.operand(i)); };
  auto out = [&](size_t i) { return l.slot(op.result(i)); };
  auto sizes = [=](const ir::DimBindings &dims) -> Expected<Sizes> {
    auto x = xType.evaluateShape(dims);
    WEFT_TRY(x.status());
    auto h = hType.evaluateShape(dims);
    WEFT_TRY(h.status());
    auto kp = kpType.evaluateShape(dims);
    WEFT_TRY(kp.status());
    auto values = valuesType.evaluateShape(dims);
    WEFT_TRY(values.status());
    auto wa = waType.evaluateShape(dims);
    WEFT_TRY(wa.status());
    return Sizes{(*x)[0], (*x)[1], (*h)[1], (*kp)[1], (*kp)[2], (*values)[2], (*wa)[1]};
  };
  std::vector<Step> steps;

  // One matmul kernel serves every product: c[M, N] = a[M, K] b[K, N] of the op's dtype.
  const std::string matmulName = l.kernelName(op, "matmul");
  WEFT_TRY(emitMatmulKernel(*l.km.module, matmulName, l.target, t).status());
  using Mkn = std::function<std::array<int64_t, 3>(const Sizes &)>;
  auto matmul = [&](int c, int a, int b, Mkn mkn) {
    return l.kernelStep(
        op, matmulName, {c, a, b},
        [sizes, mkn](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
          auto z = sizes(dims);
          WEFT_TRY(z.status());
          auto [M, K, N] = mkn(*z);
          return matmulLaunch(d, M, K, N);
        });
  };
  steps.push_back(matmul(s[Zx], in(o.x), in(o.wx),
                         [](const Sizes &z) { return std::array<int64_t, 3>{z.B, z.I, 4 * z.H}; }));
  steps.push_back(matmul(s[Zh], in(o.h), in(o.wh),
                         [](const Sizes &z) { return std::array<int64_t, 3>{z.B, z.H, 4 * z.H}; }));

  std::string name = l.kernelName(op, "cell");
  WEFT_TRY(emitLstmAttentionCellKernel(*l.km.module, name, l.target, t).status());
  steps.push_back(
      l.kernelStep(op, name, {out(0), out(1), s[Zx], s[Zh], in(o.bias), in(o.c)},
                   [sizes](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto z = sizes(dims);
                     WEFT_TRY(z.status());
                     return Launch{{z->B, z->H}, strided(d, z->B * z->H)};
                   }));

  // Bahdanau queries with h2 wq, Luong with h2 itself.
  int query = out(0);
  if (!luong) {
    query = s[Query];
    steps.push_back(matmul(query, out(0), in(o.wq),
                           [](const Sizes &z) { return std::array<int64_t, 3>{z.B, z.H, z.A}; }));
  }
  name = l.kernelName(op, "attention");
  WEFT_TRY(emitAdditiveAttentionKernel(*l.km.module, name, l.target, t, o.hasMask,
                                       luong ? AttentionScore::Luong : AttentionScore::Additive)
               .status());
  steps.push_back(l.kernelStep(
      op, name,
      {s[Ctx], out(3), query, in(o.kp), in(o.v), in(o.values), o.hasMask ? in(o.mask) : s[Ctx]},
      [sizes](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
        auto z = sizes(dims);
        WEFT_TRY(z.status());
        return Launch{{z->B, z->S, z->A, z->D},
                      {std::max<int64_t>(1, std::min(z->B, d.maxBlocks())), d.blockThreads()}};
      }));

  name = l.kernelName(op, "attention_vector");
  WEFT_TRY(emitAttentionVectorKernel(*l.km.module, name, l.target, t).status());
  steps.push_back(
      l.kernelStep(op, name, {out(2), out(0), s[Ctx], in(o.wa)},
                   [sizes](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto z = sizes(dims);
                     WEFT_TRY(z.status());
                     return Launch{{z->B, z->H, z->D, z->N}, strided(d, z->B * z->N)};
                   }));
  return steps;
}

} // namespace weft::cuda::detail
