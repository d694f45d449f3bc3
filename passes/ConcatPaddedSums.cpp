//===- passes/ConcatPaddedSums.cpp - a sum of disjoint pads is a concat ---===//
//
// The gradient of a value read by several slices is the sum of the slices' cotangents, each
// padded back to the whole (the slice VJP): an LSTM step's gate pre-activations z, sliced into
// its four gates, get
//
//   dz = pad(di, [0, 150]) + pad(df, [50, 100]) + pad(dg, [100, 50]) + pad(do, [150, 0])
//
// four full-size buffers of mostly zeros written, then read back and added. Where the pads fill
// with zero along one common axis and their pieces tile a contiguous range of it, the sum is
//
//   dz = pad(concat(di, df, dg, do), <the gaps before and after>)     (no pad when none)
//
// one copy of each piece. The rewrite matches a tree of adds whose inner adds are used only by
// the tree, at its root. It is exact: each element of the sum is one piece's element plus fill
// zeros, and a fill of -0.0 adds nothing; with a fill of +0.0 the sum turns a -0.0 piece
// element into +0.0 (x + +0.0), so the concat is followed by `add +0.0` then (which fusion
// folds into the consumer). All pads must fill with the same zero.
//
//===----------------------------------------------------------------------===//
#include "ir/Builder.h"
#include "ir/Uses.h"
#include "ir/Walk.h"
#include "passes/Passes.h"

#include <algorithm>
#include <cmath>

namespace weft::passes {
namespace {

using ir::Op;
using ir::OpKind;
using ir::Value;

/// One padded piece: `piece` placed at [begin, end) of the pad's axis.
struct Placed {
  Value *piece;
  int64_t begin, end;
};

class ConcatPaddedSums {
public:
  explicit ConcatPaddedSums(ir::Function &f) : uses_(f.body()) {}

  /// Rewrites `add` when it is the root of a sum of tiling pads; whether it did.
  bool rewrite(Op &add) {
    if (add.kind() != OpKind::Add || feedsLargerSum(add))
      return false;
    std::vector<Value *> leaves;
    collectLeaves(add, leaves);
    if (leaves.size() < 2)
      return false;
    const ir::Type &type = add.result()->type();
    std::vector<Placed> placed;
    int64_t axis = -1;
    double fill = 0;
    for (Value *leaf : leaves) {
      Op *pad = leaf->definingOp();
      if (!pad || pad->kind() != OpKind::Pad || pad->padValue() != 0 || leaf->type() != type)
        return false;
      if (placed.empty())
        fill = pad->padValue();
      else if (std::signbit(fill) != std::signbit(pad->padValue()))
        return false;
      std::optional<int64_t> a = onlyPaddedAxis(*pad);
      if (!a || (axis >= 0 && *a != axis))
        return false;
      axis = *a;
      int64_t begin = pad->low()[*a];
      placed.push_back({pad->operand(0), begin, type.dim(*a).size() - pad->high()[*a]});
    }
    std::sort(placed.begin(), placed.end(),
              [](const Placed &x, const Placed &y) { return x.begin < y.begin; });
    for (size_t i = 1; i < placed.size(); ++i)
      if (placed[i - 1].end != placed[i].begin)
        return false; // overlapping pieces (a real sum) or a gap between them
    replace(add, placed, axis, fill);
    return true;
  }

private:
  /// Whether `add`'s only use is another add of the same type, which is the root to match.
  bool feedsLargerSum(const Op &add) const {
    const auto &uses = uses_.of(add.result());
    if (uses.size() != 1)
      return false;
    const Op *user = uses[0].user;
    return user->kind() == OpKind::Add && user->result()->type() == add.result()->type() &&
           user->parentBlock() == add.parentBlock();
  }

  /// The operands of the add tree rooted at `add`: inner adds used only by the tree are opened.
  void collectLeaves(const Op &add, std::vector<Value *> &leaves) const {
    for (Value *v : add.operands()) {
      Op *def = v->definingOp();
      bool inner = def && def->kind() == OpKind::Add && uses_.count(v) == 1 &&
                   v->type() == add.result()->type() && def->parentBlock() == add.parentBlock();
      if (inner)
        collectLeaves(*def, leaves);
      else
        leaves.push_back(v);
    }
  }

  /// The one axis `pad` pads (on a static dim), or nullopt when it pads none or several.
  static std::optional<int64_t> onlyPaddedAxis(const Op &pad) {
    std::optional<int64_t> axis;
    for (size_t a = 0; a < pad.low().size(); ++a) {
      if (pad.low()[a] == 0 && pad.high()[a] == 0)
        continue;
      if (axis || !pad.result()->type().dim(a).isStatic())
        return std::nullopt;
      axis = static_cast<int64_t>(a);
    }
    return axis;
  }

  void replace(Op &add, const std::vector<Placed> &placed, int64_t axis, double fill) {
    ir::OpBuilder b(*add.parentBlock());
    b.setInsertionPointBefore(&add);
    auto built = [](Expected<Value *> v) {
      WEFT_CHECK(v.isOk(), "a concat of tiling pieces always type-checks");
      return *v;
    };
    std::vector<Value *> pieces;
    for (const Placed &p : placed)
      pieces.push_back(p.piece);
    Value *r = built(b.create1(OpKind::Concat, pieces, {{"axis", axis}}, {}, add.loc()));
    const ir::Type &type = add.result()->type();
    int64_t before = placed.front().begin, after = type.dim(axis).size() - placed.back().end;
    if (before != 0 || after != 0) {
      std::vector<int64_t> low(type.rank(), 0), high(type.rank(), 0);
      low[axis] = before;
      high[axis] = after;
      r = built(b.create1(OpKind::Pad, {r}, {{"low", low}, {"high", high}, {"value", fill}}, {},
                          add.loc()));
    }
    if (ir::isFloat(type.dtype()) && !std::signbit(fill))
      r = built(b.create1(OpKind::Add, {r, b.splat(type, 0.0, add.loc())}, {}, {}, add.loc()));
    uses_.replaceAllUsesWith(add.result(), r);
  }

  ir::Uses uses_;
};

class ConcatPaddedSumsPass final : public FunctionPass {
public:
  std::string_view name() const override { return "concat-padded-sums"; }
  Expected<bool> runOnFunction(ir::Function &f) override {
    ConcatPaddedSums rewriter(f);
    bool changed = false;
    ir::walk(f.body(), [&](Op &op) { changed |= rewriter.rewrite(op); });
    return changed;
  }
};

} // namespace

std::unique_ptr<Pass> createConcatPaddedSumsPass() {
  return std::make_unique<ConcatPaddedSumsPass>();
}

} // namespace weft::passes
