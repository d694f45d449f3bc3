//===- backends/cuda/ReduceEmitter.h - how reductions combine, in LLVM IR --===//
//
// Internal to backends/cuda: the accumulation shared by the reduction kernels
// (ReduceKernels.cpp) and the fused kernels' trailing reductions (FusionKernel.cpp):
// floats in double, integers in i64; max, min and argmax keep the first of equal elements and
// prefer NaN, as the interpreter does.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "backends/cuda/KernelEmitter.h"

namespace weft::cuda::detail {

using llvm::Value;

/// A partial result: its value (double or i64) and the reduced position it came from (-1: none
/// yet).
struct Partial {
  Value *value, *index;
};

class ReduceEmitter {
public:
  ReduceEmitter(KernelEmitter &k, ReduceKind kind, bool fl) : k(k), b(k.b), kind(kind), fl(fl) {}

  llvm::Type *accTy() { return fl ? b.getDoubleTy() : b.getInt64Ty(); }
  bool picks() const { return kind != ReduceKind::Sum && kind != ReduceKind::Mean; }

  Value *identity() {
    return fl ? llvm::ConstantFP::get(accTy(), 0.0) : static_cast<Value *>(k.i64(0));
  }

  /// `earlier` combined with `later`: their sum, or the one max/min keeps.
  Partial combine(Partial earlier, Partial later) {
    if (!picks())
      return {fl ? b.CreateFAdd(earlier.value, later.value)
                 : b.CreateAdd(earlier.value, later.value),
              earlier.index};
    Value *none = b.CreateICmpSLT(earlier.index, k.i64(0));
    Value *absent = b.CreateICmpSLT(later.index, k.i64(0));
    Value *first = b.CreateICmpSLT(later.index, earlier.index);
    const bool max = kind != ReduceKind::Min;
    Value *prefer;
    if (fl) {
      Value *xn = b.CreateFCmpUNO(later.value, later.value);
      Value *yn = b.CreateFCmpUNO(earlier.value, earlier.value);
      Value *better = max ? b.CreateFCmpOGT(later.value, earlier.value)
                          : b.CreateFCmpOLT(later.value, earlier.value);
      Value *same = b.CreateFCmpOEQ(later.value, earlier.value);
      // NaN beats numbers; among NaNs, and among equal numbers (-0 and +0 too), the first.
      prefer = b.CreateSelect(
          b.CreateAnd(xn, yn), first,
          b.CreateSelect(b.CreateXor(xn, yn), xn, b.CreateSelect(same, first, better)));
    } else {
      Value *better = max ? b.CreateICmpSGT(later.value, earlier.value)
                          : b.CreateICmpSLT(later.value, earlier.value);
      prefer = b.CreateSelect(b.CreateICmpEQ(later.value, earlier.value), first, better);
    }
    Value *take = b.CreateAnd(b.CreateNot(absent), b.CreateOr(none, prefer));
    return {b.CreateSelect(take, later.value, earlier.value),
            b.CreateSelect(take, later.index, earlier.index)};
  }

  Value *widen(Value *x, DType t) {
    switch (t) {
    case DType::F32:
      return b.CreateFPExt(x, b.getDoubleTy());
    case DType::I32:
      return b.CreateSExt(x, b.getInt64Ty());
    default:
      return x;
    }
  }

  /// The result element of partial `p` over `count` reduced elements, in `out`'s storage type.
  Value *finish(Partial p, Value *count, DType out) {
    if (kind == ReduceKind::Argmax)
      return p.index;
    Value *v = p.value;
    if (kind == ReduceKind::Mean)
      v = b.CreateFDiv(v, b.CreateUIToFP(count, b.getDoubleTy()));
    switch (out) {
    case DType::F32:
      return b.CreateFPTrunc(v, b.getFloatTy());
    case DType::I32:
      return b.CreateTrunc(v, b.getInt32Ty());
    default:
      return v;
    }
  }

private:
  KernelEmitter &k;
  llvm::IRBuilder<> &b;
  ReduceKind kind;
  bool fl;
};

} // namespace weft::cuda::detail
