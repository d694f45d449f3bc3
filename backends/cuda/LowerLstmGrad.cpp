//===- backends/cuda/LowerLstmGrad.cpp - lstm_sequence_grad as host-driven steps -===//
//
//   lstm_sequence_grad %xs[T,B,I], %h0, %c0[B,H], %wx[I,G], %wh[H,G], %b[G], %hs, %dhs[T,B,H],
//                      %dhT, %dcT[B,H] (, %len[B]) {reverse}  (G = 4H)
//     -> dxs[T,B,I], dh0, dc0[B,H], dwx[I,G], dwh[H,G], db[G]
//
// The forward is recomputed for all T B rows at once (or, {save_gates}, read from the operands
// gates and cs), then one loop the host runs (a LoopCode, as a scan's) walks the steps backwards
// with one elementwise kernel and one matmul each, and the weight gradients are one matmul each
// over all steps (scratch in the op's dtype):
//
//   (len checked in [0, T])
//   hp[T,B,H]   = the h each step starts from                  previous-state kernel
//   act[T,B,G]  = xs wx;  zh = hp wh                           two matmuls over T B rows
//   act         = gates(act + zh + b)                          gates kernel
//   cs, cp      = the c each step ends and starts with         cell kernel (sequential in t)
//   {save_gates}: act = gates, cs = cs (operands);  cp         previous-state kernel on c0, cs
//   whT, wxT, xsT[I,TB], hpT[H,TB]                             transposes
//   dh0 = dhT, dc0 = dcT;  for t backwards (forwards when reverse):
//     dz[B,G], dc' = gate gradients(act[t], cs[t], cp[t], dhs[t], dh0, dc0)
//     dh' = dz whT
//     dh0, dc0 = dh', dc' and dzs[t] = dz, for the examples with t < len (dzs 0 for the rest)
//   dxs = dzs wxT;  dwx = xsT dzs;  dwh = hpT dzs;  db = column sums of dzs
//
// A result nothing reads (dxs of a layer fed by data, a frozen layer's weight gradients) is
// left unwritten, with its matmul or sum and the transpose only it reads.
//
// Matmuls are the tiled kernel's (MatmulKernel.cpp), accumulating in the op's dtype; the sum is
// the reduction kernel's.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/GradKernels.h"
#include "backends/cuda/LowerGrads.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <tuple>

namespace weft::cuda::detail {
namespace {

/// The op's sizes for a call's dims.
struct Sizes {
  int64_t T = 0, B = 0, I = 0, H = 0, G = 0;
};

/// The scratch's order in the buffer plan: the recomputed forward's gates and cell states last,
/// as the training form ({save_gates}) reads them from its operands instead.
enum Scratch { Hp, Cp, Dzs, Dz, DhNew, DcNew, WhT, WxT, XsT, HpT, Act, Zh, Cs, NumScratch };

Grid strided(const Device &d, int64_t items) {
  const int64_t t = d.blockThreads();
  return {std::max<int64_t>(1, std::min((items + t - 1) / t, d.maxBlocks())), t};
}

Launch matmulLaunch(const Device &d, int64_t M, int64_t K, int64_t N) {
  const int64_t tiles = ((M + kTileM - 1) / kTileM) * ((N + kTileN - 1) / kTileN);
  return Launch{{1, M, K, N}, {std::min(tiles, d.maxBlocks()), kMatmulThreads}};
}

} // namespace

std::vector<ir::Type> lstmGradScratch(const ir::Op &op) {
  const std::vector<ir::Dim> &xs = op.operand(0)->type().dims();
  const ir::Dim T = xs[0], B = xs[1], I = xs[2], H = op.operand(1)->type().dims()[1],
                G = op.operand(3)->type().dims()[1], TB = T * B;
  const DType t = op.operand(0)->type().dtype();
  auto type = [t](std::vector<ir::Dim> dims) { return ir::Type(std::move(dims), t); };
  std::vector<ir::Type> out(op.saveGates() ? Act : NumScratch);
  out[Hp] = out[Cp] = type({T, B, H});
  out[Dzs] = type({T, B, G});
  if (!op.saveGates()) {
    out[Act] = out[Zh] = type({T, B, G});
    out[Cs] = type({T, B, H});
  }
  out[Dz] = type({B, G});
  out[DhNew] = out[DcNew] = type({B, H});
  out[WhT] = type({G, H});
  out[WxT] = type({G, I});
  out[XsT] = type({I, TB});
  out[HpT] = type({H, TB});
  return out;
}

Expected<std::vector<Step>> lowerLstmSequenceGrad(OpLowering &l, const ir::Op &op) {
  const ir::Type xsType = op.operand(0)->type(), h0Type = op.operand(1)->type(),
                 wxType = op.operand(3)->type();
  const DType t = xsType.dtype();
  // The training form reads the forward's activated gates and cell states from operands 10 and
  // 11; the plain form recomputes them. The lengths come last.
  const bool saved = op.saveGates();
  const size_t lenOperand = saved ? 12 : 10;
  const bool hasLengths = op.numOperands() == lenOperand + 1;
  const std::optional<ir::Type> lenType =
      hasLengths ? std::optional<ir::Type>(op.operand(lenOperand)->type()) : std::nullopt;
  const std::optional<DType> lengths =
      lenType ? std::optional<DType>(lenType->dtype()) : std::nullopt;
  const bool reverse = op.reverse();
  const std::vector<int> &s = l.plan.scratchOf(op);
  auto in = [&](size_t i) { return l.slot(op.operand(i)); };
  auto out = [&](size_t i) { return l.slot(op.result(i)); };
  auto wanted = [&](size_t i) { return !l.plan.unused(op.result(i)); };
  const int len = hasLengths ? in(lenOperand) : s[Hp];
  auto sizes = [=](const ir::DimBindings &dims) -> Expected<Sizes> {
    auto xs = xsType.evaluateShape(dims);
    WEFT_TRY(xs.status());
    auto h0 = h0Type.evaluateShape(dims);
    WEFT_TRY(h0.status());
    auto wx = wxType.evaluateShape(dims);
    WEFT_TRY(wx.status());
    return Sizes{(*xs)[0], (*xs)[1], (*xs)[2], (*h0)[1], (*wx)[1]};
  };
  std::vector<Step> steps;
  std::string name;

  if (lenType) { // the kernels below index by the lengths: check them first
    Step check = l.step(op, Step::Kind::Check);
    checkLengths(check, len, *lenType, xsType);
    steps.push_back(std::move(check));
  }

  // The h each step starts from; with saved cell states, the c each starts from too.
  name = l.kernelName(op, "previous");
  WEFT_TRY(emitLstmPreviousStateKernel(*l.km.module, name, l.target, t, lengths, reverse).status());
  auto previous = [&](int to, int first, int sequence) {
    return l.kernelStep(op, name, {to, first, sequence, len},
                        [sizes](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                          auto z = sizes(dims);
                          WEFT_TRY(z.status());
                          return Launch{{z->T, z->B, z->H}, strided(d, z->T * z->B * z->H)};
                        });
  };
  steps.push_back(previous(s[Hp], in(1), in(6)));
  if (saved)
    steps.push_back(previous(s[Cp], in(2), in(11)));

  // One matmul kernel serves every product: c[M, N] = a[M, K] b[K, N] of the op's dtype.
  name = l.kernelName(op, "matmul");
  WEFT_TRY(emitMatmulKernel(*l.km.module, name, l.target, t).status());
  const std::string matmulName = name;
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
  // The plain form recomputes the activated gates and the cell states of every step.
  if (!saved) {
    steps.push_back(matmul(s[Act], in(0), in(3), [](const Sizes &z) {
      return std::array<int64_t, 3>{z.T * z.B, z.I, z.G};
    }));
    steps.push_back(matmul(s[Zh], s[Hp], in(4), [](const Sizes &z) {
      return std::array<int64_t, 3>{z.T * z.B, z.H, z.G};
    }));
    name = l.kernelName(op, "gates");
    WEFT_TRY(emitLstmGatesKernel(*l.km.module, name, l.target, t).status());
    steps.push_back(
        l.kernelStep(op, name, {s[Act], s[Zh], in(5)},
                     [sizes](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                       auto z = sizes(dims);
                       WEFT_TRY(z.status());
                       const int64_t n = z->T * z->B * z->G;
                       return Launch{{n, z->G, z->H}, strided(d, n)};
                     }));
    name = l.kernelName(op, "cell");
    WEFT_TRY(emitLstmCellKernel(*l.km.module, name, l.target, t, lengths, reverse).status());
    steps.push_back(
        l.kernelStep(op, name, {s[Cs], s[Cp], s[Act], in(2), len},
                     [sizes](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                       auto z = sizes(dims);
                       WEFT_TRY(z.status());
                       return Launch{{z->T, z->B, z->H}, strided(d, z->B * z->H)};
                     }));
  }

  // Transposes: to[C, R] = from[R, C], a strided copy.
  name = l.kernelName(op, "transpose");
  WEFT_TRY(
      emitCopyKernel(*l.km.module, name, l.target, static_cast<int>(dtypeBytes(t)), 2).status());
  const std::string transposeName = name;
  using Rc = std::function<std::array<int64_t, 2>(const Sizes &)>;
  auto transpose = [&](int to, int from, Rc rc) {
    return l.kernelStep(
        op, transposeName, {to, from},
        [sizes, rc](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
          auto z = sizes(dims);
          WEFT_TRY(z.status());
          auto [R, C] = rc(*z);
          // copyScalars: n, dims [C, R], source strides [1, C], destination strides [R, 1].
          return Launch{{R * C, C, R, 1, C, R, 1, 0, 0}, strided(d, R * C)};
        });
  };
  steps.push_back(
      transpose(s[WhT], in(4), [](const Sizes &z) { return std::array<int64_t, 2>{z.H, z.G}; }));
  const bool wantDxs = wanted(0), wantDwx = wanted(3), wantDwh = wanted(4);
  if (wantDxs)
    steps.push_back(
        transpose(s[WxT], in(3), [](const Sizes &z) { return std::array<int64_t, 2>{z.I, z.G}; }));
  if (wantDwx)
    steps.push_back(transpose(
        s[XsT], in(0), [](const Sizes &z) { return std::array<int64_t, 2>{z.T * z.B, z.I}; }));
  if (wantDwh)
    steps.push_back(transpose(
        s[HpT], s[Hp], [](const Sizes &z) { return std::array<int64_t, 2>{z.T * z.B, z.H}; }));

  // The loop over the steps, backwards from the forward's order.
  auto code = std::make_shared<LoopCode>();
  LoopCode &loop = *code;
  loop.reverse = !reverse;
  loop.sequenceType = xsType;
  LoopCopyMask mask = LoopCopyMask::None;
  if (lenType) {
    loop.lengthsType = lenType;
    loop.maskRef = len;
    mask = lenType->dtype() == DType::I32 ? LoopCopyMask::LengthsI32 : LoopCopyMask::LengthsI64;
  }
  const ir::Dim B = xsType.dims()[1], H = h0Type.dims()[1], G = wxType.dims()[1];
  const ir::Type state({B, H}, t), gates({B, G}, t);
  const int dh = out(1), dc = out(2);
  loop.init = {{dh, in(8)}, {dc, in(9)}};
  auto view = [&](int sequence, const ir::Type &step) {
    const int ref = l.newView();
    loop.views.push_back({ref, sequence, step});
    return ref;
  };
  const int actT = view(saved ? in(10) : s[Act], gates), csT = view(saved ? in(11) : s[Cs], state),
            cpT = view(s[Cp], state), dhsT = view(in(7), state);
  name = l.kernelName(op, "gate_grad");
  WEFT_TRY(emitLstmGateGradKernel(*l.km.module, name, l.target, t).status());
  loop.body.push_back(
      l.kernelStep(op, name, {s[Dz], s[DcNew], actT, csT, cpT, dhsT, dh, dc},
                   [sizes](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto z = sizes(dims);
                     WEFT_TRY(z.status());
                     return Launch{{z->B * z->H, z->H}, strided(d, z->B * z->H)};
                   }));
  loop.body.push_back(matmul(s[DhNew], s[Dz], s[WhT],
                             [](const Sizes &z) { return std::array<int64_t, 3>{z.B, z.G, z.H}; }));
  for (auto [suffix, from, to, type] :
       {std::tuple{"dh", s[DhNew], dh, state}, std::tuple{"dc", s[DcNew], dc, state}}) {
    auto c = l.loopCopy(op, suffix, from, to, type, mask);
    WEFT_TRY(c.status());
    loop.carries.push_back(std::move(*c));
  }
  auto emit = l.loopCopy(op, "dz", s[Dz], s[Dzs], gates, mask);
  WEFT_TRY(emit.status());
  loop.emits.push_back(std::move(*emit));
  Step loopStep = l.step(op, Step::Kind::Loop);
  loopStep.loop = std::move(code);
  steps.push_back(std::move(loopStep));

  // The weight gradients over all steps at once.
  if (wantDxs)
    steps.push_back(matmul(out(0), s[Dzs], s[WxT], [](const Sizes &z) {
      return std::array<int64_t, 3>{z.T * z.B, z.G, z.I};
    }));
  if (wantDwx)
    steps.push_back(matmul(out(3), s[XsT], s[Dzs], [](const Sizes &z) {
      return std::array<int64_t, 3>{z.I, z.T * z.B, z.G};
    }));
  if (wantDwh)
    steps.push_back(matmul(out(4), s[HpT], s[Dzs], [](const Sizes &z) {
      return std::array<int64_t, 3>{z.H, z.T * z.B, z.G};
    }));
  if (!wanted(5))
    return steps;
  name = l.kernelName(op, "db");
  WEFT_TRY(emitReduceKernel(*l.km.module, name, l.target, ReduceKind::Sum, t, t, 1, 1).status());
  steps.push_back(
      l.kernelStep(op, name, {out(5), s[Dzs]},
                   [sizes](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto z = sizes(dims);
                     WEFT_TRY(z.status());
                     return Launch{reduceScalars({z->T * z->B, z->G}, {true, false}),
                                   {std::min(z->G, d.maxBlocks()), d.blockThreads()}};
                   }));
  return steps;
}

} // namespace weft::cuda::detail
