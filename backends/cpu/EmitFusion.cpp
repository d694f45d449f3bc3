//===- backends/cpu/EmitFusion.cpp - a fusion op as one loop nest ----------===//
//
// A fusion (ir/Fusion.h) becomes an outlined kernel `void (ptr ctx, i64 begin,
// i64 end)` over rows of its iteration domain, called directly when the work
// is small and through weft_parallel_for otherwise:
//
//   - without reductions, a row is the last domain axis (a rank-1 domain is
//     cut into rows of kRowChunk elements), so the inner loop is contiguous and
//     the loop vectorizer can take it;
//   - with reductions, a row is one element of the kept axes and the inner
//     loop nest runs over the reduced axes in row-major order, accumulating as
//     the standalone reduce ops do (float sums in double), so results are the
//     interpreter's and do not depend on how rows are split among threads.
//
// Body values are scalars in registers: no buffer exists for them. A broadcast
// reads its argument at the index its `dims` map gives; a splat constant is a
// constant. Only the yielded values are stored.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/Emitter.h"
#include "ir/Fusion.h"

#include <fmt/format.h>

#include <unordered_map>

namespace weft::cpu::detail {

using ir::OpKind;
using llvm::Value;

namespace {

/// Rows of a rank-1 domain without reductions hold this many elements.
constexpr int64_t kRowChunk = 4096;
/// Below this much work (domain elements x body ops) a fusion runs on the calling thread.
constexpr int64_t kParallelWork = int64_t{1} << 17;
/// A parallel chunk holds about this much work.
constexpr int64_t kGrainWork = int64_t{1} << 15;

bool isReduction(OpKind k) { return ir::hasTrait(k, ir::trait::Reduction); }

double splatValue(const ir::Op &op) {
  const ir::Attr &v = op.value();
  if (const auto *d = std::get_if<std::vector<double>>(&v))
    return d->front();
  return static_cast<double>(std::get<std::vector<int64_t>>(v).front());
}

} // namespace

/// Emits one fusion op; see the file comment.
class FusionEmitter {
public:
  FusionEmitter(Emitter &e, const ir::Op &op, const ir::FusionForm &form)
      : e(e), b(e.b), op(op), body(op.region()), form(form) {
    int64_t rank = static_cast<int64_t>(form.domain.size());
    reduced.assign(static_cast<size_t>(rank), false);
    for (int64_t a : form.reduceAxes)
      reduced[static_cast<size_t>(a)] = true;
    for (int64_t a = 0; a < rank; ++a) {
      bool inner = form.hasReduction ? reduced[static_cast<size_t>(a)] : a == rank - 1;
      (inner ? innerAxes : outerAxes).push_back(a);
    }
    chunkRows = !form.hasReduction && rank == 1;
  }

  Status emit() {
    const ir::Op &yield = *body.back();
    // Where each result goes, an operand's buffer in place included, is the buffer plan's.
    Values outs;
    for (size_t i = 0; i < op.numResults(); ++i) {
      Value *buf = e.bufferOf(op.result(i));
      e.ptrs[op.result(i)] = buf;
      outs.push_back(buf);
    }
    // Context: operand pointers, result pointers, dims, status.
    Values fields;
    for (const ir::Value *v : op.operands())
      fields.push_back(e.ptr(v));
    for (Value *o : outs)
      fields.push_back(o);
    fields.push_back(e.dimsArg);
    fields.push_back(e.statusArg);
    for (const auto &inner : body.ops())
      if (isReduction(inner->kind()))
        checkNotEmpty(*inner);

    Values dom = domainShape();
    Value *rows = rowCount(dom);
    llvm::Function *kernel = emitKernel(yield, fields.size());
    auto *ctxTy = llvm::ArrayType::get(b.getPtrTy(), fields.size());
    Value *ctx;
    {
      llvm::IRBuilder<> eb(&e.entry->front());
      ctx = eb.CreateAlloca(ctxTy);
    }
    for (size_t f = 0; f < fields.size(); ++f)
      b.CreateStore(fields[f], b.CreateConstInBoundsGEP2_64(ctxTy, ctx, 0, f));

    int64_t opsPerElement = std::max<int64_t>(1, static_cast<int64_t>(body.ops().size()) - 1);
    Value *work = b.CreateMul(e.numel(ir::Type(form.domain, DType::F32)), e.c64(opsPerElement));
    e.dispatchRows(kernel, ctx, rows, work, kParallelWork, kGrainWork, "fusion");
    return {};
  }

private:
  Values domainShape() {
    Values s;
    for (const ir::Dim &d : form.domain)
      s.push_back(e.dim(d));
    return s;
  }

  /// Rows of the domain: the product of the outer axes, or chunks of a rank-1 domain.
  Value *rowCount(const Values &dom) {
    if (chunkRows)
      return b.CreateUDiv(b.CreateAdd(dom[0], e.c64(kRowChunk - 1)), e.c64(kRowChunk));
    Value *n = e.c64(1);
    for (int64_t a : outerAxes)
      n = b.CreateMul(n, dom[static_cast<size_t>(a)]);
    return n;
  }

  /// reduce_max/min over an empty axis has no value: the same fault as the standalone op.
  void checkNotEmpty(const ir::Op &r) {
    Value *count = e.c64(1), *outN = e.c64(1);
    for (size_t a = 0; a < form.domain.size(); ++a)
      (reduced[a] ? count : outN) = b.CreateMul(reduced[a] ? count : outN, e.dim(form.domain[a]));
    e.checkReduceNotEmpty(r, count, outN);
  }

  /// The outlined kernel; it reads the operands, results, dims and status from its context.
  llvm::Function *emitKernel(const ir::Op &yield, size_t numFields) {
    auto *ptrTy = b.getPtrTy();
    OutlinedBody kernel(e, "fusion");
    b.SetInsertPoint(e.entry->getTerminator()); // the context is read once, in the entry block
    auto *ctxTy = llvm::ArrayType::get(ptrTy, numFields);
    Values fields;
    for (size_t f = 0; f < numFields; ++f)
      fields.push_back(
          b.CreateLoad(ptrTy, b.CreateConstInBoundsGEP2_64(ctxTy, kernel.ctx, 0, f), "field"));
    e.dimsArg = fields[numFields - 2];
    e.statusArg = fields[numFields - 1];
    b.SetInsertPoint(e.entry->getTerminator()->getSuccessor(0));
    for (size_t i = 0; i < op.numOperands(); ++i)
      args[body.arg(i)] = fields[i];
    outPtrs.assign(fields.begin() + static_cast<ptrdiff_t>(op.numOperands()),
                   fields.begin() + static_cast<ptrdiff_t>(op.numOperands() + op.numResults()));

    Values dom = domainShape();
    e.forLoop(b.CreateSub(kernel.end, kernel.begin),
              [&](Value *i) { row(yield, dom, b.CreateAdd(kernel.begin, i)); });
    b.CreateRetVoid();
    return kernel.function;
  }

  /// One row: its outer coordinates, the inner loop nest, then the reductions' results.
  void row(const ir::Op &yield, const Values &dom, Value *r) {
    Values coord(dom.size(), nullptr);
    Value *rest = r;
    for (auto it = outerAxes.rbegin(); it != outerAxes.rend(); ++it) {
      Value *extent = dom[static_cast<size_t>(*it)];
      coord[static_cast<size_t>(*it)] = b.CreateURem(rest, extent);
      rest = b.CreateUDiv(rest, extent);
    }
    Values innerExtents;
    Value *chunkStart = nullptr;
    if (chunkRows) {
      chunkStart = b.CreateMul(r, e.c64(kRowChunk));
      Value *left = b.CreateSub(dom[0], chunkStart);
      innerExtents.push_back(
          b.CreateSelect(b.CreateICmpSLT(left, e.c64(kRowChunk)), left, e.c64(kRowChunk)));
    } else {
      for (int64_t a : innerAxes)
        innerExtents.push_back(dom[static_cast<size_t>(a)]);
    }
    // Reduction accumulators, fresh for each row.
    accs.clear();
    for (const auto &inner : body.ops())
      if (isReduction(inner->kind()))
        accs[inner.get()] = e.local(e.scalarTy(e.reduceAccType(*inner)), e.reduceInit(*inner));
    llvm::BasicBlock *before = &e.fn->back();
    e.loopNest(innerExtents, [&](const Values &idx) {
      for (size_t j = 0; j < innerAxes.size(); ++j)
        coord[static_cast<size_t>(innerAxes[j])] =
            chunkRows ? b.CreateAdd(chunkStart, idx[j]) : idx[j];
      element(yield, dom, coord);
    });
    if (accs.empty() && innerExtents.size() == 1)
      markParallel(before);
    for (size_t y = 0; y < yield.numOperands(); ++y) {
      const ir::Op *def = yield.operand(y)->definingOp();
      if (!isReduction(def->kind()))
        continue;
      Value *count = e.c64(1);
      for (int64_t ax : innerAxes)
        count = b.CreateMul(count, dom[static_cast<size_t>(ax)]);
      Value *a = b.CreateLoad(e.scalarTy(e.reduceAccType(*def)), accs.at(def));
      e.store(e.reduceResult(*def, a, count), outPtrs[y], def->result()->type().dtype(), r);
    }
  }

  /// Marks the one loop emitted after block `before` (the row's elements, no reductions) as free
  /// of loop-carried memory dependences: element i reads its operands at i (or broadcast
  /// sources, never written here) and writes its results at i, also when a result reuses an
  /// operand's buffer in place. Without this the vectorizer's runtime overlap check sends every
  /// in-place kernel (an LSTM cell's in a scan) down its scalar loop.
  void markParallel(llvm::BasicBlock *before) {
    llvm::MDNode *group = llvm::MDNode::getDistinct(e.ctx, {});
    llvm::BasicBlock *header = before->getNextNode();
    llvm::BranchInst *latch = nullptr;
    for (llvm::BasicBlock *bb = header; bb; bb = bb->getNextNode()) {
      for (llvm::Instruction &inst : *bb)
        if (llvm::isa<llvm::LoadInst>(inst) || llvm::isa<llvm::StoreInst>(inst))
          inst.setMetadata(llvm::LLVMContext::MD_access_group, group);
      auto *br = llvm::dyn_cast_or_null<llvm::BranchInst>(bb->getTerminator());
      if (br && br->isUnconditional() && br->getSuccessor(0) == header)
        latch = br;
    }
    if (!latch)
      return;
    llvm::Metadata *parallel[] = {llvm::MDString::get(e.ctx, "llvm.loop.parallel_accesses"), group};
    llvm::Metadata *ops[] = {nullptr, llvm::MDNode::get(e.ctx, parallel)};
    llvm::MDNode *loopId = llvm::MDNode::getDistinct(e.ctx, ops);
    loopId->replaceOperandWith(0, loopId);
    latch->setMetadata(llvm::LLVMContext::MD_loop, loopId);
  }

  /// The body at one element of the domain.
  void element(const ir::Op &yield, const Values &dom, const Values &coord) {
    Value *flat = e.flatIndex(coord, dom);
    std::unordered_map<const ir::Value *, Value *> val;
    for (const auto &innerPtr : body.ops()) {
      const ir::Op &inner = *innerPtr;
      if (&inner == &yield)
        break;
      OpKind k = inner.kind();
      DType dt = inner.result()->type().dtype();
      if (k == OpKind::Constant) {
        val[inner.result()] = constant(dt, splatValue(inner));
      } else if (k == OpKind::Broadcast) {
        val[inner.result()] = broadcastLoad(inner, coord);
      } else if (isReduction(k)) {
        accumulate(inner, operand(val, inner.operand(0), flat));
      } else {
        Values xs;
        for (const ir::Value *v : inner.operands())
          xs.push_back(operand(val, v, flat));
        auto site = sites.find(&inner);
        if (site == sites.end())
          site = sites.emplace(&inner, e.elementwiseFaultSite(inner)).first;
        val[inner.result()] = e.elementwiseScalar(inner, xs, flat, site->second);
      }
    }
    for (size_t y = 0; y < yield.numOperands(); ++y) {
      const ir::Value *v = yield.operand(y);
      if (!isReduction(v->definingOp()->kind()))
        e.store(val.at(v), outPtrs[y], v->type().dtype(), flat);
    }
  }

  /// A value of the body at this element: computed, or loaded from a domain-shaped argument.
  Value *operand(std::unordered_map<const ir::Value *, Value *> &val, const ir::Value *v,
                 Value *flat) {
    if (auto it = val.find(v); it != val.end())
      return it->second;
    Value *x = e.load(args.at(v), v->type().dtype(), flat);
    val[v] = x;
    return x;
  }

  /// broadcast {dims}: argument axis i is domain axis dims[i]; a static size-1 axis repeats.
  Value *broadcastLoad(const ir::Op &bc, const Values &coord) {
    const ir::Value *src = bc.operand(0);
    const ir::Type &st = src->type();
    const std::vector<int64_t> &axes = bc.dims();
    Value *index = e.c64(0);
    for (int64_t i = 0; i < st.rank(); ++i) {
      bool one = st.dim(i).isStatic() && st.dim(i).size() == 1;
      index =
          b.CreateAdd(b.CreateMul(index, e.dim(st.dim(i))),
                      one ? e.c64(0) : coord[static_cast<size_t>(axes[static_cast<size_t>(i)])]);
    }
    return e.load(args.at(src), st.dtype(), index);
  }

  Value *constant(DType dt, double v) {
    llvm::Type *t = e.scalarTy(dt);
    if (isFloat(dt))
      return llvm::ConstantFP::get(t, v);
    return llvm::ConstantInt::get(t, static_cast<uint64_t>(static_cast<int64_t>(v)), true);
  }

  void accumulate(const ir::Op &r, Value *v) {
    Value *slot = accs.at(&r);
    Value *acc = b.CreateLoad(e.scalarTy(e.reduceAccType(r)), slot);
    b.CreateStore(e.reduceStep(r, acc, v), slot);
  }

  Emitter &e;
  llvm::IRBuilder<> &b;
  const ir::Op &op;
  const ir::Block &body;
  const ir::FusionForm &form;
  std::vector<bool> reduced;
  std::vector<int64_t> outerAxes, innerAxes;
  bool chunkRows = false;
  std::unordered_map<const ir::Value *, Value *> args; // body argument -> its data in the kernel
  Values outPtrs;
  std::unordered_map<const ir::Op *, Value *> accs;
  std::unordered_map<const ir::Op *, int> sites;
};

Status Emitter::emitFusion(const ir::Op &op) {
  auto form = ir::fusionForm(op.region());
  if (!form)
    return Diag{form.diag().message, op.loc()};
  return FusionEmitter(*this, op, *form).emit();
}

} // namespace weft::cpu::detail
