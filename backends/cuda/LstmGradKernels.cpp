//===- backends/cuda/LstmGradKernels.cpp - lstm_sequence_grad's elementwise kernels -===//
//
// The kernels LowerLstmGrad.cpp puts between its matmuls (GradKernels.h): the previous h of
// every step, the gates of every step at once, the cell states (a thread per unit walks its
// example's steps: the only sequential part of the recomputation), and one step's gate
// gradients. Arithmetic in double, as eval/LstmSequenceGrad.cpp's; stored in the op's dtype.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/GradAccess.h"
#include "backends/cuda/GradKernels.h"
#include "backends/cuda/KernelEmitter.h"
#include "backends/cuda/Math.h"

#include <fmt/format.h>

namespace weft::cuda {
namespace {

using detail::everyElement;
using detail::KernelEmitter;
using Access = detail::GradAccess;
using llvm::Value;

Status checkTypes(DType t, std::optional<DType> lengths) {
  if (!isFloat(t))
    return err(fmt::format("lstm_sequence_grad is on floats, not {}", dtypeName(t)));
  if (lengths && *lengths != DType::I32 && *lengths != DType::I64)
    return err(
        fmt::format("lstm_sequence_grad's lengths are i32 or i64, not {}", dtypeName(*lengths)));
  return Status::ok();
}

/// Example b's length: len[b], or T without lengths.
Value *lengthOf(KernelEmitter &k, std::optional<DType> lengths, Value *len, Value *b, Value *T) {
  if (!lengths)
    return T;
  Value *n = k.load(k.storageTy(*lengths), len, b);
  return *lengths == DType::I32 ? k.b.CreateSExt(n, k.b.getInt64Ty()) : n;
}

} // namespace

Expected<llvm::Function *> emitLstmPreviousStateKernel(llvm::Module &m, const std::string &name,
                                                       KernelTarget target, DType t,
                                                       std::optional<DType> lengths, bool reverse) {
  WEFT_TRY(checkTypes(t, lengths));
  KernelEmitter k(m, name, target, 4, 3, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  Access a{k, t};
  Value *hp = k.buffer(0), *h0 = k.buffer(1), *hs = k.buffer(2), *len = k.buffer(3);
  Value *T = k.scalar(0), *B = k.scalar(1), *H = k.scalar(2);
  Value *BH = b.CreateMul(B, H);
  everyElement(k, b.CreateMul(T, BH), [&](Value *i) {
    Value *step = b.CreateUDiv(i, BH), *rest = b.CreateURem(i, BH);
    Value *ex = b.CreateUDiv(rest, H);
    Value *n = lengthOf(k, lengths, len, ex, T);
    Value *first =
        reverse ? b.CreateICmpEQ(step, b.CreateSub(n, k.i64(1))) : b.CreateICmpEQ(step, k.i64(0));
    Value *before = reverse ? b.CreateAdd(step, k.i64(1)) : b.CreateSub(step, k.i64(1));
    Value *v = k.variable(b.getDoubleTy(), a.c(0));
    k.when(b.CreateICmpSLT(step, n), [&] {
      // Selects would load hs[-1] or hs[T]: branch instead.
      Value *fromH0 = a.load(h0, rest);
      b.CreateStore(fromH0, v);
      k.when(b.CreateNot(first),
             [&] { b.CreateStore(a.load(hs, b.CreateAdd(b.CreateMul(before, BH), rest)), v); });
    });
    a.store(b.CreateLoad(b.getDoubleTy(), v), hp, i);
  });
  return k.finish();
}

Expected<llvm::Function *> emitLstmGatesKernel(llvm::Module &m, const std::string &name,
                                               KernelTarget target, DType t) {
  WEFT_TRY(checkTypes(t, std::nullopt));
  KernelEmitter k(m, name, target, 3, 3, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  Access a{k, t};
  Value *act = k.buffer(0), *zh = k.buffer(1), *bias = k.buffer(2);
  Value *G = k.scalar(1), *H = k.scalar(2);
  llvm::Function *sigmoid = mathFunction(m, MathFn::Sigmoid), *tanh = mathFunction(m, MathFn::Tanh);
  everyElement(k, k.scalar(0), [&](Value *i) {
    Value *q = b.CreateURem(i, G);
    Value *z = b.CreateFAdd(b.CreateFAdd(a.load(act, i), a.load(zh, i)), a.load(bias, q));
    Value *isG = b.CreateAnd(b.CreateICmpSGE(q, b.CreateMul(H, k.i64(2))),
                             b.CreateICmpSLT(q, b.CreateMul(H, k.i64(3))));
    a.store(b.CreateSelect(isG, b.CreateCall(tanh, {z}), b.CreateCall(sigmoid, {z})), act, i);
  });
  return k.finish();
}

Expected<llvm::Function *> emitLstmCellKernel(llvm::Module &m, const std::string &name,
                                              KernelTarget target, DType t,
                                              std::optional<DType> lengths, bool reverse) {
  WEFT_TRY(checkTypes(t, lengths));
  KernelEmitter k(m, name, target, 5, 3, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  Access a{k, t};
  Value *cs = k.buffer(0), *cp = k.buffer(1), *act = k.buffer(2), *c0 = k.buffer(3),
        *len = k.buffer(4);
  Value *T = k.scalar(0), *B = k.scalar(1), *H = k.scalar(2);
  Value *BH = b.CreateMul(B, H), *G = b.CreateMul(H, k.i64(4));
  Value *c = k.variable(b.getDoubleTy(), a.c(0), "c");
  everyElement(k, BH, [&](Value *e) {
    Value *ex = b.CreateUDiv(e, H), *j = b.CreateURem(e, H);
    Value *n = lengthOf(k, lengths, len, ex, T);
    k.loop(n, T, k.i64(1), [&](Value *step) { // past the example's length
      Value *at = b.CreateAdd(b.CreateMul(step, BH), e);
      a.store(a.c(0), cs, at);
      a.store(a.c(0), cp, at);
    });
    b.CreateStore(a.load(c0, e), c);
    k.loop(k.i64(0), n, k.i64(1), [&](Value *s) {
      Value *step = reverse ? b.CreateSub(b.CreateSub(n, k.i64(1)), s) : s;
      Value *at = b.CreateAdd(b.CreateMul(step, BH), e);
      Value *gates = b.CreateAdd(b.CreateMul(b.CreateAdd(b.CreateMul(step, B), ex), G), j);
      auto gate = [&](int64_t which) {
        return a.load(act, b.CreateAdd(gates, b.CreateMul(H, k.i64(which))));
      };
      Value *prev = b.CreateLoad(b.getDoubleTy(), c);
      a.store(prev, cp, at);
      Value *next = b.CreateFAdd(b.CreateFMul(gate(1), prev), b.CreateFMul(gate(0), gate(2)));
      b.CreateStore(next, c);
      a.store(next, cs, at);
    });
  });
  return k.finish();
}

Expected<llvm::Function *> emitLstmGateGradKernel(llvm::Module &m, const std::string &name,
                                                  KernelTarget target, DType t) {
  WEFT_TRY(checkTypes(t, std::nullopt));
  KernelEmitter k(m, name, target, 8, 2, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  Access a{k, t};
  Value *dz = k.buffer(0), *dcOut = k.buffer(1), *act = k.buffer(2), *cs = k.buffer(3),
        *cp = k.buffer(4), *dhs = k.buffer(5), *dh = k.buffer(6), *dc = k.buffer(7);
  Value *H = k.scalar(1);
  llvm::Function *tanh = mathFunction(m, MathFn::Tanh);
  auto one = [&](Value *x) { return b.CreateFSub(a.c(1), x); };
  everyElement(k, k.scalar(0), [&](Value *e) {
    Value *ex = b.CreateUDiv(e, H), *j = b.CreateURem(e, H);
    Value *row = b.CreateAdd(b.CreateMul(ex, b.CreateMul(H, k.i64(4))), j);
    auto at = [&](int64_t which) { return b.CreateAdd(row, b.CreateMul(H, k.i64(which))); };
    Value *i = a.load(act, at(0)), *f = a.load(act, at(1)), *g = a.load(act, at(2)),
          *o = a.load(act, at(3));
    Value *dht = b.CreateFAdd(a.load(dh, e), a.load(dhs, e));
    Value *tc = b.CreateCall(tanh, {a.load(cs, e)});
    Value *dct =
        b.CreateFAdd(a.load(dc, e), b.CreateFMul(b.CreateFMul(dht, o), one(b.CreateFMul(tc, tc))));
    a.store(b.CreateFMul(b.CreateFMul(b.CreateFMul(dct, g), i), one(i)), dz, at(0));
    a.store(b.CreateFMul(b.CreateFMul(b.CreateFMul(dct, a.load(cp, e)), f), one(f)), dz, at(1));
    a.store(b.CreateFMul(b.CreateFMul(dct, i), one(b.CreateFMul(g, g))), dz, at(2));
    a.store(b.CreateFMul(b.CreateFMul(b.CreateFMul(dht, tc), o), one(o)), dz, at(3));
    a.store(b.CreateFMul(dct, f), dcOut, e);
  });
  return k.finish();
}

} // namespace weft::cuda
