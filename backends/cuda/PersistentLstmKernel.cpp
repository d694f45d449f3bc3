//===- backends/cuda/PersistentLstmKernel.cpp - lstm_sequence in one launch ===//
//
// xs [T, B, I], h0, c0 [B, H], wx [I, 4H], wh [H, 4H], bias [4H]; gates i, f, g, o in 4H.
// Before the kernel, proj [T*B, 4H] = xs . wx (the matmul kernel, all steps at once). Then,
// with U units per slice and S = ceil(H / U) slices (PersistentLstm.h), a block per slice or
// fewer:
//
//   single = gridDim >= S                       // each block keeps one slice's weights
//   whs[H][U][4] (shared) = wh[:, g*H + slice*U + u]  once when single, 0 past H
//   for (slice, b, u) owned:  cT[b, j] = c0[b, j]      // j = slice*U + u; c stays in cT,
//                                                      // read and written by its block only
//   for s < T:  t = reverse ? T-1-s : s
//     hprev = s == 0 ? h0 : hbuf[(s-1) % 2];  hnext = hbuf[s % 2]   // [B, H] each
//     for slice = blockIdx; slice < S; slice += gridDim:
//       if !single: sync; whs = slice's weights; sync
//       for q = threadIdx; q < B*U; q += blockDim:   b = q / U, u = q % U, j < H
//         if t >= len[b]: hnext[b, j] = hprev[b, j]; hs[t, b, j] = 0; continue
//         z[g] = proj[t*B + b, g*H + j] + bias[g*H + j] + sum_k hprev[b, k] * whs[k][u][g]
//         c = sigmoid(z_f) * cT[b, j] + sigmoid(z_i) * tanh(z_g);  h = sigmoid(z_o) * tanh(c)
//         cT[b, j] = c;  hnext[b, j] = h;  hs[t, b, j] = h
//     grid barrier                              // every block's hnext written
//   hT[b, j] = hbuf[(T-1) % 2][b, j] (h0 when T = 0) for the owned units
//
// h of the last step is read from global memory (L2) by every block; it goes through two
// buffers, so one grid barrier per step suffices: step s+1 writes the buffer that step s-1
// wrote and step s read, and every block has passed step s's barrier when it does. The dot
// products accumulate in the dtype with fma (as the matmul kernel); the cell's nonlinearities
// run in double and c and h are rounded to the dtype after each step (as the interpreter
// stores its carries).
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/KernelEmitter.h"
#include "backends/cuda/Math.h"
#include "backends/cuda/PersistentLstm.h"

#include <fmt/format.h>
#include <llvm/IR/Intrinsics.h>

namespace weft::cuda {

using llvm::Value;

int64_t persistentLstmUnits(int64_t hidden) {
  return std::max<int64_t>(1, (hidden + kPersistentLstmSlices - 1) / kPersistentLstmSlices);
}

int64_t persistentLstmSliceCount(int64_t hidden) {
  const int64_t units = persistentLstmUnits(hidden);
  return (hidden + units - 1) / units;
}

bool persistentLstmFits(int64_t hidden, DType t) {
  if ((t != DType::F32 && t != DType::F64) || hidden <= 0)
    return false;
  const int64_t sliceBytes = hidden * 4 * persistentLstmUnits(hidden) * dtypeBytes(t);
  return sliceBytes <= static_cast<int64_t>(kMaxSharedBytes);
}

namespace {

enum Buffer { kHs, kHT, kCT, kProj, kH0, kC0, kWh, kBias, kLen, kHbuf, kCounter, kNumBuffers };

} // namespace

Expected<llvm::Function *> emitPersistentLstmKernel(llvm::Module &m, const std::string &name,
                                                    KernelTarget target, DType t, int64_t hidden,
                                                    LstmLengths lengths, bool reverse) {
  if (!persistentLstmFits(hidden, t))
    return err(fmt::format("the persistent lstm_sequence kernel takes f32 or f64 with a slice of "
                           "wh within {} bytes, not {} with H = {}",
                           kMaxSharedBytes, dtypeName(t), hidden));
  const int64_t H = hidden, U = persistentLstmUnits(hidden), S = persistentLstmSliceCount(hidden);
  detail::KernelEmitter k(m, name, target, kNumBuffers, 2, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  llvm::Type *elem = k.storageTy(t), *f64 = b.getDoubleTy();
  const bool narrow = t == DType::F32;
  auto wide = [&](Value *v) { return narrow ? b.CreateFPExt(v, f64) : v; };
  auto round = [&](Value *v) { return narrow ? b.CreateFPTrunc(v, elem) : v; };
  llvm::Function *sigmoid = mathFunction(m, MathFn::Sigmoid);
  llvm::Function *tanh = mathFunction(m, MathFn::Tanh);

  Value *T = k.scalar(0), *B = k.scalar(1);
  Value *tid = k.tid(), *ntid = k.ntid(), *cta = k.ctaid(), *grid = k.nctaid();
  Value *whs = k.shared(static_cast<uint64_t>(H * 4 * U * dtypeBytes(t)));
  Value *pairs = b.CreateMul(B, k.i64(U)), *rows = b.CreateMul(B, k.i64(H));
  Value *single = b.CreateICmpSGE(grid, k.i64(S));
  Value *zero = llvm::ConstantFP::get(elem, 0.0);
  auto *gates = llvm::FixedVectorType::get(elem, 4);
  // h's elements per load: 16 bytes where H is a multiple of them (rows stay 16-byte aligned).
  const int64_t vectorWidth = 16 / dtypeBytes(t);
  const int64_t width = H % vectorWidth == 0 ? vectorWidth : 1;
  auto *hvec = llvm::FixedVectorType::get(elem, static_cast<unsigned>(width));

  // whs[kk][u][g] = wh[kk, g*H + slice*U + u] (a unit's four gates side by side, one vector
  // load), 0 for units past H.
  auto loadSlice = [&](Value *slice) {
    k.loop(tid, k.i64(H * 4 * U), ntid, [&](Value *e) {
      Value *kk = b.CreateUDiv(e, k.i64(4 * U)), *r = b.CreateURem(e, k.i64(4 * U));
      Value *u = b.CreateUDiv(r, k.i64(4)), *g = b.CreateURem(r, k.i64(4));
      Value *j = b.CreateAdd(b.CreateMul(slice, k.i64(U)), u);
      Value *inside = b.CreateICmpSLT(j, k.i64(H));
      Value *col = b.CreateAdd(b.CreateMul(g, k.i64(H)), b.CreateSelect(inside, j, k.i64(0)));
      Value *w = k.load(elem, k.buffer(kWh), b.CreateAdd(b.CreateMul(kk, k.i64(4 * H)), col));
      k.store(b.CreateSelect(inside, w, zero), whs, e);
    });
  };
  // body(slice, b, u, j) for every unit j < H of every example b in the slices this block owns.
  auto eachOwned = [&](const std::function<void(Value *, Value *, Value *, Value *)> &body) {
    k.loop(cta, k.i64(S), grid, [&](Value *slice) {
      k.loop(tid, pairs, ntid, [&](Value *q) {
        Value *ex = b.CreateUDiv(q, k.i64(U)), *u = b.CreateURem(q, k.i64(U));
        Value *j = b.CreateAdd(b.CreateMul(slice, k.i64(U)), u);
        k.when(b.CreateICmpSLT(j, k.i64(H)), [&] { body(slice, ex, u, j); });
      });
    });
  };
  auto at = [&](Value *ex, Value *j) { return b.CreateAdd(b.CreateMul(ex, k.i64(H)), j); };

  eachOwned([&](Value *, Value *ex, Value *, Value *j) {
    k.store(k.load(elem, k.buffer(kC0), at(ex, j)), k.buffer(kCT), at(ex, j));
  });
  k.when(b.CreateAnd(single, b.CreateICmpSLT(cta, k.i64(S))), [&] { loadSlice(cta); });
  k.barrier();

  k.loop(k.i64(0), T, k.i64(1), [&](Value *s) {
    Value *time = reverse ? b.CreateSub(b.CreateSub(T, k.i64(1)), s) : s;
    Value *prevBuffer = b.CreateInBoundsGEP(
        elem, k.buffer(kHbuf), b.CreateMul(b.CreateAnd(b.CreateSub(s, k.i64(1)), k.i64(1)), rows));
    Value *hprev = b.CreateSelect(b.CreateICmpEQ(s, k.i64(0)), k.buffer(kH0), prevBuffer);
    Value *hnext =
        b.CreateInBoundsGEP(elem, k.buffer(kHbuf), b.CreateMul(b.CreateAnd(s, k.i64(1)), rows));
    k.loop(cta, k.i64(S), grid, [&](Value *slice) {
      k.when(b.CreateNot(single), [&] {
        k.barrier(); // the previous slice's weights are no longer read
        loadSlice(slice);
        k.barrier();
      });
      k.loop(tid, pairs, ntid, [&](Value *q) {
        Value *ex = b.CreateUDiv(q, k.i64(U)), *u = b.CreateURem(q, k.i64(U));
        Value *j = b.CreateAdd(b.CreateMul(slice, k.i64(U)), u);
        k.when(b.CreateICmpSLT(j, k.i64(H)), [&] {
          Value *active = b.getTrue();
          if (lengths == LstmLengths::I32)
            active = b.CreateICmpSLT(
                time, b.CreateSExt(k.load(b.getInt32Ty(), k.buffer(kLen), ex), b.getInt64Ty()));
          else if (lengths == LstmLengths::I64)
            active = b.CreateICmpSLT(time, k.load(b.getInt64Ty(), k.buffer(kLen), ex));
          Value *row = b.CreateAdd(b.CreateMul(time, B), ex);
          Value *out = b.CreateAdd(b.CreateMul(row, k.i64(H)), j);
          k.when(b.CreateNot(active), [&] {
            k.store(k.load(elem, hprev, at(ex, j)), hnext, at(ex, j));
            k.store(zero, k.buffer(kHs), out);
          });
          k.when(active, [&] {
            // z = proj + bias + hprev[b, :] . whs[:, u, :], the four gates as one vector; h read
            // `width` elements at a time where H allows.
            Value *init = llvm::PoisonValue::get(gates);
            for (int64_t g = 0; g < 4; ++g) {
              Value *col = b.CreateAdd(k.i64(g * H), j);
              Value *p =
                  k.load(elem, k.buffer(kProj), b.CreateAdd(b.CreateMul(row, k.i64(4 * H)), col));
              init = b.CreateInsertElement(init,
                                           b.CreateFAdd(p, k.load(elem, k.buffer(kBias), col)), g);
            }
            Value *z = k.variable(gates, init);
            k.loop(k.i64(0), k.i64(H), k.i64(width), [&](Value *kk) {
              Value *hv = b.CreateAlignedLoad(hvec, b.CreateInBoundsGEP(elem, hprev, at(ex, kk)),
                                              llvm::Align(width * dtypeBytes(t)));
              Value *acc = b.CreateLoad(gates, z);
              for (int64_t w = 0; w < width; ++w) {
                Value *hk = b.CreateVectorSplat(4, b.CreateExtractElement(hv, w));
                Value *at4 = b.CreateMul(
                    b.CreateAdd(b.CreateMul(b.CreateAdd(kk, k.i64(w)), k.i64(U)), u), k.i64(4));
                Value *wv = b.CreateAlignedLoad(gates, b.CreateInBoundsGEP(elem, whs, at4),
                                                llvm::Align(16));
                acc = b.CreateIntrinsic(llvm::Intrinsic::fma, {gates}, {hk, wv, acc});
              }
              b.CreateStore(acc, z);
            });
            auto gate = [&](int64_t g, llvm::Function *fn) {
              return b.CreateCall(fn, {wide(b.CreateExtractElement(b.CreateLoad(gates, z), g))});
            };
            Value *i = gate(0, sigmoid), *f = gate(1, sigmoid), *gg = gate(2, tanh),
                  *o = gate(3, sigmoid);
            Value *c = wide(k.load(elem, k.buffer(kCT), at(ex, j)));
            Value *c2 = round(b.CreateFAdd(b.CreateFMul(f, c), b.CreateFMul(i, gg)));
            Value *h2 = round(b.CreateFMul(o, b.CreateCall(tanh, {wide(c2)})));
            k.store(c2, k.buffer(kCT), at(ex, j));
            k.store(h2, hnext, at(ex, j));
            k.store(h2, k.buffer(kHs), out);
          });
        });
      });
    });
    k.gridBarrier(k.buffer(kCounter), b.CreateMul(b.CreateAdd(s, k.i64(1)), grid));
  });

  // hT from the last step's buffer, read by the threads that wrote it.
  Value *lastBuffer = b.CreateInBoundsGEP(
      elem, k.buffer(kHbuf), b.CreateMul(b.CreateAnd(b.CreateSub(T, k.i64(1)), k.i64(1)), rows));
  Value *hlast = b.CreateSelect(b.CreateICmpEQ(T, k.i64(0)), k.buffer(kH0), lastBuffer);
  eachOwned([&](Value *, Value *ex, Value *, Value *j) {
    k.store(k.load(elem, hlast, at(ex, j)), k.buffer(kHT), at(ex, j));
  });
  return k.finish();
}

} // namespace weft::cuda
