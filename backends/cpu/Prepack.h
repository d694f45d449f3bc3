//===- backends/cpu/Prepack.h - weights packed once, before their loop ----===//
//
// Free of LLVM. The packed GEMM (EmitMatmul.cpp) copies B into NR-wide strips
// before it multiplies. A matmul in a scan or while body whose B is computed
// outside the loop (a weight) would copy the same B on every trip; instead the
// loop packs all of it once, before its first trip, into one scratch buffer of
// the loop op, and the matmul reads its blocks from there. lstm_attention_step
// packs its weights into strips (LstmAttentionStepKernel.h) the same way: where
// all of them come from outside its loop, the loop packs them, one scratch
// buffer each after the matmuls' (in body order), and the step packs nothing.
//
// The decision lives here, apart from emission, because the scratch model
// (Scratch.cpp) must size the buffer before any code is emitted, and the
// emitter must agree with it. An IR-level `pack` op would have made the packed
// layout, which depends on the target's vector width, part of the IR that the
// interpreter, the CUDA backend and the printer would all have to know.
//
// Layout: B (K x N, static) in blocks of KC rows x NC columns (MatmulBlocks.h),
// block (jc / NC, pc / KC) at element ((jc / NC) * ceil(K / KC) + pc / KC) *
// KC * NC, each block laid out as the GEMM packs it (strips of kc rows of NR).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Op.h"

#include <vector>

namespace weft::cpu {

/// Whether float matmul `mm`, directly in the body of a scan or while, reads a rank-2 B that is
/// computed outside that loop, with static K and N, through the packed GEMM (not the small-M
/// kernel, which reads B in place): its loop packs B once before the first trip.
bool packsBBeforeLoop(const ir::Op &mm);

/// The matmuls of `loop`'s body whose B the loop packs before its first trip, in body order.
std::vector<const ir::Op *> matmulsPackedBeforeLoop(const ir::Op &loop);

/// Whether lstm_attention_step `step`, directly in the body of a scan or while, packs its
/// weights into strips (their dims static) and all of them are computed outside that loop: its
/// loop packs them before the first trip.
bool packsStepWeightsBeforeLoop(const ir::Op &step);

/// The lstm_attention_steps of `loop`'s body whose weights the loop packs, in body order.
std::vector<const ir::Op *> stepsPackedBeforeLoop(const ir::Op &loop);

/// The buffer holding all of `mm`'s B packed for vectors `vectorBytes` wide (see the file
/// comment).
ir::Type packedBType(const ir::Op &mm, int vectorBytes);

} // namespace weft::cpu
