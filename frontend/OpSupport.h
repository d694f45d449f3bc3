//===- frontend/OpSupport.h - helpers shared by the DSL's op files --------===//
//
// Internal to frontend/: checks and conversions every op function needs.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Graph.h"

#include <initializer_list>

namespace weft::detail {

/// The graph of `ts` (all must be valid, of one graph, and in scope); throws at `loc`.
Graph &graphOf(const char *what, std::initializer_list<const Tensor *> ts, SrcLoc loc);
/// `axis` in [-rank, rank) made non-negative; throws at `loc` otherwise.
int64_t normAxis(const char *what, int64_t axis, int64_t rank, const ir::Type &t, SrcLoc loc);
/// The numpy broadcast of two shapes; throws naming both at `loc`.
Shape broadcastShapes(const char *what, const ir::Type &a, const ir::Type &b, SrcLoc loc);
/// `x` stretched to `shape` with one broadcast op (or `x` itself when it already fits).
Tensor broadcastTo(const char *what, const Tensor &x, const Shape &shape, SrcLoc loc);
/// A constant of type `t` with every element `v`.
Tensor splat(Graph &g, const ir::Type &t, double v, SrcLoc loc);

} // namespace weft::detail
