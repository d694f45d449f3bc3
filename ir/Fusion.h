//===- ir/Fusion.h - the kernel form of a fusion op's body ----------------===//
//
// A `fusion` op runs its body once on its operands and returns what the body
// yields, like a call. Its body must be in kernel form, which every backend
// may rely on to emit it as one loop nest with no intermediate buffers:
//
//   - it is isolated: its ops use only its arguments and each other;
//   - every elementwise op (ir::isElementwise), splat constant and broadcast
//     result has one shape, the iteration domain;
//   - a broadcast reads a body argument (of any shape that broadcasts);
//   - reductions (reduce_sum/max/min/mean) read a domain value, all remove the
//     same axes, and their results are only yielded;
//   - the body yields op results (domain values or reductions), at least one.
//
// The fuse-elementwise pass (passes/FuseElementwise.cpp) creates fusions.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"

#include <vector>

namespace weft::ir {

struct FusionForm {
  std::vector<Dim> domain;         // the iteration space
  std::vector<int64_t> reduceAxes; // axes of the domain the reductions remove, increasing
  bool hasReduction = false;
};

/// Whether an op of kind `k` may sit in a fusion body.
bool isFusible(OpKind k);

/// The kernel form of `body`, or an error naming the first rule it breaks.
Expected<FusionForm> fusionForm(const Block &body);

} // namespace weft::ir
