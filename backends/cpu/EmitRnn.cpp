//===- backends/cpu/EmitRnn.cpp - rnn_sequence as one kernel --------------===//
//
//   %hs, %hT = rnn_sequence %xs[T,B,I], %h0[B,H], %wx[I,H], %wh[H,H], %b[H] [, %len[B]]
//                           {relu} {reverse}
//
// The layout and the time loop are the LSTM kernel's (RecurrentKernel.h, RecurrentEmitter.h)
// with one gate: P = xs . wx one GEMM per chunk of steps, wh packed once in strips of U = 2W
// hidden units (one gate alone would make a thin micro-tile), h in a scratch pair swapped
// each step. Per step, weft_parallel_for over the strips s:
//   for each panel of MR rows:  acc[MR x U] = h[rows] . Whp[s]
//     h' = tanh(acc + (P + b))   (relu with {relu = 1});  hs[t] = h'
//   rows with t >= len[row] keep h and their row of hs is zero (a scan's masking).
// A step's tasks write disjoint columns of h' and hs[t] and read only h, so results do not
// depend on the thread count. After the loop hT = h.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/RecurrentEmitter.h"

namespace weft::cpu::detail {

using llvm::Value;

namespace {

/// Work below which a step runs on the calling thread (multiply-adds), and per chunk above it.
constexpr int64_t kParallelWork = int64_t{1} << 16;
constexpr int64_t kGrainWork = int64_t{1} << 16;

class RnnEmitter : RecurrentEmitter {
public:
  RnnEmitter(Emitter &e, const ir::Op &op) : RecurrentEmitter(e, op) {}

  Status emit() {
    Prologue p = beginKernel(5, recurrentKernelScratch(op, e.vectorBytes));
    Value *hs = p.results[0], *hT = p.results[1], *B = p.B, *len = p.len;
    DType lenType = p.lenType;
    Value *xs = e.ptr(op.operand(0)), *h0 = e.ptr(op.operand(1)), *wx = e.ptr(op.operand(2)),
          *wh = e.ptr(op.operand(3)), *bias = e.ptr(op.operand(4));
    Value *P = p.scratch[0], *Wx = p.scratch[1], *Whp = p.scratch[2], *hbuf = p.scratch[3];
    packStrips(wh, {0}, Whp);
    Value *stateBytes = mul(B, c64(H * esz));
    e.memCopy(hbuf, h0, stateBytes);

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
          Value *fields[] = {step.hPrev,  Whp,        step.Pt,
                             bias,        step.hNext, at(hs, mul(step.t, state)),
                             orNull(len), B,          step.t};
          for (unsigned f = 0; f < std::size(fields); ++f)
            b.CreateStore(fields[f], b.CreateStructGEP(ctxTy, ctx, f));
          e.dispatchRows(body, ctx, c64(ks.strips), mul(B, c64(H * H)), kParallelWork, kGrainWork,
                         "rnn.step");
        },
        "rnn.chunks");
    e.memCopy(hT, last, stateBytes);
    return {};
  }

private:
  /// The outlined step `void (ptr ctx, i64 begin, i64 end)` over strips [begin, end).
  llvm::Function *emitStepBody(bool masked, DType lenType) {
    auto *ptrTy = b.getPtrTy();
    ctxTy = llvm::StructType::get(
        e.ctx, {ptrTy, ptrTy, ptrTy, ptrTy, ptrTy, ptrTy, ptrTy, e.i64Ty(), e.i64Ty()});
    OutlinedBody body(e, "rnn");
    if (e.vectorBytes == 64)
      body.function->addFnAttr("min-legal-vector-width", "512");
    Value *ctx = body.ctx;
    auto field = [&](unsigned f) {
      return b.CreateLoad(ctxTy->getElementType(f), b.CreateStructGEP(ctxTy, ctx, f));
    };
    Value *hPrev = field(0), *Whp = field(1), *Pt = field(2), *bias = field(3), *hNext = field(4),
          *hst = field(5), *len = masked ? field(6) : nullptr, *B = field(7), *t = field(8);
    Value *zero = llvm::Constant::getNullValue(vecTy);
    forEachTile(body.begin, body.end, B, hPrev, Whp, ks.NV, [&](const Tile &tl) {
      e.forLoop(tl.mr, [&](Value *i) {
        Value *row = add(tl.r0, i);
        Value *active = activeRow(len, lenType, row, t);
        Value *tileRow = at(tl.tile, mul(i, c64(tl.NR)));
        Value *stateRow = mul(row, c64(H));
        e.ifThen(active, [&] {
          for (int v = 0; v < ks.unitVectors; ++v) { // W units at a time
            Value *mask = laneMask(tl.nu, v);
            Value *u = add(tl.u0, c64(v * W)), *k = add(stateRow, u);
            Value *pre = b.CreateFAdd(vld(at(Pt, k), mask), vld(at(bias, u), mask));
            Value *a = b.CreateFAdd(tileVector(tileRow, v * W), pre);
            // relu as max(a, 0): a NaN goes through.
            Value *h2 =
                op.relu() ? b.CreateSelect(b.CreateFCmpOLT(a, zero), zero, a) : e.gateTanhOf(a, dt);
            vst(h2, at(hNext, k), mask);
            vst(h2, at(hst, k), mask);
          }
        });
        e.ifThen(b.CreateNot(active), [&] { keepRow(hPrev, hNext, hst, stateRow, tl.u0, tl.nu); });
      });
    });
    b.CreateRetVoid();
    return body.function;
  }

  llvm::StructType *ctxTy = nullptr;
};

} // namespace

Status Emitter::emitRnnSequence(const ir::Op &op) { return RnnEmitter(*this, op).emit(); }

} // namespace weft::cpu::detail
