//===- backends/cuda/LstmAttentionStepKernels.cpp - lstm_attention_step's own kernels -===//
//
// The cell and the attention vector of lstm_attention_step (LstmAttentionStepKernels.h):
//
//   cell, for i = global thread; i < B H; i += grid's threads:     (b, u) = (i / H, i % H)
//     z_q = zx[b, q H + u] + zh[b, q H + u] + bias[q H + u]      q = i, f, g, o
//     c2[i] = sigmoid(z_f) c[i] + sigmoid(z_i) tanh(z_g)
//     h2[i] = sigmoid(z_o) tanh(c2[i])                           c2 as stored (rounded)
//
//   attention vector, for i = global thread; i < B N; i += grid's threads:   (b, n)
//     att[i] = sum_k h2[b, k] wa[k, n] + sum_d context[b, d] wa[H + d, n]
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/LstmAttentionStepKernels.h"

#include "backends/cuda/KernelEmitter.h"
#include "backends/cuda/Math.h"

#include <fmt/format.h>

namespace weft::cuda {
namespace {

using detail::KernelEmitter;
using llvm::Value;

Status checkType(DType t) {
  if (!isFloat(t))
    return err(fmt::format("lstm_attention_step is on floats, not {}", dtypeName(t)));
  return Status::ok();
}

/// Loads, widening to double, and stores, narrowing to the op's dtype.
struct Access {
  KernelEmitter &k;
  DType t;
  Value *load(Value *base, Value *i) {
    Value *x = k.load(k.storageTy(t), base, i);
    return t == DType::F32 ? k.b.CreateFPExt(x, k.b.getDoubleTy()) : x;
  }
  void store(Value *x, Value *base, Value *i) {
    k.store(t == DType::F32 ? k.b.CreateFPTrunc(x, k.storageTy(t)) : x, base, i);
  }
};

/// `for i = global thread index; i < n; i += grid's threads`.
void everyElement(KernelEmitter &k, Value *n, const std::function<void(Value *)> &body) {
  llvm::IRBuilder<> &b = k.b;
  Value *first = b.CreateAdd(b.CreateMul(k.ctaid(), k.ntid()), k.tid());
  k.loop(first, n, b.CreateMul(k.nctaid(), k.ntid()), body);
}

} // namespace

Expected<llvm::Function *> emitLstmAttentionCellKernel(llvm::Module &m, const std::string &name,
                                                       KernelTarget target, DType t) {
  WEFT_TRY(checkType(t));
  KernelEmitter k(m, name, target, 6, 2, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  Access a{k, t};
  Value *h2 = k.buffer(0), *c2 = k.buffer(1), *zx = k.buffer(2), *zh = k.buffer(3),
        *bias = k.buffer(4), *c = k.buffer(5);
  Value *B = k.scalar(0), *H = k.scalar(1);
  llvm::Function *sigmoid = mathFunction(m, MathFn::Sigmoid), *tanh = mathFunction(m, MathFn::Tanh);
  everyElement(k, b.CreateMul(B, H), [&](Value *i) {
    Value *row = b.CreateUDiv(i, H), *unit = b.CreateURem(i, H);
    Value *rowStart = b.CreateMul(row, b.CreateMul(H, k.i64(4)));
    auto gate = [&](int64_t q) {
      Value *col = b.CreateAdd(b.CreateMul(H, k.i64(q)), unit);
      Value *at = b.CreateAdd(rowStart, col);
      return b.CreateFAdd(b.CreateFAdd(a.load(zx, at), a.load(zh, at)), a.load(bias, col));
    };
    auto call = [&](llvm::Function *fn, Value *x) { return b.CreateCall(fn, {x}); };
    Value *cNew = b.CreateFAdd(b.CreateFMul(call(sigmoid, gate(1)), a.load(c, i)),
                               b.CreateFMul(call(sigmoid, gate(0)), call(tanh, gate(2))));
    a.store(cNew, c2, i);
    Value *cStored = a.load(c2, i); // h2 reads c2 as the op's result holds it
    a.store(b.CreateFMul(call(sigmoid, gate(3)), call(tanh, cStored)), h2, i);
  });
  return k.finish();
}

Expected<llvm::Function *> emitAttentionVectorKernel(llvm::Module &m, const std::string &name,
                                                     KernelTarget target, DType t) {
  WEFT_TRY(checkType(t));
  KernelEmitter k(m, name, target, 4, 4, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  Access a{k, t};
  Value *att = k.buffer(0), *h2 = k.buffer(1), *context = k.buffer(2), *wa = k.buffer(3);
  Value *B = k.scalar(0), *H = k.scalar(1), *D = k.scalar(2), *N = k.scalar(3);
  llvm::Type *f64 = b.getDoubleTy();
  Value *acc = k.variable(f64, llvm::ConstantFP::get(f64, 0.0), "acc");
  everyElement(k, b.CreateMul(B, N), [&](Value *i) {
    Value *row = b.CreateUDiv(i, N), *col = b.CreateURem(i, N);
    b.CreateStore(llvm::ConstantFP::get(f64, 0.0), acc);
    // Rows [0, H) of wa meet h2[b], rows [H, H + D) the context.
    auto dot = [&](Value *vec, Value *len, Value *firstRow) {
      Value *vecRow = b.CreateMul(row, len);
      k.loop(k.i64(0), len, k.i64(1), [&](Value *j) {
        Value *w = a.load(wa, b.CreateAdd(b.CreateMul(b.CreateAdd(firstRow, j), N), col));
        Value *term = b.CreateFMul(a.load(vec, b.CreateAdd(vecRow, j)), w);
        b.CreateStore(b.CreateFAdd(b.CreateLoad(f64, acc), term), acc);
      });
    };
    dot(h2, H, k.i64(0));
    dot(context, D, H);
    a.store(b.CreateLoad(f64, acc), att, i);
  });
  return k.finish();
}

} // namespace weft::cuda
