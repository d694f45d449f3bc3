//===- backends/cuda/MathIR.h - double and double-double arithmetic in IR -===//
//
// Internal to backends/cuda: what the math functions of MathTrig.cpp, MathErf.cpp and
// MathPow.cpp build their IR from. A double-double (DD) is an unevaluated sum hi + lo with
// |lo| <= ulp(hi) / 2, about 106 bits; the error-free transformations are the classic ones
// (Knuth's two-sum, Dekker's fast two-sum, the product's error by fma).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/Module.h>

#include <initializer_list>
#include <iterator>

namespace weft::cuda::detail {

struct DD {
  llvm::Value *hi, *lo;
};

class F64Builder {
public:
  explicit F64Builder(llvm::IRBuilder<> &b) : b(b), f64(b.getDoubleTy()), i64(b.getInt64Ty()) {}

  llvm::IRBuilder<> &b;
  llvm::Type *f64, *i64;

  llvm::Value *c(double v) { return llvm::ConstantFP::get(f64, v); }
  llvm::Value *ci(int64_t v) { return llvm::ConstantInt::get(i64, static_cast<uint64_t>(v), true); }
  llvm::Value *fma(llvm::Value *a, llvm::Value *x, llvm::Value *y) {
    return b.CreateIntrinsic(llvm::Intrinsic::fma, {f64}, {a, x, y});
  }
  llvm::Value *rint(llvm::Value *x) { return b.CreateIntrinsic(llvm::Intrinsic::rint, {f64}, {x}); }
  llvm::Value *fabs(llvm::Value *x) { return b.CreateIntrinsic(llvm::Intrinsic::fabs, {f64}, {x}); }
  llvm::Value *copysign(llvm::Value *mag, llvm::Value *sign) {
    return b.CreateIntrinsic(llvm::Intrinsic::copysign, {f64}, {mag, sign});
  }
  llvm::Value *isNan(llvm::Value *x) { return b.CreateFCmpUNO(x, x); }
  /// The integer value of a float known to be integral and small (saturating: no poison).
  llvm::Value *toInt(llvm::Value *n) {
    return b.CreateIntrinsic(llvm::Intrinsic::fptosi_sat, {i64, f64}, {n});
  }
  /// 2^k for an integer k in [-1022, 1023], from its bits.
  llvm::Value *pow2(llvm::Value *k) {
    return b.CreateBitCast(b.CreateShl(b.CreateAdd(k, ci(1023)), ci(52)), f64);
  }
  /// sum_k coeffs[k] x^k by Horner's rule.
  llvm::Value *poly(llvm::Value *x, std::initializer_list<double> coeffs) {
    auto it = std::rbegin(coeffs);
    llvm::Value *acc = c(*it++);
    for (; it != std::rend(coeffs); ++it)
      acc = fma(acc, x, c(*it));
    return acc;
  }

  /// a + b exactly, for any a and b.
  DD twoSum(llvm::Value *a, llvm::Value *x) {
    llvm::Value *s = b.CreateFAdd(a, x);
    llvm::Value *bb = b.CreateFSub(s, a);
    llvm::Value *err = b.CreateFAdd(b.CreateFSub(a, b.CreateFSub(s, bb)), b.CreateFSub(x, bb));
    return {s, err};
  }
  /// a + b exactly, for |a| >= |b| (or a = 0).
  DD fastTwoSum(llvm::Value *a, llvm::Value *x) {
    llvm::Value *s = b.CreateFAdd(a, x);
    return {s, b.CreateFSub(x, b.CreateFSub(s, a))};
  }
  /// a * b exactly.
  DD twoProd(llvm::Value *a, llvm::Value *x) {
    llvm::Value *p = b.CreateFMul(a, x);
    return {p, fma(a, x, b.CreateFNeg(p))};
  }
  DD add(DD a, DD x) {
    DD s = twoSum(a.hi, x.hi);
    return fastTwoSum(s.hi, b.CreateFAdd(s.lo, b.CreateFAdd(a.lo, x.lo)));
  }
  DD add(DD a, llvm::Value *x) {
    DD s = twoSum(a.hi, x);
    return fastTwoSum(s.hi, b.CreateFAdd(s.lo, a.lo));
  }
  DD mul(DD a, DD x) {
    DD p = twoProd(a.hi, x.hi);
    llvm::Value *cross = fma(a.hi, x.lo, b.CreateFMul(a.lo, x.hi));
    return fastTwoSum(p.hi, b.CreateFAdd(p.lo, cross));
  }
  DD mul(DD a, llvm::Value *x) {
    DD p = twoProd(a.hi, x);
    return fastTwoSum(p.hi, fma(a.lo, x, p.lo));
  }
};

/// Bodies of the math functions (Math.h), in double, at the builder's position in function
/// `b.GetInsertBlock()->getParent()` of module `m` (sin and cos add blocks to it).
llvm::Value *emitSinCos(llvm::IRBuilder<> &b, llvm::Module &m, llvm::Value *x, bool cosine);
llvm::Value *emitErf(llvm::IRBuilder<> &b, llvm::Module &m, llvm::Value *x);
llvm::Value *emitPow(llvm::IRBuilder<> &b, llvm::Module &m, llvm::Value *x, llvm::Value *y);

} // namespace weft::cuda::detail
