//===- backends/cpu/EmitParallel.cpp - row kernels over the thread pool ---===//
//
// An outlined kernel over rows [begin, end) runs through weft_parallel_for
// when its work is large enough, else in one call on this thread. The chunk
// size depends only on the row count and the work, never on the thread count,
// so results do not either.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Emitter.h"

namespace weft::cpu {
namespace detail {

using llvm::Value;

llvm::FunctionCallee Emitter::parallelFor() {
  auto *ptrTy = b.getPtrTy();
  auto *fty = llvm::FunctionType::get(b.getVoidTy(), {ptrTy, ptrTy, i64Ty(), i64Ty()}, false);
  return mod.getOrInsertFunction("weft_parallel_for", fty);
}

void Emitter::dispatchRows(llvm::Function *kernel, Value *ctxPtr, Value *rows, Value *work,
                           int64_t minWork, int64_t grainWork, const char *label) {
  auto atLeast1 = [&](Value *v) { return b.CreateSelect(b.CreateICmpSLT(v, c64(1)), c64(1), v); };
  Value *perRow = atLeast1(b.CreateSDiv(work, atLeast1(rows)));
  Value *grain = atLeast1(b.CreateSDiv(c64(grainWork), perRow));
  Value *parallel = b.CreateAnd(b.CreateICmpSGE(work, c64(minWork)), b.CreateICmpSGT(rows, grain));
  auto *par = llvm::BasicBlock::Create(ctx, std::string(label) + ".parallel", fn);
  auto *serial = llvm::BasicBlock::Create(ctx, std::string(label) + ".serial", fn);
  auto *done = llvm::BasicBlock::Create(ctx, std::string(label) + ".done", fn);
  b.CreateCondBr(parallel, par, serial);
  b.SetInsertPoint(par);
  b.CreateCall(parallelFor(), {kernel, ctxPtr, rows, grain});
  b.CreateBr(done);
  b.SetInsertPoint(serial);
  b.CreateCall(kernel, {ctxPtr, c64(0), rows});
  b.CreateBr(done);
  b.SetInsertPoint(done);
}

namespace {
/// Below this many elements a standalone op runs on the calling thread.
constexpr int64_t kParallelElements = int64_t{1} << 16;
/// A parallel chunk touches about this many elements.
constexpr int64_t kGrainElements = int64_t{1} << 14;
} // namespace

void Emitter::parallelRows(Value *n, Value *work, const Values &captured,
                           const std::function<void(const Values &, Value *, Value *)> &rows) {
  Values fields = captured;
  fields.push_back(dimsArg);
  fields.push_back(statusArg);
  std::vector<llvm::Type *> types;
  for (Value *f : fields)
    types.push_back(f->getType());
  auto *ctxTy = llvm::StructType::get(ctx, types);
  llvm::Function *kernel = nullptr;
  {
    OutlinedBody body(*this, "rows");
    // Called directly too when small; inlining that call would only double the code to compile.
    body.function->addFnAttr(llvm::Attribute::NoInline);
    b.SetInsertPoint(entry->getTerminator()); // the context is read once, in the entry block
    Values inner;
    for (unsigned f = 0; f < types.size(); ++f)
      inner.push_back(b.CreateLoad(types[f], b.CreateStructGEP(ctxTy, body.ctx, f)));
    statusArg = inner.back();
    inner.pop_back();
    dimsArg = inner.back();
    inner.pop_back();
    b.SetInsertPoint(entry->getTerminator()->getSuccessor(0));
    rows(inner, body.begin, body.end);
    b.CreateRetVoid();
    kernel = body.function;
  }
  Value *ctxPtr = nullptr;
  {
    llvm::IRBuilder<> eb(&entry->front());
    ctxPtr = eb.CreateAlloca(ctxTy);
  }
  for (unsigned f = 0; f < fields.size(); ++f)
    b.CreateStore(fields[f], b.CreateStructGEP(ctxTy, ctxPtr, f));
  dispatchRows(kernel, ctxPtr, n, work, kParallelElements, kGrainElements, "rows");
}

} // namespace detail
} // namespace weft::cpu
