//===- backends/cuda/LowerGruRnnGrad.cpp - gru/rnn_sequence_grad as host-driven steps -===//
//
//   rnn_sequence_grad %xs[T,B,I], %h0[B,H], %wx[I,H], %wh[H,H], %b[H], %hs, %dhs[T,B,H],
//                     %dhT[B,H] (, %len[B]) {relu} {reverse}  -> dxs, dh0, dwx, dwh, db
//   gru_sequence_grad %xs, %h0, %wx[I,3H], %wh[H,3H], %bx, %bh[3H], %hs, %dhs, %dhT (, %len)
//                     {linear_before_reset} {reverse}  -> dxs, dh0, dwx, dwh, dbx, dbh
//
// As lstm_sequence_grad (LowerLstmGrad.cpp): the forward recomputed for all T B rows at once,
// one loop the host runs backwards over the steps, then the weight gradients as one matmul each
// over all steps (scratch in the op's dtype; eval/GruRnnSequenceGrad.cpp has the math):
//
//   (len checked in [0, T])
//   hp[T,B,H] = the h each step starts from
//   gru: gx = xs wx;  gh = hp wh  (all T B rows);  act = gates(gx, gh, bx, bh): r, z, n
//        activated. Cho's n needs r first:
//        rh = r hp;  ghn = rh wh_n;  act's n = tanh(gx_n + bx_n + ghn + bh_n)
//   whT (Cho: wh_rz^T[2H,H] and wh_n^T), wxT, xsT[I,TB], hpT[H,TB] (Cho: rhT)   transposes
//   dh0 = dhT;  for t backwards (forwards when reverse):
//     rnn:      dz = (dh + dhs[t]) f'(a), f' from hs[t] = f(a);  dh' = dz whT
//     PyTorch:  dgx, dgh, dhz = gate gradients;  dh' = dgh whT + dhz
//     Cho:      dg's z, n, dhz = gate gradients;  drh = dn wh_n^T;  dg's r, dhz += drh r;
//               dh' = dg_rz wh_rz^T + dhz
//     dh0 = dh' and the step's gradients stacked, for the examples with t < len (0 for the rest)
//   dxs = dgxs wxT (unless nothing reads dxs);  dwx = xsT dgxs;  dwh = hpT dghs (Cho: its n columns
//   rhT dns); dbx, dbh = column sums of dgxs, dghs (Cho: both of dgxs)
//
// gru_sequence_grad {save_gates} takes %gates after %dhT: the forward's r, z, n (PyTorch's form:
// and gh_n) are copied into act (and gh's n column) instead of the two matmuls over all rows
// and the gates kernel (Cho's: and its n gate's matmul), and Cho's rh = r hp from them.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/LowerGruRnnGrad.h"

#include "backends/cuda/GradKernels.h"
#include "backends/cuda/GruRnnGradKernels.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace weft::cuda::detail {
namespace {

/// The op's sizes for a call's dims.
struct Sizes {
  int64_t T = 0, B = 0, I = 0, H = 0, G = 0;
};

/// The scratch's order in the buffer plan. The RNN uses Hp and Dgxs .. HpT but Dghs and Dgh
/// (its gradients in Dgxs, one step's in Dgx); Rh .. Wn serve Cho's GRU only. Dghs and Dgh hold
/// PyTorch's dgh, or for Cho's GRU the stacked dn and one step's dg_rz. What a form does not
/// use is one element (gruRnnGradScratch).
enum Scratch {
  Hp,
  Gx,
  Gh,
  Dgxs,
  Dghs,
  Dgx,
  Dgh,
  Dhz,
  DhNew,
  WhT,
  WxT,
  XsT,
  HpT,
  Rh,
  GhN,
  Dn,
  Drh,
  WhN,
  WhNT,
  RhT,
  Wn,
  NumScratch
};

/// What each form's recurrence needs.
enum class Form { Rnn, GruPyTorch, GruCho };

Form formOf(const ir::Op &op) {
  if (op.kind() == ir::OpKind::RnnSequenceGrad)
    return Form::Rnn;
  return op.linearBeforeReset() ? Form::GruPyTorch : Form::GruCho;
}

Grid strided(const Device &d, int64_t items) {
  const int64_t t = d.blockThreads();
  return {std::max<int64_t>(1, std::min((items + t - 1) / t, d.maxBlocks())), t};
}

using SizesOf = std::function<Expected<Sizes>(const ir::DimBindings &)>;
using Mkn = std::function<std::array<int64_t, 3>(const Sizes &)>;
/// A 2-D strided copy's scalars (emitCopyKernel): n, dims[2], source strides[2], destination
/// strides[2], source offset, destination offset.
using CopyScalars = std::function<std::array<int64_t, 9>(const Sizes &)>;
using Emit = std::function<Status(const std::string &name)>;

/// Builds the steps of one gru/rnn_sequence_grad.
class GradLowering {
public:
  GradLowering(OpLowering &l, const ir::Op &op)
      : l(l), op(op), form(formOf(op)), t(op.operand(0)->type().dtype()), s(l.plan.scratchOf(op)) {
    const ir::Type xsType = op.operand(0)->type(), h0Type = op.operand(1)->type(),
                   wxType = op.operand(2)->type();
    sizes = [=](const ir::DimBindings &dims) -> Expected<Sizes> {
      auto xs = xsType.evaluateShape(dims);
      WEFT_TRY(xs.status());
      auto h0 = h0Type.evaluateShape(dims);
      WEFT_TRY(h0.status());
      auto wx = wxType.evaluateShape(dims);
      WEFT_TRY(wx.status());
      return Sizes{(*xs)[0], (*xs)[1], (*xs)[2], (*h0)[1], (*wx)[1]};
    };
  }

  Expected<std::vector<Step>> lower();

private:
  OpLowering &l;
  const ir::Op &op;
  const Form form;
  const DType t;
  const std::vector<int> &s;
  SizesOf sizes;
  std::string matmulName, copyName, accumulateName, sumName;

  int in(size_t i) const { return l.slot(op.operand(i)); }
  int out(size_t i) const { return l.slot(op.result(i)); }

  /// A kernel step of the kernel `emit` adds under a fresh name, launched over n(sizes)
  /// elements with scalars {n, H}.
  Expected<Step> elementwise(const std::string &suffix, const Emit &emit, std::vector<int> slots,
                             std::function<int64_t(const Sizes &)> n) {
    std::string name = l.kernelName(op, suffix);
    WEFT_TRY(emit(name));
    return l.kernelStep(
        op, name, std::move(slots),
        [sz = sizes, n](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
          auto z = sz(dims);
          WEFT_TRY(z.status());
          const int64_t items = n(*z);
          return Launch{{items, z->H}, strided(d, items)};
        });
  }

  /// c[M, N] = a[M, K] b[K, N], one matmul kernel for every product.
  Step matmul(int c, int a, int b, Mkn mkn) {
    return l.kernelStep(
        op, matmulName, {c, a, b},
        [sz = sizes, mkn](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
          auto z = sz(dims);
          WEFT_TRY(z.status());
          auto [M, K, N] = mkn(*z);
          const int64_t tiles = ((M + kTileM - 1) / kTileM) * ((N + kTileN - 1) / kTileN);
          return Launch{{1, M, K, N}, {std::min(tiles, d.maxBlocks()), kMatmulThreads}};
        });
  }

  /// A strided copy of 2-D blocks: transposes and the n gate's columns of wh.
  Step copy(int to, int from, CopyScalars scalars) {
    return l.kernelStep(
        op, copyName, {to, from},
        [sz = sizes, scalars](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
          auto z = sz(dims);
          WEFT_TRY(z.status());
          std::array<int64_t, 9> c = scalars(*z);
          return Launch{std::vector<int64_t>(c.begin(), c.end()), strided(d, c[0])};
        });
  }

  /// to[C, R] = from[R, C].
  Step transpose(int to, int from, std::function<std::array<int64_t, 2>(const Sizes &)> rc) {
    return copy(to, from, [rc](const Sizes &z) {
      auto [R, C] = rc(z);
      return std::array<int64_t, 9>{R * C, C, R, 1, C, R, 1, 0, 0};
    });
  }

  /// to[N] = the column sums of from[M, N].
  Step columnSum(int to, int from, std::function<std::array<int64_t, 2>(const Sizes &)> mn) {
    return l.kernelStep(
        op, sumName, {to, from},
        [sz = sizes, mn](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
          auto z = sz(dims);
          WEFT_TRY(z.status());
          auto [M, N] = mn(*z);
          return Launch{reduceScalars({M, N}, {true, false}),
                        {std::min(N, d.maxBlocks()), d.blockThreads()}};
        });
  }

  /// y[B, H] += x[B, H].
  Step accumulate(int y, int x) {
    return l.kernelStep(
        op, accumulateName, {y, x},
        [sz = sizes](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
          auto z = sz(dims);
          WEFT_TRY(z.status());
          return Launch{{z->B * z->H}, strided(d, z->B * z->H)};
        });
  }

  Status recompute(std::vector<Step> &steps, int len, std::optional<DType> lengths);
  Status copySaved(std::vector<Step> &steps);
  Expected<Step> backwardLoop(const std::optional<ir::Type> &lenType, int len);
  void weightGradients(std::vector<Step> &steps);
};

size_t hsOperand(Form form) { return form == Form::Rnn ? 5 : 6; }

Status GradLowering::recompute(std::vector<Step> &steps, int len, std::optional<DType> lengths) {
  const bool reverse = op.reverse();
  const size_t hs = hsOperand(form);
  std::string name = l.kernelName(op, "previous");
  WEFT_TRY(emitLstmPreviousStateKernel(*l.km.module, name, l.target, t, lengths, reverse).status());
  steps.push_back(
      l.kernelStep(op, name, {s[Hp], in(1), in(hs), len},
                   [sz = sizes](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto z = sz(dims);
                     WEFT_TRY(z.status());
                     return Launch{{z->T, z->B, z->H}, strided(d, z->T * z->B * z->H)};
                   }));
  const bool saved = form != Form::Rnn && op.saveGates();
  if (saved) {
    WEFT_TRY(copySaved(steps));
  } else if (form != Form::Rnn) { // the RNN's step gradient reads hs instead
    steps.push_back(matmul(s[Gx], in(0), in(2), [](const Sizes &z) {
      return std::array<int64_t, 3>{z.T * z.B, z.I, z.G};
    }));
    steps.push_back(matmul(s[Gh], s[Hp], in(3), [](const Sizes &z) {
      return std::array<int64_t, 3>{z.T * z.B, z.H, z.G};
    }));
  }
  auto rows = [](const Sizes &z) { return z.T * z.B * z.H; };
  if (form != Form::Rnn && !saved) {
    const bool pytorch = form == Form::GruPyTorch;
    auto gates = elementwise(
        "gates",
        [&](const std::string &n) {
          return emitGruGatesKernel(*l.km.module, n, l.target, t, pytorch).status();
        },
        {s[Gx], s[Gh], in(4), in(5), s[Hp], s[Rh]}, rows);
    WEFT_TRY(gates.status());
    steps.push_back(std::move(*gates));
  }
  if (form == Form::GruCho && !saved) {
    // wh_n[H, H] = wh[:, 2H:3H], then ghn = (r hp) wh_n and the n gate.
    steps.push_back(copy(s[WhN], in(3), [](const Sizes &z) {
      return std::array<int64_t, 9>{z.H * z.H, z.H, z.H, z.G, 1, z.H, 1, 2 * z.H, 0};
    }));
    steps.push_back(matmul(s[GhN], s[Rh], s[WhN], [](const Sizes &z) {
      return std::array<int64_t, 3>{z.T * z.B, z.H, z.H};
    }));
    auto n = elementwise(
        "new_gate",
        [&](const std::string &nm) {
          return emitGruChoNewGateKernel(*l.km.module, nm, l.target, t).status();
        },
        {s[Gx], s[GhN], in(5)}, rows);
    WEFT_TRY(n.status());
    steps.push_back(std::move(*n));
  }

  // The transposes the backward's matmuls read.
  if (form == Form::GruCho) {
    // wh_rz^T[2H, H] (rows q < 2H of wh^T) and wh_n^T[H, H].
    steps.push_back(copy(s[WhT], in(3), [](const Sizes &z) {
      return std::array<int64_t, 9>{2 * z.H * z.H, 2 * z.H, z.H, 1, z.G, z.H, 1, 0, 0};
    }));
    steps.push_back(copy(s[WhNT], in(3), [](const Sizes &z) {
      return std::array<int64_t, 9>{z.H * z.H, z.H, z.H, 1, z.G, z.H, 1, 2 * z.H, 0};
    }));
    steps.push_back(transpose(
        s[RhT], s[Rh], [](const Sizes &z) { return std::array<int64_t, 2>{z.T * z.B, z.H}; }));
  } else {
    steps.push_back(
        transpose(s[WhT], in(3), [](const Sizes &z) { return std::array<int64_t, 2>{z.H, z.G}; }));
  }
  if (!l.plan.unused(op.result(0))) // dxs (not for a layer fed by data)
    steps.push_back(
        transpose(s[WxT], in(2), [](const Sizes &z) { return std::array<int64_t, 2>{z.I, z.G}; }));
  steps.push_back(transpose(s[XsT], in(0),
                            [](const Sizes &z) { return std::array<int64_t, 2>{z.T * z.B, z.I}; }));
  steps.push_back(transpose(s[HpT], s[Hp],
                            [](const Sizes &z) { return std::array<int64_t, 2>{z.T * z.B, z.H}; }));
  return Status::ok();
}

Status GradLowering::copySaved(std::vector<Step> &steps) {
  const bool pytorch = form == Form::GruPyTorch;
  const int gates = in(hsOperand(form) + 3);
  // act[TB, 3H] = the saved rows' first 3H columns (r, z, n); a row of gates is 4H or 3H.
  steps.push_back(copy(s[Gx], gates, [pytorch](const Sizes &z) {
    const int64_t width = (pytorch ? 4 : 3) * z.H;
    return std::array<int64_t, 9>{z.T * z.B * z.G, z.G, z.T * z.B, 1, width, 1, z.G, 0, 0};
  }));
  if (pytorch) { // gh's n column = the saved gh_n
    steps.push_back(copy(s[Gh], gates, [](const Sizes &z) {
      return std::array<int64_t, 9>{z.T * z.B * z.H, z.H,    z.T * z.B, 1, 4 * z.H, 1, z.G,
                                    3 * z.H,         2 * z.H};
    }));
    return Status::ok();
  }
  auto rh = elementwise(
      "reset_hidden",
      [&](const std::string &n) {
        return emitGruResetHiddenKernel(*l.km.module, n, l.target, t).status();
      },
      {s[Rh], s[Gx], s[Hp]}, [](const Sizes &z) { return z.T * z.B * z.H; });
  WEFT_TRY(rh.status());
  steps.push_back(std::move(*rh));
  return Status::ok();
}

Expected<Step> GradLowering::backwardLoop(const std::optional<ir::Type> &lenType, int len) {
  const ir::Type xsType = op.operand(0)->type();
  const size_t hs = hsOperand(form);
  auto code = std::make_shared<LoopCode>();
  LoopCode &loop = *code;
  loop.reverse = !op.reverse();
  loop.sequenceType = xsType;
  LoopCopyMask mask = LoopCopyMask::None;
  if (lenType) {
    loop.lengthsType = lenType;
    loop.maskRef = len;
    mask = lenType->dtype() == DType::I32 ? LoopCopyMask::LengthsI32 : LoopCopyMask::LengthsI64;
  }
  const ir::Dim B = xsType.dims()[1], H = op.operand(1)->type().dims()[1],
                G = op.operand(2)->type().dims()[1];
  const ir::Type state({B, H}, t), gates({B, G}, t);
  const int dh = out(1);
  loop.init = {{dh, in(hs + 2)}};
  auto view = [&](int sequence, const ir::Type &step) {
    const int ref = l.newView();
    loop.views.push_back({ref, sequence, step});
    return ref;
  };
  const int dhsT = view(in(hs + 1), state);
  auto hpT = [&] { return view(s[Hp], state); }; // the GRU's steps read hp
  auto bh = [](const Sizes &z) { return z.B * z.H; };
  auto add = [&](Expected<Step> step) -> Status {
    WEFT_TRY(step.status());
    loop.body.push_back(std::move(*step));
    return Status::ok();
  };
  // What the loop stacks: the gradients of gx (and of gh) of every step.
  std::vector<std::pair<int, ir::Type>> stacked = {{s[Dgx], gates}};

  if (form == Form::Rnn) {
    const int hsT = view(in(hs), state);
    const bool relu = op.relu();
    WEFT_TRY(add(elementwise(
        "step_grad",
        [&](const std::string &n) {
          return emitRnnStepGradKernel(*l.km.module, n, l.target, t, relu).status();
        },
        {s[Dgx], hsT, dhsT, dh}, bh)));
    loop.body.push_back(matmul(s[DhNew], s[Dgx], s[WhT], [](const Sizes &z) {
      return std::array<int64_t, 3>{z.B, z.H, z.H};
    }));
  } else if (form == Form::GruPyTorch) {
    const int actT = view(s[Gx], gates), ghT = view(s[Gh], gates), hpAt = hpT();
    WEFT_TRY(add(elementwise(
        "gate_grad",
        [&](const std::string &n) {
          return emitGruGateGradKernel(*l.km.module, n, l.target, t).status();
        },
        {s[Dgx], s[Dgh], s[Dhz], actT, ghT, hpAt, dhsT, dh}, bh)));
    loop.body.push_back(matmul(s[DhNew], s[Dgh], s[WhT], [](const Sizes &z) {
      return std::array<int64_t, 3>{z.B, z.G, z.H};
    }));
    loop.body.push_back(accumulate(s[DhNew], s[Dhz]));
    stacked.push_back({s[Dgh], gates});
  } else {
    const int actT = view(s[Gx], gates), hpAt = hpT();
    WEFT_TRY(add(elementwise(
        "gate_grad",
        [&](const std::string &n) {
          return emitGruChoGateGradKernel(*l.km.module, n, l.target, t).status();
        },
        {s[Dgx], s[Dgh], s[Dn], s[Dhz], actT, hpAt, dhsT, dh}, bh)));
    loop.body.push_back(matmul(s[Drh], s[Dn], s[WhNT], [](const Sizes &z) {
      return std::array<int64_t, 3>{z.B, z.H, z.H};
    }));
    WEFT_TRY(add(elementwise(
        "reset_grad",
        [&](const std::string &n) {
          return emitGruChoResetGradKernel(*l.km.module, n, l.target, t).status();
        },
        {s[Dgx], s[Dgh], s[Dhz], actT, hpAt, s[Drh]}, bh)));
    loop.body.push_back(matmul(s[DhNew], s[Dgh], s[WhT], [](const Sizes &z) {
      return std::array<int64_t, 3>{z.B, 2 * z.H, z.H};
    }));
    loop.body.push_back(accumulate(s[DhNew], s[Dhz]));
    stacked.push_back({s[Dn], state});
  }

  auto carry = l.loopCopy(op, "dh", s[DhNew], dh, state, mask);
  WEFT_TRY(carry.status());
  loop.carries.push_back(std::move(*carry));
  const int stacks[] = {s[Dgxs], s[Dghs]};
  for (size_t i = 0; i < stacked.size(); ++i) {
    auto emit = l.loopCopy(op, fmt::format("stack{}", i), stacked[i].first, stacks[i],
                           stacked[i].second, mask);
    WEFT_TRY(emit.status());
    loop.emits.push_back(std::move(*emit));
  }
  Step loopStep = l.step(op, Step::Kind::Loop);
  loopStep.loop = std::move(code);
  return loopStep;
}

void GradLowering::weightGradients(std::vector<Step> &steps) {
  // dxs, which nothing reads where the layer's input is data, is left unwritten.
  if (!l.plan.unused(op.result(0)))
    steps.push_back(matmul(out(0), s[Dgxs], s[WxT], [](const Sizes &z) {
      return std::array<int64_t, 3>{z.T * z.B, z.G, z.I};
    }));
  steps.push_back(matmul(out(2), s[XsT], s[Dgxs], [](const Sizes &z) {
    return std::array<int64_t, 3>{z.I, z.T * z.B, z.G};
  }));
  // The RNN's and Cho's gh gradient is gx's; PyTorch's has its own n columns.
  const int dgh = form == Form::GruPyTorch ? s[Dghs] : s[Dgxs];
  steps.push_back(matmul(out(3), s[HpT], dgh, [](const Sizes &z) {
    return std::array<int64_t, 3>{z.H, z.T * z.B, z.G};
  }));
  if (form == Form::GruCho) { // wh_n multiplies r hp: its columns are (r hp)^T dn
    steps.push_back(matmul(s[Wn], s[RhT], s[Dghs], [](const Sizes &z) {
      return std::array<int64_t, 3>{z.H, z.T * z.B, z.H};
    }));
    steps.push_back(copy(out(3), s[Wn], [](const Sizes &z) {
      return std::array<int64_t, 9>{z.H * z.H, z.H, z.H, z.H, 1, z.G, 1, 0, 2 * z.H};
    }));
  }
  auto rowsByG = [](const Sizes &z) { return std::array<int64_t, 2>{z.T * z.B, z.G}; };
  steps.push_back(columnSum(out(4), s[Dgxs], rowsByG));
  if (form != Form::Rnn)
    steps.push_back(columnSum(out(5), dgh, rowsByG));
}

Expected<std::vector<Step>> GradLowering::lower() {
  const ir::Type xsType = op.operand(0)->type();
  const size_t lenOperand = hsOperand(form) + (form != Form::Rnn && op.saveGates() ? 4 : 3);
  const bool hasLengths = op.numOperands() == lenOperand + 1;
  const std::optional<ir::Type> lenType =
      hasLengths ? std::optional<ir::Type>(op.operand(lenOperand)->type()) : std::nullopt;
  const std::optional<DType> lengths =
      lenType ? std::optional<DType>(lenType->dtype()) : std::nullopt;
  const int len = hasLengths ? in(lenOperand) : s[Hp]; // any slot when there are none
  std::vector<Step> steps;
  if (lenType) { // the kernels below index by the lengths: check them first
    Step check = l.step(op, Step::Kind::Check);
    checkLengths(check, len, *lenType, xsType);
    steps.push_back(std::move(check));
  }
  matmulName = l.kernelName(op, "matmul");
  WEFT_TRY(emitMatmulKernel(*l.km.module, matmulName, l.target, t).status());
  copyName = l.kernelName(op, "copy");
  WEFT_TRY(emitCopyKernel(*l.km.module, copyName, l.target, static_cast<int>(dtypeBytes(t)), 2)
               .status());
  sumName = l.kernelName(op, "db");
  WEFT_TRY(emitReduceKernel(*l.km.module, sumName, l.target, ReduceKind::Sum, t, t, 1, 1).status());
  if (form != Form::Rnn) {
    accumulateName = l.kernelName(op, "accumulate");
    WEFT_TRY(emitAccumulateKernel(*l.km.module, accumulateName, l.target, t).status());
  }

  WEFT_TRY(recompute(steps, len, lengths));
  auto loop = backwardLoop(lenType, len);
  WEFT_TRY(loop.status());
  steps.push_back(std::move(*loop));
  weightGradients(steps);
  return steps;
}

} // namespace

std::vector<ir::Type> gruRnnGradScratch(const ir::Op &op) {
  const Form form = formOf(op);
  const std::vector<ir::Dim> &xs = op.operand(0)->type().dims();
  const ir::Dim T = xs[0], B = xs[1], I = xs[2], H = op.operand(1)->type().dims()[1],
                G = op.operand(2)->type().dims()[1], TB = T * B;
  const DType t = op.operand(0)->type().dtype();
  auto type = [t](std::vector<ir::Dim> dims) { return ir::Type(std::move(dims), t); };
  // What a form does not use is one element, so that every entry of the order exists: the
  // RNN recomputes nothing (its f' comes from hs), the training form ({save_gates}) reads the
  // gates instead of gx and (but for PyTorch's gh_n) gh.
  const bool recompute = form != Form::Rnn && !op.saveGates();
  std::vector<ir::Type> out(NumScratch, type({1}));
  out[Hp] = type({T, B, H});
  out[Dhz] = out[DhNew] = type({B, H});
  out[Dgxs] = type({T, B, G});
  if (form != Form::Rnn)
    out[Gx] = type({T, B, G});
  if (form == Form::GruPyTorch || recompute)
    out[Gh] = type({T, B, G});
  out[Dgx] = type({B, G});
  out[WhT] = type({G, H});
  out[WxT] = type({G, I});
  out[XsT] = type({I, TB});
  out[HpT] = type({H, TB});
  if (form == Form::GruPyTorch) {
    out[Dghs] = type({T, B, G});
    out[Dgh] = type({B, G});
  }
  if (form == Form::GruCho) {
    out[Dghs] = out[Rh] = type({T, B, H});
    out[Dgh] = type({B, H * 2});
    out[WhT] = type({H * 2, H});
    out[Dn] = out[Drh] = type({B, H});
    out[WhNT] = out[Wn] = type({H, H});
    if (recompute) { // ghn = (r hp) wh_n
      out[GhN] = type({T, B, H});
      out[WhN] = type({H, H});
    }
    out[RhT] = type({H, TB});
  }
  return out;
}

Expected<std::vector<Step>> lowerGruRnnSequenceGrad(OpLowering &l, const ir::Op &op) {
  return GradLowering(l, op).lower();
}

} // namespace weft::cuda::detail
