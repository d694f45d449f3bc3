//===- transforms/ExpandGruRnn.h - gru_sequence, rnn_sequence back to scans ---===//
//
// The inverses of fuse-gru and fuse-rnn, shared as ExpandLstm.h is: by the `expand-gru` and
// `expand-rnn` passes, by autodiff (the VJP of either op is the BPTT of its expansion) and by
// the cpu backend, which lowers both ops through it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"

namespace weft::transforms {

/// Replaces every op of `kind` (GruSequence or RnnSequence) under `block`, regions included,
/// by the scan it stands for; whether there was one.
Expected<bool> expandGruRnnSequences(ir::Block &block, ir::OpKind kind);

/// Both kinds.
Expected<bool> expandGruRnnSequences(ir::Block &block);

} // namespace weft::transforms
