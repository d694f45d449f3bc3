//===- passes/autodiff/VJP.h - interface between the driver and the rules -===//
#pragma once

#include "ir/Builder.h"
#include "passes/autodiff/Autodiff.h"

#include <unordered_map>
#include <unordered_set>

namespace weft::autodiff {

/// Whether a value can carry a gradient: float values only.
inline bool differentiable(const ir::Value *v) { return ir::isFloat(v->type().dtype()); }

/// The state of one reverse sweep: which values carry gradient, and the adjoints so far.
class Adjoints {
public:
  Adjoints(const std::unordered_set<const ir::Value *> &active, const GradOptions &options)
      : active_(active), options_(options) {}

  /// How scans in this sweep are differentiated (residuals, truncation).
  const GradOptions &options() const { return options_; }
  /// Whether the loss may depend on `v` through a differentiable path.
  bool isActive(const ir::Value *v) const { return active_.count(v) != 0; }
  /// The adjoint accumulated for `v`, or nullptr (zero) if none.
  ir::Value *get(const ir::Value *v) const {
    auto it = adj_.find(v);
    return it == adj_.end() ? nullptr : it->second;
  }
  /// Adds `g` to the adjoint of `v` (building an add after the first contribution).
  Status accumulate(ir::OpBuilder &b, const ir::Value *v, ir::Value *g);

private:
  const std::unordered_set<const ir::Value *> &active_;
  const GradOptions &options_;
  std::unordered_map<const ir::Value *, ir::Value *> adj_;
};

/// Values under `block` (nested regions included) that may carry gradient from `seeds`:
/// float values computed from a seed, including through scan bodies and captured values.
std::unordered_set<const ir::Value *> activeValues(ir::Block &block,
                                                   const std::vector<ir::Value *> &seeds);

/// Applies the VJP rules of the ops of `block` in reverse order, at the builder's insertion
/// point, reading and adding to `adj`.
Status backpropBlock(ir::OpBuilder &b, ir::Block &block, Adjoints &adj);

/// The VJP of one op without regions: given the adjoints of its results (nullptr = zero),
/// returns one adjoint per operand (nullptr where there is none or it is not needed).
Expected<std::vector<ir::Value *>> vjpOp(ir::OpBuilder &b, ir::Op &op,
                                         const std::vector<ir::Value *> &resultAdjoints,
                                         const std::vector<bool> &wanted);

/// The VJP of additive_attention (AdditiveAttentionVJP.cpp): the adjoints of its results are
/// those of context and weights, either possibly nullptr.
Expected<std::vector<ir::Value *>>
vjpAdditiveAttention(ir::OpBuilder &b, ir::Op &op, const std::vector<ir::Value *> &resultAdjoints,
                     const std::vector<bool> &wanted);

/// The VJP of `matmul` when its left operand concatenates, along its last axis, pieces of
/// which some carry no gradient: adds dz . B_i^T to the adjoint of each active piece a_i only
/// (and dB to B's), skipping the concat. Returns false, building nothing, when the op is not
/// such a matmul; the ordinary rule applies then.
Expected<bool> vjpMatmulOfConcat(ir::OpBuilder &b, ir::Op &matmul, Adjoints &adj);

/// The VJP of a scan (BPTT): builds the reverse scan and returns operand adjoints; adds to
/// `adj` the adjoints of the values the body captures.
Expected<std::vector<ir::Value *>> vjpScan(ir::OpBuilder &b, ir::Op &scan,
                                           const std::vector<ir::Value *> &resultAdjoints,
                                           Adjoints &adj);

/// Rewrites a scan with lengths into one without: a mask sequence m[t, b] = t < len[b] is
/// computed before it, and its body selects the old carry and zero emits where m is false.
/// Returns the scan, changed in place.
Expected<ir::Op *> lowerScanLengths(ir::Op *scan);

/// Rewrites a scan without lengths (lowerScanLengths first) over a static T > k into a scan
/// over T/k segments whose body scans the k steps of a segment, and a scan over the T mod k
/// steps left, if any; a scan with T <= k is left alone. Returns whether it rewrote the scan
/// (then erased); fails, naming the scan, for a symbolic T.
Expected<bool> segmentScan(ir::Op *scan, int64_t k);

} // namespace weft::autodiff
