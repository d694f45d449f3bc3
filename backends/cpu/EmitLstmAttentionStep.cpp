//===- backends/cpu/EmitLstmAttentionStep.cpp - a decoder step in one pass ===//
//
//   %h2[B,H], %c2[B,H], %att[B,N], %weights[B,S] = lstm_attention_step %x[B,I], %h, %c,
//       %wx[I,4H], %wh[H,4H], %b[4H], %wq[H,A], %kp[B,S,A], %v[A], %values[B,S,D],
//       %wa[H+D,N] (, %mask[B,S]) {luong}
//
// One task per chunk of batch rows (weft_parallel_for), the chunk taken R rows at a time (then
// row by row), so that each weight row read from cache serves R rows:
//   z[r] = b + x[r] wx + h[r] wh                                                     [4H] each
//   c2[r] = sigmoid(z_f) c[r] + sigmoid(z_i) tanh(z_g);  h2[r] = sigmoid(z_o) tanh(c2[r])
//   q[r] = h2[r] wq  (Bahdanau; Luong reads h2 itself)                               [A] each
//   per row: the S scores (each a vector sum over A), their softmax, the context
//   att[r] = concat(h2[r], context[r]) wa                                            [N] each
// The three products are register tiles as the GEMM's micro-kernel (EmitMatmul.cpp): R rows by
// NV vectors of columns held in registers over the whole k loop, each weight vector read once
// per R rows, and stored once; a last columns narrower than the tile go one (masked) vector at
// a time. The weights are read from column strips (LstmAttentionStepKernel.h): packed once
// before the loop where they all come from outside it (Prepack.h), else on every call. The
// state update, the scores and the context are vectors too (masked at the
// tails). z, q and concat(h2, context) are on the task's stack, in L1; each task writes only
// its own rows, so the results do not depend on the thread count.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Emitter.h"
#include "backends/cpu/LstmAttentionStepKernel.h"

#include <limits>

namespace weft::cpu::detail {

using llvm::Value;

namespace {

/// Rows taken together: each group of a weight's columns is read once per chunk (at H = 256,
/// wx and wh are 2 MB, past L2, and a strip of them 128 KB), while the chunk's z, q and
/// concat(h2, context) on the stack stay small (24 x 1792 f32 = 172 KB at H = D = A = 256).
/// (Chunks of up to 72 rows, reading the weights once per step at B = 64, measured no faster.)
constexpr int64_t kChunkRows = 24;

/// One weight matrix's part of a tile product: sum over k < kn of a(r, k) w[k, :].
struct Term {
  Value *kn;
  std::function<Value *(Value *, Value *)> a; // A(row of the chunk, k)
  Value *w; // kn rows of the product's n columns, in strips (LstmAttentionStepKernel.h) where
            // the kernel packs its weights
};

class StepEmitter {
public:
  StepEmitter(Emitter &e, const ir::Op &op) : e(e), b(e.b), op(op) {}

  Status emit();
  /// The op's weights packed into strips, each in the next scratch slot of the op being emitted.
  Values packWeights();

private:
  /// The element and vector types and the tile's shape, for the op's dtype and the target.
  void setTypes();
  /// body(j0, nv, masks) for the columns [0, n) in groups: NV vectors unmasked while whole
  /// groups remain (masks empty), then one vector at a time with its lanes below n (nv = 1).
  void forColumns(Value *n, const std::function<void(Value *, int, const Values &)> &body);
  /// dst(r)[j] = init[j] (0 where null) + the sum of the terms, for r < m, j < n: for each
  /// group of columns, the m rows R at a time (then one by one), so that the weights' columns
  /// of the group stay in cache over the chunk's rows.
  void tileProduct(Value *m, Value *n, Value *init, const std::vector<Term> &terms,
                   const std::function<Value *(Value *)> &dst);
  /// Copies w (K x n) into `dst` in strips of NV vectors (LstmAttentionStepKernel.h).
  void packStrips(Value *w, Value *K, Value *n, Value *dst);
  /// The step for the m rows (at most kChunkRows) from `row0`.
  void chunkFrom(Value *m, Value *row0);
  /// The attention of one row: its weights, and its context after h2 in `hcRow`.
  void attendRow(Value *row, Value *query, Value *hcRow);

  Value *fc(double x) { return llvm::ConstantFP::get(elt, x); }
  Value *splat(Value *x) { return b.CreateVectorSplat(static_cast<unsigned>(W), x); }
  Value *at(Value *p, Value *i) { return b.CreateInBoundsGEP(elt, p, i); }
  /// W elements from p + i; lanes off `mask` (where not null) read 0 and touch no memory.
  Value *vload(Value *p, Value *i, Value *mask) {
    if (!mask)
      return b.CreateAlignedLoad(vecTy, at(p, i), llvm::Align(esz));
    return b.CreateMaskedLoad(vecTy, at(p, i), llvm::Align(esz), mask,
                              llvm::Constant::getNullValue(vecTy));
  }
  void vstore(Value *x, Value *p, Value *i, Value *mask) {
    if (!mask)
      b.CreateAlignedStore(x, at(p, i), llvm::Align(esz));
    else
      b.CreateMaskedStore(x, at(p, i), llvm::Align(esz), mask);
  }
  /// The lanes j0 + l < n of a vector from column j0.
  Value *lanesBelow(Value *n, Value *j0) {
    llvm::SmallVector<llvm::Constant *, 16> iota;
    for (int l = 0; l < W; ++l)
      iota.push_back(llvm::ConstantInt::get(e.i64Ty(), l));
    return b.CreateICmpSLT(llvm::ConstantVector::get(iota), splat64(b.CreateSub(n, j0)));
  }
  Value *splat64(Value *x) { return b.CreateVectorSplat(static_cast<unsigned>(W), x); }
  Value *expOrZero(Value *x) { // exp(x), exactly 0 at -inf, and 0 for NaN (-inf - -inf)
    Value *isNinf = b.CreateFCmpOEQ(x, fc(-std::numeric_limits<double>::infinity()));
    Value *p = b.CreateSelect(isNinf, fc(0), e.intrinsic(llvm::Intrinsic::exp, {x}));
    return b.CreateSelect(b.CreateFCmpUNO(p, p), fc(0), p);
  }

  Emitter &e;
  llvm::IRBuilder<> &b;
  const ir::Op &op;
  DType dt = DType::F32;
  llvm::Type *elt = nullptr;
  llvm::FixedVectorType *vecTy = nullptr;
  int esz = 4, W = 8, NV = 2, R = 4; // element bytes, lanes, vectors of a tile, rows of a block
  bool luong = false, masked = false, packed = false;
  // Inside the task: the operands, results and sizes, and the stack arrays.
  Value *x = nullptr, *h = nullptr, *c = nullptr, *wx = nullptr, *wh = nullptr, *bias = nullptr,
        *wq = nullptr, *kp = nullptr, *v = nullptr, *values = nullptr, *wa = nullptr,
        *mask = nullptr;
  Value *h2 = nullptr, *c2 = nullptr, *att = nullptr, *weights = nullptr;
  Value *I = nullptr, *H = nullptr, *G = nullptr, *S = nullptr, *A = nullptr, *D = nullptr,
        *N = nullptr, *HD = nullptr;
  Value *z = nullptr, *q = nullptr, *hc = nullptr; // per row of a chunk: [4H], [A], [H + D]
};

void StepEmitter::forColumns(Value *n,
                             const std::function<void(Value *, int, const Values &)> &body) {
  const int NR = NV * W;
  Value *groups = b.CreateUDiv(n, e.c64(NR));
  e.forLoop(groups, [&](Value *g) { body(b.CreateMul(g, e.c64(NR)), NV, {}); });
  Value *rest = b.CreateMul(groups, e.c64(NR));
  Value *vectors = b.CreateUDiv(b.CreateAdd(b.CreateSub(n, rest), e.c64(W - 1)), e.c64(W));
  e.forLoop(vectors, [&](Value *i) {
    Value *j0 = b.CreateAdd(rest, b.CreateMul(i, e.c64(W)));
    body(j0, 1, {lanesBelow(n, j0)});
  });
}

void StepEmitter::tileProduct(Value *m, Value *n, Value *init, const std::vector<Term> &terms,
                              const std::function<Value *(Value *)> &dst) {
  forColumns(n, [&](Value *j0, int nv, const Values &masks) {
    auto col = [&](int u) { return b.CreateAdd(j0, e.c64(u * W)); };
    auto maskOf = [&](int u) { return masks.empty() ? nullptr : masks[static_cast<size_t>(u)]; };
    auto tile = [&](int rows, Value *r0) {
      Values rowAt;
      for (int r = 0; r < rows; ++r)
        rowAt.push_back(b.CreateAdd(r0, e.c64(r)));
      Values acc;
      for (int r = 0; r < rows; ++r)
        for (int u = 0; u < nv; ++u)
          acc.push_back(init ? vload(init, col(u), maskOf(u))
                             : llvm::Constant::getNullValue(vecTy));
      for (const Term &t : terms)
        acc = e.accumulate(t.kn, acc, [&](Value *k, const Values &in) {
          // Column j of row k: at k * n + j in place; in strip g = j / NR, at g * kn * NR
          // + k * NR + j - g * NR (never below 0 as kn >= 1).
          Value *g = b.CreateUDiv(j0, e.c64(NV * W));
          Value *wrow =
              at(t.w, packed ? b.CreateAdd(b.CreateMul(g, b.CreateMul(b.CreateSub(t.kn, e.c64(1)),
                                                                      e.c64(NV * W))),
                                           b.CreateMul(k, e.c64(NV * W)))
                             : b.CreateMul(k, n));
          Values wv, out(in.size());
          for (int u = 0; u < nv; ++u)
            wv.push_back(vload(wrow, col(u), maskOf(u)));
          for (int r = 0; r < rows; ++r) {
            Value *ar = splat(t.a(rowAt[static_cast<size_t>(r)], k));
            for (int u = 0; u < nv; ++u) {
              size_t i = static_cast<size_t>(r * nv + u);
              out[i] = b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vecTy}, {ar, wv[u], in[i]});
            }
          }
          return out;
        });
      for (int r = 0; r < rows; ++r)
        for (int u = 0; u < nv; ++u)
          vstore(acc[static_cast<size_t>(r * nv + u)], dst(rowAt[static_cast<size_t>(r)]), col(u),
                 maskOf(u));
    };
    Value *blocks = b.CreateUDiv(m, e.c64(R));
    e.forLoop(blocks, [&](Value *i) { tile(R, b.CreateMul(i, e.c64(R))); });
    Value *rest = b.CreateMul(blocks, e.c64(R));
    e.forLoop(b.CreateSub(m, rest), [&](Value *i) { tile(1, b.CreateAdd(rest, i)); });
  });
}

void StepEmitter::packStrips(Value *w, Value *K, Value *n, Value *dst) {
  const int NR = NV * W;
  Value *strips = b.CreateUDiv(b.CreateAdd(n, e.c64(NR - 1)), e.c64(NR));
  e.forLoop(strips, [&](Value *g) {
    Value *j0 = b.CreateMul(g, e.c64(NR));
    Values masks;
    for (int u = 0; u < NV; ++u)
      masks.push_back(lanesBelow(n, b.CreateAdd(j0, e.c64(u * W))));
    Value *strip = at(dst, b.CreateMul(g, b.CreateMul(K, e.c64(NR))));
    e.forLoop(K, [&](Value *k) {
      Value *src = at(w, b.CreateAdd(b.CreateMul(k, n), j0));
      Value *row = at(strip, b.CreateMul(k, e.c64(NR)));
      for (int u = 0; u < NV; ++u) // zero past n
        vstore(vload(src, e.c64(u * W), masks[static_cast<size_t>(u)]), row, e.c64(u * W), nullptr);
    });
  });
}

void StepEmitter::attendRow(Value *row, Value *query, Value *hcRow) {
  Value *w = at(weights, b.CreateMul(row, S));
  Value *keys = at(kp, b.CreateMul(row, b.CreateMul(S, A)));
  Value *rowValues = at(values, b.CreateMul(row, b.CreateMul(S, D)));
  Value *zero = llvm::Constant::getNullValue(vecTy);
  // The scores into w, and their maximum: each a vector sum over A, reduced at the end.
  Value *m = e.local(elt, fc(-std::numeric_limits<double>::infinity()));
  Value *sum = e.local(vecTy, zero);
  e.forLoop(S, [&](Value *j) {
    Value *key = at(keys, b.CreateMul(j, A));
    b.CreateStore(zero, sum);
    forColumns(A, [&](Value *a0, int nv, const Values &masks) {
      Value *acc = b.CreateLoad(vecTy, sum);
      for (int u = 0; u < nv; ++u) {
        Value *mk = masks.empty() ? nullptr : masks[static_cast<size_t>(u)];
        Value *col = b.CreateAdd(a0, e.c64(u * W));
        Value *kv = vload(key, col, mk), *qv = vload(query, col, mk);
        // Lanes off the mask read 0 everywhere, so their terms are 0.
        Value *term = luong
                          ? b.CreateFMul(qv, kv)
                          : b.CreateFMul(vload(v, col, mk), e.gateTanhOf(b.CreateFAdd(kv, qv), dt));
        acc = b.CreateFAdd(acc, term);
      }
      b.CreateStore(acc, sum);
    });
    Value *s = b.CreateFAddReduce(fc(0), b.CreateLoad(vecTy, sum));
    if (luong)
      s = b.CreateFMul(s, e.load(v, dt, e.c64(0)));
    if (mask)
      s = b.CreateFAdd(s, e.load(mask, dt, b.CreateAdd(b.CreateMul(row, S), j)));
    e.store(s, w, dt, j);
    b.CreateStore(e.intrinsic(llvm::Intrinsic::maxnum, {b.CreateLoad(elt, m), s}), m);
  });
  // The unnormalised weights (0 where a score is -inf, all 0 where every one is) and their sum.
  Value *mv = b.CreateLoad(elt, m);
  Value *l = e.accumulate(S, {fc(0)}, [&](Value *j, const Values &acc) {
    Value *p = expOrZero(b.CreateFSub(e.load(w, dt, j), mv));
    e.store(p, w, dt, j);
    return Values{b.CreateFAdd(acc[0], p)};
  })[0];
  Value *inv = b.CreateSelect(b.CreateFCmpOGT(l, fc(0)), b.CreateFDiv(fc(1), l), fc(0));
  // The context, NV vectors of D at a time held over the keys, after h2 in hcRow.
  Value *ctx = at(hcRow, H);
  forColumns(D, [&](Value *d0, int nv, const Values &masks) {
    auto col = [&](int u) { return b.CreateAdd(d0, e.c64(u * W)); };
    auto maskOf = [&](int u) { return masks.empty() ? nullptr : masks[static_cast<size_t>(u)]; };
    Values acc =
        e.accumulate(S, Values(static_cast<size_t>(nv), zero), [&](Value *j, const Values &in) {
          Value *p = splat(e.load(w, dt, j));
          Value *vals = at(rowValues, b.CreateMul(j, D));
          Values out;
          for (int u = 0; u < nv; ++u)
            out.push_back(b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vecTy},
                                            {p, vload(vals, col(u), maskOf(u)), in[u]}));
          return out;
        });
    for (int u = 0; u < nv; ++u)
      vstore(b.CreateFMul(acc[static_cast<size_t>(u)], splat(inv)), ctx, col(u), maskOf(u));
  });
  e.forLoop(S, [&](Value *j) { e.store(b.CreateFMul(e.load(w, dt, j), inv), w, dt, j); });
}

void StepEmitter::chunkFrom(Value *m, Value *row0) {
  auto row = [&](Value *r) { return b.CreateAdd(row0, r); };
  auto rowOf = [&](Value *buf, Value *width) {
    return [=, this](Value *r) { return at(buf, b.CreateMul(r, width)); };
  };
  // The gates: bias, then the input and recurrent products.
  tileProduct(m, G, bias,
              {Term{I,
                    [&](Value *r, Value *k) {
                      return e.load(x, dt, b.CreateAdd(b.CreateMul(row(r), I), k));
                    },
                    wx},
               Term{H,
                    [&](Value *r, Value *k) {
                      return e.load(h, dt, b.CreateAdd(b.CreateMul(row(r), H), k));
                    },
                    wh}},
              rowOf(z, G));
  // The state update, a vector of units at a time; h2 also starts the row's concat(h2, context).
  e.forLoop(m, [&](Value *r) {
    Value *base = b.CreateMul(row(r), H);
    Value *zr = rowOf(z, G)(r), *hcr = rowOf(hc, HD)(r);
    forColumns(H, [&](Value *u0, int nv, const Values &masks) {
      for (int u = 0; u < nv; ++u) {
        Value *mk = masks.empty() ? nullptr : masks[static_cast<size_t>(u)];
        Value *unit = b.CreateAdd(u0, e.c64(u * W));
        auto gate = [&](int g) {
          return vload(zr, b.CreateAdd(b.CreateMul(e.c64(g), H), unit), mk);
        };
        Value *cOld = vload(c, b.CreateAdd(base, unit), mk);
        Value *cNew =
            b.CreateFAdd(b.CreateFMul(e.gateSigmoidOf(gate(1), dt), cOld),
                         b.CreateFMul(e.gateSigmoidOf(gate(0), dt), e.gateTanhOf(gate(2), dt)));
        Value *hNew = b.CreateFMul(e.gateSigmoidOf(gate(3), dt), e.gateTanhOf(cNew, dt));
        vstore(cNew, c2, b.CreateAdd(base, unit), mk);
        vstore(hNew, h2, b.CreateAdd(base, unit), mk);
        vstore(hNew, hcr, unit, mk);
      }
    });
  });
  // The queries (Bahdanau: h2 wq; Luong: h2).
  if (!luong)
    tileProduct(m, A, nullptr,
                {Term{H,
                      [&](Value *r, Value *k) {
                        return e.load(hc, dt, b.CreateAdd(b.CreateMul(r, HD), k));
                      },
                      wq}},
                rowOf(q, A));
  e.forLoop(m, [&](Value *r) {
    attendRow(row(r), luong ? rowOf(hc, HD)(r) : rowOf(q, A)(r), rowOf(hc, HD)(r));
  });
  // The attention vectors, straight into their rows of att.
  tileProduct(
      m, N, nullptr,
      {Term{HD,
            [&](Value *r, Value *k) { return e.load(hc, dt, b.CreateAdd(b.CreateMul(r, HD), k)); },
            wa}},
      [&](Value *r) { return at(att, b.CreateMul(row(r), N)); });
}

void StepEmitter::setTypes() {
  dt = op.result(0)->type().dtype();
  elt = e.storageTy(dt);
  esz = static_cast<int>(dtypeBytes(dt));
  W = e.vectorBytes / esz;
  vecTy = llvm::FixedVectorType::get(elt, static_cast<unsigned>(W));
  // The tile as the GEMM's (MatmulBlocks.h): AVX-512, 6 rows x 4 vectors (24 of 32 registers);
  // AVX2 and SSE, 4 x 2 (8 of 16).
  NV = e.vectorBytes == 64 ? 4 : 2;
  R = e.vectorBytes == 64 ? 6 : 4;
  // 512-bit vectors stay whole (else the backend splits them into 256-bit halves); set before
  // parallelRows outlines the body, which inherits it.
  if (e.vectorBytes == 64)
    e.fn->addFnAttr("min-legal-vector-width", "512");
}

Values StepEmitter::packWeights() {
  setTypes();
  std::vector<ir::Type> strips = lstmAttentionStepScratch(op, e.vectorBytes);
  std::vector<size_t> operands = lstmAttentionPackedOperands(op);
  Values out;
  for (size_t i = 0; i < strips.size(); ++i) {
    const ir::Type &wt = op.operand(operands[i])->type();
    Value *dst = e.scratchBuffer(strips[i]);
    packStrips(e.ptr(op.operand(operands[i])), e.dim(wt.dim(0)), e.dim(wt.dim(1)), dst);
    out.push_back(dst);
  }
  return out;
}

Status StepEmitter::emit() {
  setTypes();
  luong = op.luong();
  const size_t base = luong ? 10 : 11;
  masked = op.numOperands() == base + 1;
  Values captured;
  for (ir::Value *operand : op.operands())
    captured.push_back(e.ptr(operand));
  // The weights in strips, where their dims are static: packed by the loop before its first
  // trip, or here. The task reads them in place of the operands.
  auto before = e.packedStepWeights.find(&op);
  Values strips = before != e.packedStepWeights.end() ? before->second : packWeights();
  packed = !strips.empty();
  std::vector<size_t> packedOperands = lstmAttentionPackedOperands(op);
  for (size_t i = 0; i < strips.size(); ++i)
    captured[packedOperands[i]] = strips[i];
  for (size_t r = 0; r < 4; ++r) {
    e.ptrs[op.result(r)] = e.bufferOf(op.result(r));
    captured.push_back(e.ptrs[op.result(r)]);
  }
  const ir::Type &xt = op.operand(0)->type(), &ht = op.operand(1)->type();
  const ir::Type &kt = op.operand(luong ? 6 : 7)->type(), &vt = op.operand(luong ? 8 : 9)->type(),
                 &at = op.result(2)->type();
  Value *rows = e.dim(xt.dim(0));
  // About the multiply-adds of one row: the gates, the query, the keys and the output.
  Value *perRow = b.CreateAdd(
      b.CreateMul(b.CreateAdd(e.dim(xt.dim(1)), e.dim(ht.dim(1))), e.c64(4 * ht.dim(1).size())),
      b.CreateAdd(b.CreateMul(e.dim(kt.dim(1)), b.CreateAdd(e.dim(kt.dim(2)), e.dim(vt.dim(2)))),
                  b.CreateMul(e.dim(at.dim(1)), e.c64(ht.dim(1).size() + vt.dim(2).size()))));
  e.parallelRows(
      rows, b.CreateMul(rows, perRow), captured, [&](const Values &in, Value *begin, Value *end) {
        size_t n = 0;
        x = in[n++], h = in[n++], c = in[n++], wx = in[n++], wh = in[n++], bias = in[n++];
        wq = luong ? nullptr : in[n++];
        kp = in[n++], v = in[n++], values = in[n++], wa = in[n++];
        mask = masked ? in[n++] : nullptr;
        h2 = in[n++], c2 = in[n++], att = in[n++], weights = in[n++];
        I = e.dim(xt.dim(1)), H = e.dim(ht.dim(1)), S = e.dim(kt.dim(1)), A = e.dim(kt.dim(2)),
        D = e.dim(vt.dim(2)), N = e.dim(at.dim(1));
        G = b.CreateMul(H, e.c64(4));
        HD = b.CreateAdd(H, D);
        Value *chunkRows = e.c64(kChunkRows);
        z = b.CreateAlloca(elt, b.CreateMul(chunkRows, G));
        q = b.CreateAlloca(elt, b.CreateMul(chunkRows, A));
        hc = b.CreateAlloca(elt, b.CreateMul(chunkRows, HD));
        Value *count = b.CreateSub(end, begin);
        Value *chunks = b.CreateUDiv(b.CreateAdd(count, e.c64(kChunkRows - 1)), chunkRows);
        e.forLoop(chunks, [&](Value *i) {
          Value *r0 = b.CreateMul(i, chunkRows);
          Value *left = b.CreateSub(count, r0);
          Value *m = b.CreateSelect(b.CreateICmpSLT(left, chunkRows), left, chunkRows);
          chunkFrom(m, b.CreateAdd(begin, r0));
        });
      });
  return {};
}

} // namespace

Status Emitter::emitLstmAttentionStep(const ir::Op &op) { return StepEmitter(*this, op).emit(); }

Values Emitter::packLstmAttentionWeights(const ir::Op &step) {
  return StepEmitter(*this, step).packWeights();
}

} // namespace weft::cpu::detail
