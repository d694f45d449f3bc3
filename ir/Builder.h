//===- ir/Builder.h - building checked ops at an insertion point ----------===//
#pragma once

#include "ir/Module.h"

#include <vector>

namespace weft::ir {

/// Creates ops at an insertion point. Every op is type-checked by ir/Infer.h as it is built,
/// so a built op always has correct result types.
class OpBuilder {
public:
  /// Inserts at the end of `block`.
  explicit OpBuilder(Block &block) : block_(&block), pos_(block.ops().end()) {}

  void setInsertionPoint(Block &block, Block::iterator pos) {
    block_ = &block;
    pos_ = pos;
  }
  void setInsertionPointToEnd(Block &block) { setInsertionPoint(block, block.ops().end()); }
  /// Inserts before `op` (in op's block).
  void setInsertionPointBefore(Op *op);
  Block &block() const { return *block_; }
  Block::iterator insertionPoint() const { return pos_; }

  /// Builds an op without a region. `declared` holds the result type of ops that declare one
  /// (broadcast, reshape, constant, iota, cast, random_*), and is empty otherwise.
  Expected<Op *> create(OpKind kind, std::vector<Value *> operands, Attrs attrs = {},
                        std::vector<Type> declared = {}, Loc loc = {});
  /// Like create, for single-result ops: returns the result.
  Expected<Value *> create1(OpKind kind, std::vector<Value *> operands, Attrs attrs = {},
                            std::vector<Type> declared = {}, Loc loc = {});

  /// Builds a scan or while whose body region has its arguments but no ops yet and whose
  /// results are not yet known. Fill the body (ending in yield), then call finishRegionOp.
  Expected<Op *> beginRegionOp(OpKind kind, std::vector<Value *> operands, Attrs attrs,
                               Loc loc = {});
  /// Infers the results of a scan or while from its finished body.
  Status finishRegionOp(Op *op);

  /// A constant with every element equal to `v`.
  Value *splat(const Type &t, double v, Loc loc = {});

private:
  Op *insert(std::unique_ptr<Op> op);
  Block *block_;
  Block::iterator pos_;
};

} // namespace weft::ir
