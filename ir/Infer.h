//===- ir/Infer.h - result type inference and checking --------------------===//
//
// The one place that knows each op's typing rule (docs/IR.md). The builder, the
// parser and the verifier all call it, so an op that builds also parses and
// verifies. Errors name the op and both shapes involved.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"

#include <span>
#include <vector>

namespace weft::ir {

/// Whether `attrs` match the attribute schema of `kind` (ATTR in ir/Ops.def): every required
/// attribute present, no other, each of its kind. inferResultTypes and regionArgTypes check it.
Status checkAttrs(OpKind kind, const Attrs &attrs);

/// The result types of an op of `kind` with these operands and attributes. For ops with a
/// declared result type (hasDeclaredResultType), `declared` holds it and is checked. For scan,
/// while and fusion, `region` must hold the finished body (ending in yield).
Expected<std::vector<Type>> inferResultTypes(OpKind kind, std::span<Value *const> operands,
                                             const Attrs &attrs, std::span<const Type> declared,
                                             const Block *region);

/// The argument types the body region of a scan, while or fusion must have.
Expected<std::vector<Type>> regionArgTypes(OpKind kind, std::span<Value *const> operands,
                                           const Attrs &attrs);

/// Operand groups of a scan: [carries | sequences | lengths?].
struct ScanOperands {
  size_t numCarry = 0, numSeq = 0;
  bool hasLengths = false;
};
Expected<ScanOperands> scanOperands(size_t numOperands, const Attrs &attrs);

} // namespace weft::ir
