//===- backends/cpu/EmitLstmAttentionStep.cpp - a decoder step in one pass ===//
//
//   %h2[B,H], %c2[B,H], %att[B,N], %weights[B,S] = lstm_attention_step %x[B,I], %h, %c,
//       %wx[I,4H], %wh[H,4H], %b[4H], %wq[H,A], %kp[B,S,A], %v[A], %values[B,S,D],
//       %wa[H+D,N] (, %mask[B,S]) {luong}
//
// One task per chunk of batch rows (weft_parallel_for), the chunk taken R = 4 rows at a time
// (then row by row), so that each weight row read from cache serves R rows:
//   z[r] = b;  z[r] += x[r, k] wx[k]  (k < I);  z[r] += h[r, k] wh[k]  (k < H)      [4H] each
//   c2[r] = sigmoid(z_f) c[r] + sigmoid(z_i) tanh(z_g);  h2[r] = sigmoid(z_o) tanh(c2[r])
//   q[r] = h2[r] wq  (Bahdanau; Luong reads h2 itself)                               [A] each
//   per row: scores over the S keys with an online softmax, the context accumulated in place
//            (as EmitAdditiveAttention.cpp), the weights rescaled at the end
//   att[r] = concat(h2[r], context[r]) wa                                            [N] each
// z, q, concat(h2, context) and att's accumulators are on the task's stack; only the results
// go through memory. The k loops run over a weight row, the inner loops over its columns
// (one multiply-add per row of the block), which the loop vectorizer widens. Each task writes
// only its own rows, so the results do not depend on the thread count.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Emitter.h"

#include <limits>

namespace weft::cpu::detail {

using llvm::Value;

namespace {

constexpr int kBlockRows = 4;

class StepEmitter {
public:
  StepEmitter(Emitter &e, const ir::Op &op) : e(e), b(e.b), op(op) {}

  Status emit();

private:
  /// out[r][j] (+)= sum_k a(r, k) w[k, j], for r < R, j < n, k < kn (w rows of n elements).
  void blockProduct(int R, Value *kn, Value *n, const std::function<Value *(int, Value *)> &a,
                    Value *w, const Values &out, bool accumulate);
  /// The step for the R rows from `row0`.
  void rowsFrom(int R, Value *row0);
  Value *fc(double x) { return llvm::ConstantFP::get(elt, x); }
  Value *expOrZero(Value *x) { // exp(x), exactly 0 at -inf
    Value *isNinf = b.CreateFCmpOEQ(x, fc(-std::numeric_limits<double>::infinity()));
    return b.CreateSelect(isNinf, fc(0), e.intrinsic(llvm::Intrinsic::exp, {x}));
  }

  Emitter &e;
  llvm::IRBuilder<> &b;
  const ir::Op &op;
  DType dt = DType::F32;
  llvm::Type *elt = nullptr;
  bool luong = false, masked = false;
  // Inside the task: the operands, results and sizes, and the stack arrays.
  Value *x = nullptr, *h = nullptr, *c = nullptr, *wx = nullptr, *wh = nullptr, *bias = nullptr,
        *wq = nullptr, *kp = nullptr, *v = nullptr, *values = nullptr, *wa = nullptr,
        *mask = nullptr;
  Value *h2 = nullptr, *c2 = nullptr, *att = nullptr, *weights = nullptr;
  Value *I = nullptr, *H = nullptr, *G = nullptr, *S = nullptr, *A = nullptr, *D = nullptr,
        *N = nullptr, *HD = nullptr;
  Values z, q, hc, out; // per row of a block: [4H], [A], [H + D], [N]
  Value *t = nullptr;   // [A]: one key's terms
};

void StepEmitter::blockProduct(int R, Value *kn, Value *n,
                               const std::function<Value *(int, Value *)> &a, Value *w,
                               const Values &dst, bool accumulate) {
  if (!accumulate)
    for (int r = 0; r < R; ++r)
      e.forLoop(n, [&](Value *j) { e.store(fc(0), dst[r], dt, j); });
  e.forLoop(kn, [&](Value *k) {
    Values as;
    for (int r = 0; r < R; ++r)
      as.push_back(a(r, k));
    Value *wrow = e.gep(w, dt, b.CreateMul(k, n));
    e.forLoop(n, [&](Value *j) {
      Value *wkj = e.load(wrow, dt, j);
      for (int r = 0; r < R; ++r)
        e.store(e.intrinsic(llvm::Intrinsic::fmuladd, {as[r], wkj, e.load(dst[r], dt, j)}), dst[r],
                dt, j);
    });
  });
}

void StepEmitter::rowsFrom(int R, Value *row0) {
  auto row = [&](int r) { return b.CreateAdd(row0, e.c64(r)); };
  // The gates: bias, then the input and recurrent products.
  for (int r = 0; r < R; ++r)
    e.forLoop(G, [&](Value *j) { e.store(e.load(bias, dt, j), z[r], dt, j); });
  blockProduct(
      R, I, G,
      [&](int r, Value *k) { return e.load(x, dt, b.CreateAdd(b.CreateMul(row(r), I), k)); }, wx,
      Values(z.begin(), z.begin() + R), /*accumulate=*/true);
  blockProduct(
      R, H, G,
      [&](int r, Value *k) { return e.load(h, dt, b.CreateAdd(b.CreateMul(row(r), H), k)); }, wh,
      Values(z.begin(), z.begin() + R), /*accumulate=*/true);
  // The state update; h2 also starts the row's concat(h2, context).
  for (int r = 0; r < R; ++r) {
    Value *base = b.CreateMul(row(r), H);
    e.forLoop(H, [&](Value *u) {
      auto gate = [&](int g) { return e.load(z[r], dt, b.CreateAdd(b.CreateMul(e.c64(g), H), u)); };
      Value *cOld = e.load(c, dt, b.CreateAdd(base, u));
      Value *cNew = b.CreateFAdd(b.CreateFMul(e.sigmoidOf(gate(1), dt), cOld),
                                 b.CreateFMul(e.sigmoidOf(gate(0), dt), e.tanhOf(gate(2), dt)));
      Value *hNew = b.CreateFMul(e.sigmoidOf(gate(3), dt), e.tanhOf(cNew, dt));
      e.store(cNew, c2, dt, b.CreateAdd(base, u));
      e.store(hNew, h2, dt, b.CreateAdd(base, u));
      e.store(hNew, hc[r], dt, u);
    });
  }
  // The queries (Bahdanau: h2 wq; Luong: h2).
  if (!luong)
    blockProduct(
        R, H, A, [&](int r, Value *k) { return e.load(hc[r], dt, k); }, wq,
        Values(q.begin(), q.begin() + R), /*accumulate=*/false);
  // The attention, row by row: an online softmax over the keys, the context after h2 in hc.
  for (int r = 0; r < R; ++r) {
    Value *rw = row(r);
    Value *query = luong ? hc[r] : q[r];
    Value *ctx = e.gep(hc[r], dt, H);
    Value *w = e.gep(weights, dt, b.CreateMul(rw, S));
    e.forLoop(D, [&](Value *d) { e.store(fc(0), ctx, dt, d); });
    Value *m = e.local(elt, fc(-std::numeric_limits<double>::infinity()));
    Value *l = e.local(elt, fc(0));
    e.forLoop(S, [&](Value *j) {
      Value *key = e.gep(kp, dt, b.CreateMul(b.CreateAdd(b.CreateMul(rw, S), j), A));
      e.forLoop(A, [&](Value *a) {
        Value *term =
            luong ? b.CreateFMul(e.load(query, dt, a), e.load(key, dt, a))
                  : b.CreateFMul(
                        e.load(v, dt, a),
                        e.tanhOf(b.CreateFAdd(e.load(key, dt, a), e.load(query, dt, a)), dt));
        e.store(term, t, dt, a);
      });
      Value *s = e.accumulate(A, {fc(0)}, [&](Value *a, const Values &acc) {
        return Values{b.CreateFAdd(acc[0], e.load(t, dt, a))};
      })[0];
      if (luong)
        s = b.CreateFMul(s, e.load(v, dt, e.c64(0)));
      if (mask)
        s = b.CreateFAdd(s, e.load(mask, dt, b.CreateAdd(b.CreateMul(rw, S), j)));
      e.store(s, w, dt, j);
      Value *mOld = b.CreateLoad(elt, m);
      Value *mNew = e.intrinsic(llvm::Intrinsic::maxnum, {mOld, s});
      Value *cf =
          expOrZero(b.CreateSelect(b.CreateFCmpOEQ(mOld, mNew), fc(0), b.CreateFSub(mOld, mNew)));
      Value *p = expOrZero(b.CreateFSub(s, mNew));
      // -inf - -inf is NaN: a row with nothing seen yet keeps cf = 1 (its context is 0) and
      // p = 0.
      p = b.CreateSelect(b.CreateFCmpUNO(p, p), fc(0), p);
      Value *vals = e.gep(values, dt, b.CreateMul(b.CreateAdd(b.CreateMul(rw, S), j), D));
      e.forLoop(D, [&](Value *d) {
        Value *acc = b.CreateFMul(e.load(ctx, dt, d), cf);
        e.store(e.intrinsic(llvm::Intrinsic::fmuladd, {p, e.load(vals, dt, d), acc}), ctx, dt, d);
      });
      b.CreateStore(e.intrinsic(llvm::Intrinsic::fmuladd, {b.CreateLoad(elt, l), cf, p}), l);
      b.CreateStore(mNew, m);
    });
    Value *lv = b.CreateLoad(elt, l), *mv = b.CreateLoad(elt, m);
    Value *inv = b.CreateSelect(b.CreateFCmpOGT(lv, fc(0)), b.CreateFDiv(fc(1), lv), fc(0));
    e.forLoop(D, [&](Value *d) { e.store(b.CreateFMul(e.load(ctx, dt, d), inv), ctx, dt, d); });
    e.forLoop(S, [&](Value *j) {
      Value *p = expOrZero(b.CreateFSub(e.load(w, dt, j), mv));
      p = b.CreateSelect(b.CreateFCmpUNO(p, p), fc(0), p);
      e.store(b.CreateFMul(p, inv), w, dt, j);
    });
  }
  // The attention vectors, then copied to their rows of att.
  blockProduct(
      R, HD, N, [&](int r, Value *k) { return e.load(hc[r], dt, k); }, wa,
      Values(out.begin(), out.begin() + R), /*accumulate=*/false);
  for (int r = 0; r < R; ++r) {
    Value *dst = e.gep(att, dt, b.CreateMul(row(r), N));
    e.forLoop(N, [&](Value *j) { e.store(e.load(out[r], dt, j), dst, dt, j); });
  }
}

Status StepEmitter::emit() {
  dt = op.result(0)->type().dtype();
  elt = e.storageTy(dt);
  luong = op.luong();
  const size_t base = luong ? 10 : 11;
  masked = op.numOperands() == base + 1;
  Values captured;
  for (ir::Value *operand : op.operands())
    captured.push_back(e.ptr(operand));
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
        z.clear(), q.clear(), hc.clear(), out.clear();
        for (int r = 0; r < kBlockRows; ++r) {
          z.push_back(b.CreateAlloca(elt, G));
          q.push_back(b.CreateAlloca(elt, A));
          hc.push_back(b.CreateAlloca(elt, HD));
          out.push_back(b.CreateAlloca(elt, N));
        }
        t = b.CreateAlloca(elt, A);
        Value *count = b.CreateSub(end, begin);
        Value *blocks = b.CreateUDiv(count, e.c64(kBlockRows));
        e.forLoop(blocks, [&](Value *i) {
          rowsFrom(kBlockRows, b.CreateAdd(begin, b.CreateMul(i, e.c64(kBlockRows))));
        });
        Value *rest = b.CreateAdd(begin, b.CreateMul(blocks, e.c64(kBlockRows)));
        e.forLoop(b.CreateSub(end, rest), [&](Value *i) { rowsFrom(1, b.CreateAdd(rest, i)); });
      });
  return {};
}

} // namespace

Status Emitter::emitLstmAttentionStep(const ir::Op &op) { return StepEmitter(*this, op).emit(); }

} // namespace weft::cpu::detail
