//===- backends/cpu/EmitMatmul.cpp - float matmul as a packed, blocked GEMM -===//
//
// The classic Goto/BLIS scheme, generated as LLVM IR (no library call):
//
//   for each batch:
//     for jc in N by NC:                 B block of KC x NC, packed in NR-wide strips
//       for pc in K by KC:
//         weft_parallel_for over strips s: pack B[pc:pc+kc, jc:jc+nc] into Bp (strip s:
//           kc rows of NR, zero-padded)
//         weft_parallel_for over tasks (ic in M by MC) x (column group of whole strips, NB wide
//         or narrower where that leaves a thread fewer than 2 tasks, weft_num_threads):
//           pack A[ic:ic+mc, pc:pc+kc] into Ap (panel p: kc columns of MR, zero-padded), unless
//             N spans at most two strips (A is then read in place: a copy would not pay back)
//           for jr in the group by NR, ir in mc by MR:
//             MR x NR micro-tile: prefetch the C tile; MR * nv vector accumulators, nv the
//             vectors that hold a column before the strip's end (a narrow last strip costs what
//             it holds), one llvm.fmuladd (an FMA where the target has one) per (row, vector)
//             per k; then C += tile (the first k block stores), straight to C, with rows past
//             M skipped and the lanes past N masked at the edges.
//
// The tile and block sizes, and the rule that picks them, are in MatmulBlocks.h.
//
// A matmul in a loop body whose B is computed before the loop (a weight) skips both packing
// steps: the loop packs all of B once, before its first trip, block after block in the layout
// of Prepack.h (packAll), and each trip reads its blocks from there.
//
// W is the target's vector width in elements (targetVectorBytes: 512-bit with AVX-512F, else
// 256-bit with AVX, else 128-bit; CompileOptions::cpu's for the JIT, --cpu's for AOT). Bp is a
// scratch slot; Ap lives on the stack of the outlined task body (one per running task). All are
// sized at compile time; where M, N or K are static and small the blocks shrink to fit them (M into
// equal blocks, so that tasks are balanced). How a block is cut into tasks depends on the thread
// count, but each task writes its own tile of C and the k blocks stay serial, so every element of C
// is the same sum in the same order, and results are bit-identical for any thread count. The sum
// over k is accumulated in the element type, in a different order than the interpreter's (k
// ascending per block, multiply-adds, fused where the target has FMA).
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Emitter.h"
#include "backends/cpu/MatmulBlocks.h"
#include "backends/cpu/Prepack.h"

#include <fmt/format.h>
#include <llvm/IR/Intrinsics.h>
#include <llvm/MC/MCSubtargetInfo.h>

#include <algorithm>

namespace weft::cpu {

int targetVectorBytes(const llvm::TargetMachine &tm) {
  const llvm::MCSubtargetInfo *sti = tm.getMCSubtargetInfo();
  if (sti->checkFeatures("+avx512f"))
    return 64;
  return sti->checkFeatures("+avx") ? 32 : 16;
}

namespace detail {

using llvm::Value;

namespace {

/// Emits one packed GEMM for one matmul op.
class GemmEmitter {
public:
  GemmEmitter(Emitter &e, DType dt) : e(e), b(e.b), dt(dt) { elt = e.storageTy(dt); }

  /// C[batch] = A[batch] x B[batch]. With `packedB`, all of B (rank 2) is already packed there
  /// (packAll), and no block of it is packed here.
  void emit(const ir::Dim &Md, const ir::Dim &Kd, const ir::Dim &Nd, Value *A, Value *B, Value *C,
            Value *batch, Value *M, Value *K, Value *N, Value *packedB,
            Value *blockScratch = nullptr) {
    setBlocks(Md, Kd, Nd);
    if (!packedB) // the scratch model's packed-B slot, unless the caller took it
      Bp = blockScratch ? blockScratch : e.scratchBuffer(ir::Type({KC * NC}, dt));
    llvm::Function *body = emitTileBody();
    llvm::Function *packBody = packedB ? nullptr : emitPackBody("packb");
    Value *ctx = nullptr, *packCtx = nullptr;
    {
      llvm::IRBuilder<> eb(&e.entry->front());
      ctx = eb.CreateAlloca(ctxTy);
      if (packBody)
        packCtx = eb.CreateAlloca(packCtxTy);
    }

    Value *threads = e.numThreads();
    // The first k block stores C; with no k blocks (K = 0) C is zero.
    e.ifThen(b.CreateICmpEQ(K, c64(0)),
             [&] { e.memZero(C, mul(batch, mul(M, mul(N, c64(esz))))); });
    e.forLoop(batch, [&](Value *bi) {
      Value *Ab = at(A, mul(bi, mul(M, K)));
      Value *Bb = at(B, mul(bi, mul(K, N)));
      Value *Cb = at(C, mul(bi, mul(M, N)));
      blocks(N, NC, [&](Value *jc, Value *nc) {
        blocks(K, KC, [&](Value *pc, Value *kc) {
          // Tasks: M blocks x column groups of this B block, each on its own output tile.
          // Column groups of whole strips, NB columns wide, or narrower where that leaves fewer
          // than kTasksPerThread tasks per thread (load balance); each task packs its A block,
          // so narrower groups cost more packing.
          Value *nIc = ceilDiv(M, c64(MC));
          Value *strips = ceilDiv(nc, c64(NR));
          Value *want = ceilDiv(mul(threads, c64(kTasksPerThread)), max(nIc, c64(1))); // M may be 0
          Value *wide = ceilDiv(nc, c64(NB));
          Value *groups = min(max(want, wide), strips);
          Value *gw = mul(ceilDiv(strips, groups), c64(NR));
          Value *nJg = ceilDiv(nc, gw);
          // With one M block every strip of B serves one task, which packs its own strips
          // (no barrier, and they are hot when used). Otherwise strips are shared: they are
          // packed first, in parallel too (serial packing would idle the other threads).
          // A B packed before the loop is only read.
          Value *packInTask = b.getFalse(), *Bblock = Bp;
          if (packedB) {
            Bblock = packedBlock(packedB, K, pc, jc);
          } else {
            packInTask = b.CreateICmpEQ(nIc, c64(1));
            e.ifThen(b.CreateNot(packInTask),
                     [&] { packBlock(packBody, packCtx, Bb, Bp, N, pc, kc, jc, nc); });
          }
          Value *fields[] = {Ab,     Bblock, Cb, M,   K,  N,  pc,
                             kc,     jc,     nc, nJg, gw, Bb, b.CreateZExt(packInTask, e.i64Ty()),
                             c64(MC)};
          for (unsigned f = 0; f < std::size(fields); ++f)
            b.CreateStore(fields[f], b.CreateStructGEP(ctxTy, ctx, f));
          Value *work = mul(c64(MC), mul(gw, kc));
          Value *grain = b.CreateSDiv(c64(kGrainWork), work);
          grain = b.CreateSelect(b.CreateICmpSLT(grain, c64(1)), c64(1), grain);
          b.CreateCall(e.parallelFor(), {body, ctx, mul(nIc, nJg), grain});
        });
      });
    });
  }

  /// Packs all of B (K x N, rank 2) into `dst` block by block, in the layout of Prepack.h.
  void packAll(const ir::Dim &Md, const ir::Dim &Kd, const ir::Dim &Nd, Value *B, Value *dst,
               Value *K, Value *N) {
    setBlocks(Md, Kd, Nd);
    llvm::Function *packBody = emitPackBody("prepackb");
    Value *packCtx = nullptr;
    {
      llvm::IRBuilder<> eb(&e.entry->front());
      packCtx = eb.CreateAlloca(packCtxTy);
    }
    blocks(N, NC, [&](Value *jc, Value *nc) {
      blocks(K, KC, [&](Value *pc, Value *kc) {
        packBlock(packBody, packCtx, B, packedBlock(dst, K, pc, jc), N, pc, kc, jc, nc);
      });
    });
  }

private:
  void setBlocks(const ir::Dim &Md, const ir::Dim &Kd, const ir::Dim &Nd) {
    GemmBlocks g = gemmBlocks(dt, e.vectorBytes, Md, Kd, Nd);
    esz = g.esz, W = g.W, NV = g.NV, NR = g.NR, MR = g.MR;
    KC = g.KC, MC = g.MC, NC = g.NC, NB = g.NB;
    maxKC = g.maxKC, maxMC = g.maxMC;
    packsA = g.packA;
    vec = llvm::FixedVectorType::get(elt, static_cast<unsigned>(W));
    if (W * esz == 64)
      e.fn->addFnAttr("min-legal-vector-width", "512");
  }

  /// The block of B starting at row pc, column jc in a B packed whole (Prepack.h's layout).
  Value *packedBlock(Value *packed, Value *K, Value *pc, Value *jc) {
    Value *kBlocks = ceilDiv(K, c64(KC));
    Value *index = add(mul(b.CreateUDiv(jc, c64(NC)), kBlocks), b.CreateUDiv(pc, c64(KC)));
    return at(packed, mul(index, c64(KC * NC)));
  }

  /// Packs the B block at rows pc + [0, kc), columns jc + [0, nc) of `Bsrc` into `dst`, its
  /// strips in parallel.
  void packBlock(llvm::Function *packBody, Value *packCtx, Value *Bsrc, Value *dst, Value *N,
                 Value *pc, Value *kc, Value *jc, Value *nc) {
    Value *packFields[] = {Bsrc, dst, N, pc, kc, jc, nc};
    for (unsigned f = 0; f < std::size(packFields); ++f)
      b.CreateStore(packFields[f], b.CreateStructGEP(packCtxTy, packCtx, f));
    Value *packGrain = b.CreateSDiv(c64(kGrainPack), mul(kc, c64(NR)));
    packGrain = b.CreateSelect(b.CreateICmpSLT(packGrain, c64(1)), c64(1), packGrain);
    b.CreateCall(e.parallelFor(), {packBody, packCtx, ceilDiv(nc, c64(NR)), packGrain});
  }

  Value *c64(int64_t v) { return e.c64(v); }
  Value *add(Value *x, Value *y) { return b.CreateAdd(x, y, "", true, true); }
  Value *mul(Value *x, Value *y) { return b.CreateMul(x, y, "", true, true); }
  Value *min(Value *x, Value *y) { return b.CreateSelect(b.CreateICmpSLT(x, y), x, y); }
  Value *max(Value *x, Value *y) { return b.CreateSelect(b.CreateICmpSLT(x, y), y, x); }
  Value *at(Value *p, Value *i) { return b.CreateInBoundsGEP(elt, p, i); }
  Value *ceilDiv(Value *x, Value *y) { return b.CreateSDiv(add(x, b.CreateSub(y, c64(1))), y); }

  /// Tasks per thread a B block is cut into, where it is large enough: enough that threads
  /// finish together, few enough that repacking A per task stays cheap.
  static constexpr int64_t kTasksPerThread = 2;
  /// The widest column group, in elements.
  int64_t NB = 0;
  /// Multiply-adds a task should hold at least (chunks of smaller tasks are grouped).
  static constexpr int64_t kGrainWork = int64_t{1} << 18;
  /// Elements of B a packing task should copy at least.
  static constexpr int64_t kGrainPack = int64_t{1} << 15;

  /// The outlined packing body `void (ptr ctx, i64 begin, i64 end)`: packs strips
  /// [begin, end) of the B block (packStrip); each strip is written by one task. It reads all
  /// it needs from its context, so every matmul of the module with the same dtype and NR calls
  /// one copy, named for them (less code for LLVM to optimize).
  llvm::Function *emitPackBody(const char *suffix) {
    auto *ptrTy = b.getPtrTy();
    packCtxTy = llvm::StructType::get(
        e.ctx, {ptrTy, ptrTy, e.i64Ty(), e.i64Ty(), e.i64Ty(), e.i64Ty(), e.i64Ty()});
    std::string name = fmt::format("weft.{}.{}.nr{}", suffix, dtypeName(dt), NR);
    if (llvm::Function *shared = e.mod.getFunction(name))
      return shared;
    OutlinedBody body(e, suffix);
    body.function->setName(name);
    Value *outerBp = Bp;
    Value *ctx = body.ctx, *begin = body.begin, *end = body.end;
    auto field = [&](unsigned f) {
      return b.CreateLoad(packCtxTy->getElementType(f), b.CreateStructGEP(packCtxTy, ctx, f));
    };
    Value *Bsrc = field(0), *N = field(2), *pc = field(3), *kc = field(4), *jc = field(5),
          *nc = field(6);
    Bp = field(1); // the outer function's buffer, as this function sees it
    e.forLoop(b.CreateSub(end, begin), [&](Value *i) {
      Value *j0 = mul(add(begin, i), c64(NR));
      packStrip(Bsrc, N, pc, kc, jc, j0, min(c64(NR), b.CreateSub(nc, j0)));
    });
    b.CreateRetVoid();
    Bp = outerBp;
    return body.function;
  }

  /// The outlined body `void (ptr ctx, i64 begin, i64 end)`: for each task t in [begin, end),
  /// M block t / nJg and column group t % nJg of the packed B block, it packs that A block (into
  /// its own stack scratch; once per M block in a chunk) and runs the micro-kernels of the tile.
  /// Each task writes only its own tile of C, and the sum over k keeps its order, so results do
  /// not depend on how tasks are split among threads. Shared by all the matmuls with the same
  /// dtype, vector width, tile and A packing: the M block MC comes in the context and kc with
  /// each k block, and the A scratch has room for the largest blocks (MatmulBlocks.h), so the
  /// shapes of a module do not each pay LLVM for a copy of this, the largest function it has.
  llvm::Function *emitTileBody() {
    auto *ptrTy = b.getPtrTy();
    ctxTy = llvm::StructType::get(e.ctx, {ptrTy, ptrTy, ptrTy, e.i64Ty(), e.i64Ty(), e.i64Ty(),
                                          e.i64Ty(), e.i64Ty(), e.i64Ty(), e.i64Ty(), e.i64Ty(),
                                          e.i64Ty(), ptrTy, e.i64Ty(), e.i64Ty()});
    std::string name =
        fmt::format("weft.gemm.{}.w{}.{}x{}{}", dtypeName(dt), W, MR, NR, packsA ? "" : ".ain");
    if (llvm::Function *shared = e.mod.getFunction(name))
      return shared;
    OutlinedBody body(e, "gemm");
    body.function->setName(name);
    if (W * esz == 64)
      body.function->addFnAttr("min-legal-vector-width", "512");
    Value *ctx = body.ctx, *begin = body.begin, *end = body.end;
    auto field = [&](unsigned f) {
      return b.CreateLoad(ctxTy->getElementType(f), b.CreateStructGEP(ctxTy, ctx, f));
    };
    Value *Ab = field(0), *Bpk = field(1), *Cb = field(2), *M = field(3), *K = field(4),
          *N = field(5), *pc = field(6), *kc = field(7), *jc = field(8), *nc = field(9),
          *nJg = field(10), *gw = field(11), *Bsrc = field(12), *packInTask = field(13),
          *MCv = field(14);
    Value *firstK = b.CreateICmpEQ(pc, c64(0));
    auto *scratchTy = llvm::ArrayType::get(elt, static_cast<uint64_t>(maxMC * maxKC));
    if (packsA) {
      llvm::IRBuilder<> eb(&e.entry->front());
      Ap = eb.CreateAlloca(scratchTy);
      llvm::cast<llvm::AllocaInst>(Ap)->setAlignment(llvm::Align(64));
    }
    e.forLoop(b.CreateSub(end, begin), [&](Value *i) {
      Value *t = add(begin, i);
      Value *ic = mul(b.CreateSDiv(t, nJg), MCv);
      Value *jg = b.CreateSRem(t, nJg);
      Value *mc = min(MCv, b.CreateSub(M, ic));
      Value *j0 = mul(jg, gw);
      Value *ncg = min(gw, b.CreateSub(nc, j0));
      ncg = b.CreateSelect(b.CreateICmpSLT(ncg, c64(0)), c64(0), ncg);
      if (packsA)
        e.ifThen(b.CreateOr(b.CreateICmpEQ(i, c64(0)), b.CreateICmpEQ(jg, c64(0))),
                 [&] { packA(Ab, K, ic, mc, pc, kc); });
      e.ifThen(b.CreateICmpNE(packInTask, c64(0)), [&] {
        Value *outerBp = Bp;
        Bp = Bpk;
        blocks(ncg, NR,
               [&](Value *jl, Value *nr) { packStrip(Bsrc, N, pc, kc, jc, add(j0, jl), nr); });
        Bp = outerBp;
      });
      blocks(ncg, NR, [&](Value *jl, Value *nr) {
        Value *jr = add(j0, jl);
        blocks(mc, MR, [&](Value *ir, Value *mr) {
          Value *c = at(Cb, add(mul(add(ic, ir), N), add(jc, jr)));
          Value *a = packsA ? at(Ap, mul(ir, kc)) : at(Ab, add(mul(add(ic, ir), K), pc));
          microKernel(kc, a, K, at(Bpk, mul(jr, kc)), c, N, mr, nr, firstK);
        });
      });
    });
    b.CreateRetVoid();
    return body.function;
  }

  /// for (start = 0; start < n; start += step) body(start, min(step, n - start)).
  void blocks(Value *n, int64_t step, const std::function<void(Value *, Value *)> &body) {
    Value *count = b.CreateUDiv(add(n, c64(step - 1)), c64(step));
    e.forLoop(count, [&](Value *i) {
      Value *start = mul(i, c64(step));
      body(start, min(c64(step), b.CreateSub(n, start)));
    });
  }

  /// The Bp strip of columns jc + j0 ... jc + j0 + nr: kc rows of NR elements, zero past nr.
  void packStrip(Value *Bsrc, Value *N, Value *pc, Value *kc, Value *jc, Value *j0, Value *nr) {
    {
      Value *dst = at(Bp, mul(j0, kc));
      Value *src = at(Bsrc, add(mul(pc, N), add(jc, j0)));
      Value *full = b.CreateICmpEQ(nr, c64(NR));
      e.ifThen(full, [&] {
        e.forLoop(kc, [&](Value *k) {
          b.CreateMemCpy(at(dst, mul(k, c64(NR))), llvm::MaybeAlign(esz), at(src, mul(k, N)),
                         llvm::MaybeAlign(esz), NR * esz);
        });
      });
      e.ifThen(b.CreateNot(full), [&] {
        e.memZero(dst, mul(kc, c64(NR * esz)));
        e.forLoop(kc, [&](Value *k) {
          e.memCopy(at(dst, mul(k, c64(NR))), at(src, mul(k, N)), mul(nr, c64(esz)));
        });
      });
    }
  }

  /// Ap panel p (rows ic + p*MR ...): kc columns of MR elements, zero past row ic + mc.
  void packA(Value *Asrc, Value *K, Value *ic, Value *mc, Value *pc, Value *kc) {
    blocks(mc, MR, [&](Value *i0, Value *mr) {
      Value *dst = at(Ap, mul(i0, kc));
      e.forLoop(c64(MR), [&](Value *i) {
        Value *d = at(dst, i);
        Value *row = b.CreateICmpSLT(i, mr);
        e.ifThen(row, [&] {
          Value *src = at(Asrc, add(mul(add(ic, add(i0, i)), K), pc));
          e.forLoop(kc, [&](Value *k) {
            Value *v = b.CreateAlignedLoad(elt, at(src, k), llvm::Align(esz));
            b.CreateAlignedStore(v, at(d, mul(k, c64(MR))), llvm::Align(esz));
          });
        });
        e.ifThen(b.CreateNot(row), [&] {
          e.forLoop(kc, [&](Value *k) {
            b.CreateAlignedStore(llvm::Constant::getNullValue(elt), at(d, mul(k, c64(MR))),
                                 llvm::Align(esz));
          });
        });
      });
    });
  }

  /// Asks for the C tile's rows to be brought into cache for writing, so that the update after
  /// the k loop does not wait on memory: with a large C (2048 x 2048 is 16 MB) the tile has left
  /// the caches since the previous k block, and its rows, one per page, each miss.
  void prefetchTile(Value *c, Value *ldc, Value *mr) {
    int64_t lines = (NR * esz + 63) / 64;
    Value *last = b.CreateSub(mr, c64(1));
    for (int i = 0; i < MR; ++i) {
      Value *row = b.CreateSelect(b.CreateICmpSLT(c64(i), mr), c64(i), last);
      Value *p = b.CreateGEP(elt, c, mul(row, ldc));
      for (int64_t l = 0; l < lines; ++l)
        b.CreateIntrinsic(llvm::Intrinsic::prefetch, {b.getPtrTy()},
                          {b.CreateGEP(b.getInt8Ty(), p, c64(l * 64)), b.getInt32(1), b.getInt32(3),
                           b.getInt32(1)});
    }
  }

  /// Lanes of a vector that fall before `left` columns.
  Value *laneMask(Value *left) {
    std::vector<llvm::Constant *> lanes;
    for (int l = 0; l < W; ++l)
      lanes.push_back(b.getInt64(static_cast<uint64_t>(l)));
    return b.CreateICmpSLT(llvm::ConstantVector::get(lanes),
                           b.CreateVectorSplat(static_cast<unsigned>(W), left));
  }

  /// C[0:mr, 0:nr] (row stride ldc) += A x bs (kc x NR, packed), or = where `first` (the first
  /// k block). A is the packed panel `a` (kc columns of MR), or where A is read in place, the
  /// rows a + i * lda (rows past mr repeat the last one: computed, never stored). Only the
  /// vectors that hold a column before nr are computed, so a narrow last strip (N = 50 is
  /// 32 + 18 with NR = 32) costs what it holds, not a whole tile.
  void microKernel(Value *kc, Value *a, Value *lda, Value *bs, Value *c, Value *ldc, Value *mr,
                   Value *nr, Value *first) {
    prefetchTile(c, ldc, mr);
    if (NV == 1)
      return tileOf(1, kc, a, lda, bs, c, ldc, mr, nr, first);
    Value *vectors = ceilDiv(nr, c64(W));
    for (int nv = 1; nv <= NV; ++nv)
      e.ifThen(b.CreateICmpEQ(vectors, c64(nv)),
               [&] { tileOf(nv, kc, a, lda, bs, c, ldc, mr, nr, first); });
  }

  /// The micro-tile over the first nv vectors of the strip (nr > (nv - 1) * W columns).
  void tileOf(int nv, Value *kc, Value *a, Value *lda, Value *bs, Value *c, Value *ldc, Value *mr,
              Value *nr, Value *first) {
    Value *lastRow = b.CreateSub(mr, c64(1));
    auto aRow = [&](int i) {
      if (packsA)
        return at(a, c64(i));
      Value *row = i == 0 ? c64(0) : min(c64(i), lastRow);
      return at(a, mul(row, lda));
    };
    Values next = e.gemmTileProduct(dt, MR, nv, kc, aRow, packsA ? MR : 1, bs, NR);
    auto cAt = [&](int i, int v) { return at(c, add(mul(c64(i), ldc), c64(v * W))); };
    auto align = llvm::Align(esz);

    // A whole tile: plain stores (the first k block stores, C is not zeroed beforehand; later
    // ones add to it).
    Value *full = b.CreateAnd(b.CreateICmpEQ(mr, c64(MR)), b.CreateICmpEQ(nr, c64(nv * W)));
    e.ifThen(b.CreateAnd(full, first), [&] {
      for (int i = 0; i < MR; ++i)
        for (int v = 0; v < nv; ++v)
          b.CreateAlignedStore(next[i * nv + v], cAt(i, v), align);
    });
    e.ifThen(b.CreateAnd(full, b.CreateNot(first)), [&] {
      for (int i = 0; i < MR; ++i)
        for (int v = 0; v < nv; ++v) {
          Value *old = b.CreateAlignedLoad(vec, cAt(i, v), align);
          b.CreateAlignedStore(b.CreateFAdd(old, next[i * nv + v]), cAt(i, v), align);
        }
    });
    // At an edge: rows past mr are skipped, the last vector's lanes past nr are masked.
    e.ifThen(b.CreateNot(full), [&] {
      Value *mask = laneMask(b.CreateSub(nr, c64((nv - 1) * W)));
      auto *zero = llvm::Constant::getNullValue(vec);
      for (int i = 0; i < MR; ++i)
        e.ifThen(b.CreateICmpSLT(c64(i), mr), [&] {
          for (int v = 0; v < nv; ++v) {
            Value *p = cAt(i, v), *t = next[i * nv + v];
            bool last = v == nv - 1;
            Value *old = last ? static_cast<Value *>(b.CreateMaskedLoad(vec, p, align, mask, zero))
                              : b.CreateAlignedLoad(vec, p, align); // unused when first
            Value *sum = b.CreateSelect(first, t, b.CreateFAdd(old, t));
            if (last)
              b.CreateMaskedStore(sum, p, align, mask);
            else
              b.CreateAlignedStore(sum, p, align);
          }
        });
    });
  }

  Emitter &e;
  llvm::IRBuilder<> &b;
  DType dt;
  int esz = 4, W = 8, NV = 2, NR = 16, MR = 6;
  int64_t MC = 0, KC = 0, NC = 0, maxMC = 0, maxKC = 0;
  llvm::StructType *ctxTy = nullptr, *packCtxTy = nullptr;
  llvm::Type *elt = nullptr;
  llvm::VectorType *vec = nullptr;
  bool packsA = true;
  Value *Ap = nullptr, *Bp = nullptr;
};

} // namespace

Values Emitter::gemmTileProduct(DType dt, int MR, int NV, Value *kc,
                                const std::function<Value *(int)> &aRow, int64_t aKStride,
                                Value *bs, int64_t bKStride) {
  llvm::Type *elt = storageTy(dt);
  const int esz = static_cast<int>(dtypeBytes(dt)), W = vectorBytes / esz;
  const int64_t NR = bKStride ? bKStride : W * NV;
  auto *vec = llvm::FixedVectorType::get(elt, static_cast<unsigned>(W));
  auto vAlign = llvm::Align(static_cast<uint64_t>(W * esz));
  auto at = [&](Value *p, Value *i) { return b.CreateInBoundsGEP(elt, p, i); };
  auto mul = [&](Value *x, Value *y) { return b.CreateMul(x, y, "", true, true); };
  Values rows;
  for (int i = 0; i < MR; ++i)
    rows.push_back(aRow(i));
  Values zero(static_cast<size_t>(MR * NV), llvm::Constant::getNullValue(vec));
  return accumulate(kc, zero, [&](Value *k, const Values &acc) {
    Values bv;
    Value *bRow = at(bs, mul(k, c64(NR)));
    for (int v = 0; v < NV; ++v)
      bv.push_back(b.CreateAlignedLoad(vec, at(bRow, c64(v * W)), vAlign));
    Value *ak = mul(k, c64(aKStride));
    Values out(acc.size());
    for (int i = 0; i < MR; ++i) {
      Value *s = b.CreateAlignedLoad(elt, at(rows[static_cast<size_t>(i)], ak), llvm::Align(esz));
      Value *splat = b.CreateVectorSplat(static_cast<unsigned>(W), s);
      for (int v = 0; v < NV; ++v)
        out[i * NV + v] =
            b.CreateIntrinsic(llvm::Intrinsic::fmuladd, {vec}, {splat, bv[v], acc[i * NV + v]});
    }
    return out;
  });
}

void Emitter::emitGemm(DType dt, const ir::Dim &Md, const ir::Dim &Kd, const ir::Dim &Nd, Value *A,
                       Value *B, Value *C, Value *M, Value *K, Value *N, Value *packedB,
                       Value *blockScratch) {
  GemmEmitter(*this, dt).emit(Md, Kd, Nd, A, B, C, c64(1), M, K, N, packedB, blockScratch);
}

void Emitter::emitPackB(DType dt, const ir::Dim &Md, const ir::Dim &Kd, const ir::Dim &Nd, Value *B,
                        Value *dst) {
  GemmEmitter(*this, dt).packAll(Md, Kd, Nd, B, dst, dim(Kd), dim(Nd));
}

void Emitter::emitPackedMatmul(const ir::Op &op, Value *out) {
  const ir::Type &at = op.operand(0)->type(), &bt = op.operand(1)->type(),
                 &rt = op.result()->type();
  int64_t r = at.rank();
  Value *batch = c64(1);
  for (int64_t i = 0; i + 2 < r; ++i)
    batch = b.CreateMul(batch, dim(rt.dim(i)));
  const ir::Dim &Md = at.dim(r - 2);
  Value *A = ptr(op.operand(0)), *B = ptr(op.operand(1)), *M = dim(Md), *K = dim(at.dim(r - 1)),
        *N = dim(bt.dim(r - 1));
  auto packed = packedB.find(&op);
  Value *prepacked = packed == packedB.end() ? nullptr : packed->second;
  auto gemm = [&] {
    GemmEmitter(*this, rt.dtype())
        .emit(Md, at.dim(r - 1), bt.dim(r - 1), A, B, out, batch, M, K, N, prepacked);
  };
  // A few rows (a batch-1 step): read B in place. A static M picks one kernel; a symbolic M
  // tests for the commonest case, one row, and leaves the rest to the GEMM.
  if (Md.isStatic()) {
    if (Md.size() >= 1 && Md.size() <= kSmallMatmulRows)
      emitSmallMatmul(static_cast<int>(Md.size()), rt.dtype(), A, B, out, batch, K, N);
    else
      gemm();
    return;
  }
  Value *one = b.CreateICmpEQ(M, c64(1));
  ifThen(one, [&] { emitSmallMatmul(1, rt.dtype(), A, B, out, batch, K, N); });
  ifThen(b.CreateNot(one), gemm);
}

void Emitter::packBsBeforeLoop(const ir::Op &loop) {
  for (const ir::Op *mm : matmulsPackedBeforeLoop(loop)) {
    const ir::Type &at = mm->operand(0)->type(), &bt = mm->operand(1)->type();
    Value *dst = scratchBuffer(packedBType(*mm, vectorBytes));
    GemmEmitter(*this, mm->result()->type().dtype())
        .packAll(at.dim(0), bt.dim(0), bt.dim(1), ptr(mm->operand(1)), dst, dim(bt.dim(0)),
                 dim(bt.dim(1)));
    packedB[mm] = dst;
  }
  for (const ir::Op *step : stepsPackedBeforeLoop(loop))
    packedStepWeights[step] = packLstmAttentionWeights(*step);
}

} // namespace detail
} // namespace weft::cpu
