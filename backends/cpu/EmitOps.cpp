//===- backends/cpu/EmitOps.cpp - shape ops, reductions, matmul, producers -===//
//
// Each op is a loop nest over its output (or, for concat, pad and
// scatter_add, over the operand written into it), row-major with the last
// axis innermost. Float reductions accumulate in double in the interpreter's
// order (row-major over the input), so sums match it bit for bit.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Emitter.h"
#include "ir/Walk.h"
#include "runtime/Random.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

namespace weft::cpu::detail {

using ir::OpKind;
using llvm::Value;

Status Emitter::emitShapeOp(const ir::Op &op) {
  const ir::Type &rt = op.result()->type();
  const ir::Type &xt = op.operand(0)->type();
  DType dt = rt.dtype();
  Value *out = bufferOf(op.result());
  ptrs[op.result()] = out;
  Value *x = ptr(op.operand(0));
  Values xShape = shape(xt), oShape = shape(rt);
  // Broadcast, transpose and slice: output element idx is input element source(idx, x's
  // shape). Rows of the output's first axis run in parallel where the output is large.
  auto gatherEach = [&](const std::function<Value *(const Values &, const Values &)> &source) {
    if (rt.rank() == 0) {
      store(load(x, dt, source({}, xShape)), out, dt, c64(0));
      return;
    }
    parallelRows(oShape[0], numel(rt), {x, out}, [&](const Values &p, Value *begin, Value *end) {
      Values xs = shape(xt), os = shape(rt);
      loopNestRows(os, 0, begin, end, [&](const Values &idx) {
        store(load(p[0], dt, source(idx, xs)), p[1], dt, flatIndex(idx, os));
      });
    });
  };
  switch (op.kind()) {
  case OpKind::Reshape:
    memCopy(out, x, bytes(rt));
    return {};
  case OpKind::Broadcast: {
    const std::vector<int64_t> &dims = op.dims();
    gatherEach([&](const Values &idx, const Values &xs) {
      Value *src = c64(0);
      for (int64_t i = 0; i < xt.rank(); ++i) {
        bool one = xt.dim(i).isStatic() && xt.dim(i).size() == 1;
        src = b.CreateAdd(b.CreateMul(src, xs[i]), one ? c64(0) : idx[dims[i]]);
      }
      return src;
    });
    return {};
  }
  case OpKind::Transpose: {
    const std::vector<int64_t> &perm = op.perm();
    gatherEach([&](const Values &idx, const Values &xs) {
      Values src(idx.size());
      for (size_t i = 0; i < idx.size(); ++i)
        src[perm[i]] = idx[i];
      return flatIndex(src, xs);
    });
    return {};
  }
  case OpKind::Slice: {
    int64_t axis = op.axis(), start = op.start();
    gatherEach([&](const Values &idx, const Values &xs) {
      Values src = idx;
      src[axis] = b.CreateAdd(src[axis], c64(start));
      return flatIndex(src, xs);
    });
    return {};
  }
  case OpKind::Concat: {
    // Each operand is copied into its place, rows of its first axis in parallel.
    int64_t axis = op.axis();
    Value *offset = c64(0);
    for (ir::Value *v : op.operands()) {
      const ir::Type &vt = v->type();
      Values vShape = shape(vt);
      parallelRows(vShape[0], numel(vt), {ptr(v), out, offset},
                   [&](const Values &p, Value *begin, Value *end) {
                     Values vs = shape(vt), os = shape(rt);
                     loopNestRows(vs, 0, begin, end, [&](const Values &idx) {
                       Values dst = idx;
                       dst[axis] = b.CreateAdd(dst[axis], p[2]);
                       store(load(p[0], dt, flatIndex(idx, vs)), p[1], dt, flatIndex(dst, os));
                     });
                   });
      offset = b.CreateAdd(offset, vShape[axis]);
    }
    return {};
  }
  case OpKind::Pad: {
    const std::vector<int64_t> &low = op.low();
    double value = op.padValue();
    Value *fill;
    if (isFloat(dt))
      fill = llvm::ConstantFP::get(scalarTy(dt), value);
    else if (dt == DType::I1)
      fill = b.getInt1(value != 0.0);
    else
      fill = llvm::ConstantInt::get(
          scalarTy(dt), static_cast<uint64_t>(std::isnan(value) ? 0 : std::trunc(value)), true);
    forLoop(numel(rt), [&](Value *i) { store(fill, out, dt, i); });
    loopNest(xShape, [&](const Values &idx) {
      Values dst = idx;
      for (size_t a = 0; a < dst.size(); ++a)
        dst[a] = b.CreateAdd(dst[a], c64(low[a]));
      store(load(x, dt, flatIndex(idx, xShape)), out, dt, flatIndex(dst, oShape));
    });
    return {};
  }
  case OpKind::Gather:
  case OpKind::ScatterAdd: {
    auto axis = static_cast<size_t>(op.axis());
    bool gather = op.kind() == OpKind::Gather;
    const ir::Type &it = op.operand(1)->type();
    Value *indices = ptr(op.operand(1));
    Values iShape = shape(it);
    int site = faultSite(op, fmt::format("axis {} of {}", axis, xt.str()));
    // Positions of the gathered shape table[:axis] + indices + table[axis+1:].
    const ir::Type &gt = gather ? rt : op.operand(2)->type();
    Values gShape = shape(gt);
    Value *upd = gather ? nullptr : ptr(op.operand(2));
    if (!gather)
      memCopy(out, x, bytes(rt));
    // Element gi of the gathered shape, with pointers and shapes as the code at hand sees them.
    auto element = [&](const Values &gi, Value *xp, Value *ixp, Value *outp, Value *updp,
                       const Values &xs, const Values &is, const Values &gs) {
      Values ipos(gi.begin() + axis, gi.begin() + axis + it.rank());
      Value *ip = flatIndex(ipos, is);
      Value *k = b.CreateSExt(load(ixp, it.dtype(), ip), i64Ty());
      Value *size = xs[axis];
      Value *bad = b.CreateICmpUGE(k, size); // negative indices are huge unsigned
      fault(bad, Fault::IndexOutOfRange, site, k, ip, size);
      ifThen(b.CreateNot(bad), [&] {
        Values ti(gi.begin(), gi.begin() + axis);
        ti.push_back(k);
        ti.insert(ti.end(), gi.begin() + axis + it.rank(), gi.end());
        Value *t = flatIndex(ti, xs), *g = flatIndex(gi, gs);
        if (gather)
          return store(load(xp, dt, t), outp, dt, g);
        Value *a = load(outp, dt, t), *u = load(updp, dt, g);
        store(isFloat(dt) ? b.CreateFAdd(a, u) : b.CreateAdd(a, u), outp, dt, t);
      });
    };
    // A gather writes each output element once: rows of its first axis run in parallel.
    // scatter_add's updates may meet in one element, so they stay in order on one thread.
    if (!gather || gt.rank() == 0) {
      loopNest(gShape, [&](const Values &gi) {
        element(gi, x, indices, out, upd, xShape, iShape, gShape);
      });
      return {};
    }
    parallelRows(gShape[0], numel(gt), {x, indices, out},
                 [&](const Values &p, Value *begin, Value *end) {
                   Values xs = shape(xt), is = shape(it), gs = shape(gt);
                   loopNestRows(gs, 0, begin, end, [&](const Values &gi) {
                     element(gi, p[0], p[1], p[2], nullptr, xs, is, gs);
                   });
                 });
    return {};
  }
  default:
    WEFT_UNREACHABLE("cpu codegen: not a shape op");
  }
}

DType Emitter::reduceAccType(const ir::Op &r) {
  DType dt = r.result()->type().dtype();
  bool sum = r.kind() == OpKind::ReduceSum || r.kind() == OpKind::ReduceMean;
  return sum && isFloat(dt) ? DType::F64 : dt; // float sums accumulate in double
}

Value *Emitter::reduceInit(const ir::Op &r) {
  DType dt = r.result()->type().dtype();
  llvm::Type *t = scalarTy(reduceAccType(r));
  OpKind k = r.kind();
  if (k == OpKind::ReduceSum || k == OpKind::ReduceMean)
    return isFloat(dt) ? llvm::ConstantFP::get(t, 0.0) : llvm::ConstantInt::get(t, 0);
  bool isMax = k == OpKind::ReduceMax;
  if (isFloat(dt))
    return llvm::ConstantFP::getInfinity(t, /*Negative=*/isMax);
  if (dt == DType::I32)
    return b.getInt32(static_cast<uint32_t>(isMax ? std::numeric_limits<int32_t>::min()
                                                  : std::numeric_limits<int32_t>::max()));
  return c64(isMax ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max());
}

Value *Emitter::reduceStep(const ir::Op &r, Value *acc, Value *v) {
  OpKind k = r.kind();
  if (k == OpKind::ReduceSum || k == OpKind::ReduceMean) {
    if (acc->getType()->isDoubleTy())
      return b.CreateFAdd(acc, v->getType()->isFloatTy() ? b.CreateFPExt(v, acc->getType()) : v);
    return acc->getType()->isFloatingPointTy() ? b.CreateFAdd(acc, v) : b.CreateAdd(acc, v);
  }
  bool isMax = k == OpKind::ReduceMax;
  if (acc->getType()->isFloatingPointTy()) // the first NaN wins; a strictly better value replaces
    return b.CreateSelect(b.CreateAnd(b.CreateFCmpORD(acc, acc),
                                      isMax ? b.CreateFCmpUGT(v, acc) : b.CreateFCmpULT(v, acc)),
                          v, acc);
  return b.CreateSelect(isMax ? b.CreateICmpSGT(v, acc) : b.CreateICmpSLT(v, acc), v, acc);
}

Value *Emitter::reduceResult(const ir::Op &r, Value *acc, Value *count) {
  if (r.kind() == OpKind::ReduceMean)
    acc = b.CreateFDiv(acc, b.CreateSIToFP(count, b.getDoubleTy()));
  if (r.result()->type().dtype() == DType::F32 && acc->getType()->isDoubleTy())
    acc = b.CreateFPTrunc(acc, b.getFloatTy());
  return acc;
}

void Emitter::checkReduceNotEmpty(const ir::Op &r, Value *count, Value *outN) {
  if (r.kind() != OpKind::ReduceMax && r.kind() != OpKind::ReduceMin)
    return; // a sum or mean over nothing is 0 (or NaN), not an error
  int site = faultSite(r, r.operand(0)->type().str());
  fault(b.CreateAnd(b.CreateICmpEQ(count, c64(0)), b.CreateICmpSGT(outN, c64(0))),
        Fault::EmptyReduce, site, nullptr, nullptr, nullptr);
}

Status Emitter::emitReduce(const ir::Op &op) {
  const ir::Type &xt = op.operand(0)->type(), &rt = op.result()->type();
  DType dt = rt.dtype();
  std::vector<bool> reduced(xt.rank(), false);
  for (int64_t a : op.axes())
    reduced.at(a) = true;
  Value *out = bufferOf(op.result());
  ptrs[op.result()] = out;
  Value *x = ptr(op.operand(0));
  Values xShape = shape(xt), oShape = shape(rt);
  Value *count = c64(1);
  for (int64_t a = 0; a < xt.rank(); ++a)
    if (reduced[a])
      count = b.CreateMul(count, xShape[a]);
  // Float sums accumulate in double: in the output for f64, in scratch for f32.
  DType accType = reduceAccType(op);
  Value *acc = accType == dt ? out : scratchBuffer(rt.withDType(DType::F64));
  Value *outN = numel(rt);
  checkReduceNotEmpty(op, count, outN);
  bool finish = acc != out || op.kind() == OpKind::ReduceMean;
  // Rows [begin, end) of x's axis `rowAxis` (pointers and shapes as the code at hand sees them):
  // their outputs, [begin, end) x `perRow` of them, start at `init` and each sums its elements
  // in row-major order, whatever the rows; so splitting along a kept axis changes no sum.
  auto reduceRows = [&](Value *xp, Value *accp, Value *outp, const Values &xs, const Values &os,
                        size_t rowAxis, Value *begin, Value *end, Value *perRow, Value *n) {
    Value *first = b.CreateMul(begin, perRow);
    Value *outs = b.CreateMul(b.CreateSub(end, begin), perRow);
    Value *init = reduceInit(op);
    forLoop(outs, [&](Value *o) { store(init, accp, accType, b.CreateAdd(first, o)); });
    loopNestRows(xs, rowAxis, begin, end, [&](const Values &idx) {
      Values oi;
      for (int64_t a = 0; a < xt.rank(); ++a)
        if (!reduced[a])
          oi.push_back(idx[a]);
      Value *o = flatIndex(oi, os);
      Value *v = load(xp, dt, flatIndex(idx, xs));
      store(reduceStep(op, load(accp, accType, o), v), accp, accType, o);
    });
    if (finish)
      forLoop(outs, [&](Value *o) {
        Value *at = b.CreateAdd(first, o);
        store(reduceResult(op, load(accp, accType, at), n), outp, dt, at);
      });
  };
  // Split along the first kept axis: rows of it own disjoint, contiguous runs of outputs.
  auto kept = std::find(reduced.begin(), reduced.end(), false);
  if (kept == reduced.end()) { // one output (x may be a scalar), summed on this thread
    Value *init = reduceInit(op);
    store(init, acc, accType, c64(0));
    loopNest(xShape, [&](const Values &idx) {
      Value *v = load(x, dt, flatIndex(idx, xShape));
      store(reduceStep(op, load(acc, accType, c64(0)), v), acc, accType, c64(0));
    });
    if (finish)
      store(reduceResult(op, load(acc, accType, c64(0)), count), out, dt, c64(0));
    return {};
  }
  auto rowAxis = static_cast<size_t>(kept - reduced.begin());
  parallelRows(xShape[rowAxis], numel(xt), {x, acc, out},
               [&](const Values &p, Value *begin, Value *end) {
                 Values xs = shape(xt), os = shape(rt);
                 Value *perRow = c64(1), *n = c64(1);
                 for (size_t a = 0; a < xs.size(); ++a)
                   if (reduced[a])
                     n = b.CreateMul(n, xs[a]);
                   else if (a > rowAxis)
                     perRow = b.CreateMul(perRow, xs[a]);
                 reduceRows(p[0], p[1], p[2], xs, os, rowAxis, begin, end, perRow, n);
               });
  return {};
}

Status Emitter::emitArgmax(const ir::Op &op) {
  const ir::Type &xt = op.operand(0)->type(), &rt = op.result()->type();
  int64_t axis = op.axis();
  DType dt = xt.dtype();
  Value *out = bufferOf(op.result());
  ptrs[op.result()] = out;
  Value *x = ptr(op.operand(0));
  Values xShape = shape(xt);
  Value *outer = c64(1), *inner = c64(1), *n = xShape[axis];
  for (int64_t a = 0; a < xt.rank(); ++a)
    if (a < axis)
      outer = b.CreateMul(outer, xShape[a]);
    else if (a > axis)
      inner = b.CreateMul(inner, xShape[a]);
  int site = faultSite(op, xt.str());
  fault(b.CreateAnd(b.CreateICmpEQ(n, c64(0)), b.CreateICmpSGT(numel(rt), c64(0))),
        Fault::EmptyReduce, site, nullptr, nullptr, nullptr);
  loopNest({outer, inner}, [&](const Values &pq) {
    Value *base = b.CreateAdd(b.CreateMul(b.CreateMul(pq[0], n), inner), pq[1]);
    Value *best = local(i64Ty(), c64(0));
    forLoop(b.CreateSub(n, c64(1)), [&](Value *k0) {
      Value *kk = b.CreateAdd(k0, c64(1));
      Value *bi = b.CreateLoad(i64Ty(), best);
      Value *xv = load(x, dt, b.CreateAdd(base, b.CreateMul(kk, inner)));
      Value *xb = load(x, dt, b.CreateAdd(base, b.CreateMul(bi, inner)));
      Value *better = isFloat(dt) ? b.CreateAnd(b.CreateFCmpORD(xb, xb), b.CreateFCmpUGT(xv, xb))
                                  : b.CreateICmpSGT(xv, xb);
      b.CreateStore(b.CreateSelect(better, kk, bi), best);
    });
    store(b.CreateLoad(i64Ty(), best), out, DType::I64,
          b.CreateAdd(b.CreateMul(pq[0], inner), pq[1]));
  });
  return {};
}

Status Emitter::emitMatmul(const ir::Op &op) {
  const ir::Type &at = op.operand(0)->type(), &bt = op.operand(1)->type(),
                 &rt = op.result()->type();
  DType dt = rt.dtype();
  int64_t r = at.rank();
  Value *out = bufferOf(op.result());
  ptrs[op.result()] = out;
  Value *A = ptr(op.operand(0)), *B = ptr(op.operand(1));
  Value *M = dim(at.dim(r - 2)), *K = dim(at.dim(r - 1)), *N = dim(bt.dim(r - 1));
  Value *batch = c64(1);
  for (int64_t i = 0; i + 2 < r; ++i)
    batch = b.CreateMul(batch, dim(rt.dim(i)));
  if (isFloat(dt)) {
    emitPackedMatmul(op, out); // writes every element
    return {};
  }
  memZero(out, bytes(rt));
  // Integers: (i, k, j): the innermost loop runs along contiguous rows of B and of the output.
  loopNest({batch, M}, [&](const Values &bm) {
    Value *row = b.CreateAdd(b.CreateMul(bm[0], M), bm[1]);
    forLoop(K, [&](Value *k) {
      Value *av = load(A, dt, b.CreateAdd(b.CreateMul(row, K), k));
      Value *bRow = b.CreateMul(b.CreateAdd(b.CreateMul(bm[0], K), k), N);
      Value *oRow = b.CreateMul(row, N);
      forLoop(N, [&](Value *j) {
        Value *o = b.CreateAdd(oRow, j);
        Value *bv = load(B, dt, b.CreateAdd(bRow, j)), *acc = load(out, dt, o);
        Value *r2 = b.CreateAdd(acc, b.CreateMul(av, bv));
        store(r2, out, dt, o);
      });
    });
  });
  return {};
}

namespace {

/// The splitmix64 finalizer of runtime/Random.h, in IR.
Value *mix64(llvm::IRBuilder<> &b, Value *x) {
  x = b.CreateAdd(x, b.getInt64(0x9E3779B97F4A7C15ull));
  x = b.CreateMul(b.CreateXor(x, b.CreateLShr(x, 30)), b.getInt64(0xBF58476D1CE4E5B9ull));
  x = b.CreateMul(b.CreateXor(x, b.CreateLShr(x, 27)), b.getInt64(0x94D049BB133111EBull));
  return b.CreateXor(x, b.CreateLShr(x, 31));
}

} // namespace

// ---------------------------------------------------------------------------
// all_reduce: a start where the op stands, a wait right before the first use of its result
// (docs/DataParallel.md). In between, MPI owns the result's buffer, which the buffer plan keeps
// live from the op to its last use, and a progress call after each op lets OpenMPI advance
// the reduction while kernels run.

Status Emitter::emitAllReduce(const ir::Op &op) {
  // The result takes a copy of the operand, which the runtime replaces in place by its sum or
  // mean over the group; the copy is skipped when the buffer plan gave both one buffer.
  const ir::Type &t = op.result()->type();
  Value *out = bufferOf(op.result());
  ptrs[op.result()] = out;
  Value *x = ptr(op.operand(0));
  ifThen(b.CreateICmpNE(x, out), [&] { memCopy(out, x, bytes(t)); });
  auto *fty = llvm::FunctionType::get(
      b.getInt32Ty(), {b.getPtrTy(), i64Ty(), b.getInt32Ty(), i64Ty(), b.getInt32Ty()}, false);
  Value *rc = b.CreateCall(mod.getOrInsertFunction("weft_all_reduce_start", fty),
                           {out, numel(t), b.getInt32(static_cast<uint32_t>(t.dtype())),
                            c64(op.group()), b.getInt32(op.mean() ? 1 : 0)});
  int site = faultSite(op, fmt::format("group {}", op.group()));
  fault(b.CreateICmpNE(rc, b.getInt32(0)), Fault::Collective, site, nullptr, nullptr, nullptr);
  return {};
}

void Emitter::emitCollectiveWaits(const ir::Op *op, std::vector<const ir::Op *> &inFlight) {
  if (inFlight.empty())
    return;
  std::unordered_set<const ir::Value *> read;
  if (op) {
    read.insert(op->operands().begin(), op->operands().end());
    for (size_t r = 0; r < op->numRegions(); ++r)
      ir::walk(op->region(r),
               [&](ir::Op &o) { read.insert(o.operands().begin(), o.operands().end()); });
  }
  auto *fty = llvm::FunctionType::get(b.getInt32Ty(), {b.getPtrTy()}, false);
  std::erase_if(inFlight, [&](const ir::Op *reduce) {
    if (op && !read.count(reduce->result()))
      return false;
    Value *rc = b.CreateCall(mod.getOrInsertFunction("weft_all_reduce_wait", fty),
                             {ptrs.at(reduce->result())});
    int site = faultSite(*reduce, fmt::format("group {}", reduce->group()));
    fault(b.CreateICmpNE(rc, b.getInt32(0)), Fault::Collective, site, nullptr, nullptr, nullptr);
    return true;
  });
}

void Emitter::emitCollectiveProgress() {
  auto *fty = llvm::FunctionType::get(b.getVoidTy(), {}, false);
  b.CreateCall(mod.getOrInsertFunction("weft_all_reduce_progress", fty), {});
}

Status Emitter::emitProducer(const ir::Op &op) {
  const ir::Type &rt = op.result()->type();
  DType dt = rt.dtype();
  Value *out = bufferOf(op.result());
  ptrs[op.result()] = out;
  Value *n = numel(rt);
  switch (op.kind()) {
  case OpKind::Constant: {
    const auto *fs = std::get_if<std::vector<double>>(&op.value());
    const auto *is = std::get_if<std::vector<int64_t>>(&op.value());
    bool fl = isFloat(dt);
    if ((fl && !fs) || (!fl && !is))
      return err(fmt::format("constant: needs a list of {} in 'value'", fl ? "floats" : "integers"),
                 op.loc());
    size_t count = fl ? fs->size() : is->size();
    auto elem = [&](size_t j) -> llvm::Constant * {
      if (fl)
        return llvm::ConstantFP::get(storageTy(dt), (*fs)[j]);
      if (dt == DType::I1)
        return b.getInt8((*is)[j] != 0);
      return llvm::ConstantInt::get(storageTy(dt), static_cast<uint64_t>((*is)[j]), true);
    };
    if (count == 1) {
      llvm::Constant *c = elem(0);
      forLoop(n, [&](Value *i) {
        b.CreateAlignedStore(c, gep(out, dt, i), llvm::Align(dtypeBytes(dt)));
      });
      return {};
    }
    std::vector<llvm::Constant *> elems;
    for (size_t j = 0; j < count; ++j)
      elems.push_back(elem(j));
    auto *arrTy = llvm::ArrayType::get(storageTy(dt), count);
    auto *g =
        new llvm::GlobalVariable(mod, arrTy, /*isConstant=*/true, llvm::GlobalValue::PrivateLinkage,
                                 llvm::ConstantArray::get(arrTy, elems), "const");
    g->setAlignment(llvm::Align(64));
    auto cnt = static_cast<int64_t>(count);
    int site = faultSite(op, rt.str());
    Value *bad = b.CreateICmpNE(n, c64(cnt));
    fault(bad, Fault::ConstantCount, site, c64(cnt), n, nullptr);
    ifThen(b.CreateNot(bad), [&] { memCopy(out, g, c64(cnt * dtypeBytes(dt))); });
    return {};
  }
  case OpKind::Iota: {
    int64_t axis = op.axis();
    Values s = shape(rt);
    loopNest(s, [&](const Values &idx) {
      store(convert(idx[axis], DType::I64, dt), out, dt, flatIndex(idx, s));
    });
    return {};
  }
  case OpKind::RandomUniform:
  case OpKind::RandomNormal: {
    Value *seed = mix64(b, load(ptr(op.operand(0)), DType::I64, c64(0)));
    auto bits = [&](Value *i) { return mix64(b, b.CreateXor(seed, i)); };
    auto unit53 = [&](Value *bitsV) { // [0, 1) with 53 bits
      return b.CreateFMul(b.CreateUIToFP(b.CreateLShr(bitsV, 11), b.getDoubleTy()),
                          llvm::ConstantFP::get(b.getDoubleTy(), 0x1.0p-53));
    };
    bool normal = op.kind() == OpKind::RandomNormal;
    forLoop(n, [&](Value *i) {
      Value *v;
      if (!normal && dt == DType::F32) {
        v = b.CreateFMul(b.CreateUIToFP(b.CreateLShr(bits(i), 40), b.getFloatTy()),
                         llvm::ConstantFP::get(b.getFloatTy(), 0x1.0p-24));
      } else if (!normal) {
        v = unit53(bits(i));
      } else {
        Value *i2 = b.CreateMul(i, c64(2));
        llvm::Type *d = b.getDoubleTy();
        Value *u1 = b.CreateFMul(b.CreateFAdd(b.CreateUIToFP(b.CreateLShr(bits(i2), 11), d),
                                              llvm::ConstantFP::get(d, 1.0)),
                                 llvm::ConstantFP::get(d, 0x1.0p-53));
        Value *u2 = unit53(bits(b.CreateAdd(i2, c64(1))));
        Value *rad = intrinsic(
            llvm::Intrinsic::sqrt,
            {b.CreateFMul(llvm::ConstantFP::get(d, -2.0), intrinsic(llvm::Intrinsic::log, {u1}))});
        v = b.CreateFMul(
            rad, intrinsic(llvm::Intrinsic::cos,
                           {b.CreateFMul(llvm::ConstantFP::get(d, 6.283185307179586), u2)}));
        if (dt == DType::F32)
          v = b.CreateFPTrunc(v, b.getFloatTy());
      }
      store(v, out, dt, i);
    });
    return {};
  }
  default:
    WEFT_UNREACHABLE("cpu codegen: not a producer");
  }
}

} // namespace weft::cpu::detail
