//===- backends/ScalarOps.h - weft's scalar semantics as LLVM IR ----------===//
//
// What one element of an elementwise op computes, where every LLVM-based backend (cpu, cuda)
// must agree with the interpreter: NaN-propagating max/min, ordered comparisons (ne unordered),
// logic on i1, and dtype conversion (ints to f32 through double, floats to ints saturating).
// Header-only, for translation units that already include LLVM.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/OpKind.h"
#include "runtime/DType.h"

#include <llvm/IR/IRBuilder.h>

#include <optional>

namespace weft::backends {

/// max/min with NaN propagation (either operand NaN gives NaN); signed for integers.
inline llvm::Value *emitMaxMin(llvm::IRBuilder<> &b, bool isMax, bool isFloat, llvm::Value *x,
                               llvm::Value *y) {
  if (!isFloat)
    return b.CreateSelect(isMax ? b.CreateICmpSGT(x, y) : b.CreateICmpSLT(x, y), x, y);
  llvm::Value *pick = b.CreateSelect(isMax ? b.CreateFCmpOGT(x, y) : b.CreateFCmpOLT(x, y), x, y);
  return b.CreateSelect(b.CreateFCmpUNO(x, y), llvm::ConstantFP::getNaN(x->getType()), pick);
}

/// A comparison or a logic op on one element, or nothing when `k` is neither.
inline std::optional<llvm::Value *> emitCompareOrLogic(llvm::IRBuilder<> &b, ir::OpKind k,
                                                       bool isFloat, llvm::Value *x,
                                                       llvm::Value *y) {
  using ir::OpKind;
  switch (k) {
  case OpKind::And:
    return b.CreateAnd(x, y);
  case OpKind::Or:
    return b.CreateOr(x, y);
  case OpKind::Xor:
    return b.CreateXor(x, y);
  case OpKind::Eq:
    return isFloat ? b.CreateFCmpOEQ(x, y) : b.CreateICmpEQ(x, y);
  case OpKind::Ne:
    return isFloat ? b.CreateFCmpUNE(x, y) : b.CreateICmpNE(x, y);
  case OpKind::Lt:
    return isFloat ? b.CreateFCmpOLT(x, y) : b.CreateICmpSLT(x, y);
  case OpKind::Le:
    return isFloat ? b.CreateFCmpOLE(x, y) : b.CreateICmpSLE(x, y);
  case OpKind::Gt:
    return isFloat ? b.CreateFCmpOGT(x, y) : b.CreateICmpSGT(x, y);
  case OpKind::Ge:
    return isFloat ? b.CreateFCmpOGE(x, y) : b.CreateICmpSGE(x, y);
  default:
    return std::nullopt;
  }
}

/// `cast` of one element from `from` to `to` (`toTy` its scalar type: i1 for I1): nonzero
/// to true; ints to f32 through double, as the interpreter rounds; floats to ints truncating
/// toward zero and saturating (NaN to 0).
inline llvm::Value *emitConvert(llvm::IRBuilder<> &b, llvm::Value *x, DType from, DType to,
                                llvm::Type *toTy) {
  if (from == to)
    return x;
  if (to == DType::I1)
    return isFloat(from) ? b.CreateFCmpUNE(x, llvm::ConstantFP::get(x->getType(), 0.0))
                         : b.CreateICmpNE(x, llvm::ConstantInt::get(x->getType(), 0));
  if (from == DType::I1)
    return isFloat(to) ? b.CreateUIToFP(x, toTy) : b.CreateZExt(x, toTy);
  if (isFloat(from) && isFloat(to))
    return to == DType::F64 ? b.CreateFPExt(x, toTy) : b.CreateFPTrunc(x, toTy);
  if (!isFloat(from) && !isFloat(to))
    return b.CreateSExtOrTrunc(x, toTy);
  if (!isFloat(from))
    return to == DType::F64 ? b.CreateSIToFP(x, toTy)
                            : b.CreateFPTrunc(b.CreateSIToFP(x, b.getDoubleTy()), toTy);
  return b.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {toTy, x->getType()}, {x});
}

} // namespace weft::backends
