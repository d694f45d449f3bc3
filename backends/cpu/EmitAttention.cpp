//===- backends/cpu/EmitAttention.cpp - attention and its gradient, tiled --===//
//
// attention and attention_grad (ir/Ops.def) as FlashAttention-style tiled kernels run in
// parallel over tasks with weft_parallel_for. No Tq x Tk matrix is ever held: a task keeps a
// BQ x BK tile of scores (BK = kCV vectors, BQ = kBQ rows) and a few rows of its outputs.
// Per batch slice (every axis before the last two), with q: [Tq, d], k: [Tk, d], v: [Tk, dv]:
//
// first, kᵀ (and vᵀ for the gradient) into scratch, a task per slice: a key block of a row of
// it is one contiguous run, read by every query block.
// forward, a task per (slice, block of BQ query rows):
//   m = -inf, l = 0, O = 0                                       (BQ rows)
//   for each block of BK keys the rows see (causal: up to the block's last row):
//     S = scale Q_blk kᵀ_blk (+ mask), -inf where a key is unseen  (micro-tiles in registers)
//     per row: m' = max(m, max_j S), c = exp(m - m'), P = exp(S - m'), l = c l + sum_j P
//     O = c O + P v_blk, m = m'
//   o = O / l                                                    (zeros where l = 0)
// gradient (dq, dk and dv together), recomputing the scores (FlashAttention-2's backward):
//   1. stats, a task per query block: lse[i] = m + log l (as above, without O), D[i] = do[i].o[i]
//   2. a task per slice, which owns its dq, dk and dv (no atomics, no partial sums to add):
//      dq = 0
//      for each key block:  dK_blk = 0, dV_blk = 0                  (BK rows, on the stack)
//        for each query block that sees it:
//          P = exp(S - lse)                 S = scale Q_blk kᵀ_blk (+ mask)
//          dV_blk += Pᵀ do_blk
//          dS = P (do_blk vᵀ_blk - D) scale
//          dK_blk += dSᵀ Q_blk
//          dq[blk] += dS k_blk              (straight into dq; a partial last block on the stack)
//        dk[blk] = dK_blk, dv[blk] = dV_blk
//   so a tile costs 5 products of its size, and stats one more per query block. With `wrt`, the
//   products of the gradients not wanted (and dS when neither dq nor dk is) are left out.
// With causal, query i sees keys j <= i: blocks wholly above the diagonal are skipped and the
// diagonal ones masked. The matrix products of a tile are register-blocked micro-kernels
// (kR rows x kCV vectors of the target's width, fused multiply-adds); exp is inline and
// vectorized. A task's tiles are on its stack: max(BQ, BK) (BK + max(d, dv)) elements.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Emitter.h"

#include <llvm/IR/Intrinsics.h>

#include <limits>

namespace weft::cpu::detail {
namespace {

using llvm::Value;

/// Below this many multiply-adds an attention runs on the calling thread.
constexpr int64_t kParallelWork = int64_t{1} << 15;
/// A micro-tile: kR rows x kCV vectors. kR * kCV accumulators fit the 16 AVX2 registers.
constexpr int kR = 4, kCV = 4;
/// Query rows of a tile (a multiple of kR).
constexpr int64_t kBQ = 32;

class AttentionEmitter {
public:
  AttentionEmitter(Emitter &e, const ir::Op &op)
      : e(e), b(e.b), op(op), dt(op.result()->type().dtype()), rank(op.operand(0)->type().rank()) {
    grad = op.kind() == ir::OpKind::AttentionGrad;
    if (grad)
      if (const ir::Attr *w = op.findAttr(ir::AttrId::Wrt))
        wanted = std::get<int64_t>(*w);
    size_t maskAt = grad ? 5 : 3;
    maskType = op.numOperands() > maskAt ? &op.operand(maskAt)->type() : nullptr;
    esz = static_cast<int>(dtypeBytes(dt));
    W = std::max(1, e.vectorBytes / esz);
    BK = kCV * W;
    elt = e.storageTy(dt);
    vec = llvm::FixedVectorType::get(elt, static_cast<unsigned>(W));
  }

  Status emit() {
    Values fields;
    for (ir::Value *x : op.operands())
      fields.push_back(e.ptr(x));
    for (size_t r = 0; r < op.numResults(); ++r) {
      Value *result = e.bufferOf(op.result(r));
      e.ptrs[op.result(r)] = result;
      fields.push_back(result);
    }
    if (grad) {
      const ir::Type &q = op.operand(0)->type();
      ir::Type rowT(std::vector<ir::Dim>(q.dims().begin(), q.dims().end() - 1), dt);
      fields.push_back(e.scratchBuffer(rowT)); // lse
      fields.push_back(e.scratchBuffer(rowT)); // D
    }
    fields.push_back(e.scratchBuffer(transposedRows(1))); // kᵀ
    if (grad)
      fields.push_back(e.scratchBuffer(transposedRows(2))); // vᵀ
    fields.push_back(e.dimsArg);
    fields.push_back(e.statusArg);

    Value *batch = e.c64(1);
    for (int64_t a = 0; a + 2 < rank; ++a)
      batch = b.CreateMul(batch, e.dim(op.operand(0)->type().dim(a)));
    const ir::Type &qt = op.operand(0)->type(), &kt = op.operand(1)->type();
    Value *tq = e.dim(qt.dim(rank - 2)), *tk = e.dim(kt.dim(rank - 2));
    Value *dd = b.CreateAdd(e.dim(qt.dim(rank - 1)), e.dim(op.operand(2)->type().dim(rank - 1)));
    Value *work = b.CreateMul(b.CreateMul(batch, b.CreateMul(tq, tk)), dd);
    Value *qTasks = b.CreateMul(batch, ceilDiv(tq, kBQ));
    run(kernel("attention.transpose", fields, [&](Value *t) { transposeTask(t); }), fields, batch,
        b.CreateMul(batch, b.CreateMul(tk, dd)));
    if (!grad) {
      run(kernel("attention", fields, [&](Value *t) { forwardTask(t); }), fields, qTasks, work);
      return {};
    }
    run(kernel("attention.stats", fields, [&](Value *t) { statsTask(t); }), fields, qTasks, work);
    run(kernel("attention.backward", fields, [&](Value *t) { backwardTask(t); }), fields, batch,
        work);
    return {};
  }

private:
  Emitter &e;
  llvm::IRBuilder<> &b;
  const ir::Op &op;
  DType dt;
  int64_t rank;
  bool grad = false;
  int64_t wanted = 7; // the gradient's results computed, 1 dq | 2 dk | 4 dv; the others are 0
  const ir::Type *maskType = nullptr;
  int esz = 4, W = 8;
  int64_t BK = 32;
  llvm::Type *elt = nullptr;
  llvm::FixedVectorType *vec = nullptr;

  // Inside a kernel: the operand, result and scratch pointers, sizes and the tiles.
  Value *q = nullptr, *k = nullptr, *v = nullptr, *o = nullptr, *dout = nullptr, *mask = nullptr;
  Value *out = nullptr, *dqOut = nullptr, *dkOut = nullptr, *dvOut = nullptr, *lse = nullptr,
        *dsum = nullptr, *kt = nullptr, *vt = nullptr;
  Value *Tq = nullptr, *Tk = nullptr, *D = nullptr, *Dv = nullptr;
  Value *tileP = nullptr; // [max(BQ, BK)][BK]: scores, then probabilities, then dS
  Value *tileO = nullptr; // [max(BQ, BK)][max(d, dv)]: the task's output rows
  Value *rowM = nullptr, *rowL = nullptr, *rowC = nullptr; // [BQ]: max, sum, rescale
  Value *tileDv = nullptr;                                 // [BK][dv]: a key block's dV
  Value *tileDq = nullptr; // [BQ][d]: dq of a slice's partial last query block
  /// While rowTileOf emits: whether its key block may be partial (false: all BK keys exist).
  bool tailCols = true;

  llvm::Type *fty() { return e.scalarTy(dt); }
  Value *fc(double x) { return llvm::ConstantFP::get(fty(), x); }
  Value *negInf() { return fc(-std::numeric_limits<double>::infinity()); }
  Value *c64(int64_t x) { return e.c64(x); }
  Value *add(Value *x, Value *y) { return b.CreateAdd(x, y, "", true, true); }
  Value *mul(Value *x, Value *y) { return b.CreateMul(x, y, "", true, true); }
  Value *min(Value *x, Value *y) { return b.CreateSelect(b.CreateICmpSLT(x, y), x, y); }
  Value *at(Value *p, Value *i) { return b.CreateInBoundsGEP(elt, p, i); }
  Value *ceilDiv(Value *x, int64_t n) { return b.CreateSDiv(b.CreateAdd(x, e.c64(n - 1)), c64(n)); }
  llvm::Align align() { return llvm::Align(static_cast<uint64_t>(esz)); }
  Value *splat(Value *x) { return b.CreateVectorSplat(static_cast<unsigned>(W), x); }
  Value *loadVec(Value *p) { return b.CreateAlignedLoad(vec, p, align()); }
  void storeVec(Value *x, Value *p) { b.CreateAlignedStore(x, p, align()); }
  Value *fma(Value *x, Value *y, Value *acc) {
    return b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vec}, {x, y, acc});
  }

  /// exp of a scalar or vector of the op's dtype, inline: 2^n e^r with n = rint(x / ln 2) and
  /// e^r by its Taylor series (to r^7 for f32, r^13 for f64), so that a vector of it needs no
  /// call. 0 below the smallest normal's log (-inf included), NaN stays NaN.
  Value *expOf(Value *x) {
    llvm::Type *t = x->getType();
    bool f32 = dt == DType::F32;
    double lo = f32 ? -87.0 : -708.0, hi = f32 ? 88.0 : 709.0;
    auto k = [&](double c) { return llvm::ConstantFP::get(t, c); };
    llvm::Type *it = f32 ? b.getInt32Ty() : b.getInt64Ty();
    if (auto *vt = llvm::dyn_cast<llvm::VectorType>(t))
      it = llvm::VectorType::get(it, vt->getElementCount());
    auto ik = [&](int64_t c) { return llvm::ConstantInt::get(it, static_cast<uint64_t>(c)); };
    Value *c = e.intrinsic(llvm::Intrinsic::minnum,
                           {e.intrinsic(llvm::Intrinsic::maxnum, {x, k(lo)}), k(hi)});
    Value *n = e.intrinsic(llvm::Intrinsic::rint, {b.CreateFMul(c, k(1.4426950408889634))});
    Value *r = b.CreateFSub(c, b.CreateFMul(n, k(6.93147180369123816490e-01)));
    r = b.CreateFSub(r, b.CreateFMul(n, k(1.90821492927058770002e-10)));
    int degree = f32 ? 7 : 13;
    double fact = 1;
    for (int i = 2; i <= degree; ++i)
      fact *= i;
    Value *p = k(1 / fact);
    for (int i = degree - 1; i >= 0; --i) {
      fact /= (i + 1);
      p = e.intrinsic(llvm::Intrinsic::fmuladd, {p, r, k(1 / fact)});
    }
    Value *bits =
        b.CreateShl(b.CreateAdd(b.CreateFPToSI(n, it), ik(f32 ? 127 : 1023)), ik(f32 ? 23 : 52));
    Value *y = b.CreateFMul(p, b.CreateBitCast(bits, t));
    y = b.CreateSelect(b.CreateFCmpOLT(x, k(lo)), k(0), y);
    return b.CreateSelect(b.CreateFCmpUNO(x, x), x, y);
  }

  /// 2^x of a scalar or vector of the op's dtype for x <= 0 (a score less the running max, both
  /// in base-2 units): 2^n 2^r with n = rint(x) and r = x - n in [-1/2, 1/2] exactly, 2^r =
  /// e^(r ln 2) by its Taylor series (to the degree of expOf). Cheaper than expOf: no clamp
  /// above, no reduction by ln 2 in two parts. 0 below the smallest normal's exponent (-inf
  /// included); NaN stays NaN (it passes through r while n is clamped to a finite value).
  Value *exp2NonPositive(Value *x) {
    llvm::Type *t = x->getType();
    bool f32 = dt == DType::F32;
    double lo = f32 ? -126.0 : -1022.0;
    auto k = [&](double c) { return llvm::ConstantFP::get(t, c); };
    llvm::Type *it = f32 ? b.getInt32Ty() : b.getInt64Ty();
    if (auto *vt = llvm::dyn_cast<llvm::VectorType>(t))
      it = llvm::VectorType::get(it, vt->getElementCount());
    auto ik = [&](int64_t c) { return llvm::ConstantInt::get(it, static_cast<uint64_t>(c)); };
    // n stays finite (fptosi of NaN or -inf would be poison): lo where x is below it or NaN.
    Value *n =
        e.intrinsic(llvm::Intrinsic::rint, {b.CreateSelect(b.CreateFCmpOGE(x, k(lo)), x, k(lo))});
    Value *r = b.CreateFSub(x, n);
    int degree = f32 ? 7 : 13;
    std::vector<double> coef(static_cast<size_t>(degree) + 1, 1.0); // (ln 2)^i / i!
    for (size_t i = 1; i < coef.size(); ++i)
      coef[i] = coef[i - 1] * 0.69314718055994530942 / static_cast<double>(i);
    Value *p = k(coef.back());
    for (size_t i = coef.size() - 1; i-- > 0;)
      p = e.intrinsic(llvm::Intrinsic::fmuladd, {p, r, k(coef[i])});
    Value *bits =
        b.CreateShl(b.CreateAdd(b.CreateFPToSI(n, it), ik(f32 ? 127 : 1023)), ik(f32 ? 23 : 52));
    Value *y = b.CreateFMul(p, b.CreateBitCast(bits, t));
    return b.CreateSelect(b.CreateFCmpOLT(x, k(lo)), k(0), y);
  }

  /// Calls `fn` over tasks [0, tasks): in parallel when the op's work is large enough.
  void run(llvm::Function *fn, const Values &fields, Value *tasks, Value *work) {
    auto *ctxTy = llvm::ArrayType::get(b.getPtrTy(), fields.size());
    Value *ctx;
    {
      llvm::IRBuilder<> eb(&e.entry->front());
      ctx = eb.CreateAlloca(ctxTy);
    }
    for (size_t f = 0; f < fields.size(); ++f)
      b.CreateStore(fields[f], b.CreateConstInBoundsGEP2_64(ctxTy, ctx, 0, f));
    e.dispatchRows(fn, ctx, tasks, work, kParallelWork, kParallelWork, "attention");
  }

  /// A stack array of `n` elements, allocated once per kernel call (where the builder is).
  Value *tile(Value *n) {
    auto *a = b.CreateAlloca(elt, n);
    a->setAlignment(llvm::Align(64));
    return a;
  }

  /// An outlined kernel over tasks [begin, end) whose per-task body is `body(task)`.
  llvm::Function *kernel(const char *suffix, const Values &fields,
                         const std::function<void(Value *)> &body) {
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
    if (grad)
      dqOut = f[n++], dkOut = f[n++], dvOut = f[n++], lse = f[n++], dsum = f[n++];
    else
      out = f[n++];
    kt = f[n++];
    if (grad)
      vt = f[n++];
    const ir::Type &qt = op.operand(0)->type(), &vt = op.operand(2)->type();
    Tq = e.dim(qt.dim(rank - 2));
    Tk = e.dim(op.operand(1)->type().dim(rank - 2));
    D = e.dim(qt.dim(rank - 1));
    Dv = e.dim(vt.dim(rank - 1));
    b.SetInsertPoint(e.entry->getTerminator()->getSuccessor(0));
    Value *rows = c64(std::max(kBQ, BK));
    tileP = tile(c64(std::max(kBQ, BK) * BK));
    Value *widest = b.CreateSelect(b.CreateICmpSGT(D, Dv), D, Dv);
    tileO = tile(mul(rows, widest));
    rowM = tile(c64(kBQ));
    rowL = tile(c64(kBQ));
    rowC = tile(c64(kBQ));
    if (grad) {
      tileDv = tile(mul(c64(BK), Dv));
      tileDq = tile(mul(c64(kBQ), D));
    }
    e.forLoop(b.CreateSub(kb.end, kb.begin), [&](Value *i) { body(add(kb.begin, i)); });
    b.CreateRetVoid();
    return kb.function;
  }

  /// Operand `i` (k or v) with its last two dims swapped: the type of its transposed copy.
  ir::Type transposedRows(size_t i) {
    const ir::Type &t = op.operand(i)->type();
    std::vector<ir::Dim> dims(t.dims().begin(), t.dims().end());
    std::swap(dims[dims.size() - 2], dims[dims.size() - 1]);
    return ir::Type(std::move(dims), t.dtype());
  }

  /// dst[c * rows + j] = src[j * n + c]: one batch slice of k (or v), transposed.
  void transposeSlice(Value *dst, Value *src, Value *rows, Value *n) {
    e.forLoop(rows, [&](Value *j) {
      Value *from = at(src, mul(j, n));
      e.forLoop(n, [&](Value *c) {
        b.CreateAlignedStore(b.CreateAlignedLoad(elt, at(from, c), align()),
                             at(dst, add(mul(c, rows), j)), align());
      });
    });
  }

  /// Batch slice t of kᵀ (and of vᵀ for a gradient), which the other kernels read a key block
  /// of at a time: BK keys of a row of it are one contiguous run.
  void transposeTask(Value *t) {
    transposeSlice(at(kt, mul(t, mul(Tk, D))), at(k, mul(t, mul(Tk, D))), Tk, D);
    if (grad)
      transposeSlice(at(vt, mul(t, mul(Tk, Dv))), at(v, mul(t, mul(Tk, Dv))), Tk, Dv);
  }

  /// For each row r < `rows` (a multiple of kR): the BK-wide row sum_c A(r)[c] Bt[c ldb + :]
  /// over c < n, computed kR rows at a time in registers and handed to `epilogue(r, vectors)`.
  /// Only the first `cols` columns of Bt are read (the others count as 0).
  void rowTile(int64_t rows, const std::function<Value *(Value *)> &aRow, Value *Bt, Value *ldb,
               Value *cols, Value *n, const std::function<void(Value *, Values &)> &epilogue) {
    Value *full = b.CreateICmpEQ(cols, c64(BK));
    e.ifThen(full, [&] { rowTileOf(rows, aRow, Bt, ldb, nullptr, n, epilogue); });
    e.ifThen(b.CreateNot(full), [&] { rowTileOf(rows, aRow, Bt, ldb, cols, n, epilogue); });
  }

  /// rowTile, reading all BK columns of Bt or (with `left`) the first `left` only.
  void rowTileOf(int64_t rows, const std::function<Value *(Value *)> &aRow, Value *Bt, Value *ldb,
                 Value *left, Value *n, const std::function<void(Value *, Values &)> &epilogue) {
    Values masks;
    if (left)
      for (int x = 0; x < kCV; ++x)
        masks.push_back(laneMask(left, x));
    tailCols = left != nullptr;
    auto *zero = llvm::Constant::getNullValue(vec);
    e.forLoop(c64(rows / kR), [&](Value *g) {
      Value *r0 = mul(g, c64(kR));
      Values a;
      for (int rr = 0; rr < kR; ++rr)
        a.push_back(aRow(add(r0, c64(rr))));
      Values acc = e.accumulate(n, Values(kR * kCV, zero), [&](Value *c, const Values &s) {
        Value *bRow = at(Bt, mul(c, ldb));
        Values bv;
        for (int x = 0; x < kCV; ++x) {
          Value *p = at(bRow, c64(x * W));
          bv.push_back(left ? b.CreateMaskedLoad(vec, p, align(), masks[x], zero) : loadVec(p));
        }
        Values next(s.size());
        for (int rr = 0; rr < kR; ++rr) {
          Value *av = splat(b.CreateAlignedLoad(elt, at(a[rr], c), align()));
          for (int x = 0; x < kCV; ++x)
            next[rr * kCV + x] = fma(av, bv[x], s[rr * kCV + x]);
        }
        return next;
      });
      for (int rr = 0; rr < kR; ++rr) {
        Values row(acc.begin() + rr * kCV, acc.begin() + (rr + 1) * kCV);
        epilogue(add(r0, c64(rr)), row);
      }
    });
  }

  /// C[r, 0:N] = C[r, 0:N] (* scaleOf(r) when given) + sum_{c < K} A(r, c) B[c * ldb + 0:N] for
  /// r < `rows` (a multiple of kR), where A(r, c) = aRow(r)[c * ak]; C's rows are N apart.
  void accumulateTile(Value *C, int64_t rows, const std::function<Value *(Value *)> &aRow,
                      Value *ak, Value *B, Value *ldb, Value *K, Value *N,
                      const std::function<Value *(Value *)> &scaleOf) {
    int64_t cw = kCV * W;
    e.forLoop(c64(rows / kR), [&](Value *g) {
      Value *r0 = mul(g, c64(kR));
      Values a, scales;
      for (int rr = 0; rr < kR; ++rr) {
        a.push_back(aRow(add(r0, c64(rr))));
        if (scaleOf)
          scales.push_back(splat(scaleOf(add(r0, c64(rr)))));
      }
      e.forLoop(ceilDiv(N, cw), [&](Value *chunk) {
        Value *c0 = mul(chunk, c64(cw));
        Value *left = b.CreateSub(N, c0);
        Value *full = b.CreateICmpSGE(left, c64(cw));
        e.ifThen(full, [&] { chunkTile(C, r0, c0, a, ak, B, ldb, K, N, scales, nullptr); });
        e.ifThen(b.CreateNot(full),
                 [&] { chunkTile(C, r0, c0, a, ak, B, ldb, K, N, scales, left); });
      });
    });
  }

  /// Lanes of vector x that fall before `left` columns.
  Value *laneMask(Value *left, int x) {
    std::vector<llvm::Constant *> lanes;
    for (int l = 0; l < W; ++l)
      lanes.push_back(b.getInt64(static_cast<uint64_t>(l)));
    return b.CreateICmpSLT(llvm::ConstantVector::get(lanes), splat(b.CreateSub(left, c64(x * W))));
  }

  /// One kR x kCV-vector block of accumulateTile at rows r0.., columns c0..; with `left`, only
  /// the first `left` columns are read and written.
  void chunkTile(Value *C, Value *r0, Value *c0, const Values &a, Value *ak, Value *B, Value *ldb,
                 Value *K, Value *N, const Values &scales, Value *left) {
    Values masks;
    if (left)
      for (int x = 0; x < kCV; ++x)
        masks.push_back(laneMask(left, x));
    auto *zero = llvm::Constant::getNullValue(vec);
    auto cPtr = [&](int rr, int x) {
      return at(C, add(mul(add(r0, c64(rr)), N), add(c0, c64(x * W))));
    };
    Values init;
    for (int rr = 0; rr < kR; ++rr)
      for (int x = 0; x < kCV; ++x) {
        Value *p = cPtr(rr, x);
        Value *cv = left ? b.CreateMaskedLoad(vec, p, align(), masks[x], zero) : loadVec(p);
        init.push_back(scales.empty() ? cv : b.CreateFMul(cv, scales[rr]));
      }
    Values acc = e.accumulate(K, init, [&](Value *c, const Values &s) {
      Value *bRow = at(B, add(mul(c, ldb), c0));
      Values bv;
      for (int x = 0; x < kCV; ++x) {
        Value *p = at(bRow, c64(x * W));
        bv.push_back(left ? b.CreateMaskedLoad(vec, p, align(), masks[x], zero) : loadVec(p));
      }
      Value *ac = mul(c, ak);
      Values next(s.size());
      for (int rr = 0; rr < kR; ++rr) {
        Value *av = splat(b.CreateAlignedLoad(elt, at(a[rr], ac), align()));
        for (int x = 0; x < kCV; ++x)
          next[rr * kCV + x] = fma(av, bv[x], s[rr * kCV + x]);
      }
      return next;
    });
    for (int rr = 0; rr < kR; ++rr)
      for (int x = 0; x < kCV; ++x) {
        if (left)
          b.CreateMaskedStore(acc[rr * kCV + x], cPtr(rr, x), align(), masks[x]);
        else
          storeVec(acc[rr * kCV + x], cPtr(rr, x));
      }
  }

  /// The flat element offset of the mask for batch slice `bt` (0 where it broadcasts), and its
  /// strides along the query and key axes.
  Values maskBase(Value *bt) {
    const ir::Type &mt = *maskType;
    Values stride(static_cast<size_t>(rank));
    Value *s = c64(1);
    for (int64_t a = rank; a-- > 0;) {
      bool broadcast = mt.dim(a) == ir::Dim(1);
      stride[static_cast<size_t>(a)] = broadcast ? c64(0) : s;
      s = b.CreateMul(s, e.dim(mt.dim(a)));
    }
    Value *base = c64(0), *rest = bt;
    const ir::Type &qt = op.operand(0)->type();
    for (int64_t a = rank - 2; a-- > 0;) {
      Value *n = e.dim(qt.dim(a));
      base = b.CreateAdd(base, b.CreateMul(b.CreateURem(rest, n), stride[static_cast<size_t>(a)]));
      rest = b.CreateUDiv(rest, n);
    }
    return {base, stride[static_cast<size_t>(rank - 2)], stride[static_cast<size_t>(rank - 1)]};
  }

  /// Where a query block and a key block meet: the batch slice, the first query row and the
  /// number of them, the first key and the number of keys, and the mask's base and strides.
  struct Block {
    Value *bt, *i0, *nq, *kb, *nk;
    Values mb;
  };

  /// The query row that tile row r stands for: i0 + r, or the block's last row for the rows
  /// past it (their results are computed and never stored).
  Value *queryRow(const Block &blk, Value *r) {
    return add(blk.i0, min(r, b.CreateSub(blk.nq, c64(1))));
  }

  /// Scales the scores of row r, adds the mask and sets to -inf the scores of keys the query
  /// does not see (past Tk, or after it when causal). With `log2Units`, the scores come out
  /// multiplied by log2(e), for exp2NonPositive (one multiply by scale log2(e) without a mask).
  /// A full key block of an attention without causal has every key seen: no test.
  void scoreEpilogue(const Block &blk, Value *r, Values &s, bool log2Units) {
    constexpr double kLog2e = 1.44269504088896340736;
    Value *i = queryRow(blk, r);
    std::vector<llvm::Constant *> lanes;
    for (int l = 0; l < W; ++l)
      lanes.push_back(b.getInt64(static_cast<uint64_t>(l)));
    Value *lane = llvm::ConstantVector::get(lanes);
    bool bounded = op.causal() || tailCols;
    for (int x = 0; x < kCV; ++x) {
      Value *j = b.CreateAdd(lane, splat(add(blk.kb, c64(x * W))));
      Value *seen = nullptr;
      if (bounded) {
        seen = b.CreateICmpSLT(j, splat(Tk));
        if (op.causal())
          seen = b.CreateAnd(seen, b.CreateICmpSLE(j, splat(i)));
      }
      if (mask) {
        s[x] = b.CreateFMul(s[x], splat(fc(op.scale())));
        Value *rowAt = add(blk.mb[0], mul(i, blk.mb[1]));
        Value *idx = b.CreateAdd(splat(rowAt), b.CreateMul(j, splat(blk.mb[2])));
        Value *ptrs = b.CreateInBoundsGEP(elt, mask, idx);
        Value *gatherMask = seen ? seen
                                 : llvm::ConstantInt::getTrue(llvm::VectorType::get(
                                       b.getInt1Ty(), static_cast<unsigned>(W), false));
        s[x] = b.CreateFAdd(s[x], b.CreateMaskedGather(vec, ptrs, align(), gatherMask,
                                                       llvm::Constant::getNullValue(vec)));
        if (log2Units)
          s[x] = b.CreateFMul(s[x], splat(fc(kLog2e)));
      } else {
        s[x] = b.CreateFMul(s[x], splat(fc(op.scale() * (log2Units ? kLog2e : 1.0))));
      }
      if (seen)
        s[x] = b.CreateSelect(seen, s[x], splat(negInf()));
    }
  }

  /// x > y ? x : y, one max instruction (maxnum's NaN rule costs a compare and a blend more).
  /// Where a NaN is compared either comes out; the row's output is NaN in both cases.
  Value *maxOf(Value *x, Value *y) { return b.CreateSelect(b.CreateFCmpOGT(x, y), x, y); }

  /// The max of the vectors `s`: elementwise, then across lanes by halving (a vector max
  /// reduction is lowered to a chain of scalar steps, each with maxnum's NaN test).
  Value *rowMax(const Values &s) {
    Value *m = s[0];
    for (size_t x = 1; x < s.size(); ++x)
      m = maxOf(m, s[x]);
    for (int half = W / 2; half >= 1; half /= 2) {
      std::vector<int> upper(static_cast<size_t>(W));
      for (int l = 0; l < W; ++l)
        upper[static_cast<size_t>(l)] = (l + half) % W;
      m = maxOf(m, b.CreateShuffleVector(m, upper));
    }
    return b.CreateExtractElement(m, uint64_t{0});
  }

  Value *rowSum(const Values &s) {
    Value *t = s[0];
    for (size_t x = 1; x < s.size(); ++x)
      t = b.CreateFAdd(t, s[x]);
    auto *sum = llvm::cast<llvm::Instruction>(b.CreateFAddReduce(fc(0), t));
    sum->setHasAllowReassoc(true);
    return sum;
  }

  /// The online-softmax step of row r: rescales its max and sum by the new scores `s` and
  /// records the factor its output rows are multiplied by; with `keepP`, stores exp(s - m) to
  /// row r of tileP. The max m is kept in base-2 units (scores times log2(e)), so that each
  /// exp is an exp2NonPositive.
  void onlineSoftmaxRow(const Block &blk, Value *r, Values &s, bool keepP) {
    scoreEpilogue(blk, r, s, /*log2Units=*/true);
    Value *mOld = b.CreateAlignedLoad(elt, at(rowM, r), align());
    Value *mNew = e.intrinsic(llvm::Intrinsic::maxnum, {mOld, rowMax(s)});
    // While every score so far is -inf the row adds nothing: subtract 0, not -inf.
    Value *mSafe = b.CreateSelect(b.CreateFCmpOEQ(mNew, negInf()), fc(0), mNew);
    Value *corr = exp2NonPositive(b.CreateFSub(mOld, mSafe));
    for (int x = 0; x < kCV; ++x) {
      s[x] = exp2NonPositive(b.CreateFSub(s[x], splat(mSafe)));
      if (keepP)
        storeVec(s[x], at(tileP, add(mul(r, c64(BK)), c64(x * W))));
    }
    Value *l = b.CreateAlignedLoad(elt, at(rowL, r), align());
    b.CreateAlignedStore(b.CreateFAdd(b.CreateFMul(l, corr), rowSum(s)), at(rowL, r), align());
    b.CreateAlignedStore(mNew, at(rowM, r), align());
    b.CreateAlignedStore(corr, at(rowC, r), align());
  }

  /// The batch slice and the query block of a task over query blocks; the running max and sum
  /// of its rows reset.
  Block queryBlock(Value *t) {
    Value *nqb = ceilDiv(Tq, kBQ);
    Block blk{};
    blk.bt = b.CreateSDiv(t, nqb);
    blk.i0 = mul(b.CreateSRem(t, nqb), c64(kBQ));
    blk.nq = min(c64(kBQ), b.CreateSub(Tq, blk.i0));
    blk.mb = mask ? maskBase(blk.bt) : Values{};
    return blk;
  }

  /// The keys a query block sees: [0, Tk), or when causal up to its last row (at most Tk).
  Value *keysSeen(const Block &blk) { return op.causal() ? min(Tk, add(blk.i0, blk.nq)) : Tk; }

  /// Runs `body` over the key blocks [0, kEnd) of `blk`, with blk.kb and blk.nk set.
  void forKeyBlocks(Block &blk, Value *kEnd, const std::function<void()> &body) {
    e.forLoop(ceilDiv(kEnd, BK), [&](Value *kbi) {
      blk.kb = mul(kbi, c64(BK));
      blk.nk = min(c64(BK), b.CreateSub(kEnd, blk.kb));
      body();
    });
  }

  /// Column kb of slice bt of kᵀ (or vᵀ), whose rows are Tk apart.
  Value *keyColumns(Value *t, const Block &blk, Value *n) {
    return at(t, add(mul(blk.bt, mul(Tk, n)), blk.kb));
  }

  /// Row r of a [T, n] matrix of slice bt: p + (bt T + row) n.
  Value *rowOf(Value *p, Value *bt, Value *T, Value *row, Value *n) {
    return at(p, mul(add(mul(bt, T), row), n));
  }

  void resetRows() {
    e.forLoop(c64(kBQ), [&](Value *r) {
      b.CreateAlignedStore(negInf(), at(rowM, r), align());
      b.CreateAlignedStore(fc(0), at(rowL, r), align());
    });
  }

  void zeroTile(Value *p, Value *n) { e.memZero(p, mul(n, c64(esz))); }

  void forwardTask(Value *t) {
    Block blk = queryBlock(t);
    resetRows();
    zeroTile(tileO, mul(c64(kBQ), Dv));
    auto qRow = [&](Value *r) { return rowOf(q, blk.bt, Tq, queryRow(blk, r), D); };
    forKeyBlocks(blk, keysSeen(blk), [&] {
      rowTile(kBQ, qRow, keyColumns(kt, blk, D), Tk, blk.nk, D,
              [&](Value *r, Values &s) { onlineSoftmaxRow(blk, r, s, /*keepP=*/true); });
      Value *vBlk = rowOf(v, blk.bt, Tk, blk.kb, Dv);
      accumulateTile(
          tileO, kBQ, [&](Value *r) { return at(tileP, mul(r, c64(BK))); }, c64(1), vBlk, Dv,
          blk.nk, Dv, [&](Value *r) { return b.CreateAlignedLoad(elt, at(rowC, r), align()); });
    });
    e.forLoop(blk.nq, [&](Value *r) {
      Value *l = b.CreateAlignedLoad(elt, at(rowL, r), align());
      Value *inv = b.CreateSelect(b.CreateFCmpOEQ(l, fc(0)), fc(0), b.CreateFDiv(fc(1), l));
      Value *dst = rowOf(out, blk.bt, Tq, add(blk.i0, r), Dv), *src = at(tileO, mul(r, Dv));
      e.forLoop(Dv, [&](Value *c) {
        Value *x = b.CreateAlignedLoad(elt, at(src, c), align());
        b.CreateAlignedStore(b.CreateFMul(x, inv), at(dst, c), align());
      });
    });
  }

  /// lse[i] = m ln 2 + log l (m in base-2 units; -inf when the row sees no finite score) and
  /// D[i] = do[i].o[i].
  void statsTask(Value *t) {
    Block blk = queryBlock(t);
    resetRows();
    auto qRow = [&](Value *r) { return rowOf(q, blk.bt, Tq, queryRow(blk, r), D); };
    forKeyBlocks(blk, keysSeen(blk), [&] {
      rowTile(kBQ, qRow, keyColumns(kt, blk, D), Tk, blk.nk, D,
              [&](Value *r, Values &s) { onlineSoftmaxRow(blk, r, s, /*keepP=*/false); });
    });
    e.forLoop(blk.nq, [&](Value *r) {
      Value *row = add(mul(blk.bt, Tq), add(blk.i0, r));
      Value *m = b.CreateAlignedLoad(elt, at(rowM, r), align());
      Value *l = b.CreateAlignedLoad(elt, at(rowL, r), align());
      Value *lv = b.CreateFAdd(b.CreateFMul(m, fc(0.69314718055994530942)),
                               e.intrinsic(llvm::Intrinsic::log, {l}));
      e.store(b.CreateSelect(b.CreateFCmpOEQ(l, fc(0)), negInf(), lv), lse, dt, row);
      Value *dRow = at(dout, mul(row, Dv)), *oRow = at(o, mul(row, Dv));
      Value *dot = e.accumulate(Dv, {fc(0)}, [&](Value *c, const Values &acc) {
        Value *x = b.CreateAlignedLoad(elt, at(dRow, c), align());
        Value *y = b.CreateAlignedLoad(elt, at(oRow, c), align());
        return Values{b.CreateFAdd(acc[0], b.CreateFMul(x, y))};
      })[0];
      e.store(dot, dsum, dt, row);
    });
  }

  /// Row r of tileP = exp(s - lse[i]) (0 where lse[i] is -inf), i the query row of r.
  void probabilityRow(const Block &blk, Value *r, Values &s) {
    scoreEpilogue(blk, r, s, /*log2Units=*/false);
    Value *l = e.load(lse, dt, add(mul(blk.bt, Tq), queryRow(blk, r)));
    l = b.CreateSelect(b.CreateFCmpOEQ(l, negInf()), fc(0), l); // its scores are all -inf
    for (int x = 0; x < kCV; ++x)
      storeVec(expOf(b.CreateFSub(s[x], splat(l))), at(tileP, add(mul(r, c64(BK)), c64(x * W))));
  }

  /// Row r of tileP, holding P, becomes dS = P (dP - D[i]) scale, with `dp` do[i] v_blkᵀ.
  void dsRow(const Block &blk, Value *r, Values &dp) {
    Value *dI = splat(e.load(dsum, dt, add(mul(blk.bt, Tq), queryRow(blk, r))));
    for (int x = 0; x < kCV; ++x) {
      Value *p = at(tileP, add(mul(r, c64(BK)), c64(x * W)));
      Value *ds = b.CreateFMul(loadVec(p), b.CreateFSub(dp[x], dI));
      storeVec(b.CreateFMul(ds, splat(fc(op.scale()))), p);
    }
  }

  /// Copies the first `rows` rows of `tile` (n wide) to rows first.. of `dst`, slice bt.
  void storeRows(Value *dst, Value *tile, Value *bt, Value *T, Value *first, Value *rows,
                 Value *n) {
    e.forLoop(rows, [&](Value *r) {
      e.memCopy(rowOf(dst, bt, T, add(first, r), n), at(tile, mul(r, n)), mul(n, c64(esz)));
    });
  }

  /// dq, dk and dv of batch slice bt (the algorithm at the top of the file). Query blocks
  /// start at multiples of BQ, so a slice's only partial one is its last, whose dq rows
  /// gather in tileDq.
  void backwardTask(Value *bt) {
    e.memZero(rowOf(dqOut, bt, Tq, c64(0), D), mul(mul(Tq, D), c64(esz)));
    zeroTile(tileDq, mul(c64(kBQ), D));
    Block blk{};
    blk.bt = bt;
    blk.mb = mask ? maskBase(bt) : Values{};
    Value *tileDk = tileO;
    forKeyBlocks(blk, Tk, [&] {
      zeroTile(tileDk, mul(c64(BK), D));
      zeroTile(tileDv, mul(c64(BK), Dv));
      // Causal: only queries i >= kb see a key of the block.
      Value *first = op.causal() ? mul(b.CreateSDiv(min(blk.kb, Tq), c64(kBQ)), c64(kBQ)) : c64(0);
      e.forLoop(ceilDiv(b.CreateSub(Tq, first), kBQ), [&](Value *qi) {
        blk.i0 = add(first, mul(qi, c64(kBQ)));
        blk.nq = min(c64(kBQ), b.CreateSub(Tq, blk.i0));
        auto qRow = [&](Value *r) { return rowOf(q, bt, Tq, queryRow(blk, r), D); };
        auto doRow = [&](Value *r) { return rowOf(dout, bt, Tq, queryRow(blk, r), Dv); };
        auto pRow = [&](Value *r) { return at(tileP, mul(r, c64(BK))); };
        auto pColumn = [&](Value *r) { return at(tileP, r); }; // A(r, c) = tileP[c][r]
        rowTile(kBQ, qRow, keyColumns(kt, blk, D), Tk, blk.nk, D,
                [&](Value *r, Values &s) { probabilityRow(blk, r, s); });
        if (wanted & 4)
          accumulateTile(tileDv, BK, pColumn, c64(BK), rowOf(dout, bt, Tq, blk.i0, Dv), Dv, blk.nq,
                         Dv, nullptr);
        if (!(wanted & 3))
          return;
        rowTile(kBQ, doRow, keyColumns(vt, blk, Dv), Tk, blk.nk, Dv,
                [&](Value *r, Values &dp) { dsRow(blk, r, dp); });
        if (wanted & 2)
          accumulateTile(tileDk, BK, pColumn, c64(BK), rowOf(q, bt, Tq, blk.i0, D), D, blk.nq, D,
                         nullptr);
        if (!(wanted & 1))
          return;
        Value *whole = b.CreateICmpEQ(blk.nq, c64(kBQ));
        Value *dqBlk = b.CreateSelect(whole, rowOf(dqOut, bt, Tq, blk.i0, D), tileDq);
        accumulateTile(dqBlk, kBQ, pRow, c64(1), rowOf(k, bt, Tk, blk.kb, D), D, blk.nk, D,
                       nullptr);
      });
      storeRows(dkOut, tileDk, bt, Tk, blk.kb, blk.nk, D);
      storeRows(dvOut, tileDv, bt, Tk, blk.kb, blk.nk, Dv);
    });
    Value *tail = b.CreateSRem(Tq, c64(kBQ));
    storeRows(dqOut, tileDq, bt, Tq, b.CreateSub(Tq, tail), tail, D);
  }
};

} // namespace

Status Emitter::emitAttention(const ir::Op &op) { return AttentionEmitter(*this, op).emit(); }

} // namespace weft::cpu::detail
