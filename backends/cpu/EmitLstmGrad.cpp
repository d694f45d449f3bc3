//===- backends/cpu/EmitLstmGrad.cpp - lstm_sequence_grad as one kernel ---===//
//
//   %dxs, %dh0, %dc0, %dwx, %dwh, %db = lstm_sequence_grad %xs[T,B,I], %h0, %c0, %wx, %wh, %b,
//                                          %hs[T,B,H], %dhs, %dhT, %dcT [, %len] {reverse}
//
// The forward's states come back from hs, so that its gate pre-activations are GEMMs over all
// TB = T * B rows at once (LstmGradKernel.h has the buffers):
//   Hp[t, b] = the h step t started from: h0[b] at an example's first step, else hs at the
//              step before (zero on padded steps);  weft_parallel_for over examples
//   Z  = xs . wx;  Zh = Hp . wh               two packed GEMMs (EmitMatmul.cpp) over TB rows
//   per example, its steps in the forward's order: Z <- activated gates of Z + Zh + b, C[t] = c
//   WhT = wh^T packed once, WxT = wx^T, Xt = xs^T, Hpt = Hp^T
// Each step, T-1 down to 0 of the forward's order (so t = 0 ... T-1 with reverse):
//   weft_parallel_for over examples b (rows past len[b]: dz = 0):
//     dh' = dh[b] + dhs[t, b];  tc = tanh(C[t, b])
//     dc' = dc[b] + dh' o (1 - tc^2);  dz = (dc' g i(1-i), dc' c_prev f(1-f), dc' i (1-g^2),
//     dh' tc o(1-o)) written over Z[t, b];  dc[b] = dc' f
//   dh = dz[t] (B x 4H) . WhT                 the packed GEMM, B read from WhT packed once
//   rows past len[b] keep dh (a padded step passes the state through)
// After the loop, each over all TB rows as one GEMM:
//   dwx = Xt . dz,  dwh = Hpt . dz,  dxs = dz . WxT,  db = column sums of dz;  dh0, dc0 = dh, dc
// The training form ({save_gates}, operands gates and cs after dcT) reads the activated gates
// and C from its forward instead: Hp is still gathered (A of dwh), the two GEMMs and the cell
// pass go, and dz is written into Z rather than over the gates.
// A result nothing reads (BufferPlan::unused) is left unwritten, with the work only it needs:
// dxs of a layer fed by data (one GEMM over all TB rows and the transpose of wx), dh0 and dc0,
// or the weight gradients of a frozen layer (their transposes, and the training form's Hp).
// Per example and step the work is the interpreter's (eval/LstmSequenceGrad.cpp); tasks write
// disjoint rows and the GEMMs are thread-count independent, so results do not depend on it.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/LstmGradKernel.h"
#include "backends/cpu/RecurrentEmitter.h"

namespace weft::cpu::detail {

using llvm::Value;

namespace {

class LstmGradEmitter : RecurrentBase {
public:
  LstmGradEmitter(Emitter &e, const ir::Op &op) : RecurrentBase(e, op) {
    saved = op.saveGates();
    lenIndex = saved ? 12 : 10;
    masked = op.numOperands() == lenIndex + 1;
    if (masked)
      lenType = op.operand(lenIndex)->type().dtype();
  }

  Status emit() {
    const ir::Type &xt = op.operand(0)->type();
    Prologue p = beginKernel(lenIndex, lstmGradKernelScratch(op, e.vectorBytes));
    const Values &res = p.results, &s = p.scratch;
    Value *dxs = res[0], *dh0 = res[1], *dc0 = res[2], *dwx = res[3], *dwh = res[4], *db = res[5];
    T = p.T, B = p.B;
    Value *I = e.dim(xt.dim(2));
    Value *xs = e.ptr(op.operand(0)), *h0 = e.ptr(op.operand(1)), *c0 = e.ptr(op.operand(2)),
          *wx = e.ptr(op.operand(3)), *wh = e.ptr(op.operand(4)), *bias = e.ptr(op.operand(5)),
          *hs = e.ptr(op.operand(6)), *dhs = e.ptr(op.operand(7)), *dhT = e.ptr(op.operand(8)),
          *dcT = e.ptr(op.operand(9));
    len = orNull(p.len);
    Value *Hp = s[0], *Z = s[1], *Zh = s[2], *C = s[3], *Xt = s[4], *Hpt = s[5], *WhT = s[6],
          *WhTp = s[7], *WxT = s[8], *dh = s[9], *dc = s[10], *block = s[11];
    const ir::Dim TBd = xt.dim(0) * xt.dim(1), Hd(H), G(4 * H);
    Value *TB = mul(T, B), *g4 = c64(4 * H), *hid = c64(H);

    // A result nothing reads is not computed, nor what only it needs (dxs of a layer whose
    // input is data: one GEMM over all TB rows).
    auto wanted = [&](size_t r) { return !e.buffers->unused(op.result(r)); };
    const bool wantDxs = wanted(0), wantDwx = wanted(3), wantDwh = wanted(4);

    if (!saved || wantDwh) // the training form's Hp only serves dwh
      gatherPreviousH(hs, h0, Hp);
    // The activated gates of the forward: read by the cell gradients, which write dz into Z.
    Value *acts = Z;
    if (saved) {
      acts = e.ptr(op.operand(10));
      C = e.ptr(op.operand(11));
    } else {
      e.emitGemm(dt, TBd, xt.dim(2), G, xs, wx, Z, TB, I, g4, nullptr, block);
      e.emitGemm(dt, TBd, Hd, G, Hp, wh, Zh, TB, hid, g4, nullptr, block);
      forwardCells(Z, Zh, bias, c0, C);
    }
    transpose(wh, hid, g4, WhT);
    e.emitPackB(dt, xt.dim(1), G, Hd, WhT, WhTp);
    if (wantDxs)
      transpose(wx, I, g4, WxT);
    if (wantDwx)
      transpose(xs, TB, I, Xt);
    if (wantDwh)
      transpose(Hp, TB, hid, Hpt);

    Value *state = mul(B, hid);
    e.memCopy(dh, dhT, mul(state, c64(esz)));
    e.memCopy(dc, dcT, mul(state, c64(esz)));
    e.forLoop(
        T,
        [&](Value *k) {
          // Step k of the backward loop undoes step T-1-k of the forward's.
          Value *fs = b.CreateSub(b.CreateSub(T, c64(1)), k);
          Value *t = op.reverse() ? b.CreateSub(b.CreateSub(T, c64(1)), fs) : fs;
          Value *parity = b.CreateAnd(k, c64(1));
          Value *dhCur = at(dh, mul(parity, state));
          Value *dhNext = at(dh, mul(b.CreateXor(parity, c64(1)), state));
          Value *Zt = at(Z, mul(t, mul(B, g4)));
          cellGradients(t, at(acts, mul(t, mul(B, g4))), Zt, C, c0, dhs, dhCur, dc);
          e.emitGemm(dt, xt.dim(1), G, Hd, Zt, WhT, dhNext, B, g4, hid, WhTp, nullptr);
          if (masked) // padded rows pass dh through
            e.forLoop(B, [&](Value *r) {
              e.ifThen(b.CreateNot(active(t, r)), [&] {
                e.memCopy(at(dhNext, mul(r, hid)), at(dhCur, mul(r, hid)), c64(H * esz));
              });
            });
        },
        "lstm.grad.steps");
    if (wanted(1))
      e.memCopy(dh0, at(dh, mul(b.CreateAnd(T, c64(1)), state)), mul(state, c64(esz)));
    if (wanted(2))
      e.memCopy(dc0, dc, mul(state, c64(esz)));

    if (wantDwx)
      e.emitGemm(dt, xt.dim(2), TBd, G, Xt, Z, dwx, I, TB, g4, nullptr, block);
    if (wantDwh)
      e.emitGemm(dt, Hd, TBd, G, Hpt, Z, dwh, hid, TB, g4, nullptr, block);
    if (wantDxs)
      e.emitGemm(dt, TBd, G, xt.dim(2), Z, WxT, dxs, TB, g4, I, nullptr, block);
    if (wanted(5))
      columnSums(Z, TB, 4 * H, db);
    return {};
  }

private:
  Value *lengthOf(Value *lenPtr, Value *steps, Value *r) {
    return masked ? b.CreateSExt(e.load(lenPtr, lenType, r), e.i64Ty()) : steps;
  }
  Value *active(Value *t, Value *r) { return b.CreateICmpSLT(t, lengthOf(len, T, r)); }

  /// Whether step t is example r's first (of the forward) given its length n, and the step
  /// before it.
  Value *isFirst(Value *t, Value *n) {
    return op.reverse() ? b.CreateICmpSGE(add(t, c64(1)), n) : b.CreateICmpEQ(t, c64(0));
  }
  Value *previous(Value *t) { return op.reverse() ? add(t, c64(1)) : b.CreateSub(t, c64(1)); }

  /// Row r of the state-sized [T, B, H] sequence `p` at step t, or of `first` [B, H] at the
  /// example's first step.
  Value *stateBefore(Value *p, Value *first, Value *t, Value *n, Value *r, Value *Bv) {
    Value *isFirstStep = isFirst(t, n);
    // At the first step previous(t) may be -1 or T: index with t instead, never dereferenced.
    Value *prevStep = b.CreateSelect(isFirstStep, t, previous(t));
    Value *prev = at(p, mul(add(mul(prevStep, Bv), r), c64(H)));
    return b.CreateSelect(isFirstStep, at(first, mul(r, c64(H))), prev);
  }

  /// Hp[t, r] = the h step t of example r started from, zero on its padded steps.
  void gatherPreviousH(Value *hs, Value *h0, Value *Hp) {
    e.parallelRows(
        B, mul(T, mul(B, c64(H))), {hs, h0, Hp, len, T, B},
        [&](const Values &in, Value *begin, Value *end) {
          Value *hsI = in[0], *h0I = in[1], *HpI = in[2], *lenI = in[3], *TI = in[4], *BI = in[5];
          e.forLoop(b.CreateSub(end, begin), [&](Value *ri) {
            Value *r = add(begin, ri);
            Value *n = lengthOf(lenI, TI, r);
            e.forLoop(TI, [&](Value *t) {
              Value *dst = at(HpI, mul(add(mul(t, BI), r), c64(H)));
              Value *bytes = c64(H * esz);
              Value *on = b.CreateICmpSLT(t, n);
              e.ifThen(on, [&] { e.memCopy(dst, stateBefore(hsI, h0I, t, n, r, BI), bytes); });
              e.ifThen(b.CreateNot(on), [&] { e.memZero(dst, bytes); });
            });
          });
        });
  }

  /// Per example, its steps in the forward's order: Z[t] <- i, f, g, o of Z[t] + Zh[t] + bias
  /// and C[t] = f c_prev + i g.
  void forwardCells(Value *Z, Value *Zh, Value *bias, Value *c0, Value *C) {
    e.parallelRows(
        B, mul(T, mul(B, c64(4 * H))), {Z, Zh, bias, c0, C, len, T, B},
        [&](const Values &in, Value *begin, Value *end) {
          Value *ZI = in[0], *ZhI = in[1], *biasI = in[2], *c0I = in[3], *CI = in[4], *lenI = in[5],
                *TI = in[6], *BI = in[7];
          e.forLoop(b.CreateSub(end, begin), [&](Value *ri) {
            Value *r = add(begin, ri);
            Value *n = lengthOf(lenI, TI, r);
            e.forLoop(TI, [&](Value *s) {
              Value *t = op.reverse() ? b.CreateSub(b.CreateSub(TI, c64(1)), s) : s;
              e.ifThen(b.CreateICmpSLT(t, n), [&] {
                Value *row = add(mul(t, BI), r);
                Value *z = at(ZI, mul(row, c64(4 * H))), *zh = at(ZhI, mul(row, c64(4 * H)));
                Value *cPrev = stateBefore(CI, c0I, t, n, r, BI);
                Value *c = at(CI, mul(row, c64(H)));
                e.forLoop(c64(H), [&](Value *u) {
                  Value *a[4];
                  for (int64_t q = 0; q < 4; ++q) {
                    Value *col = add(c64(q * H), u);
                    Value *pre =
                        b.CreateFAdd(b.CreateFAdd(ld(z, col), ld(zh, col)), ld(biasI, col));
                    a[q] = q == 2 ? e.gateTanhOf(pre, dt) : e.gateSigmoidOf(pre, dt);
                    st(a[q], at(z, col));
                  }
                  st(b.CreateFAdd(b.CreateFMul(a[1], ld(cPrev, u)), b.CreateFMul(a[0], a[2])),
                     at(c, u));
                });
              });
            });
          });
        });
  }

  /// The gate gradients of step t from its activated gates At: Zt's rows become dz (zero on
  /// padded rows; Zt may be At), dc moves to the state before the step.
  void cellGradients(Value *t, Value *At, Value *Zt, Value *C, Value *c0, Value *dhs, Value *dh,
                     Value *dc) {
    e.parallelRows(
        B, mul(B, c64(4 * H)), {t, Zt, C, c0, dhs, dh, dc, len, T, B, At},
        [&](const Values &in, Value *begin, Value *end) {
          Value *tI = in[0], *ZtI = in[1], *CI = in[2], *c0I = in[3], *dhsI = in[4], *dhI = in[5],
                *dcI = in[6], *lenI = in[7], *TI = in[8], *BI = in[9], *AtI = in[10];
          e.forLoop(b.CreateSub(end, begin), [&](Value *ri) {
            Value *r = add(begin, ri);
            Value *n = lengthOf(lenI, TI, r);
            Value *z = at(ZtI, mul(r, c64(4 * H))), *act = at(AtI, mul(r, c64(4 * H)));
            Value *on = b.CreateICmpSLT(tI, n);
            e.ifThen(b.CreateNot(on), [&] { e.memZero(z, c64(4 * H * esz)); });
            e.ifThen(on, [&] {
              Value *row = add(mul(tI, BI), r);
              Value *c = at(CI, mul(row, c64(H))), *cPrev = stateBefore(CI, c0I, tI, n, r, BI);
              Value *dhRow = at(dhI, mul(r, c64(H))), *dcRow = at(dcI, mul(r, c64(H)));
              Value *dhsRow = at(dhsI, mul(row, c64(H)));
              e.forLoop(c64(H), [&](Value *u) {
                Value *a[4];
                for (int64_t q = 0; q < 4; ++q)
                  a[q] = ld(act, add(c64(q * H), u));
                Value *i = a[0], *f = a[1], *g = a[2], *o = a[3];
                Value *dht = b.CreateFAdd(ld(dhRow, u), ld(dhsRow, u));
                Value *tc = e.gateTanhOf(ld(c, u), dt);
                Value *dct =
                    b.CreateFAdd(ld(dcRow, u), b.CreateFMul(b.CreateFMul(dht, o),
                                                            oneMinus(b.CreateFMul(tc, tc))));
                Value *dz[4] = {
                    b.CreateFMul(b.CreateFMul(dct, g), b.CreateFMul(i, oneMinus(i))),
                    b.CreateFMul(b.CreateFMul(dct, ld(cPrev, u)), b.CreateFMul(f, oneMinus(f))),
                    b.CreateFMul(b.CreateFMul(dct, i), oneMinus(b.CreateFMul(g, g))),
                    b.CreateFMul(b.CreateFMul(dht, tc), b.CreateFMul(o, oneMinus(o)))};
                for (int64_t q = 0; q < 4; ++q)
                  st(dz[q], at(z, add(c64(q * H), u)));
                st(b.CreateFMul(dct, f), at(dcRow, u));
              });
            });
          });
        });
  }

  Value *oneMinus(Value *x) { return b.CreateFSub(llvm::ConstantFP::get(elt, 1.0), x); }

  DType lenType = DType::I64;
  unsigned lenIndex = 10;
  bool masked = false, saved = false;
  Value *T = nullptr, *B = nullptr, *len = nullptr;
};

} // namespace

Status Emitter::emitLstmSequenceGrad(const ir::Op &op) { return LstmGradEmitter(*this, op).emit(); }

} // namespace weft::cpu::detail
