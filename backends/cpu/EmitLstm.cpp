//===- backends/cpu/EmitLstm.cpp - lstm_sequence as one kernel ------------===//
//
//   %hs, %hT, %cT = lstm_sequence %xs[T,B,I], %h0[B,H], %c0[B,H], %wx[I,4H], %wh[H,4H], %b[4H]
//                                 [, %len[B]] {reverse}
//
// Before the loop (RecurrentKernel.h has the layouts; RecurrentEmitter.h the parts shared with
// the GRU and RNN kernels):
//   P   = xs (T*B x I) . wx (I x 4H)        the packed GEMM (EmitMatmul.cpp), one over all steps
//   Whp = wh in gate-interleaved strips     packed once, W hidden units (4W columns) a strip
//   h   = h0 (a scratch pair, swapped each step);  cT = c0
// Each step t (T-1 down to 0 with reverse), weft_parallel_for over the strips s:
//   for each panel of MR rows r:
//     acc[MR x 4W] = h[r, :] . Whp[s]       the GEMM's micro-kernel, h read in place, in registers
//     tile = acc                            on the stack: L1
//     for each row, each unit u of the strip (z_q = tile_q + (P[t, row, qH + u] + b[qH + u])):
//       c = sigmoid(z_f) c + sigmoid(z_i) tanh(z_g);  h' = sigmoid(z_o) tanh(c)
//       cT[row, u] = c;  h'[row, u] = h';  hs[t, row, u] = h'
//     rows with t >= len[row] keep h and c, and their row of hs is zero (a scan's masking).
// After: hT = h.
// The training form ({save_gates}) also stores each row's activated gates in gates[t, row]
// (i, f, g, o blocks of H) and c in cs[t, row], zero on padded rows, for lstm_sequence_grad.
// A step's tasks write disjoint columns of h', c and hs[t] and read only h, so results do not
// depend on the thread count. The sums are those of the expansion (transforms/ExpandLstm.h),
// z = h . wh + (xs . wx + b), with the GEMMs' own order over k.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/RecurrentEmitter.h"

#include <fmt/format.h>

namespace weft::cpu::detail {

using llvm::Value;

namespace {

/// Work below which a step runs on the calling thread (multiply-adds), and per chunk above it.
constexpr int64_t kParallelWork = int64_t{1} << 16;
constexpr int64_t kGrainWork = int64_t{1} << 16;

class LstmEmitter : RecurrentEmitter {
public:
  LstmEmitter(Emitter &e, const ir::Op &op) : RecurrentEmitter(e, op), save(op.saveGates()) {}

  Status emit() {
    Prologue p = beginKernel(6, recurrentKernelScratch(op, e.vectorBytes));
    Value *hs = p.results[0], *hT = p.results[1], *cT = p.results[2], *B = p.B, *len = p.len;
    Value *gates = save ? p.results[3] : nullptr, *cs = save ? p.results[4] : nullptr;
    DType lenType = p.lenType;
    Value *xs = e.ptr(op.operand(0)), *h0 = e.ptr(op.operand(1)), *c0 = e.ptr(op.operand(2)),
          *wx = e.ptr(op.operand(3)), *wh = e.ptr(op.operand(4)), *bias = e.ptr(op.operand(5));
    Value *P = p.scratch[0], *Wx = p.scratch[1], *Whp = p.scratch[2], *hbuf = p.scratch[3];
    packStrips(wh, {0, 1, 2, 3}, Whp);
    Value *stateBytes = mul(B, c64(H * esz));
    e.memCopy(hbuf, h0, stateBytes); // h0 first: cT may share h0's buffer (a declared update)
    b.CreateMemMove(cT, llvm::MaybeAlign(1), c0, llvm::MaybeAlign(1), stateBytes);

    llvm::Function *body = emitStepBody(len != nullptr, lenType);
    Value *ctx = nullptr;
    {
      llvm::IRBuilder<> eb(&e.entry->front());
      ctx = eb.CreateAlloca(ctxTy);
    }
    Value *state = mul(B, c64(H));
    Value *last = timeLoop(
        xs, wx, P, Wx, hbuf,
        [&](const Step &step) {
          Value *fields[] = {step.hPrev,
                             Whp,
                             step.Pt,
                             bias,
                             cT,
                             step.hNext,
                             at(hs, mul(step.t, state)),
                             orNull(len),
                             B,
                             step.t,
                             save ? at(gates, mul(step.t, mul(state, c64(4)))) : orNull(nullptr),
                             save ? at(cs, mul(step.t, state)) : orNull(nullptr)};
          for (unsigned f = 0; f < std::size(fields); ++f)
            b.CreateStore(fields[f], b.CreateStructGEP(ctxTy, ctx, f));
          e.dispatchRows(body, ctx, c64(ks.strips), mul(B, c64(4 * H * H)), kParallelWork,
                         kGrainWork, "lstm.step");
        },
        "lstm.chunks");
    e.memCopy(hT, last, stateBytes);
    return {};
  }

private:
  /// The outlined step `void (ptr ctx, i64 begin, i64 end)` over strips [begin, end).
  llvm::Function *emitStepBody(bool masked, DType lenType) {
    auto *ptrTy = b.getPtrTy();
    ctxTy = llvm::StructType::get(e.ctx, {ptrTy, ptrTy, ptrTy, ptrTy, ptrTy, ptrTy, ptrTy, ptrTy,
                                          e.i64Ty(), e.i64Ty(), ptrTy, ptrTy});
    OutlinedBody body(e, "lstm");
    if (e.vectorBytes == 64)
      body.function->addFnAttr("min-legal-vector-width", "512");
    Value *ctx = body.ctx;
    auto field = [&](unsigned f) {
      return b.CreateLoad(ctxTy->getElementType(f), b.CreateStructGEP(ctxTy, ctx, f));
    };
    Value *hPrev = field(0), *Whp = field(1), *Pt = field(2), *bias = field(3), *c = field(4),
          *hNext = field(5), *hst = field(6), *len = masked ? field(7) : nullptr, *B = field(8),
          *t = field(9), *gatesT = save ? field(10) : nullptr, *cst = save ? field(11) : nullptr;
    forEachTile(body.begin, body.end, B, hPrev, Whp, ks.NV, [&](const Tile &tl) {
      e.forLoop(tl.mr, [&](Value *i) {
        Value *row = add(tl.r0, i);
        Value *active = activeRow(len, lenType, row, t);
        Value *tileRow = at(tl.tile, mul(i, c64(tl.NR)));
        Value *stateRow = mul(row, c64(H));
        e.ifThen(active, [&] {
          e.forLoop(tl.nu, [&](Value *l) {
            Value *u = add(tl.u0, l);
            Value *z[4];
            for (int64_t q = 0; q < 4; ++q) {
              Value *col = add(c64(q * H), u);
              Value *pre = b.CreateFAdd(ld(Pt, add(mul(row, c64(4 * H)), col)), ld(bias, col));
              z[q] = b.CreateFAdd(ld(tileRow, add(c64(q * W), l)), pre);
            }
            Value *cu = at(c, add(stateRow, u));
            Value *a[4] = {e.gateSigmoidOf(z[0], dt), e.gateSigmoidOf(z[1], dt),
                           e.gateTanhOf(z[2], dt), e.gateSigmoidOf(z[3], dt)};
            Value *c2 = b.CreateFAdd(b.CreateFMul(a[1], ld(cu, c64(0))), b.CreateFMul(a[0], a[2]));
            Value *h2 = b.CreateFMul(a[3], e.gateTanhOf(c2, dt));
            st(c2, cu);
            if (save) {
              for (int64_t q = 0; q < 4; ++q)
                st(a[q], at(gatesT, add(mul(row, c64(4 * H)), add(c64(q * H), u))));
              st(c2, at(cst, add(stateRow, u)));
            }
            st(h2, at(hNext, add(stateRow, u)));
            st(h2, at(hst, add(stateRow, u)));
          });
        });
        e.ifThen(b.CreateNot(active), [&] {
          keepRow(hPrev, hNext, hst, stateRow, tl.u0, tl.nu);
          if (save) // the saved rows of a padded step are zero, as the interpreter's
            e.forLoop(tl.nu, [&](Value *l) {
              Value *u = add(tl.u0, l), *zero = llvm::ConstantFP::get(elt, 0.0);
              for (int64_t q = 0; q < 4; ++q)
                st(zero, at(gatesT, add(mul(row, c64(4 * H)), add(c64(q * H), u))));
              st(zero, at(cst, add(stateRow, u)));
            });
        });
      });
    });
    b.CreateRetVoid();
    return body.function;
  }

  llvm::StructType *ctxTy = nullptr;
  const bool save; // the training form: gates and cs saved
};

} // namespace

Status Emitter::emitLstmSequence(const ir::Op &op) { return LstmEmitter(*this, op).emit(); }

} // namespace weft::cpu::detail
