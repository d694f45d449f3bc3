//===- tests/diff/Minimizer.cpp - greedy delta reduction ------------------===//
#include "tests/diff/Minimizer.h"

#include "ir/Builder.h"
#include "ir/Clone.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Uses.h"
#include "ir/Verifier.h"
#include "ir/Walk.h"
#include "passes/Passes.h"

#include <fmt/format.h>

#include <unordered_set>

namespace weft::difftest {
namespace {

using namespace ir;

/// A change to a fresh copy of the current program; false when it does not apply.
using Mutation = std::function<bool(Module &, DimBindings &)>;

std::unique_ptr<Module> copyOf(const Module &m) {
  auto c = parseModule(print(m), "<minimize>");
  WEFT_CHECK(c.isOk(), "a verified module parses back");
  return std::move(*c);
}

/// The ops of @f in walk order, terminators left out.
std::vector<Op *> opsOf(Module &m) {
  std::vector<Op *> ops;
  walk(m.function("f")->body(), [&](Op &op) {
    if (op.kind() != OpKind::Yield && op.kind() != OpKind::Return)
      ops.push_back(&op);
  });
  return ops;
}

/// A unique name for a new parameter.
std::string freshParamName(const Function &f) {
  for (size_t k = f.numParams();; ++k) {
    std::string name = fmt::format("m{}", k);
    bool used = false;
    for (size_t p = 0; p < f.numParams(); ++p)
      used |= f.param(p)->name() == name;
    if (!used)
      return name;
  }
}

/// Replaces every result of `op` by `with[i]` and erases it.
void replaceOp(Function &f, Op *op, const std::vector<Value *> &with) {
  Uses uses(f.body());
  for (size_t r = 0; r < op->numResults(); ++r)
    uses.replaceAllUsesWith(op->result(r), with[r]);
  op->parentBlock()->erase(op);
}

/// @f without its unused parameters (names kept: len<k>_<bound> matters to the inputs).
std::unique_ptr<Module> dropUnusedParams(Module &m) {
  Function &f = *m.function("f");
  Uses uses(f.body());
  auto out = std::make_unique<Module>();
  Function &g = out->addFunction("f");
  ValueMap map;
  for (size_t p = 0; p < f.numParams(); ++p)
    if (uses.count(f.param(p)) > 0)
      map.map(f.param(p), g.addParam(f.param(p)->type(), f.param(p)->name()));
  OpBuilder b(g.body());
  for (auto &op : f.body().ops())
    cloneOp(b, *op, map);
  return out;
}

enum class LoopPart { Carry, Seq, Emit };

/// Rebuilds the scan or while `loop` without its carry, sequence or emit number `i`, when
/// nothing needs it: an unused result, a region argument used at most by its own yield.
bool dropLoopPart(Function &f, Op *loop, LoopPart part, size_t i) {
  bool isScan = loop->kind() == OpKind::Scan;
  if (!isScan && loop->kind() != OpKind::While)
    return false;
  Block &body = loop->region();
  Op *yield = body.back();
  size_t lead = isScan ? 0 : 1; // while: finished flags first, and `done` first in the yield
  size_t nc = isScan ? static_cast<size_t>(loop->numCarry()) : loop->numOperands() - 1;
  size_t ns = isScan ? static_cast<size_t>(loop->numSeq()) : 0;
  size_t ne = yield->numOperands() - lead - nc;
  Uses uses(f.body());
  size_t argUses = 0;
  switch (part) {
  case LoopPart::Carry:
    if (i >= nc || uses.count(loop->result(lead + i)) > 0)
      return false;
    argUses = uses.count(body.arg(i)) - (yield->operand(lead + i) == body.arg(i) ? 1 : 0);
    if (argUses > 0)
      return false;
    break;
  case LoopPart::Seq:
    if (i >= ns || ns == 1 || uses.count(body.arg(nc + i)) > 0)
      return false;
    break;
  case LoopPart::Emit:
    if (i >= ne || uses.count(loop->result(lead + nc + i)) > 0)
      return false;
    break;
  }
  // The kept operands, region arguments, yielded values and results (old indices).
  std::vector<Value *> operands, yields;
  std::vector<size_t> keptArgs, keptResults;
  for (size_t o = 0; o < loop->numOperands(); ++o) {
    bool carry = o >= lead && o < lead + nc, seq = isScan && o >= nc && o < nc + ns;
    if ((part == LoopPart::Carry && carry && o - lead == i) ||
        (part == LoopPart::Seq && seq && o - nc == i))
      continue;
    operands.push_back(loop->operand(o));
  }
  for (size_t a = 0; a < body.numArgs(); ++a)
    if (!(part == LoopPart::Carry && a == i) && !(part == LoopPart::Seq && a == nc + i))
      keptArgs.push_back(a);
  for (size_t y = 0; y < yield->numOperands(); ++y)
    if (!(part == LoopPart::Carry && y == lead + i) &&
        !(part == LoopPart::Emit && y == lead + nc + i))
      yields.push_back(yield->operand(y));
  for (size_t r = 0; r < loop->numResults(); ++r)
    if (!(part == LoopPart::Carry && r == lead + i) &&
        !(part == LoopPart::Emit && r == lead + nc + i))
      keptResults.push_back(r);
  Attrs attrs = loop->attrs();
  if (isScan) {
    attrs["num_carry"] = static_cast<int64_t>(nc - (part == LoopPart::Carry ? 1 : 0));
    attrs["num_seq"] = static_cast<int64_t>(ns - (part == LoopPart::Seq ? 1 : 0));
  }
  OpBuilder b(f.body());
  b.setInsertionPointBefore(loop);
  auto rebuilt = b.beginRegionOp(loop->kind(), operands, attrs);
  if (!rebuilt)
    return false;
  Op *now = *rebuilt;
  ValueMap map;
  for (size_t a = 0; a < keptArgs.size(); ++a)
    map.map(body.arg(keptArgs[a]), now->region().arg(a));
  OpBuilder in(now->region());
  for (auto &op : body.ops())
    if (op.get() != yield)
      cloneOp(in, *op, map);
  for (Value *&v : yields)
    v = map.lookup(v);
  if (!in.create(OpKind::Yield, yields).isOk() || !b.finishRegionOp(now).isOk())
    return false;
  Uses current(f.body()); // the uses above predate `now`
  for (size_t r = 0; r < keptResults.size(); ++r)
    current.replaceAllUsesWith(loop->result(keptResults[r]), now->result(r));
  loop->parentBlock()->erase(loop);
  return true;
}

/// Every change worth trying on `m`, largest cuts first.
std::vector<Mutation> mutations(Module &m, const DimBindings &dims) {
  std::vector<Mutation> out;
  Function &f = *m.function("f");
  // Fewer returned values.
  for (size_t i = 0; f.returnOp()->numOperands() > 1 && i < f.returnOp()->numOperands(); ++i)
    out.push_back([i](Module &c, DimBindings &) {
      Op *ret = c.function("f")->returnOp();
      std::vector<Value *> ops = ret->operands();
      ops.erase(ops.begin() + static_cast<std::ptrdiff_t>(i));
      ret->setOperands(ops);
      return true;
    });
  // Return one value of a function-level op instead (what follows it then dies).
  size_t n = opsOf(m).size();
  for (size_t k = 0; k < n; ++k)
    out.push_back([k](Module &c, DimBindings &) {
      Op *op = opsOf(c)[k];
      if (op->parentOp() || op->numResults() == 0)
        return false;
      c.function("f")->returnOp()->setOperands({op->result(0)});
      return true;
    });
  // Ops, the latest first: by an operand of the same type, by parameters, by zeros.
  for (size_t k = n; k-- > 0;) {
    for (size_t o = 0; o < 3; ++o)
      out.push_back([k, o](Module &c, DimBindings &) {
        // Each result by operand o when it has the result's type (DCE drops the op once
        // nothing uses it).
        Op *op = opsOf(c)[k];
        if (o >= op->numOperands())
          return false;
        bool changed = false;
        for (Value *r : op->results())
          if (op->operand(o)->type() == r->type()) {
            Uses(c.function("f")->body()).replaceAllUsesWith(r, op->operand(o));
            changed = true;
          }
        return changed;
      });
    out.push_back([k](Module &c, DimBindings &) {
      Function &g = *c.function("f");
      Op *op = opsOf(c)[k];
      std::vector<Value *> params;
      for (Value *r : op->results())
        params.push_back(g.addParam(r->type(), freshParamName(g)));
      replaceOp(g, op, params);
      return true;
    });
    out.push_back([k](Module &c, DimBindings &) {
      Function &g = *c.function("f");
      Op *op = opsOf(c)[k];
      if (op->kind() == OpKind::Constant)
        return false;
      OpBuilder b(g.body());
      b.setInsertionPoint(g.body(), g.body().ops().begin());
      std::vector<Value *> zeros;
      for (Value *r : op->results())
        zeros.push_back(b.splat(r->type(), 0));
      replaceOp(g, op, zeros);
      return true;
    });
  }
  // Loops: fewer carries, sequences and emits.
  for (size_t k = 0; k < n; ++k)
    for (LoopPart part : {LoopPart::Carry, LoopPart::Seq, LoopPart::Emit})
      for (size_t i = 0; i < 4; ++i)
        out.push_back([k, part, i](Module &c, DimBindings &) {
          return dropLoopPart(*c.function("f"), opsOf(c)[k], part, i);
        });
  // Scans: no lengths, forward.
  for (size_t k = 0; k < n; ++k)
    out.push_back([k](Module &c, DimBindings &) {
      Op *op = opsOf(c)[k];
      if (op->kind() != OpKind::Scan)
        return false;
      bool changed = op->attrs().erase(std::string(ir::attrKey(ir::AttrId::Reverse))) > 0;
      int64_t used = op->numCarry() + op->numSeq();
      if (static_cast<int64_t>(op->numOperands()) > used) {
        std::vector<Value *> ops = op->operands();
        ops.pop_back();
        op->setOperands(ops);
        changed = true;
      }
      return changed;
    });
  // Smaller dims.
  for (const auto &[sym, size] : dims)
    for (int64_t smaller : {int64_t(0), int64_t(1), size - 1})
      if (smaller >= 0 && smaller < size)
        out.push_back([sym = sym, smaller](Module &, DimBindings &d) {
          d[sym] = smaller;
          return true;
        });
  return out;
}

} // namespace

Reduced minimize(const Module &m, const DimBindings &dims, const StillFails &fails,
                 const MinimizeOptions &options) {
  Reduced best{copyOf(m), dims, 0};
  std::unordered_set<std::string> passed;
  std::string bestKey;
  bool progress = true;
  while (progress && best.tries < options.maxTries) {
    progress = false;
    std::vector<Mutation> todo = mutations(*best.module, best.dims);
    for (size_t i = 0; i < todo.size() && best.tries < options.maxTries; ++i) {
      auto candidate = copyOf(*best.module);
      DimBindings d = best.dims;
      if (!todo[i](*candidate, d))
        continue;
      auto dce = passes::createDCEPass();
      if (!dce->run(*candidate).isOk())
        continue;
      candidate = dropUnusedParams(*candidate);
      if (!verify(*candidate).isOk())
        continue;
      // The predicate is deterministic: a candidate that passed once is never run again (the
      // same change is offered again in every round).
      std::string key = print(*candidate);
      for (const auto &[sym, size] : d)
        key += fmt::format(" {}={}", sym, size);
      if (key == bestKey || passed.count(key)) // no change, or known to pass
        continue;
      ++best.tries;
      if (!fails(*candidate, d)) {
        passed.insert(std::move(key));
        continue;
      }
      best.module = std::move(candidate);
      best.dims = d;
      bestKey = std::move(key);
      progress = true;
      // The list was made for the old program; make it again and go on from about here.
      todo = mutations(*best.module, best.dims);
      i = std::min(i, todo.size()) - 1;
      if (todo.empty())
        break;
    }
  }
  return best;
}

} // namespace weft::difftest
