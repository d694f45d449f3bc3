//===- backends/cpu/EmitAttention.cpp - attention and its gradient --------===//
//
// attention and attention_grad (ir/Ops.def) as outlined kernels run in parallel over rows with
// weft_parallel_for. No Tq x Tk matrix is ever held:
//
// forward, one query row i at a time (an online softmax, as in FlashAttention):
//   m = -inf, l = 0, o[i] = 0
//   for each key j the row sees: s = scale q[i].k[j] (+ mask[i, j])
//     if s > m: o[i] *= exp(m - s), l *= exp(m - s), m = s
//     p = exp(s - m), l += p, o[i] += p v[j]
//   o[i] /= l                                             (zeros when l = 0)
// gradient (wrt q, k or v), recomputing the scores:
//   1. per query row, into O(Tq) scratch: lse[i] = m + log l, and D[i] = do[i].o[i]
//   2. p[i, j] = exp(s[i, j] - lse[i]), ds[i, j] = p (do[i].v[j] - D[i]), then
//      dq: per query row i, dq[i] = scale sum_j ds[i, j] k[j]
//      dk: per key row j,   dk[j] = scale sum_i ds[i, j] q[i]
//      dv: per key row j,   dv[j] = sum_i p[i, j] do[i]
// With causal, query i sees keys j <= i: the loops stop (or start) at the diagonal.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Emitter.h"

#include <limits>

namespace weft::cpu::detail {
namespace {

using llvm::Value;

/// Below this many multiply-adds an attention runs on the calling thread.
constexpr int64_t kParallelWork = int64_t{1} << 15;

class AttentionEmitter {
public:
  AttentionEmitter(Emitter &e, const ir::Op &op)
      : e(e), b(e.b), op(op), dt(op.result()->type().dtype()), rank(op.operand(0)->type().rank()) {
    grad = op.kind() == ir::OpKind::AttentionGrad;
    size_t maskAt = grad ? 5 : 3;
    maskType = op.numOperands() > maskAt ? &op.operand(maskAt)->type() : nullptr;
  }

  Status emit() {
    Value *result = e.bufferOf(op.result());
    e.ptrs[op.result()] = result;
    Values fields;
    for (ir::Value *x : op.operands())
      fields.push_back(e.ptr(x));
    fields.push_back(result);
    if (grad) {
      const ir::Type &q = op.operand(0)->type();
      ir::Type rowT(std::vector<ir::Dim>(q.dims().begin(), q.dims().end() - 1), dt);
      fields.push_back(e.scratchBuffer(rowT)); // lse
      fields.push_back(e.scratchBuffer(rowT)); // D
    }
    fields.push_back(e.dimsArg);
    fields.push_back(e.statusArg);

    Value *batch = e.c64(1);
    for (int64_t a = 0; a + 2 < rank; ++a)
      batch = b.CreateMul(batch, e.dim(op.operand(0)->type().dim(a)));
    const ir::Type &qt = op.operand(0)->type(), &kt = op.operand(1)->type();
    Value *Tq = e.dim(qt.dim(rank - 2)), *Tk = e.dim(kt.dim(rank - 2));
    Value *work = b.CreateMul(b.CreateMul(batch, b.CreateMul(Tq, Tk)), e.dim(qt.dim(rank - 1)));
    Value *qRows = b.CreateMul(batch, Tq), *kRows = b.CreateMul(batch, Tk);
    if (!grad) {
      run(kernel("attention", fields, [&] { forwardRow(); }), fields, qRows, work);
      return {};
    }
    run(kernel("attention.stats", fields, [&] { statsRow(); }), fields, qRows, work);
    if (op.wrt() == 0)
      run(kernel("attention.dq", fields, [&] { dqRow(); }), fields, qRows, work);
    else
      run(kernel("attention.dkv", fields, [&] { dkvRow(); }), fields, kRows, work);
    return {};
  }

private:
  Emitter &e;
  llvm::IRBuilder<> &b;
  const ir::Op &op;
  DType dt;
  int64_t rank;
  bool grad = false;
  const ir::Type *maskType = nullptr;

  // Inside a kernel: the operand, result and scratch pointers, sizes and the row being done.
  Value *q = nullptr, *k = nullptr, *v = nullptr, *o = nullptr, *dout = nullptr, *mask = nullptr;
  Value *out = nullptr, *lse = nullptr, *dsum = nullptr;
  Value *Tq = nullptr, *Tk = nullptr, *D = nullptr, *Dv = nullptr, *row = nullptr;

  llvm::Type *fty() { return e.scalarTy(dt); }
  Value *fc(double x) { return llvm::ConstantFP::get(fty(), x); }
  Value *negInf() { return fc(-std::numeric_limits<double>::infinity()); }
  Value *expOf(Value *x) { return e.intrinsic(llvm::Intrinsic::exp, {x}); }

  /// Calls `fn` over rows [0, rows): in parallel when the op's work is large enough.
  void run(llvm::Function *fn, const Values &fields, Value *rows, Value *work) {
    auto *ctxTy = llvm::ArrayType::get(b.getPtrTy(), fields.size());
    Value *ctx;
    {
      llvm::IRBuilder<> eb(&e.entry->front());
      ctx = eb.CreateAlloca(ctxTy);
    }
    for (size_t f = 0; f < fields.size(); ++f)
      b.CreateStore(fields[f], b.CreateConstInBoundsGEP2_64(ctxTy, ctx, 0, f));
    // Chunks of about kParallelWork multiply-adds.
    e.dispatchRows(fn, ctx, rows, work, kParallelWork, kParallelWork, "attention");
  }

  /// An outlined kernel over rows [begin, end) whose per-row body is `body` (with `row` set).
  llvm::Function *kernel(const char *suffix, const Values &fields,
                         const std::function<void()> &body) {
    auto *ptrTy = b.getPtrTy();
    OutlinedBody kb(e, suffix);
    b.SetInsertPoint(e.entry->getTerminator());
    auto *ctxTy = llvm::ArrayType::get(ptrTy, fields.size());
    Values f;
    for (size_t i = 0; i < fields.size(); ++i)
      f.push_back(b.CreateLoad(ptrTy, b.CreateConstInBoundsGEP2_64(ctxTy, kb.ctx, 0, i)));
    e.dimsArg = f[f.size() - 2];
    e.statusArg = f[f.size() - 1];
    size_t n = 0;
    q = f[n++], k = f[n++], v = f[n++];
    if (grad)
      o = f[n++], dout = f[n++];
    mask = maskType ? f[n++] : nullptr;
    out = f[n++];
    if (grad)
      lse = f[n++], dsum = f[n++];
    const ir::Type &qt = op.operand(0)->type(), &vt = op.operand(2)->type();
    Tq = e.dim(qt.dim(rank - 2));
    Tk = e.dim(op.operand(1)->type().dim(rank - 2));
    D = e.dim(qt.dim(rank - 1));
    Dv = e.dim(vt.dim(rank - 1));
    b.SetInsertPoint(e.entry->getTerminator()->getSuccessor(0));
    e.forLoop(b.CreateSub(kb.end, kb.begin), [&](Value *i) {
      row = b.CreateAdd(kb.begin, i);
      body();
    });
    b.CreateRetVoid();
    return kb.function;
  }

  /// sum_c x[xRow * n + c] * y[yRow * n + c], accumulated in the op's dtype.
  Value *dot(Value *x, Value *xRow, Value *y, Value *yRow, Value *n) {
    Value *xb = b.CreateMul(xRow, n), *yb = b.CreateMul(yRow, n);
    return e.accumulate(n, {fc(0)}, [&](Value *c, const Values &acc) {
      Value *xv = e.load(x, dt, b.CreateAdd(xb, c)), *yv = e.load(y, dt, b.CreateAdd(yb, c));
      return Values{b.CreateFAdd(acc[0], b.CreateFMul(xv, yv))};
    })[0];
  }

  /// y[yRow * n + c] = 0 for every c (a store: the buffer may hold anything, NaN included).
  void zeroRow(Value *y, Value *yRow, Value *n) {
    Value *yb = b.CreateMul(yRow, n);
    e.forLoop(n, [&](Value *c) { e.store(fc(0), y, dt, b.CreateAdd(yb, c)); });
  }

  /// y[yRow * n + c] = y[yRow * n + c] * a + x[xRow * n + c] * w for every c.
  void axpby(Value *y, Value *yRow, Value *a, Value *x, Value *xRow, Value *w, Value *n) {
    Value *yb = b.CreateMul(yRow, n), *xb = x ? b.CreateMul(xRow, n) : nullptr;
    e.forLoop(n, [&](Value *c) {
      Value *yi = b.CreateAdd(yb, c);
      Value *r = b.CreateFMul(e.load(y, dt, yi), a);
      if (x)
        r = b.CreateFAdd(r, b.CreateFMul(e.load(x, dt, b.CreateAdd(xb, c)), w));
      e.store(r, y, dt, yi);
    });
  }

  /// The flat element offset of the mask for batch slice `bt` (0 where it broadcasts), and its
  /// strides along the query and key axes.
  Values maskBase(Value *bt) {
    const ir::Type &mt = *maskType;
    Values stride(static_cast<size_t>(rank));
    Value *s = e.c64(1);
    for (int64_t a = rank; a-- > 0;) {
      bool broadcast = mt.dim(a) == ir::Dim(1);
      stride[static_cast<size_t>(a)] = broadcast ? e.c64(0) : s;
      s = b.CreateMul(s, e.dim(mt.dim(a)));
    }
    Value *base = e.c64(0), *rest = bt;
    const ir::Type &qt = op.operand(0)->type();
    for (int64_t a = rank - 2; a-- > 0;) {
      Value *n = e.dim(qt.dim(a));
      base = b.CreateAdd(base, b.CreateMul(b.CreateURem(rest, n), stride[static_cast<size_t>(a)]));
      rest = b.CreateUDiv(rest, n);
    }
    return {base, stride[static_cast<size_t>(rank - 2)], stride[static_cast<size_t>(rank - 1)]};
  }

  /// The score s[i, j] of batch slice `bt`; `mb` from maskBase.
  Value *score(Value *bt, Value *i, Value *j, const Values &mb) {
    Value *s = b.CreateFMul(
        dot(q, b.CreateAdd(b.CreateMul(bt, Tq), i), k, b.CreateAdd(b.CreateMul(bt, Tk), j), D),
        fc(op.scale()));
    if (mask) {
      Value *at = b.CreateAdd(mb[0], b.CreateAdd(b.CreateMul(i, mb[1]), b.CreateMul(j, mb[2])));
      s = b.CreateFAdd(s, e.load(mask, dt, at));
    }
    return s;
  }

  /// The keys query `i` sees: [0, i + 1) when causal (at most Tk), else [0, Tk).
  Value *keysSeen(Value *i) {
    if (!op.causal())
      return Tk;
    Value *n = b.CreateAdd(i, e.c64(1));
    return b.CreateSelect(b.CreateICmpSLT(n, Tk), n, Tk);
  }

  /// The running max m and sum l of query `row`'s softmax; with `acc`, also o[row] (not yet
  /// divided by l) accumulated into `acc`, row `row`, zeroed first.
  std::pair<Value *, Value *> onlineSoftmax(Value *acc) {
    Value *bt = b.CreateUDiv(row, Tq), *i = b.CreateURem(row, Tq);
    Values mb = mask ? maskBase(bt) : Values{};
    Value *m = e.local(fty(), negInf()), *l = e.local(fty(), fc(0));
    if (acc)
      zeroRow(acc, row, Dv);
    e.forLoop(keysSeen(i), [&](Value *j) {
      Value *s = score(bt, i, j, mb);
      Value *mOld = b.CreateLoad(fty(), m);
      e.ifThen(b.CreateFCmpOGT(s, mOld), [&] {
        Value *corr = expOf(b.CreateFSub(mOld, s)); // 0 when mOld is -inf
        b.CreateStore(b.CreateFMul(b.CreateLoad(fty(), l), corr), l);
        if (acc)
          axpby(acc, row, corr, nullptr, nullptr, nullptr, Dv);
        b.CreateStore(s, m);
      });
      Value *mNow = b.CreateLoad(fty(), m);
      // Nothing to add while every score so far is -inf.
      e.ifThen(b.CreateFCmpUNE(mNow, negInf()), [&] {
        Value *p = expOf(b.CreateFSub(s, mNow));
        b.CreateStore(b.CreateFAdd(b.CreateLoad(fty(), l), p), l);
        if (acc)
          axpby(acc, row, fc(1), v, b.CreateAdd(b.CreateMul(bt, Tk), j), p, Dv);
      });
    });
    return {b.CreateLoad(fty(), m), b.CreateLoad(fty(), l)};
  }

  void forwardRow() {
    auto [m, l] = onlineSoftmax(out);
    (void)m;
    Value *inv = b.CreateSelect(b.CreateFCmpOEQ(l, fc(0)), fc(0), b.CreateFDiv(fc(1), l));
    axpby(out, row, inv, nullptr, nullptr, nullptr, Dv);
  }

  /// lse[row] = m + log l (-inf when the row sees no finite score) and D[row] = do[row].o[row].
  void statsRow() {
    auto [m, l] = onlineSoftmax(nullptr);
    Value *lv = b.CreateFAdd(m, e.intrinsic(llvm::Intrinsic::log, {l}));
    lv = b.CreateSelect(b.CreateFCmpOEQ(l, fc(0)), negInf(), lv);
    e.store(lv, lse, dt, row);
    e.store(dot(dout, row, o, row, Dv), dsum, dt, row);
  }

  /// p[i, j] from the score and lse[i]: 0 when lse[i] is -inf.
  Value *probability(Value *s, Value *lseI) {
    Value *p = expOf(b.CreateFSub(s, lseI));
    return b.CreateSelect(b.CreateFCmpOEQ(lseI, negInf()), fc(0), p);
  }

  void dqRow() {
    Value *bt = b.CreateUDiv(row, Tq), *i = b.CreateURem(row, Tq);
    Values mb = mask ? maskBase(bt) : Values{};
    zeroRow(out, row, D);
    Value *lseI = e.load(lse, dt, row), *dI = e.load(dsum, dt, row);
    e.forLoop(keysSeen(i), [&](Value *j) {
      Value *kRow = b.CreateAdd(b.CreateMul(bt, Tk), j);
      Value *p = probability(score(bt, i, j, mb), lseI);
      Value *ds = b.CreateFMul(p, b.CreateFSub(dot(dout, row, v, kRow, Dv), dI));
      axpby(out, row, fc(1), k, kRow, b.CreateFMul(ds, fc(op.scale())), D);
    });
  }

  void dkvRow() {
    bool dk = op.wrt() == 1;
    Value *bt = b.CreateUDiv(row, Tk), *j = b.CreateURem(row, Tk);
    Values mb = mask ? maskBase(bt) : Values{};
    Value *n = dk ? D : Dv;
    zeroRow(out, row, n);
    // Causal: only queries i >= j see key j.
    Value *first = op.causal() ? b.CreateSelect(b.CreateICmpSLT(j, Tq), j, Tq) : e.c64(0);
    e.forLoop(b.CreateSub(Tq, first), [&](Value *di) {
      Value *i = b.CreateAdd(first, di);
      Value *qRow = b.CreateAdd(b.CreateMul(bt, Tq), i);
      Value *p = probability(score(bt, i, j, mb), e.load(lse, dt, qRow));
      if (!dk) {
        axpby(out, row, fc(1), dout, qRow, p, Dv);
        return;
      }
      Value *ds =
          b.CreateFMul(p, b.CreateFSub(dot(dout, qRow, v, row, Dv), e.load(dsum, dt, qRow)));
      axpby(out, row, fc(1), q, qRow, b.CreateFMul(ds, fc(op.scale())), D);
    });
  }
};

} // namespace

Status Emitter::emitAttention(const ir::Op &op) { return AttentionEmitter(*this, op).emit(); }

} // namespace weft::cpu::detail
