//===- backends/cpu/EmitLstm.cpp - lstm_sequence as one kernel ------------===//
//
//   %hs, %hT, %cT = lstm_sequence %xs[T,B,I], %h0[B,H], %c0[B,H], %wx[I,4H], %wh[H,4H], %b[4H]
//                                 [, %len[B]] {reverse}
//
// Before the loop (LstmKernel.h has the layouts):
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
// A step's tasks write disjoint columns of h', c and hs[t] and read only h, so results do not
// depend on the thread count. The sums are those of the expansion (transforms/ExpandLstm.h),
// z = h . wh + (xs . wx + b), with the GEMMs' own order over k.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Emitter.h"
#include "backends/cpu/LstmKernel.h"

#include <fmt/format.h>

namespace weft::cpu::detail {

using llvm::Value;

namespace {

/// Work below which a step runs on the calling thread (multiply-adds), and per chunk above it.
constexpr int64_t kParallelWork = int64_t{1} << 16;
constexpr int64_t kGrainWork = int64_t{1} << 16;

class LstmEmitter {
public:
  LstmEmitter(Emitter &e, const ir::Op &op) : e(e), b(e.b), op(op) {
    dt = op.operand(0)->type().dtype();
    H = op.operand(1)->type().dim(1).size();
    ks = lstmKernelShape(op, e.vectorBytes);
    W = ks.W;
    NR = ks.NV * W;
    esz = static_cast<int>(dtypeBytes(dt));
    elt = e.storageTy(dt);
  }

  Status emit() {
    const ir::Type &xt = op.operand(0)->type();
    if (e.vectorBytes == 64)
      e.fn->addFnAttr("min-legal-vector-width", "512");
    Value *hs = e.bufferOf(op.result(0)), *hT = e.bufferOf(op.result(1)),
          *cT = e.bufferOf(op.result(2));
    for (size_t r = 0; r < 3; ++r)
      e.ptrs[op.result(r)] = e.bufferOf(op.result(r));
    Value *T = e.dim(xt.dim(0)), *B = e.dim(xt.dim(1)), *I = e.dim(xt.dim(2));
    Value *xs = e.ptr(op.operand(0)), *h0 = e.ptr(op.operand(1)), *c0 = e.ptr(op.operand(2)),
          *wx = e.ptr(op.operand(3)), *wh = e.ptr(op.operand(4)), *bias = e.ptr(op.operand(5));
    Value *len = nullptr;
    DType lenType = DType::I64;
    if (op.numOperands() == 7) {
      len = e.ptr(op.operand(6));
      lenType = op.operand(6)->type().dtype();
      checkLengths(len, lenType, B, T);
    }
    std::vector<ir::Type> scratch = lstmKernelScratch(op, e.vectorBytes);
    Value *P = e.scratchBuffer(scratch[0]), *Wx = e.scratchBuffer(scratch[1]),
          *Whp = e.scratchBuffer(scratch[2]), *hbuf = e.scratchBuffer(scratch[3]);
    const ir::Dim rowsDim = lstmProjectionRows(op, e.vectorBytes), colsDim(4 * H);
    if (ks.prepackWx)
      e.emitPackB(dt, rowsDim, xt.dim(2), colsDim, wx, Wx);
    packWh(wh, Whp);
    Value *stateBytes = mul(B, c64(H * esz));
    e.memCopy(hbuf, h0, stateBytes); // h0 first: cT may share h0's buffer (a declared update)
    b.CreateMemMove(cT, llvm::MaybeAlign(1), c0, llvm::MaybeAlign(1), stateBytes);

    llvm::Function *body = emitStepBody(len != nullptr, lenType);
    Value *ctx = nullptr;
    {
      llvm::IRBuilder<> eb(&e.entry->front());
      ctx = eb.CreateAlloca(ctxTy);
    }
    Value *state = mul(B, c64(H)), *gates = mul(B, c64(4 * H));
    Value *chunks = b.CreateUDiv(add(T, c64(ks.chunk - 1)), c64(ks.chunk));
    e.forLoop(
        chunks,
        [&](Value *ch) {
          // Steps s0 ... s0 + n - 1 of the loop, times t0 ... t0 + n - 1 in either order.
          Value *s0 = mul(ch, c64(ks.chunk));
          Value *n = min(c64(ks.chunk), b.CreateSub(T, s0));
          Value *t0 = op.reverse() ? b.CreateSub(b.CreateSub(T, s0), n) : s0;
          e.emitGemm(dt, rowsDim, xt.dim(2), colsDim, at(xs, mul(t0, mul(B, I))), wx, P, mul(n, B),
                     I, c64(4 * H), ks.prepackWx ? Wx : nullptr, ks.prepackWx ? nullptr : Wx);
          e.forLoop(n, [&](Value *j) {
            Value *s = add(s0, j);
            Value *t = op.reverse() ? b.CreateSub(b.CreateSub(T, c64(1)), s) : s;
            Value *parity = b.CreateAnd(s, c64(1));
            Value *hPrev = at(hbuf, mul(parity, state));
            Value *hNext = at(hbuf, mul(b.CreateXor(parity, c64(1)), state));
            Value *fields[] = {hPrev,
                               Whp,
                               at(P, mul(b.CreateSub(t, t0), gates)),
                               bias,
                               cT,
                               hNext,
                               at(hs, mul(t, state)),
                               len ? len : llvm::ConstantPointerNull::get(b.getPtrTy()),
                               B,
                               t};
            for (unsigned f = 0; f < std::size(fields); ++f)
              b.CreateStore(fields[f], b.CreateStructGEP(ctxTy, ctx, f));
            e.dispatchRows(body, ctx, c64(ks.strips), mul(B, c64(4 * H * H)), kParallelWork,
                           kGrainWork, "lstm.step");
          });
        },
        "lstm.chunks");
    e.memCopy(hT, at(hbuf, mul(b.CreateAnd(T, c64(1)), state)), stateBytes);
    return {};
  }

private:
  /// The scan's check: every len[b] in [0, T].
  void checkLengths(Value *len, DType lenType, Value *B, Value *T) {
    int site = e.faultSite(op, "lengths");
    e.forLoop(B, [&](Value *r) {
      Value *n = b.CreateSExt(e.load(len, lenType, r), e.i64Ty());
      e.fault(b.CreateOr(b.CreateICmpSLT(n, c64(0)), b.CreateICmpSGT(n, T)),
              Fault::LengthOutOfRange, site, n, r, T);
    });
  }

  /// Whp strip s, row k, gate q: the W columns q*H + s*W ... of wh, zero past column q*H + H - 1.
  void packWh(Value *wh, Value *Whp) {
    e.memZero(Whp, c64(ks.strips * H * NR * esz));
    e.forLoop(c64(ks.strips), [&](Value *s) {
      Value *u0 = mul(s, c64(W));
      Value *nu = H % W == 0 ? c64(W) : min(c64(W), b.CreateSub(c64(H), u0));
      Value *bytes = mul(nu, c64(esz));
      e.forLoop(c64(H), [&](Value *k) {
        Value *dst = at(Whp, mul(add(mul(s, c64(H)), k), c64(NR)));
        Value *src = at(wh, add(mul(k, c64(4 * H)), u0));
        for (int64_t q = 0; q < 4; ++q)
          e.memCopy(at(dst, c64(q * W)), at(src, c64(q * H)), bytes);
      });
    });
  }

  /// The outlined step `void (ptr ctx, i64 begin, i64 end)` over strips [begin, end).
  llvm::Function *emitStepBody(bool masked, DType lenType) {
    auto *ptrTy = b.getPtrTy();
    ctxTy = llvm::StructType::get(
        e.ctx, {ptrTy, ptrTy, ptrTy, ptrTy, ptrTy, ptrTy, ptrTy, ptrTy, e.i64Ty(), e.i64Ty()});
    OutlinedBody body(e, "lstm");
    if (e.vectorBytes == 64)
      body.function->addFnAttr("min-legal-vector-width", "512");
    Value *ctx = body.ctx;
    auto field = [&](unsigned f) {
      return b.CreateLoad(ctxTy->getElementType(f), b.CreateStructGEP(ctxTy, ctx, f));
    };
    Value *hPrev = field(0), *Whp = field(1), *Pt = field(2), *bias = field(3), *c = field(4),
          *hNext = field(5), *hst = field(6), *len = field(7), *B = field(8), *t = field(9);
    Value *tile = nullptr;
    {
      llvm::IRBuilder<> eb(&e.entry->front());
      auto *tileTy = llvm::ArrayType::get(elt, static_cast<uint64_t>(ks.MR * NR));
      auto *alloca = eb.CreateAlloca(tileTy);
      alloca->setAlignment(llvm::Align(64));
      tile = alloca;
    }
    const int MR = ks.MR;
    e.forLoop(b.CreateSub(body.end, body.begin), [&](Value *si) {
      Value *s = add(body.begin, si);
      Value *u0 = mul(s, c64(W));
      Value *nu = H % W == 0 ? c64(W) : min(c64(W), b.CreateSub(c64(H), u0));
      Value *strip = at(Whp, mul(s, c64(H * NR)));
      Value *panels = b.CreateUDiv(add(B, c64(MR - 1)), c64(MR));
      e.forLoop(panels, [&](Value *p) {
        Value *r0 = mul(p, c64(MR));
        Value *mr = min(c64(MR), b.CreateSub(B, r0));
        Value *last = add(r0, b.CreateSub(mr, c64(1)));
        // Rows past the last of B repeat it (read, never written back).
        Values acc = e.gemmTileProduct(
            dt, MR, ks.NV, c64(H),
            [&](int i) { return at(hPrev, mul(min(add(r0, c64(i)), last), c64(H))); }, 1, strip);
        for (int i = 0; i < MR; ++i)
          for (int v = 0; v < ks.NV; ++v)
            b.CreateAlignedStore(acc[static_cast<size_t>(i * ks.NV + v)],
                                 at(tile, c64(i * NR + v * W)),
                                 llvm::Align(static_cast<uint64_t>(W * esz)));
        e.forLoop(mr, [&](Value *i) {
          Value *row = add(r0, i);
          Value *active = b.getTrue();
          if (masked)
            active = b.CreateICmpSLT(t, b.CreateSExt(e.load(len, lenType, row), e.i64Ty()));
          Value *tileRow = at(tile, mul(i, c64(NR)));
          Value *stateRow = mul(row, c64(H));
          e.ifThen(active, [&] {
            e.forLoop(nu, [&](Value *l) {
              Value *u = add(u0, l);
              Value *z[4];
              for (int64_t q = 0; q < 4; ++q) {
                Value *col = add(c64(q * H), u);
                Value *pre = b.CreateFAdd(ld(Pt, add(mul(row, c64(4 * H)), col)), ld(bias, col));
                z[q] = b.CreateFAdd(ld(tileRow, add(c64(q * W), l)), pre);
              }
              Value *cu = at(c, add(stateRow, u));
              Value *c2 =
                  b.CreateFAdd(b.CreateFMul(e.gateSigmoidOf(z[1], dt), ld(cu, c64(0))),
                               b.CreateFMul(e.gateSigmoidOf(z[0], dt), e.gateTanhOf(z[2], dt)));
              Value *h2 = b.CreateFMul(e.gateSigmoidOf(z[3], dt), e.gateTanhOf(c2, dt));
              st(c2, cu);
              st(h2, at(hNext, add(stateRow, u)));
              st(h2, at(hst, add(stateRow, u)));
            });
          });
          e.ifThen(b.CreateNot(active), [&] {
            e.forLoop(nu, [&](Value *l) {
              Value *k = add(stateRow, add(u0, l));
              st(ld(hPrev, k), at(hNext, k));
              st(llvm::Constant::getNullValue(elt), at(hst, k));
            });
          });
        });
      });
    });
    b.CreateRetVoid();
    return body.function;
  }

  Value *c64(int64_t v) { return e.c64(v); }
  Value *add(Value *x, Value *y) { return b.CreateAdd(x, y, "", true, true); }
  Value *mul(Value *x, Value *y) { return b.CreateMul(x, y, "", true, true); }
  Value *min(Value *x, Value *y) { return b.CreateSelect(b.CreateICmpSLT(x, y), x, y); }
  Value *at(Value *p, Value *i) { return b.CreateInBoundsGEP(elt, p, i); }
  Value *ld(Value *p, Value *i) {
    return b.CreateAlignedLoad(elt, at(p, i), llvm::Align(static_cast<uint64_t>(esz)));
  }
  void st(Value *v, Value *p) {
    b.CreateAlignedStore(v, p, llvm::Align(static_cast<uint64_t>(esz)));
  }

  Emitter &e;
  llvm::IRBuilder<> &b;
  const ir::Op &op;
  DType dt = DType::F32;
  int64_t H = 0;
  LstmKernelShape ks;
  int W = 8, NR = 32, esz = 4;
  llvm::Type *elt = nullptr;
  llvm::StructType *ctxTy = nullptr;
};

} // namespace

Status Emitter::emitLstmSequence(const ir::Op &op) { return LstmEmitter(*this, op).emit(); }

} // namespace weft::cpu::detail
