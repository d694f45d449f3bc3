//===- transforms/ExpandLstm.h - lstm_sequence back to a scan of primitives ---===//
//
// The inverse of fuse-lstm, shared by the `expand-lstm` pass, autodiff (which differentiates
// the expansion: the VJP of lstm_sequence is the BPTT of this scan) and the cpu backend, which
// lowers lstm_sequence through it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"

namespace weft::transforms {

/// Replaces every lstm_sequence under `block` (regions included) by the scan it stands for;
/// whether there was one.
Expected<bool> expandLstmSequences(ir::Block &block);

/// Replaces lstm_sequence `op` by the scan it stands for.
Status expandLstmSequence(ir::Op &op);

/// Whether `m` holds an lstm_sequence anywhere.
bool hasLstmSequence(const ir::Module &m);

} // namespace weft::transforms
