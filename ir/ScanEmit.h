//===- ir/ScanEmit.h - stacking a per-step value out of a scan ------------===//
#pragma once

#include "ir/Module.h"

namespace weft::ir {

/// The result of `scan` that stacks body value `v` over the steps: the existing emit of `v`
/// if the body already yields it as one, otherwise a new emit (and result) added for it.
Value *stackedEmit(Op &scan, Value *v);

} // namespace weft::ir
