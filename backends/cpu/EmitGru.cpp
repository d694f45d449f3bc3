//===- backends/cpu/EmitGru.cpp - gru_sequence as one kernel --------------===//
//
//   %hs, %hT = gru_sequence %xs[T,B,I], %h0[B,H], %wx[I,3H], %wh[H,3H], %bx[3H], %bh[3H]
//                           [, %len[B]] {linear_before_reset} {reverse}
//
// The layout and the time loop are the LSTM kernel's (RecurrentKernel.h, RecurrentEmitter.h)
// with G = 3 gates r, z, n: P = xs . wx one GEMM per chunk of steps, wh packed once in strips
// of W hidden units, h in a scratch pair swapped each step. Per step, weft_parallel_for over
// the strips s:
//
// linear_before_reset (PyTorch's form): one pass. The strip holds the r, z and n columns of
// its units side by side, so one micro-tile acc[MR x 3W] = h[rows] . Whp[s] gives h . wh_r,
// h . wh_z and h . wh_n, and the n gate's product stays apart from xn as it must:
//   r = sigmoid((P_r + bx_r) + (acc_r + bh_r));  z likewise
//   n = tanh((P_n + bx_n) + r * (acc_n + bh_n));  h' = n + z * (h - n)
//
// Cho et al.'s form: n = tanh(xn + (r * h) . wh_n + b_n) needs r of all H units before any
// unit's n, so a step is two passes over the strips, each one weft_parallel_for:
//   1. acc[MR x 2W] = h[rows] . Whp_rz[s] (strips of the r and z columns);
//      r = sigmoid(P_r + b_r + acc_r), z likewise (b = bx + bh);
//      rh[row, u] = r * h[row, u];  h'[row, u] = z   (h' holds z until pass 2 reads it)
//   2. acc[MR x W] = rh[rows] . Whp_n[s] (strips of the n columns);
//      n = tanh(P_n + b_n + acc_n);  h' = n + z * (h - n)
// Rows with t >= len[row] keep h and their row of hs is zero (a scan's masking); pass 1 runs
// them too, and pass 2 throws their values away. A pass's tasks write disjoint columns and
// read only what the previous pass wrote, so results do not depend on the thread count.
// After the loop hT = h.
// The training form ({save_gates}) also stores each row's r, z, n (PyTorch's form: and
// acc_n + bh_n) in gates[t, row], blocks of H, zero on padded rows, for gru_sequence_grad.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/RecurrentEmitter.h"

namespace weft::cpu::detail {

using llvm::Value;

namespace {

/// Work below which a pass runs on the calling thread (multiply-adds), and per chunk above it.
constexpr int64_t kParallelWork = int64_t{1} << 16;
constexpr int64_t kGrainWork = int64_t{1} << 16;

/// The step context's fields: what the outlined passes read.
enum Field : unsigned {
  HPrev,
  WhpRz,
  WhpN,
  Pt,
  Bx,
  Bh,
  HNext,
  Hst,
  Len,
  Rh,
  GatesT,
  Batch,
  Time,
  Count
};

class GruEmitter : RecurrentEmitter {
public:
  GruEmitter(Emitter &e, const ir::Op &op)
      : RecurrentEmitter(e, op), pytorchForm(op.linearBeforeReset()), save(op.saveGates()),
        savedWidth((pytorchForm ? 4 : 3) * H) {}

  Status emit() {
    Prologue p = beginKernel(6, recurrentKernelScratch(op, e.vectorBytes));
    Value *hs = p.results[0], *hT = p.results[1], *B = p.B, *len = p.len;
    Value *gates = save ? p.results[2] : nullptr;
    DType lenType = p.lenType;
    Value *xs = e.ptr(op.operand(0)), *h0 = e.ptr(op.operand(1)), *wx = e.ptr(op.operand(2)),
          *wh = e.ptr(op.operand(3)), *bx = e.ptr(op.operand(4)), *bh = e.ptr(op.operand(5));
    Value *P = p.scratch[0], *Wx = p.scratch[1], *Whp = p.scratch[2], *hbuf = p.scratch[3];
    Value *rh = pytorchForm ? nullptr : p.scratch[4];
    // PyTorch's form: one strip array of r, z, n. Cho's: r, z strips, then n strips.
    Value *whpN = nullptr;
    if (pytorchForm) {
      packStrips(wh, {0, 1, 2}, Whp);
    } else {
      packStrips(wh, {0, 1}, Whp);
      whpN = at(Whp, c64(ks.strips * H * 2 * ks.U));
      packStrips(wh, {2}, whpN);
    }
    Value *stateBytes = mul(B, c64(H * esz));
    e.memCopy(hbuf, h0, stateBytes);

    ctxTy = llvm::StructType::get(e.ctx, contextFields());
    llvm::Function *first =
        pytorchForm ? emitPyTorchStep(len != nullptr, lenType) : emitChoResetPass();
    llvm::Function *second = pytorchForm ? nullptr : emitChoUpdatePass(len != nullptr, lenType);
    Value *ctx = nullptr;
    {
      llvm::IRBuilder<> eb(&e.entry->front());
      ctx = eb.CreateAlloca(ctxTy);
    }
    Value *state = mul(B, c64(H));
    Value *last = timeLoop(
        xs, wx, P, Wx, hbuf,
        [&](const Step &step) {
          Value *fields[Count] = {step.hPrev,
                                  Whp,
                                  orNull(whpN),
                                  step.Pt,
                                  bx,
                                  bh,
                                  step.hNext,
                                  at(hs, mul(step.t, state)),
                                  orNull(len),
                                  orNull(rh),
                                  save ? at(gates, mul(step.t, mul(B, c64(savedWidth))))
                                       : orNull(nullptr),
                                  B,
                                  step.t};
          for (unsigned f = 0; f < Count; ++f)
            b.CreateStore(fields[f], b.CreateStructGEP(ctxTy, ctx, f));
          Value *work = mul(B, c64((pytorchForm ? 3 : 2) * H * H));
          e.dispatchRows(first, ctx, c64(ks.strips), work, kParallelWork, kGrainWork, "gru.step");
          if (second)
            e.dispatchRows(second, ctx, c64(ks.strips), mul(B, c64(H * H)), kParallelWork,
                           kGrainWork, "gru.update");
        },
        "gru.chunks");
    e.memCopy(hT, last, stateBytes);
    return {};
  }

private:
  std::vector<llvm::Type *> contextFields() {
    std::vector<llvm::Type *> types(Count, b.getPtrTy());
    types[Batch] = types[Time] = e.i64Ty();
    return types;
  }

  /// Reads field `f` of the context inside an outlined pass.
  Value *field(Value *ctx, Field f) {
    return b.CreateLoad(ctxTy->getElementType(f), b.CreateStructGEP(ctxTy, ctx, f));
  }

  /// P[t, row, q*H + u ...] + bx[q*H + u ...] over the lanes of `mask`, and bh's elements too
  /// for Cho's form (its bh is outside r).
  Value *inputGate(Value *pt, Value *bx, Value *bh, Value *row, Value *u, int q, Value *mask) {
    Value *col = add(c64(q * H), u);
    Value *x =
        b.CreateFAdd(vld(at(pt, add(mul(row, c64(3 * H)), col)), mask), vld(at(bx, col), mask));
    return pytorchForm ? x : b.CreateFAdd(x, vld(at(bh, col), mask));
  }

  /// For each vector of units of a tile's row `i`: cell(mask, i-th row, first unit u, the
  /// row's tile), in W lanes at a time.
  void forEachVector(const Tile &tl, Value *i,
                     const std::function<void(Value *, Value *, Value *)> &cell) {
    Value *tileRow = at(tl.tile, mul(i, c64(tl.NR)));
    for (int v = 0; v < ks.unitVectors; ++v)
      cell(laneMask(tl.nu, v), add(tl.u0, c64(v * W)), at(tileRow, c64(v * W)));
  }

  /// PyTorch's form: the whole step over strips [begin, end), one pass.
  llvm::Function *emitPyTorchStep(bool masked, DType lenType) {
    OutlinedBody body(e, "gru");
    if (e.vectorBytes == 64)
      body.function->addFnAttr("min-legal-vector-width", "512");
    Value *hPrev = field(body.ctx, HPrev), *whp = field(body.ctx, WhpRz), *pt = field(body.ctx, Pt),
          *bx = field(body.ctx, Bx), *bh = field(body.ctx, Bh), *hNext = field(body.ctx, HNext),
          *hst = field(body.ctx, Hst), *len = masked ? field(body.ctx, Len) : nullptr,
          *B = field(body.ctx, Batch), *t = field(body.ctx, Time),
          *gatesT = save ? field(body.ctx, GatesT) : nullptr;
    forEachTile(body.begin, body.end, B, hPrev, whp, ks.NV, [&](const Tile &tl) {
      e.forLoop(tl.mr, [&](Value *i) {
        Value *row = add(tl.r0, i);
        Value *active = activeRow(len, lenType, row, t);
        Value *stateRow = mul(row, c64(H));
        e.ifThen(active, [&] {
          forEachVector(tl, i, [&](Value *mask, Value *u, Value *tile) {
            auto recurrent = [&](int q) { // (h . wh + bh) of gate q
              return b.CreateFAdd(tileVector(tile, q * ks.U),
                                  vld(at(bh, add(c64(q * H), u)), mask));
            };
            Value *r = e.gateSigmoidOf(
                b.CreateFAdd(inputGate(pt, bx, bh, row, u, 0, mask), recurrent(0)), dt);
            Value *z = e.gateSigmoidOf(
                b.CreateFAdd(inputGate(pt, bx, bh, row, u, 1, mask), recurrent(1)), dt);
            Value *ghn = recurrent(2);
            Value *n = e.gateTanhOf(
                b.CreateFAdd(inputGate(pt, bx, bh, row, u, 2, mask), b.CreateFMul(r, ghn)), dt);
            storeState(n, z, hPrev, hNext, hst, add(stateRow, u), mask);
            if (save)
              saveGates(gatesT, row, u, {r, z, n, ghn}, mask);
          });
        });
        e.ifThen(b.CreateNot(active), [&] {
          keepRow(hPrev, hNext, hst, stateRow, tl.u0, tl.nu);
          if (save)
            zeroGates(gatesT, row, tl, {0, 1, 2, 3});
        });
      });
    });
    b.CreateRetVoid();
    return body.function;
  }

  /// Cho's form, pass 1 over strips [begin, end): r and z; rh = r * h, and z parked in h'.
  llvm::Function *emitChoResetPass() {
    OutlinedBody body(e, "gru.reset");
    if (e.vectorBytes == 64)
      body.function->addFnAttr("min-legal-vector-width", "512");
    Value *hPrev = field(body.ctx, HPrev), *whp = field(body.ctx, WhpRz), *pt = field(body.ctx, Pt),
          *bx = field(body.ctx, Bx), *bh = field(body.ctx, Bh), *hNext = field(body.ctx, HNext),
          *rh = field(body.ctx, Rh), *B = field(body.ctx, Batch),
          *gatesT = save ? field(body.ctx, GatesT) : nullptr;
    forEachTile(body.begin, body.end, B, hPrev, whp, 2 * ks.unitVectors, [&](const Tile &tl) {
      e.forLoop(tl.mr, [&](Value *i) {
        Value *row = add(tl.r0, i);
        Value *stateRow = mul(row, c64(H));
        forEachVector(tl, i, [&](Value *mask, Value *u, Value *tile) {
          Value *k = add(stateRow, u);
          Value *r = e.gateSigmoidOf(
              b.CreateFAdd(inputGate(pt, bx, bh, row, u, 0, mask), tileVector(tile, 0)), dt);
          Value *z = e.gateSigmoidOf(
              b.CreateFAdd(inputGate(pt, bx, bh, row, u, 1, mask), tileVector(tile, ks.U)), dt);
          vst(b.CreateFMul(r, vld(at(hPrev, k), mask)), at(rh, k), mask);
          vst(z, at(hNext, k), mask);
          if (save) // padded rows' are zeroed in pass 2
            saveGates(gatesT, row, u, {r, z}, mask);
        });
      });
    });
    b.CreateRetVoid();
    return body.function;
  }

  /// Cho's form, pass 2 over strips [begin, end): n from rh . wh_n, then h'.
  llvm::Function *emitChoUpdatePass(bool masked, DType lenType) {
    OutlinedBody body(e, "gru.update");
    if (e.vectorBytes == 64)
      body.function->addFnAttr("min-legal-vector-width", "512");
    Value *hPrev = field(body.ctx, HPrev), *whpN = field(body.ctx, WhpN), *pt = field(body.ctx, Pt),
          *bx = field(body.ctx, Bx), *bh = field(body.ctx, Bh), *hNext = field(body.ctx, HNext),
          *hst = field(body.ctx, Hst), *len = masked ? field(body.ctx, Len) : nullptr,
          *rh = field(body.ctx, Rh), *B = field(body.ctx, Batch), *t = field(body.ctx, Time),
          *gatesT = save ? field(body.ctx, GatesT) : nullptr;
    forEachTile(body.begin, body.end, B, rh, whpN, ks.unitVectors, [&](const Tile &tl) {
      e.forLoop(tl.mr, [&](Value *i) {
        Value *row = add(tl.r0, i);
        Value *active = activeRow(len, lenType, row, t);
        Value *stateRow = mul(row, c64(H));
        e.ifThen(active, [&] {
          forEachVector(tl, i, [&](Value *mask, Value *u, Value *tile) {
            Value *k = add(stateRow, u);
            Value *n = e.gateTanhOf(
                b.CreateFAdd(inputGate(pt, bx, bh, row, u, 2, mask), tileVector(tile, 0)), dt);
            storeState(n, vld(at(hNext, k), mask), hPrev, hNext, hst, k, mask);
            if (save)
              saveGates(gatesT, row, u, {nullptr, nullptr, n}, mask);
          });
        });
        e.ifThen(b.CreateNot(active), [&] {
          keepRow(hPrev, hNext, hst, stateRow, tl.u0, tl.nu);
          if (save)
            zeroGates(gatesT, row, tl, {0, 1, 2});
        });
      });
    });
    b.CreateRetVoid();
    return body.function;
  }

  /// h' = n + z * (h - n) at state index k ..., the lanes of `mask`, into h' and hs[t].
  void storeState(Value *n, Value *z, Value *hPrev, Value *hNext, Value *hst, Value *k,
                  Value *mask) {
    Value *h2 = b.CreateFAdd(n, b.CreateFMul(z, b.CreateFSub(vld(at(hPrev, k), mask), n)));
    vst(h2, at(hNext, k), mask);
    vst(h2, at(hst, k), mask);
  }

  /// gates[t, row, q*H + u ...] = acts[q] over the lanes of `mask`, for each acts[q] given.
  void saveGates(Value *gatesT, Value *row, Value *u, std::vector<Value *> acts, Value *mask) {
    Value *rowStart = mul(row, c64(savedWidth));
    for (size_t q = 0; q < acts.size(); ++q)
      if (acts[q])
        vst(acts[q], at(gatesT, add(rowStart, add(c64(static_cast<int64_t>(q) * H), u))), mask);
  }

  /// Zero blocks `blocks` of a padded row's gates for the tile's units, as the interpreter's.
  void zeroGates(Value *gatesT, Value *row, const Tile &tl, std::vector<int64_t> blocks) {
    Value *zero = llvm::ConstantFP::get(elt, 0.0), *rowStart = mul(row, c64(savedWidth));
    e.forLoop(tl.nu, [&](Value *l) {
      Value *u = add(tl.u0, l);
      for (int64_t q : blocks)
        st(zero, at(gatesT, add(rowStart, add(c64(q * H), u))));
    });
  }

  bool pytorchForm;
  const bool save;          // the training form: gates saved
  const int64_t savedWidth; // of a row of gates: 4H (PyTorch's form) or 3H
  llvm::StructType *ctxTy = nullptr;
};

} // namespace

Status Emitter::emitGruSequence(const ir::Op &op) { return GruEmitter(*this, op).emit(); }

} // namespace weft::cpu::detail
