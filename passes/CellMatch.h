//===- passes/CellMatch.h - matching recurrent cells in scan bodies -------===//
//
// What fuse-lstm, fuse-gru and fuse-rnn share. A cell's gate pre-activations are sums of
// affine terms read through column slices,
//
//   matmul(x, W)   matmul(h, U)   matmul(concat(x, h), W)   broadcast(bias) {dims = [1]}
//
// with W, U, bias defined outside the body (the broadcast may be outside too, where licm moved
// it); BodyMatcher takes such a sum apart into Terms and
// records every body op it went through, so that a pass can check the body does nothing else.
// A GRU's candidate gate also meets the reset gate r, after its recurrent GEMM (PyTorch's
// r * (h U + b)) or before it (Cho et al.'s (r * h) U); BodyMatcher::allowReset accepts those.
// OperandBuilder then gathers the terms of G gates into the fused op's [rows, G*H] weights and
// [G*H] biases before the loop.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Builder.h"
#include "ir/Module.h"

#include <optional>
#include <set>
#include <span>
#include <utility>
#include <vector>

namespace weft::passes::cell {

enum class Source { Input, Hidden, Bias };

/// How a term meets a GRU's reset gate r: not at all, as r * (term) (after the recurrent
/// GEMM), or through the hidden step r * h it multiplies (before it).
enum class Reset { None, After, Before };

/// One affine term of a pre-activation window: the columns [col, col + H) of `mat` (rows
/// [row, row + rows) of a matrix; a bias is rank 1) multiplied by the input or hidden step.
struct Term {
  Source source = Source::Bias;
  ir::Value *mat = nullptr;
  int64_t row = 0, rows = 0, col = 0;
  Reset reset = Reset::None;
};

/// Whether `v` is defined in `body` or in a region nested in it.
bool definedUnder(ir::Value *v, const ir::Block &body);

/// Matches ops of one scan body whose input step is `x` and hidden state `h`.
class BodyMatcher {
public:
  BodyMatcher(ir::Block &body, ir::Value *x, ir::Value *h) : body_(body), x_(x), h_(h) {}

  /// The op of `kind` in the body that defines `v`, recorded as matched; nullptr otherwise.
  ir::Op *bodyOp(ir::Value *v, ir::OpKind kind);
  /// The operands of `v` when an op of `kind` defined in the body makes it.
  std::optional<std::pair<ir::Value *, ir::Value *>> operandsOf(ir::Value *v, ir::OpKind kind);
  /// The other operand of a mul of `v` by `by`.
  std::optional<ir::Value *> mulWith(ir::Value *v, ir::Value *by);
  /// The operand of the unary op of `kind` that makes `v`, or nullptr.
  ir::Value *unaryOperand(ir::Value *v, ir::OpKind kind);
  bool isUnary(ir::Value *v, ir::OpKind kind, ir::Value *of) { return unaryOperand(v, kind) == of; }
  /// A gate read through its nonlinearity: (a, col) when `v` is kind(a) or the columns from
  /// col of kind(a) (a slice along axis 1, as when r and z share one sigmoid); the caller
  /// matches the columns [col, col + H) of a.
  std::optional<std::pair<ir::Value *, int64_t>> activation(ir::Value *v, ir::OpKind kind);
  /// Whether `v` is such a gate, without recording anything.
  bool isActivation(ir::Value *v, ir::OpKind kind) const;
  /// Whether `v` is 1 everywhere: a splat constant (or a broadcast of one), in the body or not.
  bool isOne(ir::Value *v);

  /// Appends the terms of the columns [col, col + H) of `v` ([B, N]); false when `v` is not a
  /// sum of affine terms (or, after allowReset, of those and the reset forms).
  bool terms(ir::Value *v, int64_t col, std::vector<Term> &out);

  /// Lets terms() accept r * (sum of terms) and matmul(r * h, U), r a sigmoid in the body; the
  /// terms found so are marked Reset::After and Reset::Before, and r must be the same each time.
  void allowReset(bool allow) { resetAllowed_ = allow; }
  /// The reset gate r terms() met, or nullptr.
  ir::Value *resetGate() const { return reset_; }

  /// Whether every op of the body but its yield was matched: nothing else reads the state.
  bool matchedAll() const { return matched_.size() + 1 == body_.ops().size(); }
  /// The body ops matched so far.
  const std::set<ir::Op *> &matched() const { return matched_; }

  /// Exactly one input and one hidden term, each with a static row range.
  static bool oneEach(const std::vector<Term> &ts);
  static size_t countOf(const std::vector<Term> &ts, Source s);

private:
  bool matmulTerms(ir::Op &mm, int64_t col, std::vector<Term> &out);
  /// Whether a [B, n] step is x, h or (after allowReset) r * h, and which.
  std::optional<std::pair<Source, Reset>> stepSource(ir::Value *v);
  /// The sigmoid gate `r` (activation()) when `v` is r * `other` in the body, with r the reset gate
  /// met so far if there is one.
  ir::Value *resetFactor(ir::Value *v, ir::Value *&other);
  bool outside(ir::Value *v) const { return !definedUnder(v, body_); }
  static int64_t rowsOf(ir::Value *v);

  ir::Block &body_;
  ir::Value *x_, *h_;
  bool resetAllowed_ = false;
  Reset current_ = Reset::None; // while matching under r * (...)
  ir::Value *reset_ = nullptr;
  std::set<ir::Op *> matched_;
};

/// The terms of each gate from `source`, in gate order; the nth of each for biases.
std::vector<Term> pick(std::span<const std::vector<Term>> gates, Source source, size_t nth = 0);

/// Builds a fused op's operands before `scan`, for G gates of `hidden` columns each.
class OperandBuilder {
public:
  OperandBuilder(ir::Op &scan, int64_t hidden);

  /// The [rows, G*H] (or [G*H]) operand made of one piece per gate, in gate order. A matrix
  /// whose column blocks are already in that order is used as it is; otherwise its blocks are
  /// sliced and concatenated once.
  Expected<ir::Value *> gather(std::span<const Term> piece);
  /// The [G*H] bias whose gate k is the sum of the biases `perGate[k]` (zeros where there are
  /// none), by gather() when every gate has as many.
  Expected<ir::Value *> gatherBias(std::span<const std::vector<Term>> perGate, DType dtype);

  ir::OpBuilder &builder() { return b_; }

private:
  Expected<ir::Value *> slice(ir::Value *v, int64_t axis, int64_t start, int64_t limit);
  Expected<ir::Value *> add(ir::Value *a, ir::Value *b);

  ir::OpBuilder b_;
  int64_t hidden_;
  Loc loc_;
};

/// Gives each result `to` of `fused` the name and the uses of result `from` of `scan`, for
/// each (from, to), names the fused op's unnamed operands as `names` says, and erases `scan`.
void replaceScan(ir::Op &scan, ir::Op &fused, std::span<const std::pair<size_t, size_t>> results,
                 std::span<const std::pair<ir::Value *, const char *>> names);

} // namespace weft::passes::cell
