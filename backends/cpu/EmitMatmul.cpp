//===- backends/cpu/EmitMatmul.cpp - float matmul as a packed, blocked GEMM -===//
//
// The classic Goto/BLIS scheme, generated as LLVM IR (no library call):
//
//   for each batch:
//     for jc in N by NC:                 B block of KC x NC, packed in NR-wide strips
//       for pc in K by KC:
//         pack B[pc:pc+kc, jc:jc+nc] into Bp (strip s: kc rows of NR, zero-padded)
//         for ic in M by MC:
//           pack A[ic:ic+mc, pc:pc+kc] into Ap (panel p: kc columns of MR, zero-padded)
//           for jr in nc by NR, ir in mc by MR:
//             MR x NR micro-tile: MR * NR/W vector accumulators, one llvm.fma per
//             (row, vector) per k; then C += tile (straight to C for a full tile,
//             through a small scratch tile and scalar adds at the edges of M and N).
//
// W is the host's vector width in elements (from the host CPU features: 512-bit with
// AVX-512F, else 256-bit with AVX, else 128-bit). The packing buffers and the edge tile are
// scratch slots sized at compile time; where M, N or K are static and small the blocks shrink
// to fit them. Single-threaded. The sum over k is accumulated in the element type, in a
// different order than the interpreter's (k ascending per block, fused multiply-adds).
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Emitter.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/TargetParser/Host.h>

#include <algorithm>

namespace weft::cpu::detail {

using llvm::Value;

namespace {

/// The host's widest usable vector register, in bytes.
int hostVectorBytes() {
  static const int bytes = [] {
    auto features = llvm::sys::getHostCPUFeatures();
    auto has = [&](const char *f) {
      auto it = features.find(f);
      return it != features.end() && it->second;
    };
    if (has("avx512f"))
      return 64;
    return has("avx") ? 32 : 16;
  }();
  return bytes;
}

int64_t roundUp(int64_t n, int64_t m) { return (n + m - 1) / m * m; }

/// Emits one packed GEMM for one matmul op.
class GemmEmitter {
public:
  GemmEmitter(Emitter &e, DType dt) : e(e), b(e.b), dt(dt) {
    esz = dtypeBytes(dt);
    int vbytes = hostVectorBytes();
    W = vbytes / esz;
    NV = 2;
    NR = W * NV;
    MR = vbytes == 64 ? 12 : 6; // 24 of 32 or 12 of 16 vector registers hold the tile
    elt = e.storageTy(dt);
    vec = llvm::FixedVectorType::get(elt, static_cast<unsigned>(W));
  }

  /// C[batch] = A[batch] x B[batch]; C is zero on entry.
  void emit(const ir::Dim &Md, const ir::Dim &Kd, const ir::Dim &Nd, Value *A, Value *B, Value *C,
            Value *batch, Value *M, Value *K, Value *N) {
    // Block sizes in elements; shrunk where a dim is static and smaller.
    KC = 256 * 4 / esz;
    MC = MR * 12;
    NC = NR * 64;
    if (Kd.isStatic())
      KC = std::max<int64_t>(1, std::min(KC, Kd.size()));
    if (Md.isStatic())
      MC = std::max<int64_t>(MR, std::min(MC, roundUp(Md.size(), MR)));
    if (Nd.isStatic())
      NC = std::max<int64_t>(NR, std::min(NC, roundUp(Nd.size(), NR)));
    if (W * esz == 64)
      e.fn->addFnAttr("min-legal-vector-width", "512");
    Ap = e.newBuffer(ir::Type({MC * KC}, dt));
    Bp = e.newBuffer(ir::Type({KC * NC}, dt));
    tile = e.newBuffer(ir::Type({MR * NR}, dt));

    e.forLoop(batch, [&](Value *bi) {
      Value *Ab = at(A, mul(bi, mul(M, K)));
      Value *Bb = at(B, mul(bi, mul(K, N)));
      Value *Cb = at(C, mul(bi, mul(M, N)));
      blocks(N, NC, [&](Value *jc, Value *nc) {
        blocks(K, KC, [&](Value *pc, Value *kc) {
          packB(Bb, N, pc, kc, jc, nc);
          blocks(M, MC, [&](Value *ic, Value *mc) {
            packA(Ab, K, ic, mc, pc, kc);
            blocks(nc, NR, [&](Value *jr, Value *nr) {
              blocks(mc, MR, [&](Value *ir, Value *mr) {
                Value *c = at(Cb, add(mul(add(ic, ir), N), add(jc, jr)));
                microKernel(kc, at(Ap, mul(ir, kc)), at(Bp, mul(jr, kc)), c, N, mr, nr);
              });
            });
          });
        });
      });
    });
  }

private:
  Value *c64(int64_t v) { return e.c64(v); }
  Value *add(Value *x, Value *y) { return b.CreateAdd(x, y, "", true, true); }
  Value *mul(Value *x, Value *y) { return b.CreateMul(x, y, "", true, true); }
  Value *min(Value *x, Value *y) { return b.CreateSelect(b.CreateICmpSLT(x, y), x, y); }
  Value *at(Value *p, Value *i) { return b.CreateInBoundsGEP(elt, p, i); }

  /// for (start = 0; start < n; start += step) body(start, min(step, n - start)).
  void blocks(Value *n, int64_t step, const std::function<void(Value *, Value *)> &body) {
    Value *count = b.CreateUDiv(add(n, c64(step - 1)), c64(step));
    e.forLoop(count, [&](Value *i) {
      Value *start = mul(i, c64(step));
      body(start, min(c64(step), b.CreateSub(n, start)));
    });
  }

  /// Bp strip s (columns jc + s*NR ...): kc rows of NR elements, zero past column jc + nc.
  void packB(Value *Bsrc, Value *N, Value *pc, Value *kc, Value *jc, Value *nc) {
    blocks(nc, NR, [&](Value *j0, Value *nr) {
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
    });
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

  /// C[0:mr, 0:nr] (row stride ldc) += a (kc x MR, packed) x bs (kc x NR, packed); kc >= 1.
  void microKernel(Value *kc, Value *a, Value *bs, Value *c, Value *ldc, Value *mr, Value *nr) {
    llvm::BasicBlock *pre = b.GetInsertBlock();
    auto *loop = llvm::BasicBlock::Create(e.ctx, "gemm.k", e.fn);
    auto *exit = llvm::BasicBlock::Create(e.ctx, "gemm.k.exit", e.fn);
    b.CreateBr(loop);
    b.SetInsertPoint(loop);
    llvm::PHINode *k = b.CreatePHI(e.i64Ty(), 2, "k");
    k->addIncoming(c64(0), pre);
    std::vector<llvm::PHINode *> acc;
    for (int t = 0; t < MR * NV; ++t) {
      acc.push_back(b.CreatePHI(vec, 2));
      acc.back()->addIncoming(llvm::Constant::getNullValue(vec), pre);
    }
    auto vAlign = llvm::Align(static_cast<uint64_t>(W * esz));
    std::vector<Value *> bv;
    Value *bRow = at(bs, mul(k, c64(NR)));
    for (int v = 0; v < NV; ++v)
      bv.push_back(b.CreateAlignedLoad(vec, at(bRow, c64(v * W)), vAlign));
    Value *aCol = at(a, mul(k, c64(MR)));
    std::vector<Value *> next(acc.size());
    for (int i = 0; i < MR; ++i) {
      Value *s = b.CreateAlignedLoad(elt, at(aCol, c64(i)), llvm::Align(esz));
      Value *splat = b.CreateVectorSplat(static_cast<unsigned>(W), s);
      for (int v = 0; v < NV; ++v)
        next[i * NV + v] =
            b.CreateIntrinsic(llvm::Intrinsic::fma, {vec}, {splat, bv[v], acc[i * NV + v]});
    }
    Value *k1 = add(k, c64(1));
    b.CreateCondBr(b.CreateICmpSLT(k1, kc), loop, exit);
    k->addIncoming(k1, loop);
    for (size_t t = 0; t < acc.size(); ++t)
      acc[t]->addIncoming(next[t], loop);
    b.SetInsertPoint(exit);

    Value *full = b.CreateAnd(b.CreateICmpEQ(mr, c64(MR)), b.CreateICmpEQ(nr, c64(NR)));
    e.ifThen(full, [&] {
      for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v) {
          Value *p = at(c, add(mul(c64(i), ldc), c64(v * W)));
          Value *old = b.CreateAlignedLoad(vec, p, llvm::Align(esz));
          b.CreateAlignedStore(b.CreateFAdd(old, next[i * NV + v]), p, llvm::Align(esz));
        }
    });
    e.ifThen(b.CreateNot(full), [&] {
      for (int i = 0; i < MR; ++i)
        for (int v = 0; v < NV; ++v)
          b.CreateAlignedStore(next[i * NV + v], at(tile, c64(i * NR + v * W)), vAlign);
      e.forLoop(mr, [&](Value *i) {
        e.forLoop(nr, [&](Value *j) {
          Value *p = at(c, add(mul(i, ldc), j));
          Value *t = b.CreateAlignedLoad(elt, at(tile, add(mul(i, c64(NR)), j)), llvm::Align(esz));
          Value *old = b.CreateAlignedLoad(elt, p, llvm::Align(esz));
          b.CreateAlignedStore(b.CreateFAdd(old, t), p, llvm::Align(esz));
        });
      });
    });
  }

  Emitter &e;
  llvm::IRBuilder<> &b;
  DType dt;
  int esz = 4, W = 8, NV = 2, NR = 16, MR = 6;
  int64_t MC = 0, KC = 0, NC = 0;
  llvm::Type *elt = nullptr;
  llvm::VectorType *vec = nullptr;
  Value *Ap = nullptr, *Bp = nullptr, *tile = nullptr;
};

} // namespace

void Emitter::emitPackedMatmul(const ir::Op &op, Value *out) {
  const ir::Type &at = op.operand(0)->type(), &bt = op.operand(1)->type(),
                 &rt = op.result()->type();
  int64_t r = at.rank();
  Value *batch = c64(1);
  for (int64_t i = 0; i + 2 < r; ++i)
    batch = b.CreateMul(batch, dim(rt.dim(i)));
  GemmEmitter(*this, rt.dtype())
      .emit(at.dim(r - 2), at.dim(r - 1), bt.dim(r - 1), ptr(op.operand(0)), ptr(op.operand(1)),
            out, batch, dim(at.dim(r - 2)), dim(at.dim(r - 1)), dim(bt.dim(r - 1)));
}

} // namespace weft::cpu::detail
