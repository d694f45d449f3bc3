//===- backends/cuda/FusionKernel.cpp - a fusion op as one CUDA kernel ----===//
//
// A fusion (ir/Fusion.h) in kernel form becomes one kernel whose body values are registers:
// no buffer exists between its ops. Each thread evaluates the whole body at a domain element:
//
//   without reductions:                     with trailing reductions:
//   for i = globalThread; i < n; i += grid:  for o = globalThread; o < O; o += grid:   // kept
//     values = body(i)                         accs = identities
//     store the yielded values at i            for r in 0 .. R:                          // in
//     order
//                                                i = kept(o) + reduced(r)
//                                                values = body(i); store element yields at i
//                                                accs = combine(accs, reduced operands)
//                                              store the reductions at o
//
// An argument is read at i where its shape is the domain's, and through the strides a
// broadcast of it gives (scalars) where it is broadcast; a splat constant is a constant. Each
// reduction accumulates in increasing r, in double for floats (ReduceEmitter.h), so results are
// the interpreter's. A reducing thread walks its whole row: simple and exact, not the fastest
// layout for long rows. An integer division lowers its own status word to the first domain
// element it divided by zero, as an elementwise division does; the host checks the words after
// the launch, in body order, so the first faulting division is the one the interpreter names.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/KernelEmitter.h"
#include "backends/cuda/Kernels.h"
#include "backends/cuda/ReduceEmitter.h"
#include "ir/Fusion.h"

#include <fmt/format.h>

#include <unordered_map>

namespace weft::cuda {
namespace {

using detail::Partial;
using detail::ReduceEmitter;
using ir::OpKind;
using llvm::Value;

ReduceKind reduceKind(OpKind k) {
  switch (k) {
  case OpKind::ReduceSum:
    return ReduceKind::Sum;
  case OpKind::ReduceMean:
    return ReduceKind::Mean;
  case OpKind::ReduceMax:
    return ReduceKind::Max;
  default:
    return ReduceKind::Min;
  }
}

} // namespace

Expected<llvm::Function *> emitFusionKernel(llvm::Module &m, const std::string &name,
                                            KernelTarget target, const ir::Op &fusion,
                                            bool inPlace) {
  auto form = ir::fusionForm(fusion.region());
  if (!form)
    return err(fmt::format("fusion body is not a kernel: {}", form.diag().message), fusion.loc());
  const ir::Block &body = fusion.region();
  const ir::Op *yield = body.back();
  const unsigned rank = static_cast<unsigned>(form->domain.size());
  const unsigned rr = static_cast<unsigned>(form->reduceAxes.size()), kr = rank - rr;
  std::vector<const ir::Op *> broadcasts;
  for (const auto &op : body.ops())
    if (op->kind() == OpKind::Broadcast)
      broadcasts.push_back(op.get());
  const unsigned numResults = static_cast<unsigned>(fusion.numResults());
  const unsigned numArgs = static_cast<unsigned>(body.numArgs());
  const std::vector<const ir::Op *> divisions = fusionDivisions(fusion);
  detail::KernelEmitter k(
      m, name, target, numResults + numArgs + static_cast<unsigned>(divisions.size()),
      2 + 2 * kr + 2 * rr + rank * (1 + static_cast<unsigned>(broadcasts.size())),
      /*noAlias=*/!inPlace);
  llvm::IRBuilder<> &b = k.b;
  auto scalars = [&](unsigned first, unsigned n) {
    std::vector<Value *> v;
    for (unsigned a = 0; a < n; ++a)
      v.push_back(k.scalar(first + a));
    return v;
  };
  Value *outputs = k.scalar(0), *count = k.scalar(1);
  std::vector<Value *> keptDims = scalars(2, kr), keptStrides = scalars(2 + kr, kr),
                       redDims = scalars(2 + 2 * kr, rr), redStrides = scalars(2 + 2 * kr + rr, rr),
                       domainDims = scalars(2 + 2 * kr + 2 * rr, rank);
  std::unordered_map<const ir::Op *, std::vector<Value *>> broadcastStrides;
  for (size_t j = 0; j < broadcasts.size(); ++j)
    broadcastStrides[broadcasts[j]] =
        scalars(2 + 2 * kr + 2 * rr + rank * static_cast<unsigned>(1 + j), rank);
  // Division d's status word, by the division.
  std::unordered_map<const ir::Op *, Value *> statusOf;
  for (size_t d = 0; d < divisions.size(); ++d)
    statusOf[divisions[d]] = k.buffer(numResults + numArgs + static_cast<unsigned>(d));
  auto argIndex = [&](const ir::Value *v) -> unsigned {
    for (unsigned j = 0; j < numArgs; ++j)
      if (body.arg(j) == v)
        return j;
    WEFT_UNREACHABLE("a broadcast in a fusion body reads an argument");
  };
  auto load = [&](DType t, Value *base, Value *i) {
    Value *v = k.load(k.storageTy(t), base, i);
    return t == DType::I1 ? b.CreateTrunc(v, b.getInt1Ty()) : v;
  };
  auto store = [&](Value *v, DType t, Value *base, Value *i) {
    k.store(t == DType::I1 ? b.CreateZExt(v, b.getInt8Ty()) : v, base, i);
  };

  // The reductions' accumulators (value, index), fresh for each output.
  struct Acc {
    const ir::Op *op;
    Value *value, *index;
  };
  std::vector<Acc> accs;
  auto reducer = [&](const ir::Op &r) {
    return ReduceEmitter(k, reduceKind(r.kind()), isFloat(r.operand(0)->type().dtype()));
  };
  Status failure;
  // Evaluates the body at domain element i: stores its element yields, feeds the reductions.
  auto element = [&](Value *i, Value *r) {
    std::unordered_map<const ir::Value *, Value *> at;
    auto valueOf = [&](const ir::Value *v) {
      auto found = at.find(v);
      if (found != at.end())
        return found->second;
      // An argument of the domain's shape, read where it is used.
      Value *x = load(v->type().dtype(), k.buffer(numResults + argIndex(v)), i);
      at[v] = x;
      return x;
    };
    for (const auto &owned : body.ops()) {
      const ir::Op &op = *owned;
      if (!failure)
        return;
      if (op.kind() == OpKind::Yield) {
        for (unsigned y = 0; y < numResults; ++y)
          if (!ir::hasTrait(yield->operand(y)->definingOp()->kind(), ir::trait::Reduction))
            store(valueOf(yield->operand(y)), yield->operand(y)->type().dtype(), k.buffer(y), i);
        continue;
      }
      const DType t = op.result(0)->type().dtype();
      if (op.kind() == OpKind::Broadcast) {
        Value *from = k.stridedOffset(i, domainDims, broadcastStrides.at(&op));
        at[op.result()] = load(t, k.buffer(numResults + argIndex(op.operand(0))), from);
        continue;
      }
      if (op.kind() == OpKind::Constant) {
        const ir::Attr &a = op.value();
        llvm::Type *ty = t == DType::I1 ? b.getInt1Ty() : k.storageTy(t);
        if (const auto *d = std::get_if<std::vector<double>>(&a))
          at[op.result()] = isFloat(t)
                                ? llvm::ConstantFP::get(ty, d->front())
                                : llvm::ConstantInt::get(
                                      ty, static_cast<uint64_t>(static_cast<int64_t>(d->front())));
        else {
          int64_t v = std::get<std::vector<int64_t>>(a).front();
          at[op.result()] = isFloat(t) ? llvm::ConstantFP::get(ty, static_cast<double>(v))
                                       : llvm::ConstantInt::get(ty, static_cast<uint64_t>(v), true);
        }
        continue;
      }
      if (ir::hasTrait(op.kind(), ir::trait::Reduction)) {
        for (Acc &acc : accs)
          if (acc.op == &op) {
            ReduceEmitter e = reducer(op);
            llvm::Type *accTy = e.accTy();
            DType in = op.operand(0)->type().dtype();
            Partial p =
                e.combine({b.CreateLoad(accTy, acc.value), b.CreateLoad(b.getInt64Ty(), acc.index)},
                          {e.widen(valueOf(op.operand(0)), in), r});
            b.CreateStore(p.value, acc.value);
            b.CreateStore(p.index, acc.index);
          }
        continue;
      }
      std::vector<Value *> xs;
      for (const ir::Value *v : op.operands())
        xs.push_back(valueOf(v));
      detail::DivisionByZero divisionByZero;
      if (auto status = statusOf.find(&op); status != statusOf.end())
        divisionByZero = [&, i, word = status->second](Value *zero) {
          k.when(zero, [&] { k.lowerStatus(word, i); });
        };
      auto y = detail::emitScalarOp(b, m, op, xs, divisionByZero);
      if (!y) {
        failure = y.status();
        return;
      }
      at[op.result()] = *y;
    }
  };

  Value *first = b.CreateAdd(b.CreateMul(k.ctaid(), k.ntid()), k.tid());
  Value *stride = b.CreateMul(k.nctaid(), k.ntid());
  if (!form->hasReduction) {
    k.loop(first, outputs, stride, [&](Value *i) { element(i, k.i64(0)); });
  } else {
    k.loop(first, outputs, stride, [&](Value *o) {
      accs.clear();
      for (const auto &op : body.ops())
        if (ir::hasTrait(op->kind(), ir::trait::Reduction)) {
          ReduceEmitter e = reducer(*op);
          accs.push_back({op.get(), k.variable(e.accTy(), e.identity()),
                          k.variable(b.getInt64Ty(), k.i64(-1))});
        }
      Value *base = k.stridedOffset(o, keptDims, keptStrides);
      k.loop(k.i64(0), count, k.i64(1), [&](Value *r) {
        element(b.CreateAdd(base, k.stridedOffset(r, redDims, redStrides)), r);
      });
      for (unsigned y = 0; y < numResults; ++y)
        for (const Acc &acc : accs)
          if (yield->operand(y) == acc.op->result()) {
            ReduceEmitter e = reducer(*acc.op);
            Partial p{b.CreateLoad(e.accTy(), acc.value), b.CreateLoad(b.getInt64Ty(), acc.index)};
            k.store(e.finish(p, count, acc.op->result()->type().dtype()), k.buffer(y), o);
          }
    });
  }
  if (!failure) {
    k.f->eraseFromParent();
    return failure;
  }
  return k.finish();
}

} // namespace weft::cuda
