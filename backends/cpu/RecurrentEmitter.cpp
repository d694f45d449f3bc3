//===- backends/cpu/RecurrentEmitter.cpp - what the recurrent kernels share ===//
#include "backends/cpu/RecurrentEmitter.h"

namespace weft::cpu::detail {

using llvm::Value;

RecurrentBase::RecurrentBase(Emitter &e, const ir::Op &op) : e(e), b(e.b), op(op) {
  dt = op.operand(0)->type().dtype();
  H = op.operand(1)->type().dim(1).size();
  esz = static_cast<int>(dtypeBytes(dt));
  elt = e.storageTy(dt);
}

RecurrentBase::Prologue RecurrentBase::beginKernel(size_t lenOperand,
                                                   const std::vector<ir::Type> &scratch) {
  const ir::Type &xt = op.operand(0)->type();
  if (e.vectorBytes == 64)
    e.fn->addFnAttr("min-legal-vector-width", "512");
  Prologue p;
  for (size_t r = 0; r < op.numResults(); ++r) {
    p.results.push_back(e.bufferOf(op.result(r)));
    e.ptrs[op.result(r)] = p.results.back();
  }
  p.T = e.dim(xt.dim(0));
  p.B = e.dim(xt.dim(1));
  if (op.numOperands() > lenOperand) {
    p.len = e.ptr(op.operand(lenOperand));
    p.lenType = op.operand(lenOperand)->type().dtype();
    checkLengths(p.len, p.lenType, p.B, p.T);
  }
  for (const ir::Type &t : scratch)
    p.scratch.push_back(e.scratchBuffer(t));
  return p;
}

RecurrentEmitter::RecurrentEmitter(Emitter &e, const ir::Op &op) : RecurrentBase(e, op) {
  ks = recurrentKernelShape(op, e.vectorBytes);
  W = ks.W;
  vecTy = llvm::FixedVectorType::get(elt, static_cast<unsigned>(W));
}

Value *RecurrentEmitter::laneMask(Value *nu, int v) {
  std::vector<llvm::Constant *> lanes;
  for (int l = 0; l < W; ++l)
    lanes.push_back(llvm::ConstantInt::get(e.i64Ty(), static_cast<uint64_t>(l)));
  Value *left = b.CreateVectorSplat(static_cast<unsigned>(W), b.CreateSub(nu, c64(v * W)));
  return b.CreateICmpSLT(llvm::ConstantVector::get(lanes), left);
}

/// Transposes are blocked by this many source columns.
constexpr int64_t kTransposeBlock = 16;

void RecurrentBase::transposeStrided(Value *src, Value *rows, Value *cols, Value *stride,
                                     Value *dst) {
  Value *blocks = b.CreateUDiv(add(cols, c64(kTransposeBlock - 1)), c64(kTransposeBlock));
  e.parallelRows(blocks, mul(rows, cols), {src, dst, rows, cols, stride},
                 [&](const Values &in, Value *begin, Value *end) {
                   Value *srcI = in[0], *dstI = in[1], *R = in[2], *K = in[3], *L = in[4];
                   e.forLoop(b.CreateSub(end, begin), [&](Value *bi) {
                     Value *k0 = mul(add(begin, bi), c64(kTransposeBlock));
                     Value *kn = min(c64(kTransposeBlock), b.CreateSub(K, k0));
                     e.forLoop(R, [&](Value *r) {
                       Value *from = at(srcI, add(mul(r, L), k0));
                       e.forLoop(kn, [&](Value *kk) {
                         st(ld(from, kk), at(dstI, add(mul(add(k0, kk), R), r)));
                       });
                     });
                   });
                 });
}

/// Column sums run in tasks of this many columns.
constexpr int64_t kColumnBlock = 64;

void RecurrentBase::columnSums(Value *m, Value *rows, int64_t cols, Value *out) {
  e.memZero(out, c64(cols * esz));
  const int64_t blocks = (cols + kColumnBlock - 1) / kColumnBlock;
  e.parallelRows(
      c64(blocks), mul(rows, c64(cols)), {m, rows, out},
      [&](const Values &in, Value *begin, Value *end) {
        Value *mI = in[0], *R = in[1], *outI = in[2];
        e.forLoop(b.CreateSub(end, begin), [&](Value *bi) {
          Value *q0 = mul(add(begin, bi), c64(kColumnBlock));
          Value *qn = min(c64(kColumnBlock), b.CreateSub(c64(cols), q0));
          Value *sum = at(outI, q0);
          e.forLoop(R, [&](Value *r) {
            Value *row = at(mI, add(mul(r, c64(cols)), q0));
            e.forLoop(qn, [&](Value *q) { st(b.CreateFAdd(ld(sum, q), ld(row, q)), at(sum, q)); });
          });
        });
      });
}

void RecurrentBase::checkLengths(Value *len, DType lenType, Value *B, Value *T) {
  int site = e.faultSite(op, "lengths");
  e.forLoop(B, [&](Value *r) {
    Value *n = b.CreateSExt(e.load(len, lenType, r), e.i64Ty());
    e.fault(b.CreateOr(b.CreateICmpSLT(n, c64(0)), b.CreateICmpSGT(n, T)), Fault::LengthOutOfRange,
            site, n, r, T);
  });
}

void RecurrentEmitter::packStrips(Value *wh, const std::vector<int> &gates, Value *dst) {
  const int64_t NR = static_cast<int64_t>(gates.size()) * ks.U, ldw = ks.gates * H;
  e.memZero(dst, c64(ks.strips * H * NR * esz));
  e.forLoop(c64(ks.strips), [&](Value *s) {
    Value *u0 = mul(s, c64(ks.U));
    Value *bytes = mul(unitsOf(u0), c64(esz));
    e.forLoop(c64(H), [&](Value *k) {
      Value *row = at(dst, mul(add(mul(s, c64(H)), k), c64(NR)));
      Value *src = at(wh, add(mul(k, c64(ldw)), u0));
      for (size_t q = 0; q < gates.size(); ++q)
        e.memCopy(at(row, c64(static_cast<int64_t>(q) * ks.U)), at(src, c64(gates[q] * H)), bytes);
    });
  });
}

Value *RecurrentEmitter::timeLoop(Value *xs, Value *wx, Value *P, Value *Wxp, Value *hbuf,
                                  const std::function<void(const Step &)> &step,
                                  const char *label) {
  const ir::Type &xt = op.operand(0)->type();
  Value *T = e.dim(xt.dim(0)), *B = e.dim(xt.dim(1)), *I = e.dim(xt.dim(2));
  const ir::Dim rowsDim = recurrentProjectionRows(op, e.vectorBytes), colsDim(ks.gates * H);
  if (ks.prepackWx)
    e.emitPackB(dt, rowsDim, xt.dim(2), colsDim, wx, Wxp);
  Value *state = mul(B, c64(H)), *gates = mul(B, c64(ks.gates * H));
  Value *chunks = b.CreateUDiv(add(T, c64(ks.chunk - 1)), c64(ks.chunk));
  e.forLoop(
      chunks,
      [&](Value *ch) {
        // Steps s0 ... s0 + n - 1 of the loop, times t0 ... t0 + n - 1 in either order.
        Value *s0 = mul(ch, c64(ks.chunk));
        Value *n = min(c64(ks.chunk), b.CreateSub(T, s0));
        Value *t0 = op.reverse() ? b.CreateSub(b.CreateSub(T, s0), n) : s0;
        e.emitGemm(dt, rowsDim, xt.dim(2), colsDim, at(xs, mul(t0, mul(B, I))), wx, P, mul(n, B), I,
                   c64(ks.gates * H), ks.prepackWx ? Wxp : nullptr, ks.prepackWx ? nullptr : Wxp);
        e.forLoop(n, [&](Value *j) {
          Value *s = add(s0, j);
          Value *t = op.reverse() ? b.CreateSub(b.CreateSub(T, c64(1)), s) : s;
          Value *parity = b.CreateAnd(s, c64(1));
          step({t, s, at(hbuf, mul(parity, state)),
                at(hbuf, mul(b.CreateXor(parity, c64(1)), state)),
                at(P, mul(b.CreateSub(t, t0), gates))});
        });
      },
      label);
  return at(hbuf, mul(b.CreateAnd(T, c64(1)), state));
}

void RecurrentEmitter::forEachTile(Value *begin, Value *end, Value *B, Value *a, Value *packed,
                                   int NV, const std::function<void(const Tile &)> &update) {
  const int MR = ks.MR, NR = NV * W;
  Value *tile = nullptr;
  {
    llvm::IRBuilder<> eb(&e.entry->front());
    auto *tileTy = llvm::ArrayType::get(elt, static_cast<uint64_t>(MR * NR));
    auto *alloca = eb.CreateAlloca(tileTy);
    alloca->setAlignment(llvm::Align(64));
    tile = alloca;
  }
  e.forLoop(b.CreateSub(end, begin), [&](Value *si) {
    Value *s = add(begin, si);
    Value *u0 = mul(s, c64(ks.U));
    Value *nu = unitsOf(u0);
    Value *strip = at(packed, mul(s, c64(H * NR)));
    Value *panels = b.CreateUDiv(add(B, c64(MR - 1)), c64(MR));
    e.forLoop(panels, [&](Value *p) {
      Value *r0 = mul(p, c64(MR));
      Value *mr = min(c64(MR), b.CreateSub(B, r0));
      Value *last = add(r0, b.CreateSub(mr, c64(1)));
      // Rows past the last of B repeat it (read, never written back).
      Values acc = e.gemmTileProduct(
          dt, MR, NV, c64(H), [&](int i) { return at(a, mul(min(add(r0, c64(i)), last), c64(H))); },
          1, strip);
      for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v)
          b.CreateAlignedStore(acc[static_cast<size_t>(i * NV + v)], at(tile, c64(i * NR + v * W)),
                               llvm::Align(static_cast<uint64_t>(W * esz)));
      update({r0, mr, u0, nu, tile, NR});
    });
  });
}

Value *RecurrentEmitter::activeRow(Value *len, DType lenType, Value *row, Value *t) {
  if (!len)
    return b.getTrue();
  return b.CreateICmpSLT(t, b.CreateSExt(e.load(len, lenType, row), e.i64Ty()));
}

void RecurrentEmitter::keepRow(Value *hPrev, Value *hNext, Value *hst, Value *stateRow, Value *u0,
                               Value *nu) {
  e.forLoop(nu, [&](Value *l) {
    Value *k = add(stateRow, add(u0, l));
    st(ld(hPrev, k), at(hNext, k));
    st(llvm::Constant::getNullValue(elt), at(hst, k));
  });
}

} // namespace weft::cpu::detail
