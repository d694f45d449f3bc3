//===- passes/autodiff/Autodiff.h - reverse-mode autodiff as a transform --===//
//
// buildGradient turns a function into one that returns its loss and the
// gradients of the loss: the forward ops are copied, then every op's VJP rule
// (written in IR) is applied in reverse order. The VJP of `scan` is
// backpropagation through time: the forward scan also emits the residuals its
// body's VJP needs (the carries entering each step and, by default, the step
// values the VJP reads), and a reverse scan runs the body's VJP backwards in
// time, recomputing what was not stored, carrying the state gradient, and
// accumulating the gradients of loop-invariant (captured) values.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"

#include <string>
#include <vector>

namespace weft::autodiff {

/// What the forward scan keeps for its reverse scan.
enum class Residuals {
  /// Every step value the body's VJP needs (besides loop invariants and values that are cheap
  /// to recompute, such as broadcasts and slices) is stacked by the forward scan.
  Stash,
  /// Only the carries entering each step are stacked; the reverse scan recomputes the rest of
  /// the step. Less memory, one more forward step per step.
  Recompute,
};

struct GradOptions {
  /// Which result of the function is the loss; it must be a float scalar.
  size_t lossIndex = 0;
  /// Names of the parameters to differentiate with respect to; empty means every float
  /// parameter.
  std::vector<std::string> wrt;
  /// Name of the new function; empty means "<name>_grad".
  std::string name;
  Residuals residuals = Residuals::Stash;
  /// Truncated BPTT: no gradient flows from step t of a scan into the steps before it when t
  /// is a multiple of `truncate` (the initial carry included). 0 means full BPTT.
  int64_t truncate = 0;
  /// Checkpointing: a function-level scan over a static T > k runs as T/k segments of k steps,
  /// then (when k does not divide T) one of the T mod k steps left. Its reverse scan keeps only
  /// the carries entering each segment and recomputes a segment's steps when it reaches it, so
  /// residual memory grows with T/k + k, not T. Scans with lengths are checkpointed too: their
  /// mask is segmented with their sequences. A function-level scan over a symbolic T is an
  /// error; scans nested in a scan body are recomputed with it. 0 means off.
  int64_t checkpointEvery = 0;
  /// Return every result of the function, then the gradients (instead of the loss, then the
  /// gradients): e.g. the final state that truncated BPTT carries into the next call.
  bool keepResults = false;
};

/// Adds to `m` a function with the parameters of `f` that returns the loss (or, with
/// keepResults, every result of `f`) followed by
/// d loss / d p for each chosen parameter p, in the order of `options.wrt` (zeros where the
/// loss does not depend on p).
/// Fails with a message that says why for a loss that is not a float scalar, an unknown or
/// integer parameter, or a `while` loop on the path to the loss.
Expected<ir::Function *> buildGradient(ir::Module &m, const ir::Function &f,
                                       const GradOptions &options = {});

} // namespace weft::autodiff
