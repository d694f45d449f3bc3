//===- passes/Rewrite.h - helpers shared by the rewriting passes ----------===//
//
// Passes rewrite a function in one program-order sweep. Since every value is
// defined before its uses, a replacement can be recorded when an op is
// visited and applied to each later op's operands as the sweep reaches it;
// the replaced ops are erased after the sweep. This keeps a sweep linear.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"
#include "runtime/Array.h"

#include <functional>
#include <optional>
#include <unordered_map>
#include <vector>

namespace weft::passes {

/// Replacements recorded during one sweep of a function.
class ValueRemap {
public:
  /// The value that stands for `v` now.
  ir::Value *lookup(ir::Value *v) const;
  /// Rewrites the operands of `op` through the recorded replacements.
  void remapOperands(ir::Op &op) const;
  /// Every later use of `from` becomes `to`; `to` takes `from`'s name hint if it has none.
  void replaceValue(ir::Value *from, ir::Value *to);
  /// Replaces each result of `op` by the matching entry of `with` and marks `op` for erasure.
  void replaceOp(ir::Op *op, const std::vector<ir::Value *> &with);
  /// Erases the ops passed to replaceOp (latest first). Call once the sweep is over.
  void eraseReplaced();
  bool changed() const { return !dead_.empty(); }

private:
  std::unordered_map<ir::Value *, ir::Value *> map_;
  std::vector<ir::Op *> dead_;
};

/// Calls `rewrite` on every scan of `m` (outer scans before the scans in their bodies, collected
/// before the first call, so a rewrite may add ops); whether any call changed something.
Expected<bool> rewriteEachScan(ir::Module &m,
                               const std::function<Expected<bool>(ir::Op &scan)> &rewrite);

/// The `constant` op defining `v`, or nullptr.
const ir::Op *constantOp(const ir::Value *v);
/// The value of a splat constant (one value for every element), or nullopt.
std::optional<double> splatValue(const ir::Value *v);
/// The value of a constant with a static type as an Array.
Array constantToArray(const ir::Op &constant);
/// The `value` attribute holding `a`: a single value when every element is the same (bit for
/// bit), else one per element.
ir::Attr valueAttrOf(const Array &a);

} // namespace weft::passes
