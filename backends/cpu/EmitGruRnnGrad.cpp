//===- backends/cpu/EmitGruRnnGrad.cpp - gru/rnn_sequence_grad as one kernel ===//
//
//   %dxs, %dh0, %dwx, %dwh, %dbx, %dbh = gru_sequence_grad %xs[T,B,I], %h0, %wx, %wh, %bx, %bh,
//                                            %hs[T,B,H], %dhs, %dhT [, %len] {linear_before_reset}
//   %dxs, %dh0, %dwx, %dwh, %db = rnn_sequence_grad %xs, %h0, %wx, %wh, %b, %hs, %dhs, %dhT
//                                                   [, %len] {relu}
// (both {reverse}). The forward's states come back from hs, so that what it computed are GEMMs
// over all TB = T * B rows at once (GruRnnGradKernel.h has the buffers; the formulas are the
// interpreter's, eval/GruRnnSequenceGrad.cpp):
//   Hp[t, b] = the h step t started from (h0[b] first, zero on padded steps); per example
//   gru: DG = xs . wx, Zh = Hp . wh; per row (rows are independent now): r, z, n into DG
//        PyTorch's form: n = tanh(gx_n + r gh_n), gh_n kept in Zh
//        Cho's: RH = r Hp, then Zh = RH . wh_n (one more GEMM), n = tanh(gx_n + Zh + bh_n)
//   rnn: nothing: h' is hs itself
// Each step, T-1 down to 0 of the forward's order, weft_parallel_for over examples b (padded
// rows: zero gate gradients, direct = dh, so dh passes through), then the recurrent GEMMs:
//   rnn:     DG[t] = da;                                       dh' = DG[t] . wh^T + direct
//   PyTorch: DG[t] = dgx, Zh[t] = dgh, direct = dht z;         dh' = Zh[t] . wh^T + direct
//   Cho:     DN[t] = dn, direct = dht z;  drh = DN[t] . wh_n^T;
//            per example dr, DRZ[t] = (dr, dz), direct += drh r;  dh' = DRZ[t] . wh_rz^T + direct
// After the loop, each over all TB rows as one GEMM: dwx = xs^T . DG, dxs = DG . wx^T,
// dbx = column sums of DG; dwh = Hp^T . (DG | Zh) (Cho's: Hp^T . DRZ and RH^T . DN side by
// side), dbh likewise (Cho's: dbx). Tasks write disjoint rows and the GEMMs are thread-count
// independent, so results do not depend on it.
// gru_sequence_grad {save_gates}: the forward saved r, z, n (and gh_n) in its operand gates,
// so the two GEMMs over all TB rows and the gate pass above (Cho's: three GEMMs) become one
// copy of them into DG (gh_n into Zh; Cho's RH = r Hp).
// A result nothing reads (BufferPlan::unused) is left unwritten, with the work only it needs:
// dxs of a layer fed by data (one GEMM over all TB rows and the transpose of wx), or the
// weight gradients of a frozen layer.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/GruRnnGradKernel.h"
#include "backends/cpu/RecurrentEmitter.h"

namespace weft::cpu::detail {

using llvm::Value;

namespace {

class GruRnnGradEmitter : RecurrentBase {
public:
  GruRnnGradEmitter(Emitter &e, const ir::Op &op) : RecurrentBase(e, op) {
    gru = op.kind() == ir::OpKind::GruSequenceGrad;
    cho = gru && !op.linearBeforeReset();
    base = gru ? 6 : 5;
    saved = gru && op.saveGates();
    lenOperand = base + (saved ? 4 : 3);
    GH = (gru ? 3 : 1) * H;
    masked = op.numOperands() == lenOperand + 1;
    if (masked)
      lenType = op.operand(lenOperand)->type().dtype();
  }

  Status emit() {
    const ir::Type &xt = op.operand(0)->type();
    Prologue p = beginKernel(lenOperand, gruRnnGradKernelScratch(op, e.vectorBytes));
    const Values &res = p.results, &s = p.scratch;
    T = p.T, B = p.B;
    len = orNull(p.len);
    Value *I = e.dim(xt.dim(2));
    Value *xs = e.ptr(op.operand(0)), *h0 = e.ptr(op.operand(1)), *wx = e.ptr(op.operand(2)),
          *wh = e.ptr(op.operand(3)), *bx = e.ptr(op.operand(4)),
          *bh = gru ? e.ptr(op.operand(5)) : nullptr, *hs = e.ptr(op.operand(base)),
          *dhs = e.ptr(op.operand(base + 1)), *dhT = e.ptr(op.operand(base + 2));
    Value *Hp = s[0], *DG = s[1], *Xt = s[2], *Hpt = s[3], *WxT = s[4], *dh = s[5], *direct = s[6],
          *block = s[7];
    const ir::Dim TBd = xt.dim(0) * xt.dim(1), Hd(H), Gd(GH), &Bd = xt.dim(1);
    Value *TB = mul(T, B), *hid = c64(H), *g = c64(GH);
    // A result nothing reads is not computed, nor what only it needs (dxs of a layer whose
    // input is data: one GEMM over all TB rows).
    auto wanted = [&](size_t r) { return !e.buffers->unused(op.result(r)); };
    const bool wantDxs = wanted(0), wantDwx = wanted(2), wantDwh = wanted(3);

    if (gru || wantDwh) // the RNN's steps read h from hs: Hp only serves dwh
      gatherPreviousH(hs, h0, Hp);
    if (wantDwx)
      transpose(xs, TB, I, Xt);
    if (wantDwh)
      transpose(Hp, TB, hid, Hpt);
    if (wantDxs)
      transpose(wx, I, g, WxT);
    // The recurrent weights, transposed and packed for the per-step GEMMs.
    Value *Zh = nullptr, *RH = nullptr, *RHt = nullptr, *DRZ = nullptr, *DN = nullptr;
    Value *WhTp = nullptr, *WhnTp = nullptr;
    if (!gru) {
      transpose(wh, hid, g, s[8]);
      e.emitPackB(dt, Bd, Hd, Hd, s[8], WhTp = s[9]);
    } else if (!cho) {
      Zh = s[8];
      transpose(wh, hid, g, s[9]);
      e.emitPackB(dt, Bd, Gd, Hd, s[9], WhTp = s[10]);
    } else {
      Zh = s[8], RH = s[14], RHt = s[15], DRZ = s[16], DN = s[17];
      transposeColumns(wh, 0, 2 * H, s[9]); // WhrzT [2H, H]
      e.emitPackB(dt, Bd, ir::Dim(2 * H), Hd, s[9], WhTp = s[10]);
      transposeColumns(wh, 2 * H, H, s[11]); // WhnT [H, H]
      e.emitPackB(dt, Bd, Hd, Hd, s[11], WhnTp = s[12]);
      if (!saved) // Whn = wh[:, 2H:3H], B of the recomputed n's GEMM (one element when saved)
        e.forLoop(hid, [&](Value *k) {
          e.memCopy(at(s[13], mul(k, hid)), at(wh, add(mul(k, g), c64(2 * H))), c64(H * esz));
        });
    }
    if (saved) {
      copySavedGates(e.ptr(op.operand(base + 3)), DG, Zh, Hp, RH);
      if (cho && wantDwh)
        transpose(RH, TB, hid, RHt);
    } else if (gru) {
      e.emitGemm(dt, TBd, xt.dim(2), Gd, xs, wx, DG, TB, I, g, nullptr, block);
      e.emitGemm(dt, TBd, Hd, Gd, Hp, wh, Zh, TB, hid, g, nullptr, block);
      forwardGates(DG, Zh, Hp, RH, bx, bh);
      if (cho) {
        e.emitGemm(dt, TBd, Hd, Hd, RH, s[13], Zh, TB, hid, hid, nullptr, block);
        choNewGate(DG, Zh);
        if (wantDwh)
          transpose(RH, TB, hid, RHt);
      }
    }

    Value *state = mul(B, hid);
    e.memCopy(dh, dhT, mul(state, c64(esz)));
    e.forLoop(
        T,
        [&](Value *k) {
          // Step k of the backward loop undoes step T-1-k of the forward's.
          Value *fs = b.CreateSub(b.CreateSub(T, c64(1)), k);
          Value *t = op.reverse() ? b.CreateSub(b.CreateSub(T, c64(1)), fs) : fs;
          Value *parity = b.CreateAnd(k, c64(1));
          Value *dhCur = at(dh, mul(parity, state));
          Value *dhNext = at(dh, mul(b.CreateXor(parity, c64(1)), state));
          Value *DGt = at(DG, mul(t, mul(B, g)));
          if (!gru) {
            rnnCellGradients(t, hs, dhs, dhCur, DG, direct);
            e.emitGemm(dt, Bd, Hd, Hd, DGt, s[8], dhNext, B, hid, hid, WhTp, nullptr);
          } else if (!cho) {
            gruCellGradients(t, Hp, dhs, dhCur, DG, Zh, nullptr, nullptr, direct);
            e.emitGemm(dt, Bd, Gd, Hd, at(Zh, mul(t, mul(B, g))), s[9], dhNext, B, g, hid, WhTp,
                       nullptr);
          } else {
            gruCellGradients(t, Hp, dhs, dhCur, DG, nullptr, DRZ, DN, direct);
            // drh = DN[t] . wh_n^T, in dhNext until the reset gate's gradients read it.
            e.emitGemm(dt, Bd, Hd, Hd, at(DN, mul(t, state)), s[11], dhNext, B, hid, hid, WhnTp,
                       nullptr);
            choResetGradients(t, Hp, DG, DRZ, dhNext, direct);
            e.emitGemm(dt, Bd, ir::Dim(2 * H), Hd, at(DRZ, mul(t, mul(B, c64(2 * H)))), s[9],
                       dhNext, B, c64(2 * H), hid, WhTp, nullptr);
          }
          addRows(dhNext, direct, state);
        },
        "gru.rnn.grad.steps");
    if (wanted(1))
      e.memCopy(res[1], at(dh, mul(b.CreateAnd(T, c64(1)), state)), mul(state, c64(esz)));

    if (wantDwx)
      e.emitGemm(dt, xt.dim(2), TBd, Gd, Xt, DG, res[2], I, TB, g, nullptr, block);
    if (wantDxs)
      e.emitGemm(dt, TBd, Gd, xt.dim(2), DG, WxT, res[0], TB, g, I, nullptr, block);
    // Cho's dbh is dbx: summed once, into whichever of the two is wanted.
    const bool wantDbx = wanted(4), wantDbh = gru && wanted(5);
    if (wantDbx || (cho && wantDbh))
      columnSums(DG, TB, GH, wantDbx ? res[4] : res[5]);
    if (!gru) {
      if (wantDwh)
        e.emitGemm(dt, Hd, TBd, Gd, Hpt, DG, res[3], hid, TB, g, nullptr, block);
    } else if (!cho) {
      if (wantDwh)
        e.emitGemm(dt, Hd, TBd, Gd, Hpt, Zh, res[3], hid, TB, g, nullptr, block);
      if (wantDbh)
        columnSums(Zh, TB, GH, res[5]);
    } else if (wantDwh) {
      Value *dwhRz = s[18], *dwhN = s[19];
      e.emitGemm(dt, Hd, TBd, ir::Dim(2 * H), Hpt, DRZ, dwhRz, hid, TB, c64(2 * H), nullptr, block);
      e.emitGemm(dt, Hd, TBd, Hd, RHt, DN, dwhN, hid, TB, hid, nullptr, block);
      e.forLoop(hid, [&](Value *k) {
        Value *row = at(res[3], mul(k, g));
        e.memCopy(row, at(dwhRz, mul(k, c64(2 * H))), c64(2 * H * esz));
        e.memCopy(at(row, c64(2 * H)), at(dwhN, mul(k, hid)), c64(H * esz));
      });
    }
    if (cho && wantDbx && wantDbh)
      e.memCopy(res[5], res[4], c64(GH * esz)); // bx and bh enter every gate alike
    return {};
  }

private:
  Value *lengthOf(Value *lenPtr, Value *steps, Value *r) {
    return masked ? b.CreateSExt(e.load(lenPtr, lenType, r), e.i64Ty()) : steps;
  }

  /// Whether step t is example r's first (of the forward) given its length n.
  Value *isFirst(Value *t, Value *n) {
    return op.reverse() ? b.CreateICmpSGE(add(t, c64(1)), n) : b.CreateICmpEQ(t, c64(0));
  }
  Value *previous(Value *t) { return op.reverse() ? add(t, c64(1)) : b.CreateSub(t, c64(1)); }

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
              e.ifThen(on, [&] {
                Value *first = isFirst(t, n);
                // At the first step previous(t) may be -1 or T: index with t, never read.
                Value *prevStep = b.CreateSelect(first, t, previous(t));
                Value *prev = at(hsI, mul(add(mul(prevStep, BI), r), c64(H)));
                e.memCopy(dst, b.CreateSelect(first, at(h0I, mul(r, c64(H))), prev), bytes);
              });
              e.ifThen(b.CreateNot(on), [&] { e.memZero(dst, bytes); });
            });
          });
        });
  }

  /// Every row of TB at once (Hp makes the rows independent): DG <- r, z of DG + Zh + b, and
  /// PyTorch's n with Zh's n columns <- gh_n; Cho's r hp into RH and DG's n columns <- gx_n +
  /// bh_n (its n comes after one more GEMM, choNewGate).
  void forwardGates(Value *DG, Value *Zh, Value *Hp, Value *RH, Value *bx, Value *bh) {
    Value *TB = mul(T, B);
    e.parallelRows(TB, mul(TB, c64(GH)), {DG, Zh, Hp, orNull(RH), bx, bh},
                   [&](const Values &in, Value *begin, Value *end) {
                     Value *DGI = in[0], *ZhI = in[1], *HpI = in[2], *RHI = in[3], *bxI = in[4],
                           *bhI = in[5];
                     e.forLoop(b.CreateSub(end, begin), [&](Value *ri) {
                       Value *row = add(begin, ri);
                       Value *z = at(DGI, mul(row, c64(GH))), *zh = at(ZhI, mul(row, c64(GH)));
                       Value *hp = at(HpI, mul(row, c64(H)));
                       e.forLoop(c64(H), [&](Value *u) {
                         Value *a[3];
                         for (int64_t q = 0; q < 3; ++q) {
                           Value *col = add(c64(q * H), u);
                           Value *gx = b.CreateFAdd(ld(z, col), ld(bxI, col));
                           Value *gh = b.CreateFAdd(ld(zh, col), ld(bhI, col));
                           if (q < 2) {
                             a[q] = e.gateSigmoidOf(b.CreateFAdd(gx, gh), dt);
                           } else if (!cho) {
                             a[q] = e.gateTanhOf(b.CreateFAdd(gx, b.CreateFMul(a[0], gh)), dt);
                             st(gh, at(zh, col));
                           } else {
                             a[q] = b.CreateFAdd(gx, ld(bhI, col));
                             st(b.CreateFMul(a[0], ld(hp, u)), at(RHI, add(mul(row, c64(H)), u)));
                           }
                           st(a[q], at(z, col));
                         }
                       });
                     });
                   });
  }

  /// Every row of TB at once: DG <- the saved r, z, n; PyTorch's form Zh's n columns <- the
  /// saved gh_n; Cho's RH <- r hp.
  void copySavedGates(Value *gates, Value *DG, Value *Zh, Value *Hp, Value *RH) {
    Value *TB = mul(T, B);
    const int64_t width = (cho ? 3 : 4) * H;
    e.parallelRows(TB, mul(TB, c64(width)), {gates, DG, orNull(Zh), Hp, orNull(RH)},
                   [&](const Values &in, Value *begin, Value *end) {
                     Value *gatesI = in[0], *DGI = in[1], *ZhI = in[2], *HpI = in[3], *RHI = in[4];
                     e.forLoop(b.CreateSub(end, begin), [&](Value *ri) {
                       Value *row = add(begin, ri);
                       Value *src = at(gatesI, mul(row, c64(width)));
                       e.memCopy(at(DGI, mul(row, c64(GH))), src, c64(GH * esz));
                       if (!cho) {
                         e.memCopy(at(ZhI, add(mul(row, c64(GH)), c64(2 * H))), at(src, c64(3 * H)),
                                   c64(H * esz));
                         return;
                       }
                       Value *hp = at(HpI, mul(row, c64(H))), *rh = at(RHI, mul(row, c64(H)));
                       e.forLoop(c64(H), [&](Value *u) {
                         st(b.CreateFMul(ld(src, u), ld(hp, u)), at(rh, u));
                       });
                     });
                   });
  }

  /// Cho's n = tanh(DG_n + Zh) with Zh now [TB, H] = (r hp) . wh_n.
  void choNewGate(Value *DG, Value *Zh) {
    Value *TB = mul(T, B);
    e.parallelRows(TB, mul(TB, c64(H)), {DG, Zh}, [&](const Values &in, Value *begin, Value *end) {
      Value *DGI = in[0], *ZhI = in[1];
      e.forLoop(b.CreateSub(end, begin), [&](Value *ri) {
        Value *row = add(begin, ri);
        Value *n = at(DGI, add(mul(row, c64(GH)), c64(2 * H))), *zn = at(ZhI, mul(row, c64(H)));
        e.forLoop(c64(H), [&](Value *u) {
          st(e.gateTanhOf(b.CreateFAdd(ld(n, u), ld(zn, u)), dt), at(n, u));
        });
      });
    });
  }

  /// For each example r of step t: dht = dh + dhs (active) and the body `active(...)`, or on a
  /// padded row zero gradients (`padded(...)`) and direct = dh.
  void perExample(Value *t, Values captured,
                  const std::function<void(const Values &, Value *r, Value *row)> &active,
                  const std::function<void(const Values &, Value *r, Value *row)> &padded) {
    captured.insert(captured.end(), {t, len, T, B});
    const size_t k = captured.size() - 4;
    e.parallelRows(B, mul(B, c64(GH)), captured, [&](const Values &in, Value *begin, Value *end) {
      Value *tI = in[k], *lenI = in[k + 1], *TI = in[k + 2], *BI = in[k + 3];
      e.forLoop(b.CreateSub(end, begin), [&](Value *ri) {
        Value *r = add(begin, ri);
        Value *row = add(mul(tI, BI), r);
        Value *on = b.CreateICmpSLT(tI, lengthOf(lenI, TI, r));
        e.ifThen(on, [&] { active(in, r, row); });
        e.ifThen(b.CreateNot(on), [&] { padded(in, r, row); });
      });
    });
  }

  Value *oneMinus(Value *x) { return b.CreateFSub(llvm::ConstantFP::get(elt, 1.0), x); }

  /// rnn: DG[t, r] = da; direct = 0 (dh on padded rows).
  void rnnCellGradients(Value *t, Value *hs, Value *dhs, Value *dh, Value *DG, Value *direct) {
    Value *zero = llvm::ConstantFP::get(elt, 0.0);
    perExample(
        t, {hs, dhs, dh, DG, direct},
        [&](const Values &in, Value *r, Value *row) {
          Value *h = at(in[0], mul(row, c64(H))), *dhsRow = at(in[1], mul(row, c64(H)));
          Value *dhRow = at(in[2], mul(r, c64(H))), *da = at(in[3], mul(row, c64(H)));
          Value *dir = at(in[4], mul(r, c64(H)));
          e.forLoop(c64(H), [&](Value *u) {
            Value *dht = b.CreateFAdd(ld(dhRow, u), ld(dhsRow, u));
            Value *hv = ld(h, u);
            Value *d = op.relu() ? b.CreateSelect(b.CreateFCmpOGT(hv, zero), dht, zero)
                                 : b.CreateFMul(dht, oneMinus(b.CreateFMul(hv, hv)));
            st(d, at(da, u));
            st(zero, at(dir, u));
          });
        },
        [&](const Values &in, Value *r, Value *row) {
          e.memZero(at(in[3], mul(row, c64(H))), c64(H * esz));
          e.memCopy(at(in[4], mul(r, c64(H))), at(in[2], mul(r, c64(H))), c64(H * esz));
        });
  }

  /// gru: from the gates in DG[t, r], dn and dz; PyTorch's form also dr, with DG[t, r] <- dgx
  /// and Zh[t, r] <- dgh; Cho's DG's z and n columns, DRZ's z columns and DN (dr follows the
  /// GEMM, choResetGradients). direct = dht z (dh on padded rows).
  void gruCellGradients(Value *t, Value *Hp, Value *dhs, Value *dh, Value *DG, Value *Zh,
                        Value *DRZ, Value *DN, Value *direct) {
    perExample(
        t, {Hp, dhs, dh, DG, orNull(Zh), orNull(DRZ), orNull(DN), direct},
        [&](const Values &in, Value *r, Value *row) {
          Value *hp = at(in[0], mul(row, c64(H))), *dhsRow = at(in[1], mul(row, c64(H)));
          Value *dhRow = at(in[2], mul(r, c64(H))), *dg = at(in[3], mul(row, c64(GH)));
          Value *zh = at(in[4], mul(row, c64(GH))), *drz = at(in[5], mul(row, c64(2 * H)));
          Value *dn = at(in[6], mul(row, c64(H))), *dir = at(in[7], mul(r, c64(H)));
          e.forLoop(c64(H), [&](Value *u) {
            Value *rg = ld(dg, u), *z = ld(dg, add(c64(H), u)), *n = ld(dg, add(c64(2 * H), u));
            Value *dht = b.CreateFAdd(ld(dhRow, u), ld(dhsRow, u));
            Value *dN = b.CreateFMul(b.CreateFMul(dht, oneMinus(z)), oneMinus(b.CreateFMul(n, n)));
            Value *dZ = b.CreateFMul(b.CreateFMul(dht, b.CreateFSub(ld(hp, u), n)),
                                     b.CreateFMul(z, oneMinus(z)));
            st(b.CreateFMul(dht, z), at(dir, u));
            st(dZ, at(dg, add(c64(H), u)));
            st(dN, at(dg, add(c64(2 * H), u)));
            if (!cho) {
              Value *ghn = ld(zh, add(c64(2 * H), u));
              Value *dR = b.CreateFMul(b.CreateFMul(dN, ghn), b.CreateFMul(rg, oneMinus(rg)));
              st(dR, at(dg, u));
              st(dR, at(zh, u));
              st(dZ, at(zh, add(c64(H), u)));
              st(b.CreateFMul(dN, rg), at(zh, add(c64(2 * H), u)));
            } else {
              st(dZ, at(drz, add(c64(H), u)));
              st(dN, at(dn, u));
            }
          });
        },
        [&](const Values &in, Value *r, Value *row) {
          e.memZero(at(in[3], mul(row, c64(GH))), c64(GH * esz));
          if (!cho) {
            e.memZero(at(in[4], mul(row, c64(GH))), c64(GH * esz));
          } else {
            e.memZero(at(in[5], mul(row, c64(2 * H))), c64(2 * H * esz));
            e.memZero(at(in[6], mul(row, c64(H))), c64(H * esz));
          }
          e.memCopy(at(in[7], mul(r, c64(H))), at(in[2], mul(r, c64(H))), c64(H * esz));
        });
  }

  /// Cho's, after drh = dn . wh_n^T: dr = drh hp r (1 - r) into DG's and DRZ's r columns;
  /// direct += drh r. Padded rows are zero already.
  void choResetGradients(Value *t, Value *Hp, Value *DG, Value *DRZ, Value *drh, Value *direct) {
    perExample(
        t, {Hp, DG, DRZ, drh, direct},
        [&](const Values &in, Value *r, Value *row) {
          Value *hp = at(in[0], mul(row, c64(H))), *dg = at(in[1], mul(row, c64(GH)));
          Value *drz = at(in[2], mul(row, c64(2 * H))), *d = at(in[3], mul(r, c64(H)));
          Value *dir = at(in[4], mul(r, c64(H)));
          e.forLoop(c64(H), [&](Value *u) {
            Value *rg = ld(dg, u), *dv = ld(d, u);
            Value *dR = b.CreateFMul(b.CreateFMul(dv, ld(hp, u)), b.CreateFMul(rg, oneMinus(rg)));
            st(dR, at(dg, u));
            st(dR, at(drz, u));
            st(b.CreateFAdd(ld(dir, u), b.CreateFMul(dv, rg)), at(dir, u));
          });
        },
        [&](const Values &, Value *, Value *) {});
  }

  /// dst[i] += src[i] for i < n.
  void addRows(Value *dst, Value *src, Value *n) {
    e.forLoop(n, [&](Value *i) { st(b.CreateFAdd(ld(dst, i), ld(src, i)), at(dst, i)); });
  }

  /// dst (width x H) = columns [col, col + width) of wh (H x GH), transposed.
  void transposeColumns(Value *wh, int64_t col, int64_t width, Value *dst) {
    transposeStrided(at(wh, c64(col)), c64(H), c64(width), c64(GH), dst);
  }

  bool gru = false, cho = false, masked = false, saved = false;
  size_t base = 5, lenOperand = 8;
  int64_t GH = 0;
  DType lenType = DType::I64;
  Value *T = nullptr, *B = nullptr, *len = nullptr;
};

} // namespace

Status Emitter::emitGruRnnSequenceGrad(const ir::Op &op) {
  return GruRnnGradEmitter(*this, op).emit();
}

} // namespace weft::cpu::detail
