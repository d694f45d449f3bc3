//===- backends/cuda/Kernels.cpp ------------------------------------------===//
#include "backends/cuda/Kernels.h"

#include "backends/ScalarOps.h"
#include "backends/cuda/KernelEmitter.h"
#include "backends/cuda/Math.h"
#include "backends/cuda/Ptx.h"

#include <fmt/format.h>
#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/IntrinsicsNVPTX.h>
#include <llvm/IR/Module.h>

#include <cmath>
#include <cstddef>
#include <functional>

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
  /// pow in double, rounded once to the op's type.
  Value *pow(Value *x, Value *y) {
    bool f32 = x->getType()->isFloatTy();
    auto wide = [&](Value *v) { return f32 ? b.CreateFPExt(v, b.getDoubleTy()) : v; };
    Value *r = b.CreateCall(powFunction(m), {wide(x), wide(y)});
    return f32 ? b.CreateFPTrunc(r, x->getType()) : r;
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
    case OpKind::Sin:
      return math(MathFn::Sin, x);
    case OpKind::Cos:
      return math(MathFn::Cos, x);
    case OpKind::Erf:
      return math(MathFn::Erf, x);
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
    case OpKind::Div: {
      if (fl)
        return b.CreateFDiv(x, y);
      if (!divisionByZero) // a caller's bug: every kernel with a division passes a status word
        return err("integer 'div' in a kernel without a status word for its division by zero",
                   op.loc());
      llvm::Type *ty = x->getType();
      Value *zero = b.CreateICmpEQ(y, ic(ty, 0)), *minus1 = b.CreateICmpEQ(y, ic(ty, -1));
      divisionByZero(zero);
      // As the interpreter: C's truncation; INT_MIN / -1 wraps (negation) instead of trapping.
      Value *safe = b.CreateSelect(b.CreateOr(zero, minus1), ic(ty, 1), y);
      return b.CreateSelect(minus1, b.CreateSub(ic(ty, 0), x), b.CreateSDiv(x, safe));
    }
    case OpKind::Max:
    case OpKind::Min:
      return backends::emitMaxMin(b, op.kind() == OpKind::Max, fl, x, y);
    case OpKind::Pow:
      return pow(x, y);
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

  /// Emits what an integer division does where its divisor is zero; unset, integer division is
  /// an error.
  detail::DivisionByZero divisionByZero;

private:
  llvm::IRBuilder<> &b;
  llvm::Module &m;
};

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

bool elementwiseFaults(const ir::Op &op) {
  return op.kind() == OpKind::Div && !isFloat(op.operand(0)->type().dtype());
}

std::vector<const ir::Op *> fusionDivisions(const ir::Op &fusion) {
  std::vector<const ir::Op *> out;
  for (const auto &op : fusion.region().ops())
    if (elementwiseFaults(*op))
      out.push_back(op.get());
  return out;
}

Expected<llvm::Function *> emitElementwiseKernel(llvm::Module &m, const ir::Op &op,
                                                 const std::string &name, KernelTarget target,
                                                 bool inPlace) {
  if (!ir::isElementwise(op.kind()))
    return err(fmt::format("'{}' is not an elementwise op", op.name()), op.loc());
  const bool faults = elementwiseFaults(op);
  const unsigned numBuffers = static_cast<unsigned>(op.numOperands() + 1 + (faults ? 1 : 0));
  detail::KernelEmitter k(m, name, target, numBuffers, /*numScalars=*/1, /*noAlias=*/!inPlace);
  llvm::IRBuilder<> &b = k.b;
  Value *first = b.CreateAdd(b.CreateMul(k.ctaid(), k.ntid()), k.tid());
  Value *stride = b.CreateMul(k.nctaid(), k.ntid());
  ElementwiseEmitter e(b, m);
  Status failure;
  k.loop(first, k.scalar(0), stride, [&](Value *i) {
    if (faults) // the first element divided by zero, into the status word
      e.divisionByZero = [&, i](Value *zero) {
        k.when(zero, [&] { k.lowerStatus(k.buffer(numBuffers - 1), i); });
      };
    std::vector<Value *> xs;
    for (size_t j = 0; j < op.numOperands(); ++j)
      xs.push_back(
          e.load(k.buffer(static_cast<unsigned>(j + 1)), op.operand(j)->type().dtype(), i));
    auto y = e.scalar(op, xs);
    if (!y) {
      failure = y.status();
      return;
    }
    e.store(*y, k.buffer(0), op.result()->type().dtype(), i);
  });
  if (!failure) {
    k.f->eraseFromParent();
    return failure;
  }
  return k.finish();
}

namespace detail {

Expected<llvm::Value *> emitScalarOp(llvm::IRBuilder<> &b, llvm::Module &m, const ir::Op &op,
                                     const std::vector<llvm::Value *> &xs,
                                     const DivisionByZero &divisionByZero) {
  ElementwiseEmitter e(b, m);
  e.divisionByZero = divisionByZero;
  return e.scalar(op, xs);
}

namespace {
// The host build reads these HostThread fields as 8-byte words.
static_assert(sizeof(void *) == 8 && offsetof(HostThread, tid) == 0 &&
                  offsetof(HostThread, ntid) == 8 && offsetof(HostThread, ctaid) == 16 &&
                  offsetof(HostThread, nctaid) == 24 && offsetof(HostThread, shared) == 32 &&
                  offsetof(HostThread, barrier) == 40 && offsetof(HostThread, barrierState) == 48 &&
                  offsetof(HostThread, mmaTf32) == 56 && offsetof(HostThread, warpExchange) == 64 &&
                  offsetof(HostThread, yield) == 72,
              "HostThread's layout is what KernelEmitter reads");
enum HostField {
  kTid,
  kNtid,
  kCtaid,
  kNctaid,
  kShared,
  kBarrier,
  kBarrierState,
  kMmaTf32,
  kWarpExchange,
  kYield
};
} // namespace

KernelEmitter::KernelEmitter(llvm::Module &m, const std::string &name, KernelTarget target,
                             unsigned numBuffers, unsigned numScalars, bool noAlias)
    : b(m.getContext()), m(m), target(target), numBuffers_(numBuffers), numScalars_(numScalars) {
  llvm::LLVMContext &ctx = m.getContext();
  const bool gpu = target == KernelTarget::Nvptx;
  auto *ptr = llvm::PointerType::get(ctx, gpu ? /*global*/ 1 : 0);
  std::vector<llvm::Type *> params(numBuffers, ptr);
  params.insert(params.end(), numScalars, b.getInt64Ty());
  if (!gpu)
    params.push_back(llvm::PointerType::get(ctx, 0)); // HostThread *
  f = llvm::Function::Create(llvm::FunctionType::get(b.getVoidTy(), params, false),
                             llvm::Function::ExternalLinkage, name, m);
  if (gpu)
    f->setCallingConv(llvm::CallingConv::PTX_Kernel);
  for (unsigned i = 0; i < numBuffers && noAlias; ++i)
    f->addParamAttr(i, llvm::Attribute::NoAlias);
  b.SetInsertPoint(llvm::BasicBlock::Create(ctx, "entry", f));
}

Value *KernelEmitter::buffer(unsigned i) const {
  assert(i < numBuffers_ && "buffer index out of range");
  return f->getArg(i);
}
Value *KernelEmitter::scalar(unsigned i) const {
  assert(i < numScalars_ && "scalar index out of range");
  return f->getArg(numBuffers_ + i);
}
Value *KernelEmitter::hostThread() const { return f->getArg(numBuffers_ + numScalars_); }

Value *KernelEmitter::sreg(unsigned id, int field) {
  if (target == KernelTarget::Nvptx)
    return b.CreateZExt(b.CreateIntrinsic(static_cast<llvm::Intrinsic::ID>(id), {}, {}),
                        b.getInt64Ty());
  return b.CreateLoad(b.getInt64Ty(),
                      b.CreateConstInBoundsGEP1_64(b.getInt64Ty(), hostThread(), field));
}
Value *KernelEmitter::tid() { return sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_tid_x, kTid); }
Value *KernelEmitter::ntid() { return sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_ntid_x, kNtid); }
Value *KernelEmitter::ctaid() { return sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_ctaid_x, kCtaid); }
Value *KernelEmitter::nctaid() {
  return sreg(llvm::Intrinsic::nvvm_read_ptx_sreg_nctaid_x, kNctaid);
}

void KernelEmitter::barrier() {
  if (target == KernelTarget::Nvptx) {
    b.CreateIntrinsic(llvm::Intrinsic::nvvm_barrier0, {}, {});
    return;
  }
  auto *ptr = b.getPtrTy();
  auto word = [&](int field) {
    return b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(b.getInt64Ty(), hostThread(), field));
  };
  Value *fn = word(kBarrier), *state = word(kBarrierState);
  b.CreateCall(llvm::FunctionType::get(b.getVoidTy(), {ptr}, false), fn, {state});
}

void KernelEmitter::gridBarrier(Value *counter, Value *arrivals) {
  barrier(); // the block's writes of this phase are done
  when(b.CreateICmpEQ(tid(), i64(0)), [&] {
    const bool gpu = target == KernelTarget::Nvptx;
    // Release: the block's writes before the arrival (membar.gl is __threadfence()).
    if (gpu)
      b.CreateIntrinsic(llvm::Intrinsic::nvvm_membar_gl, {}, {});
    else
      b.CreateFence(llvm::AtomicOrdering::SequentiallyConsistent);
    b.CreateAtomicRMW(llvm::AtomicRMWInst::Add, counter, i64(1), llvm::MaybeAlign(8),
                      gpu ? llvm::AtomicOrdering::Monotonic
                          : llvm::AtomicOrdering::SequentiallyConsistent);
    llvm::LLVMContext &ctx = m.getContext();
    auto *spin = llvm::BasicBlock::Create(ctx, "grid.spin", f);
    auto *wait = llvm::BasicBlock::Create(ctx, "grid.wait", f);
    auto *done = llvm::BasicBlock::Create(ctx, "grid.done", f);
    b.CreateBr(spin);
    b.SetInsertPoint(spin);
    llvm::LoadInst *seen = b.CreateAlignedLoad(b.getInt64Ty(), counter, llvm::MaybeAlign(8));
    if (gpu) {
      seen->setVolatile(true); // ld.volatile.global: from L2, never a stale L1 line
    } else {
      seen->setAtomic(llvm::AtomicOrdering::Acquire);
    }
    b.CreateCondBr(b.CreateICmpSLT(seen, arrivals), wait, done);
    b.SetInsertPoint(wait);
    if (!gpu) {
      auto *ptr = b.getPtrTy();
      Value *fn =
          b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(b.getInt64Ty(), hostThread(), kYield));
      b.CreateCall(llvm::FunctionType::get(b.getVoidTy(), {}, false), fn, {});
    }
    b.CreateBr(spin);
    b.SetInsertPoint(done);
    // Acquire: the other blocks' writes before their arrivals.
    if (gpu)
      b.CreateIntrinsic(llvm::Intrinsic::nvvm_membar_gl, {}, {});
    else
      b.CreateFence(llvm::AtomicOrdering::SequentiallyConsistent);
  });
  barrier(); // the block goes on when its first thread has seen every arrival
}

void KernelEmitter::hostMmaTf32(Value *a, Value *b4, Value *c, int64_t tilesM, int64_t tilesN) {
  assert(target == KernelTarget::Host && "only the host build simulates mma");
  auto *ptr = b.getPtrTy();
  Value *fn =
      b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(b.getInt64Ty(), hostThread(), kMmaTf32));
  auto *type = llvm::FunctionType::get(b.getVoidTy(),
                                       {ptr, ptr, ptr, ptr, b.getInt64Ty(), b.getInt64Ty()}, false);
  b.CreateCall(type, fn, {hostThread(), a, b4, c, i64(tilesM), i64(tilesN)});
}

Value *KernelEmitter::shared(uint64_t bytes) {
  assert(bytes <= kMaxSharedBytes && "more shared memory than a block has");
  if (target == KernelTarget::Host)
    return b.CreateLoad(b.getPtrTy(),
                        b.CreateConstInBoundsGEP1_64(b.getInt64Ty(), hostThread(), kShared));
  auto *ty = llvm::ArrayType::get(b.getInt8Ty(), bytes);
  auto *g = new llvm::GlobalVariable(
      m, ty, /*isConstant=*/false, llvm::GlobalValue::InternalLinkage, llvm::UndefValue::get(ty),
      f->getName() + ".shared", nullptr, llvm::GlobalValue::NotThreadLocal, /*AddressSpace=*/3);
  g->setAlignment(llvm::Align(16));
  return g;
}

llvm::Type *KernelEmitter::storageTy(DType t) {
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

Value *KernelEmitter::load(llvm::Type *t, Value *base, Value *index) {
  return b.CreateLoad(t, b.CreateInBoundsGEP(t, base, index));
}
void KernelEmitter::store(Value *v, Value *base, Value *index) {
  b.CreateStore(v, b.CreateInBoundsGEP(v->getType(), base, index));
}

void KernelEmitter::loop(Value *begin, Value *end, Value *step,
                         const std::function<void(Value *)> &body) {
  llvm::LLVMContext &ctx = m.getContext();
  llvm::BasicBlock *pre = b.GetInsertBlock();
  auto *header = llvm::BasicBlock::Create(ctx, "loop", f);
  auto *inner = llvm::BasicBlock::Create(ctx, "body", f);
  auto *exit = llvm::BasicBlock::Create(ctx, "done", f);
  b.CreateBr(header);
  b.SetInsertPoint(header);
  llvm::PHINode *i = b.CreatePHI(b.getInt64Ty(), 2, "i");
  i->addIncoming(begin, pre);
  b.CreateCondBr(b.CreateICmpSLT(i, end), inner, exit);
  b.SetInsertPoint(inner);
  body(i);
  i->addIncoming(b.CreateAdd(i, step), b.GetInsertBlock());
  b.CreateBr(header);
  b.SetInsertPoint(exit);
}

void KernelEmitter::when(Value *cond, const std::function<void()> &then) {
  llvm::LLVMContext &ctx = m.getContext();
  auto *yes = llvm::BasicBlock::Create(ctx, "then", f);
  auto *next = llvm::BasicBlock::Create(ctx, "next", f);
  b.CreateCondBr(cond, yes, next);
  b.SetInsertPoint(yes);
  then();
  b.CreateBr(next);
  b.SetInsertPoint(next);
}

void KernelEmitter::lowerStatus(Value *status, Value *i) {
  b.CreateAtomicRMW(llvm::AtomicRMWInst::Min, status, i, llvm::MaybeAlign(8),
                    llvm::AtomicOrdering::Monotonic);
}

Value *KernelEmitter::variable(llvm::Type *t, Value *init, const std::string &name) {
  llvm::BasicBlock &entry = f->getEntryBlock();
  llvm::IRBuilder<> at(&entry, entry.begin());
  Value *slot = at.CreateAlloca(t, nullptr, name);
  b.CreateStore(init, slot);
  return slot;
}

Value *KernelEmitter::stridedOffset(Value *i, const std::vector<Value *> &dims,
                                    const std::vector<Value *> &strides) {
  assert(dims.size() == strides.size() && "one stride per axis");
  Value *offset = i64(0), *rest = i;
  for (size_t a = dims.size(); a-- > 0;) {
    Value *x = a == 0 ? rest : b.CreateURem(rest, dims[a]);
    if (a > 0)
      rest = b.CreateUDiv(rest, dims[a]);
    offset = b.CreateAdd(offset, b.CreateMul(x, strides[a]));
  }
  return offset;
}

llvm::Function *KernelEmitter::finish() {
  b.CreateRetVoid();
  return f;
}

} // namespace detail

} // namespace weft::cuda
