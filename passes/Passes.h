//===- passes/Passes.h - pass factories and the registry ------------------===//
#pragma once

#include "passes/Pass.h"

#include <memory>
#include <optional>
#include <string_view>
#include <vector>

namespace weft::passes {

/// For each function whose first result is a float scalar loss, adds @<name>_grad returning
/// the loss and its gradients w.r.t. every float parameter (BPTT through scans).
std::unique_ptr<Pass> createAutodiffPass();

/// In every gradient function (@<f>_grad, loss then gradients), replaces the loss and the
/// gradients by their mean over the processes of a replica group: all_reduce in buckets of
/// bucket_bytes (passes/GradientBuckets.h). optimize-step{data_parallel=1} does it for steps.
std::unique_ptr<Pass> createDataParallelPass();
/// Moves each all_reduce up to just after its inputs, so its communication overlaps what
/// follows (passes/OverlapCollectives.cpp).
std::unique_ptr<Pass> createOverlapCollectivesPass();

/// A sum of zero pads whose pieces tile one axis (the gradient of a value read by slices)
/// becomes one concat of the pieces, padded where they leave a gap at either end.
std::unique_ptr<Pass> createConcatPaddedSumsPass();

/// Merges identical pure ops (same kind, operands, attributes and result types) within a
/// function. An op may reuse an equivalent op from its own block or an enclosing one that
/// precedes it, never one inside a region. scan and while are never merged.
std::unique_ptr<Pass> createCSEPass();

/// Removes pure ops whose results are all unused, inside regions too, to a fixed point.
std::unique_ptr<Pass> createDCEPass();

/// Replaces ops whose operands are all constants by the constant they compute (with the
/// reference interpreter), when the result is static and at most kMaxFoldedElements
/// elements. Elementwise and shape ops on splats give splats, symbolic shapes included.
std::unique_ptr<Pass> createExpandLstmPass();

std::unique_ptr<Pass> createFoldConstantsPass();

std::unique_ptr<Pass> createFuseAttentionPass();
/// Additive (Bahdanau) attention written out in primitives, with the keys' projection invariant
/// in the loop around it, becomes one additive_attention op (FuseAdditiveAttention.cpp).
std::unique_ptr<Pass> createFuseAdditiveAttentionPass();
/// An LSTM decoder cell, the additive attention its new h queries and the attention vector
/// concat(h, context) . wa become one lstm_attention_step op (FuseLstmAttention.cpp).
std::unique_ptr<Pass> createFuseLstmAttentionPass();
/// Groups elementwise ops over one shape (with splat constants, broadcasts into that shape
/// and a trailing reduction) into `fusion` ops in kernel form (ir/Fusion.h), in scan and
/// while bodies too. Run it after autodiff, which does not differentiate fusions.
std::unique_ptr<Pass> createFuseElementwisePass();

/// In scans whose body multiplies a step of a [T, b, I] sequence by a matrix defined outside
/// the body, computes all steps before the loop as one GEMM over T*b rows and passes the
/// product to the scan as a new sequence.
std::unique_ptr<Pass> createFuseLstmPass();
/// Each LSTM cell in a `while` body (a greedy decoder's step) -> lstm_sequence of one step.
std::unique_ptr<Pass> createFuseLstmStepPass();

std::unique_ptr<Pass> createHoistInputProjectionsPass();

/// Pairs each lstm_sequence_grad with the lstm_sequence it differentiates and makes that
/// forward save its activated gates and cell states for it ({save_gates}), so that the
/// gradient reads them instead of recomputing them (SaveGates.cpp).
std::unique_ptr<Pass> createSaveLstmGatesPass();
/// The same for each gru_sequence_grad and its gru_sequence: the forward saves its gates
/// (SaveGates.cpp).
std::unique_ptr<Pass> createSaveGruGatesPass();

/// In scans that accumulate acc += p_t^T q_t (BPTT's weight gradients), stacks p and q and
/// computes the sum after the loop as one GEMM over all time steps. Only in scans without
/// lengths, and only when nothing but the carry reads the running sum.
std::unique_ptr<Pass> createHoistWeightGradientsPass();

/// Moves pure ops whose operands are all defined outside a scan or while body to before the
/// loop, innermost loops first. An op that may fault (ir::mayFault) moves only out of a scan
/// over a static, nonempty time axis, whose body surely runs.
std::unique_ptr<Pass> createLICMPass();

/// For each function whose first result is a float scalar loss, adds @<name>_step: the
/// forward pass, the gradient and an optimizer update (torch.optim's rules, a learning-rate
/// schedule, clipping) in one function taking (params, state, batch, step) and returning
/// (loss, new params, new state). See passes/optim/Optimizer.h and docs/Optimizers.md.
std::unique_ptr<Pass> createOptimizeStepPass();

/// Algebraic identities: x*1, x+0, x-0, x/1 -> x; integer x*0 -> 0; neg(neg x) -> x;
/// transpose/reshape chains collapse; identity reshape, broadcast, slice, transpose, cast
/// and single-operand concat -> their operand; select on a splat condition -> the chosen
/// operand; broadcast of a splat -> a splat. stop_gradient is kept.
std::unique_ptr<Pass> createSimplifyPass();

/// Loop fission: a scan whose carries form recurrences that only feed each other forward in
/// time (stacked cells) becomes one scan per recurrence plus one for what no carry needs.
std::unique_ptr<Pass> createSplitScanPass();

/// A scan without carries (an output layer split off a decoder) becomes its body's ops run once
/// over all steps, on the stacked values, with the padded steps' emits masked to zero.
std::unique_ptr<Pass> createVectorizeScanPass();

/// A scan whose body computes a GRU cell (PyTorch's form or Cho et al.'s, however written)
/// becomes one gru_sequence; one computing an Elman RNN cell (tanh or relu) one rnn_sequence.
/// passes/FuseGru.cpp and FuseRnn.cpp list the forms they recognize and those they refuse.
std::unique_ptr<Pass> createFuseGruPass();
std::unique_ptr<Pass> createFuseRnnPass();
/// gru_sequence and rnn_sequence back to their canonical scans (transforms/ExpandGruRnn.h).
std::unique_ptr<Pass> createExpandGruPass();
std::unique_ptr<Pass> createExpandRnnPass();

/// The largest non-splat constant fold-constants creates, in elements.
inline constexpr int64_t kMaxFoldedElements = 1024;

/// Every registered pass name, in Passes.def order.
std::vector<std::string_view> passNames();
/// Every pipeline alias ("canonicalize") and what it expands to.
std::vector<std::pair<std::string_view, std::string_view>> pipelineAliases();
/// The comma-separated passes `name` expands to, or nullopt when it is not an alias.
std::optional<std::string_view> expandPipelineAlias(std::string_view name);
/// A new pass of that registry name, or an error listing the known names.
Expected<std::unique_ptr<Pass>> createPassByName(std::string_view name);

} // namespace weft::passes
