//===- backends/cpu/EmitSmallMatmul.cpp - float matmul with a few rows, unpacked -===//
//
// A matmul whose A has at most kSmallRows rows (a batch-1 RNN step is a vector times a matrix)
// is bound by reading B once, not by arithmetic, and the packed GEMM would copy B before
// reading it and fill most of each micro-tile with padding. This kernel reads B in place:
//
//   weft_parallel_for over tasks t = (batch, column chunk of CW = CV vectors):
//     acc[r][v] = 0 for each of the R rows and CV vectors
//     for k in K:  acc[r][v] = fma(A[r, k], B[k, chunk v], acc[r][v])   (B row read once)
//     C[r, chunk] = acc
//
// The last chunk of a row of B uses masked loads and stores. Each C element is one chain of
// multiply-adds (fused where the target has FMA), k ascending, written by one task: results do
// not depend on the thread count (and differ from the GEMM's only by where rounding falls).
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Emitter.h"

#include <fmt/format.h>
#include <llvm/IR/Intrinsics.h>

#include <algorithm>

namespace weft::cpu::detail {

using llvm::Value;

namespace {

class SmallMatmulEmitter {
public:
  SmallMatmulEmitter(Emitter &e, DType dt, int rows) : e(e), b(e.b), dt(dt), R(rows) {
    esz = dtypeBytes(dt);
    int vbytes = e.vectorBytes;
    W = vbytes / esz;
    // Accumulators: up to 16 of 32 (AVX-512) or 8 of 16 vector registers; at most 8 vectors
    // per row, as more columns per task add nothing to a load-bound loop.
    int budget = vbytes == 64 ? 16 : 8;
    CV = std::clamp(budget / R, 1, 8);
    CW = W * CV;
    elt = e.storageTy(dt);
    vec = llvm::FixedVectorType::get(elt, static_cast<unsigned>(W));
  }

  /// C[batch] = A[batch] (R x K) x B[batch] (K x N).
  void emit(Value *A, Value *B, Value *C, Value *batch, Value *K, Value *N) {
    llvm::Function *body = emitBody();
    Value *ctx = nullptr;
    {
      llvm::IRBuilder<> eb(&e.entry->front());
      ctx = eb.CreateAlloca(ctxTy);
    }
    Value *fields[] = {A, B, C, K, N};
    for (unsigned f = 0; f < std::size(fields); ++f)
      b.CreateStore(fields[f], b.CreateStructGEP(ctxTy, ctx, f));
    Value *chunks = b.CreateSDiv(b.CreateAdd(N, c64(CW - 1)), c64(CW));
    Value *work = b.CreateMul(c64(R * CW), b.CreateSelect(b.CreateICmpSLT(K, c64(1)), c64(1), K));
    Value *grain = b.CreateSDiv(c64(kGrainWork), work);
    grain = b.CreateSelect(b.CreateICmpSLT(grain, c64(1)), c64(1), grain);
    b.CreateCall(e.parallelFor(), {body, ctx, b.CreateMul(batch, chunks), grain});
  }

private:
  /// Multiply-adds a task should hold at least (chunks of smaller tasks are grouped).
  static constexpr int64_t kGrainWork = int64_t{1} << 17;

  Value *c64(int64_t v) { return e.c64(v); }
  Value *add(Value *x, Value *y) { return b.CreateAdd(x, y, "", true, true); }
  Value *mul(Value *x, Value *y) { return b.CreateMul(x, y, "", true, true); }
  Value *at(Value *p, Value *i) { return b.CreateInBoundsGEP(elt, p, i); }

  /// `void (ptr ctx, i64 begin, i64 end)` over tasks batch * chunks + chunk.
  llvm::Function *emitBody() {
    auto *ptrTy = b.getPtrTy();
    ctxTy = llvm::StructType::get(e.ctx, {ptrTy, ptrTy, ptrTy, e.i64Ty(), e.i64Ty()});
    // Everything else comes from the context: one copy serves every such matmul of the module.
    std::string name = fmt::format("weft.gemv.{}.w{}.r{}.cv{}", dtypeName(dt), W, R, CV);
    if (llvm::Function *shared = e.mod.getFunction(name))
      return shared;
    OutlinedBody body(e, "gemv");
    body.function->setName(name);
    auto field = [&](unsigned f) {
      return b.CreateLoad(ctxTy->getElementType(f), b.CreateStructGEP(ctxTy, body.ctx, f));
    };
    Value *A = field(0), *B = field(1), *C = field(2), *K = field(3), *N = field(4);
    Value *chunks = b.CreateSDiv(add(N, c64(CW - 1)), c64(CW));
    e.forLoop(b.CreateSub(body.end, body.begin), [&](Value *i) {
      Value *t = add(body.begin, i);
      Value *bi = b.CreateSDiv(t, chunks);
      Value *j0 = mul(b.CreateSRem(t, chunks), c64(CW));
      Value *Ab = at(A, mul(bi, mul(c64(R), K)));
      Value *Bb = at(B, add(mul(bi, mul(K, N)), j0));
      Value *Cb = at(C, add(mul(bi, mul(c64(R), N)), j0));
      Value *left = b.CreateSub(N, j0); // columns from j0 to the end of the row
      Value *full = b.CreateICmpSGE(left, c64(CW));
      e.ifThen(full, [&] { chunk(Ab, Bb, Cb, K, N, nullptr); });
      e.ifThen(b.CreateNot(full), [&] { chunk(Ab, Bb, Cb, K, N, left); });
    });
    b.CreateRetVoid();
    return body.function;
  }

  /// Lanes of vector v that fall before `left` columns.
  Value *laneMask(Value *left, int v) {
    Value *n = b.CreateVectorSplat(static_cast<unsigned>(W), b.CreateSub(left, c64(v * W)));
    std::vector<llvm::Constant *> lanes;
    for (int l = 0; l < W; ++l)
      lanes.push_back(b.getInt64(static_cast<uint64_t>(l)));
    return b.CreateICmpSLT(llvm::ConstantVector::get(lanes), n);
  }

  /// C[0:R, 0:CW] = A[0:R, :] x B[:, 0:CW] (row strides K, N, N); with `left`, only the first
  /// `left` columns are read and written.
  void chunk(Value *A, Value *B, Value *C, Value *K, Value *N, Value *left) {
    auto align = llvm::Align(static_cast<uint64_t>(esz));
    std::vector<Value *> masks;
    if (left)
      for (int v = 0; v < CV; ++v)
        masks.push_back(laneMask(left, v));
    auto *zero = llvm::Constant::getNullValue(vec);
    Values out = e.accumulate(
        K, Values(static_cast<size_t>(R * CV), zero), [&](Value *k, const Values &acc) {
          Value *bRow = at(B, mul(k, N));
          Values bv;
          for (int v = 0; v < CV; ++v) {
            Value *p = at(bRow, c64(v * W));
            bv.push_back(
                left ? static_cast<Value *>(b.CreateMaskedLoad(vec, p, align, masks[v], zero))
                     : b.CreateAlignedLoad(vec, p, align));
          }
          Values next(acc.size());
          for (int r = 0; r < R; ++r) {
            Value *s = b.CreateAlignedLoad(elt, at(A, add(mul(c64(r), K), k)), align);
            Value *splat = b.CreateVectorSplat(static_cast<unsigned>(W), s);
            for (int v = 0; v < CV; ++v)
              next[r * CV + v] = b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vec},
                                                   {splat, bv[v], acc[r * CV + v]});
          }
          return next;
        });
    for (int r = 0; r < R; ++r)
      for (int v = 0; v < CV; ++v) {
        Value *p = at(C, add(mul(c64(r), N), c64(v * W)));
        if (left)
          b.CreateMaskedStore(out[r * CV + v], p, align, masks[v]);
        else
          b.CreateAlignedStore(out[r * CV + v], p, align);
      }
  }

  Emitter &e;
  llvm::IRBuilder<> &b;
  DType dt;
  int R, esz = 4, W = 8, CV = 4, CW = 32;
  llvm::Type *elt = nullptr;
  llvm::VectorType *vec = nullptr;
  llvm::StructType *ctxTy = nullptr;
};

} // namespace

void Emitter::emitSmallMatmul(int rows, DType dt, Value *A, Value *B, Value *C, Value *batch,
                              Value *K, Value *N) {
  SmallMatmulEmitter(*this, dt, rows).emit(A, B, C, batch, K, N);
}

} // namespace weft::cpu::detail
