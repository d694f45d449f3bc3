//===- ir/Verifier.cpp ----------------------------------------------------===//
#include "ir/Verifier.h"

#include "ir/Infer.h"

#include <fmt/format.h>

#include <set>
#include <unordered_set>

namespace weft::ir {
namespace {

class FunctionVerifier {
public:
  explicit FunctionVerifier(const Function &f) : f_(f) {}

  Status run() {
    const Block &body = f_.body();
    if (!f_.returnOp())
      return fail(nullptr, "body must end with return");
    WEFT_TRY(verifyAliases());
    return verifyBlock(body, /*isFunctionBody=*/true);
  }

  /// Each declared in-place update names a result and a parameter of the same type, and no
  /// result or parameter twice.
  Status verifyAliases() {
    std::vector<Type> results = f_.resultTypes();
    std::unordered_set<size_t> seenResults, seenParams;
    for (const OutputAlias &a : f_.aliases()) {
      if (a.result >= results.size())
        return fail(nullptr, fmt::format("aliases: result {} does not exist ({} results)", a.result,
                                         results.size()));
      if (a.param >= f_.numParams())
        return fail(nullptr, fmt::format("aliases: parameter {} does not exist", a.param));
      const Value *p = f_.param(a.param);
      if (results[a.result] != p->type())
        return fail(nullptr,
                    fmt::format("aliases: result {} ({}) and %{} ({}) differ in type", a.result,
                                results[a.result].str(), p->name(), p->type().str()));
      if (!seenResults.insert(a.result).second)
        return fail(nullptr, fmt::format("aliases: result {} is aliased twice", a.result));
      if (!seenParams.insert(a.param).second)
        return fail(nullptr, fmt::format("aliases: %{} is aliased twice", p->name()));
      // Returned as itself it would show the update, not the value it was called with.
      const Op *ret = f_.returnOp();
      for (size_t r = 0; r < ret->numOperands(); ++r)
        if (ret->operand(r) == p && r != a.result)
          return fail(nullptr, fmt::format("aliases: %{} is updated by result {} and also "
                                           "returned as result {}",
                                           p->name(), a.result, r));
    }
    return {};
  }

private:
  Diag fail(const Op *op, const std::string &msg) {
    std::string where = op ? fmt::format(" in '{}'", op->name()) : "";
    return Diag{fmt::format("function @{}{}: {}", f_.name(), where, msg), op ? op->loc() : Loc{}};
  }

  Status verifyBlock(const Block &block, bool isFunctionBody) {
    for (Value *a : block.args())
      visible_.insert(a);
    for (const auto &opPtr : block.ops()) {
      const Op &op = *opPtr;
      if (op.parentBlock() != &block)
        return fail(&op, "op's parent link is wrong");
      bool last = opPtr.get() == block.back();
      if (isTerminator(op.kind()) != last)
        return fail(&op, last ? "block must end with a terminator"
                              : "terminator in the middle of a block");
      if (op.kind() == OpKind::Return && !isFunctionBody)
        return fail(&op, "return inside a region (use yield)");
      if (op.kind() == OpKind::Yield && isFunctionBody)
        return fail(&op, "yield outside a region (use return)");
      for (size_t i = 0; i < op.numOperands(); ++i) {
        Value *v = op.operand(i);
        if (!v)
          return fail(&op, fmt::format("operand {} is null", i));
        if (!visible_.count(v))
          return fail(&op,
                      fmt::format("operand {} ('%{}') does not dominate its use", i, v->name()));
      }
      WEFT_TRY(verifyOp(op));
      for (Value *r : op.results())
        visible_.insert(r);
    }
    // Values of a region are not visible after it.
    for (Value *a : block.args())
      visible_.erase(a);
    for (const auto &op : block.ops())
      for (Value *r : op->results())
        visible_.erase(r);
    return {};
  }

  Status verifyOp(const Op &op) {
    if (hasRegion(op.kind())) {
      if (op.numRegions() != 1)
        return fail(&op, "must have exactly one region");
      auto want = regionArgTypes(op.kind(), op.operands(), op.attrs());
      if (!want)
        return fail(&op, want.diag().message);
      const Block &body = op.region();
      if (body.numArgs() != want->size())
        return fail(
            &op, fmt::format("body has {} arguments but needs {}", body.numArgs(), want->size()));
      for (size_t i = 0; i < want->size(); ++i)
        if (body.arg(i)->type() != (*want)[i])
          return fail(&op, fmt::format("body argument {} has type {} but needs {}", i,
                                       body.arg(i)->type().str(), (*want)[i].str()));
      WEFT_TRY(verifyBlock(body, /*isFunctionBody=*/false));
    } else if (op.numRegions() != 0) {
      return fail(&op, "op kind takes no region");
    }
    std::vector<Type> declared;
    if (hasDeclaredResultType(op.kind()))
      for (Value *r : op.results())
        declared.push_back(r->type());
    auto types = inferResultTypes(op.kind(), op.operands(), op.attrs(), declared,
                                  op.numRegions() ? &op.region() : nullptr);
    if (!types)
      return fail(&op, types.diag().message);
    if (types->size() != op.numResults())
      return fail(&op, fmt::format("has {} results but its operands give {}", op.numResults(),
                                   types->size()));
    for (size_t i = 0; i < types->size(); ++i)
      if (op.result(i)->type() != (*types)[i])
        return fail(&op, fmt::format("result {} has type {} but its operands give {}", i,
                                     op.result(i)->type().str(), (*types)[i].str()));
    return {};
  }

  const Function &f_;
  std::unordered_set<const Value *> visible_;
};

} // namespace

Status verify(const Function &f) { return FunctionVerifier(f).run(); }

Status verify(const Module &m) {
  std::set<std::string, std::less<>> names;
  for (const auto &f : m.functions()) {
    if (!names.insert(f->name()).second)
      return err(fmt::format("function @{} is defined twice", f->name()));
    WEFT_TRY(verify(*f));
  }
  return {};
}

} // namespace weft::ir
