//===- backends/cuda/GruRnnGradKernels.cpp - gru/rnn_sequence_grad's elementwise kernels -===//
//
// What GruRnnGradKernels.h declares: the GRU's gates recomputed for every step at once, and one
// step's gate gradients (two kernels for Cho's form, whose r gradient needs dn wh_n^T first).
// The shapes of each kernel's buffers are in the header.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/GruRnnGradKernels.h"

#include "backends/cuda/GradAccess.h"
#include "backends/cuda/KernelEmitter.h"
#include "backends/cuda/Math.h"

#include <fmt/format.h>

namespace weft::cuda {
namespace {

using detail::everyElement;
using detail::GradAccess;
using detail::KernelEmitter;
using llvm::Value;

Status checkFloat(DType t) {
  if (!isFloat(t))
    return err(fmt::format("gru/rnn_sequence_grad is on floats, not {}", dtypeName(t)));
  return Status::ok();
}

/// Element e = (row, j) of a [rows, H] domain and where its gates sit in a row of 3H.
struct Unit {
  Value *row, *j, *gates;
  Unit(KernelEmitter &k, Value *e, Value *H) {
    llvm::IRBuilder<> &b = k.b;
    row = b.CreateUDiv(e, H);
    j = b.CreateURem(e, H);
    gates = b.CreateAdd(b.CreateMul(row, b.CreateMul(H, k.i64(3))), j);
  }
  /// Gate `which` (0 r, 1 z, 2 n) of this unit in a [rows, 3H] array.
  Value *at(KernelEmitter &k, Value *H, int64_t which) const {
    return k.b.CreateAdd(gates, k.b.CreateMul(H, k.i64(which)));
  }
};

Value *times(llvm::IRBuilder<> &b, std::initializer_list<Value *> xs) {
  Value *p = *xs.begin();
  for (auto it = xs.begin() + 1; it != xs.end(); ++it)
    p = b.CreateFMul(p, *it);
  return p;
}

} // namespace

Expected<llvm::Function *> emitRnnStepGradKernel(llvm::Module &m, const std::string &name,
                                                 KernelTarget target, DType t, bool relu) {
  WEFT_TRY(checkFloat(t));
  KernelEmitter k(m, name, target, 4, 2, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  GradAccess a{k, t};
  Value *da = k.buffer(0), *hs = k.buffer(1), *dhs = k.buffer(2), *dh = k.buffer(3);
  everyElement(k, k.scalar(0), [&](Value *e) {
    Value *h = a.load(hs, e);
    Value *dht = b.CreateFAdd(a.load(dh, e), a.load(dhs, e));
    // f'(a) from h = f(a): tanh' = 1 - h^2; relu's a > 0 exactly where h > 0.
    Value *g = relu ? b.CreateSelect(b.CreateFCmpOGT(h, a.c(0)), dht, a.c(0))
                    : b.CreateFMul(dht, b.CreateFSub(a.c(1), b.CreateFMul(h, h)));
    a.store(g, da, e);
  });
  return k.finish();
}

Expected<llvm::Function *> emitGruGatesKernel(llvm::Module &m, const std::string &name,
                                              KernelTarget target, DType t,
                                              bool linearBeforeReset) {
  WEFT_TRY(checkFloat(t));
  KernelEmitter k(m, name, target, 6, 2, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  GradAccess a{k, t};
  Value *act = k.buffer(0), *gh = k.buffer(1), *bx = k.buffer(2), *bh = k.buffer(3),
        *hp = k.buffer(4), *rh = k.buffer(5);
  Value *H = k.scalar(1);
  llvm::Function *sigmoid = mathFunction(m, MathFn::Sigmoid), *tanh = mathFunction(m, MathFn::Tanh);
  everyElement(k, k.scalar(0), [&](Value *e) {
    Unit u(k, e, H);
    auto bias = [&](Value *of, int64_t which) {
      return a.load(of, b.CreateAdd(u.j, b.CreateMul(H, k.i64(which))));
    };
    auto input = [&](int64_t which) { // x wx + bx
      return b.CreateFAdd(a.load(act, u.at(k, H, which)), bias(bx, which));
    };
    auto recurrent = [&](int64_t which) { // hp wh + bh
      return b.CreateFAdd(a.load(gh, u.at(k, H, which)), bias(bh, which));
    };
    Value *r = b.CreateCall(sigmoid, {b.CreateFAdd(input(0), recurrent(0))});
    Value *z = b.CreateCall(sigmoid, {b.CreateFAdd(input(1), recurrent(1))});
    Value *xn = input(2);
    a.store(r, act, u.at(k, H, 0));
    a.store(z, act, u.at(k, H, 1));
    if (linearBeforeReset) {
      Value *ghn = recurrent(2);
      a.store(ghn, gh, u.at(k, H, 2));
      a.store(b.CreateCall(tanh, {b.CreateFAdd(xn, b.CreateFMul(r, ghn))}), act, u.at(k, H, 2));
    } else {
      a.store(xn, act, u.at(k, H, 2));
      a.store(b.CreateFMul(r, a.load(hp, e)), rh, e);
    }
  });
  return k.finish();
}

Expected<llvm::Function *> emitGruResetHiddenKernel(llvm::Module &m, const std::string &name,
                                                    KernelTarget target, DType t) {
  WEFT_TRY(checkFloat(t));
  KernelEmitter k(m, name, target, 3, 2, /*noAlias=*/false);
  GradAccess a{k, t};
  Value *rh = k.buffer(0), *act = k.buffer(1), *hp = k.buffer(2);
  Value *H = k.scalar(1);
  everyElement(k, k.scalar(0), [&](Value *e) {
    Unit u(k, e, H);
    a.store(k.b.CreateFMul(a.load(act, u.at(k, H, 0)), a.load(hp, e)), rh, e);
  });
  return k.finish();
}

Expected<llvm::Function *> emitGruChoNewGateKernel(llvm::Module &m, const std::string &name,
                                                   KernelTarget target, DType t) {
  WEFT_TRY(checkFloat(t));
  KernelEmitter k(m, name, target, 3, 2, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  GradAccess a{k, t};
  Value *act = k.buffer(0), *ghn = k.buffer(1), *bh = k.buffer(2);
  Value *H = k.scalar(1);
  llvm::Function *tanh = mathFunction(m, MathFn::Tanh);
  everyElement(k, k.scalar(0), [&](Value *e) {
    Unit u(k, e, H);
    Value *n = u.at(k, H, 2);
    Value *pre = b.CreateFAdd(b.CreateFAdd(a.load(act, n), a.load(ghn, e)),
                              a.load(bh, b.CreateAdd(u.j, b.CreateMul(H, k.i64(2)))));
    a.store(b.CreateCall(tanh, {pre}), act, n);
  });
  return k.finish();
}

Expected<llvm::Function *> emitGruGateGradKernel(llvm::Module &m, const std::string &name,
                                                 KernelTarget target, DType t) {
  WEFT_TRY(checkFloat(t));
  KernelEmitter k(m, name, target, 8, 2, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  GradAccess a{k, t};
  Value *dgx = k.buffer(0), *dgh = k.buffer(1), *dhz = k.buffer(2), *act = k.buffer(3),
        *gh = k.buffer(4), *hp = k.buffer(5), *dhs = k.buffer(6), *dh = k.buffer(7);
  Value *H = k.scalar(1);
  auto one = [&](Value *x) { return b.CreateFSub(a.c(1), x); };
  everyElement(k, k.scalar(0), [&](Value *e) {
    Unit u(k, e, H);
    Value *r = a.load(act, u.at(k, H, 0)), *z = a.load(act, u.at(k, H, 1)),
          *n = a.load(act, u.at(k, H, 2)), *ghn = a.load(gh, u.at(k, H, 2));
    Value *dht = b.CreateFAdd(a.load(dh, e), a.load(dhs, e));
    Value *dn = times(b, {dht, one(z), one(b.CreateFMul(n, n))});
    Value *dz = times(b, {dht, b.CreateFSub(a.load(hp, e), n), z, one(z)});
    Value *dr = times(b, {dn, ghn, r, one(r)});
    for (Value *to : {dgx, dgh}) {
      a.store(dr, to, u.at(k, H, 0));
      a.store(dz, to, u.at(k, H, 1));
    }
    a.store(dn, dgx, u.at(k, H, 2));
    a.store(b.CreateFMul(dn, r), dgh, u.at(k, H, 2));
    a.store(b.CreateFMul(dht, z), dhz, e);
  });
  return k.finish();
}

Expected<llvm::Function *> emitGruChoGateGradKernel(llvm::Module &m, const std::string &name,
                                                    KernelTarget target, DType t) {
  WEFT_TRY(checkFloat(t));
  KernelEmitter k(m, name, target, 8, 2, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  GradAccess a{k, t};
  Value *dg = k.buffer(0), *dgrz = k.buffer(1), *dnOut = k.buffer(2), *dhz = k.buffer(3),
        *act = k.buffer(4), *hp = k.buffer(5), *dhs = k.buffer(6), *dh = k.buffer(7);
  Value *H = k.scalar(1);
  auto one = [&](Value *x) { return b.CreateFSub(a.c(1), x); };
  everyElement(k, k.scalar(0), [&](Value *e) {
    Unit u(k, e, H);
    Value *z = a.load(act, u.at(k, H, 1)), *n = a.load(act, u.at(k, H, 2));
    Value *dht = b.CreateFAdd(a.load(dh, e), a.load(dhs, e));
    Value *dn = times(b, {dht, one(z), one(b.CreateFMul(n, n))});
    Value *dz = times(b, {dht, b.CreateFSub(a.load(hp, e), n), z, one(z)});
    a.store(dz, dg, u.at(k, H, 1));
    a.store(dn, dg, u.at(k, H, 2));
    // dgrz[row, H + j]: rows of 2H.
    a.store(dz, dgrz,
            b.CreateAdd(b.CreateMul(u.row, b.CreateMul(H, k.i64(2))), b.CreateAdd(H, u.j)));
    a.store(dn, dnOut, e);
    a.store(b.CreateFMul(dht, z), dhz, e);
  });
  return k.finish();
}

Expected<llvm::Function *> emitGruChoResetGradKernel(llvm::Module &m, const std::string &name,
                                                     KernelTarget target, DType t) {
  WEFT_TRY(checkFloat(t));
  KernelEmitter k(m, name, target, 6, 2, /*noAlias=*/false);
  llvm::IRBuilder<> &b = k.b;
  GradAccess a{k, t};
  Value *dg = k.buffer(0), *dgrz = k.buffer(1), *dhz = k.buffer(2), *act = k.buffer(3),
        *hp = k.buffer(4), *drh = k.buffer(5);
  Value *H = k.scalar(1);
  everyElement(k, k.scalar(0), [&](Value *e) {
    Unit u(k, e, H);
    Value *r = a.load(act, u.at(k, H, 0)), *d = a.load(drh, e);
    Value *dr = times(b, {d, a.load(hp, e), r, b.CreateFSub(a.c(1), r)});
    a.store(dr, dg, u.at(k, H, 0));
    a.store(dr, dgrz, b.CreateAdd(b.CreateMul(u.row, b.CreateMul(H, k.i64(2))), u.j));
    a.store(b.CreateFAdd(a.load(dhz, e), b.CreateFMul(d, r)), dhz, e);
  });
  return k.finish();
}

Expected<llvm::Function *> emitAccumulateKernel(llvm::Module &m, const std::string &name,
                                                KernelTarget target, DType t) {
  WEFT_TRY(checkFloat(t));
  KernelEmitter k(m, name, target, 2, 1, /*noAlias=*/false);
  GradAccess a{k, t};
  Value *y = k.buffer(0), *x = k.buffer(1);
  everyElement(k, k.scalar(0),
               [&](Value *i) { a.store(k.b.CreateFAdd(a.load(y, i), a.load(x, i)), y, i); });
  return k.finish();
}

} // namespace weft::cuda
