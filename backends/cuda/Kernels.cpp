//===- backends/cuda/Kernels.cpp ------------------------------------------===//
#include "backends/cuda/Kernels.h"

#include "backends/ScalarOps.h"
#include "backends/cuda/Math.h"
#include "backends/cuda/Ptx.h"

#include <fmt/format.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/IntrinsicsNVPTX.h>
#include <llvm/IR/Module.h>

#include <cmath>

namespace weft::cuda {
namespace {

using ir::OpKind;
using llvm::Value;

class ElementwiseEmitter {
public:
  ElementwiseEmitter(llvm::IRBuilder<> &b, llvm::Module &m) : b(b), m(m) {}

  llvm::Type *storageTy(DType t) {
    switch (t) {
    case DType::F32:
      return b.getFloatTy();
    case DType::F64:
      return b.getDoubleTy();
    case DType::I32:
      return b.getInt32Ty();
    case DType::I64:
      return b.getInt64Ty();
    case DType::I1:
      return b.getInt8Ty();
    }
    WEFT_UNREACHABLE("unknown dtype");
  }
  llvm::Type *scalarTy(DType t) { return t == DType::I1 ? b.getInt1Ty() : storageTy(t); }

  Value *load(Value *base, DType t, Value *i) {
    Value *v = b.CreateLoad(storageTy(t), b.CreateInBoundsGEP(storageTy(t), base, i));
    return t == DType::I1 ? b.CreateTrunc(v, b.getInt1Ty()) : v;
  }
  void store(Value *v, Value *base, DType t, Value *i) {
    if (t == DType::I1)
      v = b.CreateZExt(v, b.getInt8Ty());
    b.CreateStore(v, b.CreateInBoundsGEP(storageTy(t), base, i));
  }

  Value *fc(llvm::Type *t, double v) { return llvm::ConstantFP::get(t, v); }
  Value *ic(llvm::Type *t, int64_t v) {
    return llvm::ConstantInt::get(t, static_cast<uint64_t>(v), true);
  }
  Value *intrinsic(llvm::Intrinsic::ID id, Value *x) {
    return b.CreateIntrinsic(id, {x->getType()}, {x});
  }

  /// A math function computed in double, rounded once to the op's type (as the interpreter).
  Value *math(MathFn fn, Value *x) {
    bool f32 = x->getType()->isFloatTy();
    Value *d = f32 ? b.CreateFPExt(x, b.getDoubleTy()) : x;
    Value *y = b.CreateCall(mathFunction(m, fn), {d});
    return f32 ? b.CreateFPTrunc(y, x->getType()) : y;
  }
  /// 1 / sqrt(x) in double, rounded once.
  Value *rsqrt(Value *x) {
    bool f32 = x->getType()->isFloatTy();
    Value *d = f32 ? b.CreateFPExt(x, b.getDoubleTy()) : x;
    Value *y = b.CreateFDiv(fc(d->getType(), 1.0), intrinsic(llvm::Intrinsic::sqrt, d));
    return f32 ? b.CreateFPTrunc(y, x->getType()) : y;
  }

  Expected<Value *> unary(const ir::Op &op, DType t, Value *x) {
    llvm::Type *ty = x->getType();
    const bool fl = isFloat(t);
    switch (op.kind()) {
    case OpKind::Neg:
      return fl ? b.CreateFNeg(x) : b.CreateSub(ic(ty, 0), x);
    case OpKind::Abs:
      return fl ? intrinsic(llvm::Intrinsic::fabs, x)
                : b.CreateSelect(b.CreateICmpSLT(x, ic(ty, 0)), b.CreateSub(ic(ty, 0), x), x);
    case OpKind::Sign:
      if (fl) // zeros and NaN map to themselves
        return b.CreateSelect(b.CreateFCmpOGT(x, fc(ty, 0)), fc(ty, 1),
                              b.CreateSelect(b.CreateFCmpOLT(x, fc(ty, 0)), fc(ty, -1), x));
      return b.CreateSelect(b.CreateICmpSGT(x, ic(ty, 0)), ic(ty, 1),
                            b.CreateSelect(b.CreateICmpSLT(x, ic(ty, 0)), ic(ty, -1), ic(ty, 0)));
    case OpKind::Relu:
      if (fl) // NaN stays NaN; -0 becomes +0
        return b.CreateSelect(b.CreateFCmpUNO(x, x), x,
                              b.CreateSelect(b.CreateFCmpOGT(x, fc(ty, 0)), x, fc(ty, 0)));
      return b.CreateSelect(b.CreateICmpSGT(x, ic(ty, 0)), x, ic(ty, 0));
    case OpKind::Exp:
      return math(MathFn::Exp, x);
    case OpKind::Log:
      return math(MathFn::Log, x);
    case OpKind::Tanh:
      return math(MathFn::Tanh, x);
    case OpKind::Sigmoid:
      return math(MathFn::Sigmoid, x);
    case OpKind::Sqrt:
      return intrinsic(llvm::Intrinsic::sqrt, x); // correctly rounded
    case OpKind::Rsqrt:
      return rsqrt(x);
    case OpKind::Floor:
      return intrinsic(llvm::Intrinsic::floor, x);
    case OpKind::Ceil:
      return intrinsic(llvm::Intrinsic::ceil, x);
    case OpKind::Not:
      return b.CreateNot(x);
    case OpKind::StopGradient:
      return x;
    default:
      return err(fmt::format("'{}' is not on the CUDA backend yet: its math is not written for "
                             "the GPU",
                             op.name()),
                 op.loc());
    }
  }

  Expected<Value *> binary(const ir::Op &op, DType t, Value *x, Value *y) {
    const bool fl = isFloat(t);
    switch (op.kind()) {
    case OpKind::Add:
      return fl ? b.CreateFAdd(x, y) : b.CreateAdd(x, y);
    case OpKind::Sub:
      return fl ? b.CreateFSub(x, y) : b.CreateSub(x, y);
    case OpKind::Mul:
      return fl ? b.CreateFMul(x, y) : b.CreateMul(x, y);
    case OpKind::Div:
      if (fl)
        return b.CreateFDiv(x, y);
      return err("integer 'div' is not on the CUDA backend yet: its division-by-zero fault "
                 "needs a status word per call",
                 op.loc());
    case OpKind::Max:
    case OpKind::Min:
      return backends::emitMaxMin(b, op.kind() == OpKind::Max, fl, x, y);
    default:
      if (auto v = backends::emitCompareOrLogic(b, op.kind(), fl, x, y))
        return *v;
      return err(fmt::format("'{}' is not on the CUDA backend yet: its math is not written for "
                             "the GPU",
                             op.name()),
                 op.loc());
    }
  }

  Value *convert(Value *x, DType from, DType to) {
    return backends::emitConvert(b, x, from, to, scalarTy(to));
  }

  Expected<Value *> scalar(const ir::Op &op, const std::vector<Value *> &xs) {
    DType in = op.operand(op.kind() == OpKind::Select ? 1 : 0)->type().dtype();
    if (op.kind() == OpKind::Select)
      return b.CreateSelect(xs[0], xs[1], xs[2]);
    if (op.kind() == OpKind::Cast)
      return convert(xs[0], in, op.result()->type().dtype());
    if (xs.size() == 1)
      return unary(op, in, xs[0]);
    return binary(op, in, xs[0], xs[1]);
  }

private:
  llvm::IRBuilder<> &b;
  llvm::Module &m;
};

/// The global index of this thread and the number of threads in the grid (as i64).
std::pair<Value *, Value *> gridIndex(llvm::IRBuilder<> &b) {
  auto sreg = [&](llvm::Intrinsic::ID id) {
    return b.CreateZExt(b.CreateIntrinsic(id, {}, {}), b.getInt64Ty());
  };
  Value *tid = sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x);
  Value *ntid = sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_ntid_x);
  Value *ctaid = sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x);
  Value *nctaid = sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_nctaid_x);
  return {b.CreateAdd(b.CreateMul(ctaid, ntid), tid), b.CreateMul(nctaid, ntid)};
}

} // namespace

KernelModule::KernelModule() = default;
KernelModule::KernelModule(KernelModule &&) noexcept = default;
KernelModule &KernelModule::operator=(KernelModule &&) noexcept = default;
KernelModule::~KernelModule() = default;

KernelModule makeKernelModule(KernelTarget target, const std::string &name) {
  KernelModule km;
  km.context = std::make_unique<llvm::LLVMContext>();
  km.module = target == KernelTarget::Nvptx ? newKernelModule(*km.context, name)
                                            : std::make_unique<llvm::Module>(name, *km.context);
  return km;
}

Expected<llvm::Function *> emitElementwiseKernel(llvm::Module &m, const ir::Op &op,
                                                 const std::string &name, KernelTarget target,
                                                 bool inPlace) {
  const bool gpu = target == KernelTarget::Nvptx;
  if (!ir::isElementwise(op.kind()))
    return err(fmt::format("'{}' is not an elementwise op", op.name()), op.loc());
  llvm::LLVMContext &ctx = m.getContext();
  llvm::IRBuilder<> b(ctx);
  auto *ptr = llvm::PointerType::get(ctx, gpu ? /*global*/ 1 : 0);
  const unsigned numBuffers = static_cast<unsigned>(op.numOperands() + 1);
  std::vector<llvm::Type *> params(numBuffers, ptr);
  params.push_back(b.getInt64Ty());
  if (!gpu)
    params.insert(params.end(), {b.getInt64Ty(), b.getInt64Ty()}); // first, stride
  auto *f = llvm::Function::Create(llvm::FunctionType::get(b.getVoidTy(), params, false),
                                   llvm::Function::ExternalLinkage, name, m);
  if (gpu)
    f->setCallingConv(llvm::CallingConv::PTX_Kernel);
  for (unsigned i = 0; i < numBuffers && !inPlace; ++i)
    f->addParamAttr(i, llvm::Attribute::NoAlias);

  auto *entry = llvm::BasicBlock::Create(ctx, "entry", f);
  auto *loop = llvm::BasicBlock::Create(ctx, "loop", f);
  auto *body = llvm::BasicBlock::Create(ctx, "body", f);
  auto *exit = llvm::BasicBlock::Create(ctx, "exit", f);
  b.SetInsertPoint(entry);
  auto [first, stride] =
      gpu ? gridIndex(b)
          : std::pair<Value *, Value *>{f->getArg(numBuffers + 1), f->getArg(numBuffers + 2)};
  Value *n = f->getArg(numBuffers);
  b.CreateBr(loop);

  b.SetInsertPoint(loop);
  llvm::PHINode *i = b.CreatePHI(b.getInt64Ty(), 2, "i");
  i->addIncoming(first, entry);
  b.CreateCondBr(b.CreateICmpSLT(i, n), body, exit);

  b.SetInsertPoint(body);
  ElementwiseEmitter e(b, m);
  std::vector<Value *> xs;
  for (size_t k = 0; k < op.numOperands(); ++k)
    xs.push_back(e.load(f->getArg(static_cast<unsigned>(k + 1)), op.operand(k)->type().dtype(), i));
  auto y = e.scalar(op, xs);
  if (!y) {
    f->eraseFromParent();
    return y.diag();
  }
  e.store(*y, f->getArg(0), op.result()->type().dtype(), i);
  i->addIncoming(b.CreateAdd(i, stride), b.GetInsertBlock());
  b.CreateBr(loop);

  b.SetInsertPoint(exit);
  b.CreateRetVoid();
  return f;
}

} // namespace weft::cuda
