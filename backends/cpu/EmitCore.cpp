//===- backends/cpu/EmitCore.cpp - function skeleton, loops, elementwise, control flow ===//
//
// Buffers: every parameter, op result and scratch buffer is a slot; its data
// pointer is loaded from `bufs` in the entry block, so it dominates every use.
// Loops are plain counted loops with an i64 induction variable; O3's loop
// passes rotate and vectorize them.
//
//===----------------------------------------------------------------------===//
#include "backends/ScalarOps.h"
#include "backends/cpu/Emitter.h"
#include "backends/cpu/Scratch.h"
#include "ir/Infer.h"
#include "ir/Walk.h"

#include <fmt/format.h>
#include <llvm/IR/Intrinsics.h>

namespace weft::cpu {
namespace detail {

using ir::OpKind;
using llvm::Value;

Emitter::Emitter(llvm::Module &m, FunctionPlan &plan)
    : ctx(m.getContext()), mod(m), b(m.getContext()), plan(plan) {}

llvm::Type *Emitter::storageTy(DType t) {
  switch (t) {
#define DTYPE(Id, Name, Bytes, Npy, Element, CType, Llvm, Kind)                                    \
  case DType::Id:                                                                                  \
    return b.get##Llvm##Ty();
#include "runtime/DTypes.def"
  }
  WEFT_UNREACHABLE("unhandled dtype");
}

llvm::Type *Emitter::scalarTy(DType t) { return t == DType::I1 ? b.getInt1Ty() : storageTy(t); }

Value *Emitter::dim(const ir::Dim &d) {
  Value *v = nullptr;
  for (const std::string &s : d.symbols()) {
    auto it = symValues.find(s);
    if (it == symValues.end()) {
      llvm::IRBuilder<> eb(entry->getTerminator());
      // An outlined kernel loads the symbols again, from the same dims array.
      auto known = std::find(plan.symbols.begin(), plan.symbols.end(), s);
      auto idx = static_cast<int64_t>(known - plan.symbols.begin());
      if (known == plan.symbols.end())
        plan.symbols.push_back(s);
      Value *p = eb.CreateInBoundsGEP(i64Ty(), dimsArg, c64(idx));
      it = symValues.emplace(s, eb.CreateAlignedLoad(i64Ty(), p, llvm::Align(8), s)).first;
    }
    v = v ? b.CreateMul(v, it->second) : it->second;
  }
  if (!v)
    return c64(d.coeff());
  return d.coeff() == 1 ? v : b.CreateMul(c64(d.coeff()), v);
}

Values Emitter::shape(const ir::Type &t) {
  Values s;
  for (const ir::Dim &d : t.dims())
    s.push_back(dim(d));
  return s;
}

Value *Emitter::numel(const ir::Type &t) { return dim(t.numElements()); }

Value *Emitter::bufferOf(const ir::Value *v) {
  int slot = buffers->slotOf(v);
  WEFT_CHECK(slot >= 0, "cpu codegen: the buffer plan gives a value no slot");
  return slotPtrs[static_cast<size_t>(slot)];
}

Value *Emitter::scratchBuffer(const ir::Type &t) {
  WEFT_CHECK(currentOp, "cpu codegen: scratch outside an op");
  const std::vector<int> &slots = buffers->scratchOf(*currentOp);
  size_t k = scratchTaken[currentOp]++;
  WEFT_CHECK(k < slots.size() && buffers->slots()[slots[k]].type == t,
             "cpu codegen: scratch the scratch model (Scratch.cpp) does not list");
  return slotPtrs[static_cast<size_t>(slots[k])];
}

Value *Emitter::ptr(const ir::Value *v) {
  auto it = ptrs.find(v);
  WEFT_CHECK(it != ptrs.end(), "cpu codegen: value used before it is emitted");
  return it->second;
}

Value *Emitter::local(llvm::Type *t, Value *init) {
  llvm::IRBuilder<> eb(&entry->front());
  Value *slot = eb.CreateAlloca(t);
  b.CreateStore(init, slot);
  return slot;
}

Value *Emitter::gep(Value *p, DType t, Value *i) { return b.CreateInBoundsGEP(storageTy(t), p, i); }

Value *Emitter::load(Value *p, DType t, Value *i) {
  Value *v = b.CreateAlignedLoad(storageTy(t), gep(p, t, i), llvm::Align(dtypeBytes(t)));
  return t == DType::I1 ? b.CreateICmpNE(v, b.getInt8(0)) : v;
}

void Emitter::store(Value *v, Value *p, DType t, Value *i) {
  if (t == DType::I1)
    v = b.CreateZExt(v, b.getInt8Ty());
  b.CreateAlignedStore(v, gep(p, t, i), llvm::Align(dtypeBytes(t)));
}

void Emitter::memCopy(Value *dst, Value *src, Value *n) {
  b.CreateMemCpy(dst, llvm::MaybeAlign(1), src, llvm::MaybeAlign(1), n);
}

void Emitter::memZero(Value *dst, Value *n) {
  b.CreateMemSet(dst, b.getInt8(0), n, llvm::MaybeAlign(1));
}

void Emitter::forLoop(Value *n, const std::function<void(Value *)> &body, const char *name) {
  llvm::BasicBlock *pre = b.GetInsertBlock();
  auto *header = llvm::BasicBlock::Create(ctx, name, fn);
  auto *bodyBB = llvm::BasicBlock::Create(ctx, llvm::Twine(name) + ".body", fn);
  auto *exit = llvm::BasicBlock::Create(ctx, llvm::Twine(name) + ".exit", fn);
  b.CreateBr(header);
  b.SetInsertPoint(header);
  llvm::PHINode *i = b.CreatePHI(i64Ty(), 2, "i");
  i->addIncoming(c64(0), pre);
  b.CreateCondBr(b.CreateICmpSLT(i, n), bodyBB, exit);
  b.SetInsertPoint(bodyBB);
  body(i);
  Value *next = b.CreateAdd(i, c64(1), "", /*HasNUW=*/true, /*HasNSW=*/true);
  i->addIncoming(next, b.GetInsertBlock());
  b.CreateBr(header);
  b.SetInsertPoint(exit);
}

Values Emitter::accumulate(Value *n, const Values &init,
                           const std::function<Values(Value *, const Values &)> &step) {
  llvm::BasicBlock *pre = b.GetInsertBlock();
  auto *loop = llvm::BasicBlock::Create(ctx, "acc.loop", fn);
  auto *exit = llvm::BasicBlock::Create(ctx, "acc.exit", fn);
  b.CreateCondBr(b.CreateICmpSGT(n, c64(0)), loop, exit);
  b.SetInsertPoint(loop);
  llvm::PHINode *k = b.CreatePHI(i64Ty(), 2, "k");
  k->addIncoming(c64(0), pre);
  Values acc;
  for (Value *v : init) {
    llvm::PHINode *phi = b.CreatePHI(v->getType(), 2);
    phi->addIncoming(v, pre);
    acc.push_back(phi);
  }
  Values next = step(k, acc);
  Value *k1 = b.CreateAdd(k, c64(1), "", /*HasNUW=*/true, /*HasNSW=*/true);
  llvm::BasicBlock *latch = b.GetInsertBlock();
  b.CreateCondBr(b.CreateICmpSLT(k1, n), loop, exit);
  k->addIncoming(k1, latch);
  for (size_t i = 0; i < acc.size(); ++i)
    llvm::cast<llvm::PHINode>(acc[i])->addIncoming(next[i], latch);
  b.SetInsertPoint(exit);
  Values out;
  for (size_t i = 0; i < init.size(); ++i) {
    llvm::PHINode *phi = b.CreatePHI(init[i]->getType(), 2);
    phi->addIncoming(init[i], pre);
    phi->addIncoming(next[i], latch);
    out.push_back(phi);
  }
  return out;
}

void Emitter::loopNest(const Values &extents, const std::function<void(const Values &)> &body) {
  Values idx;
  std::function<void(size_t)> level = [&](size_t d) {
    if (d == extents.size())
      return body(idx);
    forLoop(extents[d], [&](Value *i) {
      idx.push_back(i);
      level(d + 1);
      idx.pop_back();
    });
  };
  level(0);
}

void Emitter::ifThen(Value *cond, const std::function<void()> &then) {
  auto *thenBB = llvm::BasicBlock::Create(ctx, "then", fn);
  auto *join = llvm::BasicBlock::Create(ctx, "endif", fn);
  b.CreateCondBr(cond, thenBB, join);
  b.SetInsertPoint(thenBB);
  then();
  b.CreateBr(join);
  b.SetInsertPoint(join);
}

Value *Emitter::flatIndex(const Values &idx, const Values &shp) {
  Value *flat = c64(0);
  for (size_t a = 0; a < idx.size(); ++a)
    flat = b.CreateAdd(b.CreateMul(flat, shp[a]), idx[a]);
  return flat;
}

int Emitter::faultSite(const ir::Op &op, std::string what) {
  plan.faultSites.push_back(FaultSite{std::string(op.name()), op.loc(), std::move(what)});
  return static_cast<int>(plan.faultSites.size()) - 1;
}

void Emitter::fault(Value *cond, Fault f, int site, Value *a, Value *b2, Value *c) {
  ifThen(cond, [&] {
    // The first fault wins, also between the threads of a parallel kernel: claim word 0.
    Value *claim =
        b.CreateAtomicCmpXchg(statusArg, c64(0), c64(static_cast<int64_t>(f)), llvm::MaybeAlign(8),
                              llvm::AtomicOrdering::Monotonic, llvm::AtomicOrdering::Monotonic);
    ifThen(b.CreateExtractValue(claim, 1), [&] {
      Value *words[kStatusWords] = {nullptr, c64(site), a ? a : c64(0), b2 ? b2 : c64(0),
                                    c ? c : c64(0)};
      for (int w = 1; w < kStatusWords; ++w)
        b.CreateStore(words[w], b.CreateInBoundsGEP(i64Ty(), statusArg, c64(w)));
    });
  });
}

Value *Emitter::callLibm(const char *name, Value *x) {
  llvm::FunctionCallee f = mod.getOrInsertFunction(name, x->getType(), x->getType());
  if (auto *g = llvm::dyn_cast<llvm::Function>(f.getCallee())) {
    g->setDoesNotThrow();
    g->setOnlyAccessesInaccessibleMemory(); // errno at most
  }
  return b.CreateCall(f, {x});
}

llvm::Value *Emitter::numThreads() {
  auto *fty = llvm::FunctionType::get(i64Ty(), {}, false);
  return b.CreateCall(mod.getOrInsertFunction("weft_num_threads", fty));
}

OutlinedBody::OutlinedBody(Emitter &e, const char *suffix)
    : e_(e), savedIp_(e.b.saveIP()), savedFn_(e.fn), savedEntry_(e.entry), savedDims_(e.dimsArg),
      savedStatus_(e.statusArg), savedSyms_(std::move(e.symValues)) {
  auto *fty =
      llvm::FunctionType::get(e.b.getVoidTy(), {e.b.getPtrTy(), e.i64Ty(), e.i64Ty()}, false);
  function = llvm::Function::Create(fty, llvm::Function::InternalLinkage,
                                    e.fn->getName() + "." + suffix, e.mod);
  function->setDoesNotThrow();
  function->addParamAttr(0, llvm::Attribute::NoAlias);
  if (e.fn->hasFnAttribute("min-legal-vector-width"))
    function->addFnAttr(e.fn->getFnAttribute("min-legal-vector-width"));
  e.symValues.clear();
  e.dimsArg = e.statusArg = nullptr;
  e.fn = function;
  // An entry block (allocas and loads of the context go there) that falls through to the body.
  e.entry = llvm::BasicBlock::Create(e.ctx, "entry", function);
  auto *start = llvm::BasicBlock::Create(e.ctx, "start", function);
  e.b.SetInsertPoint(e.entry);
  e.b.CreateBr(start);
  e.b.SetInsertPoint(start);
  ctx = function->getArg(0);
  begin = function->getArg(1);
  end = function->getArg(2);
}

OutlinedBody::~OutlinedBody() {
  e_.fn = savedFn_;
  e_.entry = savedEntry_;
  e_.dimsArg = savedDims_;
  e_.statusArg = savedStatus_;
  e_.symValues = std::move(savedSyms_);
  e_.b.restoreIP(savedIp_);
}

void Emitter::loopNestRows(const Values &extents, size_t axis, Value *begin, Value *end,
                           const std::function<void(const Values &)> &body) {
  Values shifted = extents;
  shifted[axis] = b.CreateSub(end, begin);
  loopNest(shifted, [&](const Values &idx) {
    Values at = idx;
    at[axis] = b.CreateAdd(idx[axis], begin);
    body(at);
  });
}

Value *Emitter::intrinsic(llvm::Intrinsic::ID id, Values args) {
  return b.CreateIntrinsic(id, {args[0]->getType()}, args);
}

// ---------------------------------------------------------------------------
// Elementwise ops.

Value *Emitter::convert(Value *x, DType from, DType to) {
  return backends::emitConvert(b, x, from, to, scalarTy(to));
}

Value *Emitter::scalarOp(const ir::Op &op, DType in, Values xs, Value *i, int site) {
  OpKind k = op.kind();
  Value *x = xs[0];
  llvm::Type *t = x->getType();
  bool fl = isFloat(in);
  auto fc = [&](double v) { return llvm::ConstantFP::get(t, v); };
  auto ic = [&](int64_t v) { return llvm::ConstantInt::get(t, static_cast<uint64_t>(v), true); };
  const char *suffix = in == DType::F32 ? "f" : "";
  switch (k) {
  case OpKind::StopGradient:
    return x;
  case OpKind::Not:
    return b.CreateNot(x);
  case OpKind::Neg:
    return fl ? b.CreateFNeg(x) : b.CreateSub(ic(0), x);
  case OpKind::Abs:
    return fl ? intrinsic(llvm::Intrinsic::fabs, {x})
              : b.CreateSelect(b.CreateICmpSLT(x, ic(0)), b.CreateSub(ic(0), x), x);
  case OpKind::Sign:
    if (fl) // zeros and NaN map to themselves
      return b.CreateSelect(b.CreateFCmpOGT(x, fc(0)), fc(1),
                            b.CreateSelect(b.CreateFCmpOLT(x, fc(0)), fc(-1), x));
    return b.CreateSelect(b.CreateICmpSGT(x, ic(0)), ic(1),
                          b.CreateSelect(b.CreateICmpSLT(x, ic(0)), ic(-1), ic(0)));
  case OpKind::Relu:
    return fl ? b.CreateSelect(b.CreateFCmpUGT(x, fc(0)), x, fc(0)) // NaN stays NaN
              : b.CreateSelect(b.CreateICmpSGT(x, ic(0)), x, ic(0));
  case OpKind::Exp:
    return intrinsic(llvm::Intrinsic::exp, {x});
  case OpKind::Log:
    return intrinsic(llvm::Intrinsic::log, {x});
  case OpKind::Tanh:
    return tanhOf(x, in);
  case OpKind::Erf:
    return callLibm(fmt::format("erf{}", suffix).c_str(), x);
  case OpKind::Sigmoid:
    return sigmoidOf(x, in);
  case OpKind::Sqrt:
    return intrinsic(llvm::Intrinsic::sqrt, {x});
  case OpKind::Rsqrt:
    return b.CreateFDiv(fc(1), intrinsic(llvm::Intrinsic::sqrt, {x}));
  case OpKind::Sin:
    return intrinsic(llvm::Intrinsic::sin, {x});
  case OpKind::Cos:
    return intrinsic(llvm::Intrinsic::cos, {x});
  case OpKind::Floor:
    return intrinsic(llvm::Intrinsic::floor, {x});
  case OpKind::Ceil:
    return intrinsic(llvm::Intrinsic::ceil, {x});
  default:
    break;
  }
  Value *y = xs[1];
  switch (k) {
  case OpKind::Add:
    return fl ? b.CreateFAdd(x, y) : b.CreateAdd(x, y);
  case OpKind::Sub:
    return fl ? b.CreateFSub(x, y) : b.CreateSub(x, y);
  case OpKind::Mul:
    return fl ? b.CreateFMul(x, y) : b.CreateMul(x, y);
  case OpKind::Div: {
    if (fl)
      return b.CreateFDiv(x, y);
    Value *zero = b.CreateICmpEQ(y, ic(0)), *minus1 = b.CreateICmpEQ(y, ic(-1));
    fault(zero, Fault::DivisionByZero, site, i, nullptr, nullptr);
    Value *safe = b.CreateSelect(b.CreateOr(zero, minus1), ic(1), y);
    // INT_MIN / -1 overflows; negation wraps instead, as in the interpreter.
    return b.CreateSelect(minus1, b.CreateSub(ic(0), x), b.CreateSDiv(x, safe));
  }
  case OpKind::Max:
  case OpKind::Min:
    return backends::emitMaxMin(b, k == OpKind::Max, fl, x, y);
  case OpKind::Pow:
    return intrinsic(llvm::Intrinsic::pow, {x, y});
  default:
    if (auto v = backends::emitCompareOrLogic(b, k, fl, x, y))
      return *v;
    WEFT_UNREACHABLE("cpu codegen: not an elementwise op");
  }
}

Status Emitter::emitElementwise(const ir::Op &op) {
  const ir::Type &rt = op.result()->type();
  Value *out = bufferOf(op.result());
  ptrs[op.result()] = out;
  Values ins;
  for (ir::Value *v : op.operands())
    ins.push_back(ptr(v));
  int site = elementwiseFaultSite(op);
  Value *n = numel(rt);
  Values captured = ins;
  captured.push_back(out);
  parallelRows(n, n, captured, [&](const Values &in, Value *begin, Value *end) {
    forLoop(b.CreateSub(end, begin), [&](Value *k) {
      Value *i = b.CreateAdd(begin, k);
      Values xs;
      for (size_t j = 0; j < ins.size(); ++j)
        xs.push_back(load(in[j], op.operand(j)->type().dtype(), i));
      store(elementwiseScalar(op, xs, i, site), in.back(), rt.dtype(), i);
    });
  });
  return {};
}

int Emitter::elementwiseFaultSite(const ir::Op &op) {
  if (op.kind() == OpKind::Div && isInteger(op.operand(0)->type().dtype()))
    return faultSite(op, op.operand(0)->type().str());
  return -1;
}

Value *Emitter::elementwiseScalar(const ir::Op &op, const Values &xs, Value *i, int site) {
  DType in = op.operand(op.kind() == OpKind::Select ? 1 : 0)->type().dtype();
  if (op.kind() == OpKind::Select)
    return b.CreateSelect(xs[0], xs[1], xs[2]);
  if (op.kind() == OpKind::Cast)
    return convert(xs[0], in, op.result()->type().dtype());
  return scalarOp(op, in, xs, i, site);
}

// ---------------------------------------------------------------------------
// scan and while.

void Emitter::maskedCopy(Value *dst, Value *src, Value *rowBytes, Value *rows,
                         const std::function<Value *(Value *)> &active) {
  forLoop(rows, [&](Value *r) {
    ifThen(active(r), [&] {
      Value *off = b.CreateMul(r, rowBytes);
      memCopy(b.CreateInBoundsGEP(b.getInt8Ty(), dst, off),
              b.CreateInBoundsGEP(b.getInt8Ty(), src, off), rowBytes);
    });
  });
}

void Emitter::storeLoopYields(const ir::Op &yield, size_t firstCarry, const Values &carries,
                              size_t firstEmit, const Values &emits, Value *t, Value *rows,
                              const std::function<Value *(Value *)> &active) {
  auto copy = [&](Value *dst, Value *src, const ir::Type &type) {
    if (!active)
      return memCopy(dst, src, bytes(type));
    // Axis 0 is the batch: an example's row is the bytes of the other axes (the total divided
    // by B would divide by zero for an empty batch).
    ir::Type row({type.dims().begin() + 1, type.dims().end()}, type.dtype());
    maskedCopy(dst, src, bytes(row), rows, active);
  };
  for (size_t j = 0; j < emits.size(); ++j) {
    const ir::Value *y = yield.operand(firstEmit + j);
    Value *dst = b.CreateInBoundsGEP(b.getInt8Ty(), emits[j], b.CreateMul(t, bytes(y->type())));
    copy(dst, ptr(y), y->type());
  }
  Values srcs;
  for (size_t i = 0; i < carries.size(); ++i) {
    const ir::Value *y = yield.operand(firstCarry + i);
    Value *src = ptr(y);
    bool isCarry = std::find(carries.begin(), carries.end(), src) != carries.end();
    if (isCarry && src != carries[i]) { // stage: another carry is about to be overwritten
      Value *tmp = scratchBuffer(y->type());
      memCopy(tmp, src, bytes(y->type()));
      src = tmp;
    }
    srcs.push_back(src);
  }
  for (size_t i = 0; i < carries.size(); ++i)
    if (srcs[i] != carries[i])
      copy(carries[i], srcs[i], yield.operand(firstCarry + i)->type());
}

Status Emitter::emitScan(const ir::Op &op) {
  auto g = ir::scanOperands(op.numOperands(), op.attrs());
  WEFT_TRY(g.status());
  size_t nc = g->numCarry, ns = g->numSeq;
  const ir::Block &body = op.region();
  bool reverse = op.reverse();
  Values carries, emits;
  for (size_t i = 0; i < op.numResults(); ++i) {
    Value *buf = bufferOf(op.result(i));
    ptrs[op.result(i)] = buf;
    (i < nc ? carries : emits).push_back(buf);
  }
  for (size_t i = 0; i < nc; ++i) {
    memCopy(carries[i], ptr(op.operand(i)), bytes(op.result(i)->type()));
    ptrs[body.arg(i)] = carries[i];
  }
  for (size_t j = 0; j < emits.size(); ++j)
    memZero(emits[j], bytes(op.result(nc + j)->type()));
  packBsBeforeLoop(op);
  Value *steps = dim(op.operand(nc)->type().dim(0));
  Value *lenPtr = nullptr, *rows = nullptr;
  DType lenType = DType::I64;
  if (g->hasLengths) {
    const ir::Value *len = op.operand(op.numOperands() - 1);
    lenPtr = ptr(len);
    lenType = len->type().dtype();
    rows = dim(len->type().dim(0));
    int site = faultSite(op, "lengths");
    forLoop(rows, [&](Value *r) {
      Value *n = b.CreateSExt(load(lenPtr, lenType, r), i64Ty());
      fault(b.CreateOr(b.CreateICmpSLT(n, c64(0)), b.CreateICmpSGT(n, steps)),
            Fault::LengthOutOfRange, site, n, r, steps);
    });
  }
  Status bodyStatus;
  forLoop(
      steps,
      [&](Value *s) {
        Value *t = reverse ? b.CreateSub(b.CreateSub(steps, c64(1)), s) : s;
        for (size_t j = 0; j < ns; ++j) {
          const ir::Value *seq = op.operand(nc + j);
          const ir::Type &stepType = body.arg(nc + j)->type();
          ptrs[body.arg(nc + j)] =
              gep(ptr(seq), seq->type().dtype(), b.CreateMul(t, numel(stepType)));
        }
        bodyStatus = emitBlockOps(body);
        if (!bodyStatus)
          return;
        std::function<Value *(Value *)> active;
        if (lenPtr)
          active = [&](Value *r) {
            return b.CreateICmpSLT(t, b.CreateSExt(load(lenPtr, lenType, r), i64Ty()));
          };
        storeLoopYields(*body.back(), 0, carries, nc, emits, t, rows, active);
      },
      "scan.step");
  return bodyStatus;
}

Status Emitter::emitWhile(const ir::Op &op) {
  int64_t maxTrips = op.maxTrips();
  const ir::Block &body = op.region();
  size_t nc = op.numOperands() - 1, ne = op.numResults() - nc - 2;
  Value *fin = bufferOf(op.result(0));
  ptrs[op.result(0)] = fin;
  memCopy(fin, ptr(op.operand(0)), bytes(op.result(0)->type()));
  Value *rows = dim(op.result(0)->type().dim(0));
  Values carries, emits;
  for (size_t i = 0; i < nc; ++i) {
    Value *buf = bufferOf(op.result(1 + i));
    ptrs[op.result(1 + i)] = buf;
    ptrs[body.arg(i)] = buf;
    memCopy(buf, ptr(op.operand(1 + i)), bytes(op.result(1 + i)->type()));
    carries.push_back(buf);
  }
  for (size_t j = 0; j < ne; ++j) {
    Value *buf = bufferOf(op.result(1 + nc + j));
    ptrs[op.result(1 + nc + j)] = buf;
    memZero(buf, bytes(op.result(1 + nc + j)->type()));
    emits.push_back(buf);
  }
  Value *tripsOut = bufferOf(op.result(op.numResults() - 1));
  ptrs[op.result(op.numResults() - 1)] = tripsOut;

  packBsBeforeLoop(op);
  Value *trip = local(i64Ty(), c64(0));
  auto *header = llvm::BasicBlock::Create(ctx, "while", fn);
  auto *bodyBB = llvm::BasicBlock::Create(ctx, "while.body", fn);
  auto *exit = llvm::BasicBlock::Create(ctx, "while.exit", fn);
  b.CreateBr(header);
  b.SetInsertPoint(header);
  Value *anyLeft = local(b.getInt1Ty(), b.getFalse());
  forLoop(rows, [&](Value *r) {
    b.CreateStore(
        b.CreateOr(b.CreateLoad(b.getInt1Ty(), anyLeft), b.CreateNot(load(fin, DType::I1, r))),
        anyLeft);
  });
  Value *t = b.CreateLoad(i64Ty(), trip);
  b.CreateCondBr(
      b.CreateAnd(b.CreateICmpSLT(t, c64(maxTrips)), b.CreateLoad(b.getInt1Ty(), anyLeft)), bodyBB,
      exit);
  b.SetInsertPoint(bodyBB);
  WEFT_TRY(emitBlockOps(body));
  const ir::Op &yield = *body.back();
  Value *done = ptr(yield.operand(0));
  if (std::find(carries.begin(), carries.end(), done) != carries.end()) {
    Value *tmp = scratchBuffer(yield.operand(0)->type());
    memCopy(tmp, done, bytes(yield.operand(0)->type()));
    done = tmp;
  }
  storeLoopYields(yield, 1, carries, 1 + nc, emits, t, rows,
                  [&](Value *r) { return b.CreateNot(load(fin, DType::I1, r)); });
  forLoop(rows, [&](Value *r) {
    store(b.CreateOr(load(fin, DType::I1, r), load(done, DType::I1, r)), fin, DType::I1, r);
  });
  b.CreateStore(b.CreateAdd(t, c64(1)), trip);
  b.CreateBr(header);
  b.SetInsertPoint(exit);
  store(b.CreateLoad(i64Ty(), trip), tripsOut, DType::I64, c64(0));
  return {};
}

// ---------------------------------------------------------------------------
// Blocks and functions.

Status Emitter::emitOp(const ir::Op &op) {
  OpKind k = op.kind();
  if (ir::isElementwise(k))
    return emitElementwise(op);
  if (ir::hasTrait(k, ir::trait::Shape))
    return emitShapeOp(op);
  if (ir::hasTrait(k, ir::trait::Reduction))
    return emitReduce(op);
  if (ir::hasTrait(k, ir::trait::Producer))
    return emitProducer(op);
  switch (k) {
  case OpKind::Argmax:
    return emitArgmax(op);
  case OpKind::Matmul:
    return emitMatmul(op);
  case OpKind::Attention:
  case OpKind::AttentionGrad:
    return emitAttention(op);
  case OpKind::AdditiveAttention:
    return emitAdditiveAttention(op);
  case OpKind::LstmAttentionStep:
    return emitLstmAttentionStep(op);
  case OpKind::Scan:
    return emitScan(op);
  case OpKind::While:
    return emitWhile(op);
  case OpKind::Fusion:
    return emitFusion(op);
  case OpKind::AllReduce:
    return emitAllReduce(op);
  case OpKind::LstmSequence:
    return emitLstmSequence(op);
  case OpKind::GruSequence:
    return emitGruSequence(op);
  case OpKind::RnnSequence:
    return emitRnnSequence(op);
  case OpKind::LstmSequenceGrad:
    return emitLstmSequenceGrad(op);
  case OpKind::GruSequenceGrad:
  case OpKind::RnnSequenceGrad:
    return emitGruRnnSequenceGrad(op);
  default:
    return err(fmt::format("cpu backend: op {} is not supported here", op.name()), op.loc());
  }
}

Status Emitter::emitBlockOps(const ir::Block &block) {
  std::vector<const ir::Op *> inFlight; // all_reduces started in this block, not yet waited for
  for (const auto &op : block.ops()) {
    if (ir::isTerminator(op->kind())) {
      emitCollectiveWaits(nullptr, inFlight);
      return {};
    }
    emitCollectiveWaits(op.get(), inFlight);
    // Buffers made while emitting `op` (results, scratch) start as its span.
    const ir::Op *outer = std::exchange(currentOp, op.get());
    Status s = emitOp(*op);
    currentOp = outer;
    WEFT_TRY(s);
    if (op->kind() == OpKind::AllReduce)
      inFlight.push_back(op.get());
    else if (!inFlight.empty())
      emitCollectiveProgress();
  }
  return err("cpu backend: block does not end with a terminator");
}

Status Emitter::emit(const ir::Function &f) {
  auto *ptrTy = b.getPtrTy();
  auto *fty = llvm::FunctionType::get(b.getVoidTy(), {ptrTy, ptrTy, ptrTy}, false);
  fn = llvm::Function::Create(fty, llvm::Function::ExternalLinkage, plan.symbol, mod);
  fn->setDoesNotThrow();
  bufsArg = fn->getArg(0);
  dimsArg = fn->getArg(1);
  statusArg = fn->getArg(2);
  for (int a = 0; a < 3; ++a)
    fn->addParamAttr(a, llvm::Attribute::NoAlias);
  entry = llvm::BasicBlock::Create(ctx, "entry", fn);
  auto *start = llvm::BasicBlock::Create(ctx, "start", fn);
  b.SetInsertPoint(entry);
  b.CreateBr(start);
  b.SetInsertPoint(start);
  // dims[] follows the order in which symbols first appear in the parameter types, left to
  // right (then the result types): the AOT entry's symbol arguments must not move when the
  // function's body changes.
  auto noteSymbols = [&](const ir::Type &t) {
    for (int64_t d = 0; d < t.rank(); ++d)
      for (const std::string &s : t.dim(d).symbols())
        if (std::find(plan.symbols.begin(), plan.symbols.end(), s) == plan.symbols.end())
          plan.symbols.push_back(s);
  };
  for (size_t i = 0; i < f.numParams(); ++i)
    noteSymbols(f.param(i)->type());
  for (const ir::Type &t : f.resultTypes())
    noteSymbols(t);
  const ir::Op *ret = f.returnOp();
  if (!ret)
    return err(fmt::format("function @{} has no return", f.name()));
  // The slots, their live ranges, and which are the caller's come from the buffer plan.
  llvm::IRBuilder<> eb(entry->getTerminator());
  for (size_t s = 0; s < buffers->slots().size(); ++s) {
    const analysis::BufferSlot &slot = buffers->slots()[s];
    plan.slots.push_back(slot.type);
    plan.lives.push_back(slot.live);
    Value *p = eb.CreateInBoundsGEP(eb.getPtrTy(), bufsArg, c64(static_cast<int64_t>(s)));
    slotPtrs.push_back(
        eb.CreateAlignedLoad(eb.getPtrTy(), p, llvm::Align(8), fmt::format("buf{}", s)));
  }
  plan.paramSlots = buffers->paramSlots();
  plan.resultSlots = buffers->resultSlots();
  for (size_t i = 0; i < f.numParams(); ++i)
    ptrs[f.param(i)] = bufferOf(f.param(i));
  WEFT_TRY(emitBlockOps(f.body()));
  // Declared in-place updates not computed straight into their parameter's buffer.
  for (const auto &[from, to] : buffers->aliasCopies())
    memCopy(slotPtrs[static_cast<size_t>(to)], slotPtrs[static_cast<size_t>(from)],
            bytes(buffers->slots()[static_cast<size_t>(to)].type));
  plan.aliases = f.aliases();
  b.CreateRetVoid();
  return {};
}

} // namespace detail

Status emitFunction(llvm::Module &m, const ir::Function &f, FunctionPlan &plan,
                    const llvm::TargetMachine &tm) {
  plan.signature = ir::Signature::of(f);
  plan.symbol = "weft_" + f.name();
  detail::Emitter e(m, plan);
  e.vectorBytes = targetVectorBytes(tm);
  e.buffers.emplace(f, scratchModel(e.vectorBytes));
  return e.emit(f);
}

} // namespace weft::cpu
