//===- passes/FuseElementwise.cpp - elementwise chains into fusion ops ----===//
//
// Groups elementwise ops that compute over one shape, the iteration domain,
// into `fusion` ops (ir/Fusion.h), so that a backend runs each group as one
// loop nest without buffers between its ops. Per block (scan and while bodies
// too, never fusion bodies), greedily, walking the ops in reverse:
//
//   - a root starts a group: an elementwise op (domain: its result shape), or
//     a reduction whose operand an elementwise op of the block computes
//     (domain: that operand's shape);
//   - the group pulls in, transitively, the producers of its operands that
//     are elementwise over the domain and whose other users all come after
//     the root; splat constants and broadcasts into the domain, of this block
//     or an enclosing one, are copied in (a broadcast's source becomes an
//     operand), whoever else uses them;
//   - a group with fewer than two elementwise or reduction ops is left alone.
//
// The fusion reads what its ops read from outside, yields the root and every
// member value used outside the group, and replaces the group at the root.
// Never fused: reductions other than a root, matmul, shape ops other than a
// broadcast into the domain, gather/scatter, non-splat constants, iota,
// random_*, region ops, values of another shape or from another block.
//
//===----------------------------------------------------------------------===//
#include "ir/Clone.h"
#include "ir/Walk.h"
#include "passes/Passes.h"
#include "passes/Rewrite.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace weft::passes {
namespace {

using ir::Block;
using ir::Op;
using ir::OpKind;
using ir::Value;

bool isReduction(OpKind k) { return ir::hasTrait(k, ir::trait::Reduction); }

const std::vector<ir::Dim> &dimsOf(const Value *v) { return v->type().dims(); }

/// Where each op of one block sits, and which of the block's ops use each value; a use inside
/// a nested region counts as a use by the block op that holds the region.
struct BlockIndex {
  std::unordered_map<const Op *, size_t> pos;
  std::unordered_map<const Value *, std::vector<Op *>> users;

  explicit BlockIndex(Block &block) {
    size_t i = 0;
    for (auto &opPtr : block.ops()) {
      Op *top = opPtr.get();
      pos[top] = i++;
      auto record = [&](Op &op) {
        for (Value *v : op.operands())
          users[v].push_back(top);
      };
      record(*top);
      for (size_t r = 0; r < top->numRegions(); ++r)
        ir::walk(top->region(r), record);
    }
  }

  const std::vector<Op *> &usersOf(const Value *v) const {
    static const std::vector<Op *> none;
    auto it = users.find(v);
    return it == users.end() ? none : it->second;
  }
};

/// One group of ops to become a fusion. Members are moved into the fusion; copies (splat
/// constants, broadcasts into the domain) are copied, and the originals stay for other users.
struct Group {
  Op *root = nullptr;
  std::vector<ir::Dim> domain;
  std::unordered_set<Op *> members;
  std::unordered_set<Op *> copies;
  std::vector<Op *> order; // members and copies in the order they joined

  bool contains(Op *op) const { return members.count(op) || copies.count(op); }
  void add(Op *op, bool copy) {
    (copy ? copies : members).insert(op);
    order.push_back(op);
  }
  /// Elementwise and reduction ops: a group needs two to be worth a kernel.
  size_t computeOps() const { return members.size(); }
};

/// Whether `op` is copied into a group over `domain` rather than moved: a splat constant or a
/// broadcast (of a value of another shape) with the domain as its result shape.
bool isCopyable(const Op &op, const std::vector<ir::Dim> &domain) {
  if (dimsOf(op.result()) != domain)
    return false;
  if (op.kind() == OpKind::Constant)
    return splatValue(op.result()).has_value();
  // An identity broadcast is excluded: its source could be a member, and a fusion's broadcast
  // must read a fusion argument.
  return op.kind() == OpKind::Broadcast && dimsOf(op.operand(0)) != domain;
}

class GroupBuilder {
public:
  GroupBuilder(Block &block, const BlockIndex &index, const std::unordered_set<Op *> &grouped)
      : block_(block), index_(index), grouped_(grouped) {}

  /// The group rooted at `root`, or nullopt when `root` cannot be a root.
  std::optional<Group> build(Op *root) const {
    Group g;
    g.root = root;
    if (ir::isElementwise(root->kind())) {
      g.domain = dimsOf(root->result());
    } else if (isReduction(root->kind())) {
      // A lone reduction of a parameter gains nothing from a fusion.
      Op *src = root->operand(0)->definingOp();
      if (!src || src->parentBlock() != &block_ || !ir::isElementwise(src->kind()))
        return std::nullopt;
      g.domain = dimsOf(root->operand(0));
    } else {
      return std::nullopt;
    }
    g.add(root, /*copy=*/false);
    // A producer may qualify only once another of its users has joined, so sweep the group
    // until nothing more joins.
    for (bool grew = true; grew;) {
      grew = false;
      for (size_t i = 0; i < g.order.size(); ++i) {
        Op *m = g.order[i];
        if (g.copies.count(m))
          continue; // a broadcast's source is a fusion argument; constants read nothing
        for (Value *v : m->operands()) {
          Op *p = v->definingOp();
          if (!p || g.contains(p))
            continue;
          // Copies may come from an enclosing block too: LICM hoists splat constants and
          // broadcasts out of loop bodies, and a copy reads the small source (or nothing)
          // instead of a domain-sized buffer on every trip.
          if (isCopyable(*p, g.domain)) {
            g.add(p, /*copy=*/true);
            grew = true;
          } else if (p->parentBlock() == &block_ && canMove(*p, g)) {
            g.add(p, /*copy=*/false);
            grew = true;
          }
        }
      }
    }
    return g;
  }

private:
  /// Whether producer `p` may move into `g`: it is an elementwise op over the domain, not in
  /// another group, and every user outside the group comes after the root.
  ///
  /// The last rule keeps the rewrite acyclic. The fusion replaces the group at the root's
  /// position, so a member's value only exists from there on; a user between the member and
  /// the root would then read it before it is computed. Users after the root read it as an
  /// extra fusion result. The fusion's operands are all defined before some member, hence
  /// before the root, so the fusion itself reads nothing defined later.
  bool canMove(Op &p, const Group &g) const {
    if (!ir::isElementwise(p.kind()) || grouped_.count(&p) || dimsOf(p.result()) != g.domain)
      return false;
    size_t rootPos = index_.pos.at(g.root);
    for (Value *r : p.results())
      for (Op *user : index_.usersOf(r))
        if (!g.members.count(user) && index_.pos.at(user) <= rootPos)
          return false;
    return true;
  }

  Block &block_;
  const BlockIndex &index_;
  const std::unordered_set<Op *> &grouped_;
};

/// Builds the fusion for `g` before its root, and records in `replace` which fusion result
/// stands for each member value used outside the group.
Status emitFusion(const Group &g, const BlockIndex &index,
                  std::unordered_map<Value *, Value *> &replace) {
  // Program order; copies from an enclosing block (no position here) read nothing of the
  // group, so they go first.
  auto position = [&](Op *op) {
    auto it = index.pos.find(op);
    return it == index.pos.end() ? -1 : static_cast<ptrdiff_t>(it->second);
  };
  // Ties (the copies) keep their order in the group: sort by (position, index in g.order), a
  // total order, as std::stable_sort is not usable under clang 19 with libstdc++ 12 (-Werror).
  std::vector<std::pair<ptrdiff_t, size_t>> keys;
  for (size_t i = 0; i < g.order.size(); ++i)
    keys.emplace_back(position(g.order[i]), i);
  std::sort(keys.begin(), keys.end());
  std::vector<Op *> ops;
  for (const auto &[pos, i] : keys)
    ops.push_back(g.order[i]);

  std::vector<Value *> operands, results;
  std::unordered_set<Value *> seen;
  for (Op *op : ops) {
    for (Value *v : op->operands()) {
      Op *def = v->definingOp();
      if ((!def || !g.contains(def)) && seen.insert(v).second)
        operands.push_back(v);
    }
    if (g.copies.count(op))
      continue;
    const auto &users = index.usersOf(op->result());
    bool usedOutside =
        std::any_of(users.begin(), users.end(), [&](Op *u) { return !g.members.count(u); });
    if (op == g.root || usedOutside)
      results.push_back(op->result());
  }

  ir::OpBuilder b(*g.root->parentBlock());
  b.setInsertionPointBefore(g.root);
  auto fusion = b.beginRegionOp(OpKind::Fusion, operands, {}, g.root->loc());
  if (!fusion)
    return fusion.diag();
  Block &body = (*fusion)->region();
  ir::ValueMap map;
  for (size_t i = 0; i < operands.size(); ++i) {
    body.arg(i)->setName(operands[i]->name());
    map.map(operands[i], body.arg(i));
  }
  ir::OpBuilder in(body);
  for (Op *op : ops)
    ir::cloneOp(in, *op, map);
  std::vector<Value *> yielded;
  for (Value *r : results)
    yielded.push_back(map.lookup(r));
  WEFT_TRY(in.create(OpKind::Yield, yielded).status());
  WEFT_TRY(b.finishRegionOp(*fusion));
  for (size_t i = 0; i < results.size(); ++i) {
    (*fusion)->result(i)->setName(results[i]->name());
    replace[results[i]] = (*fusion)->result(i);
  }
  return {};
}

/// Fuses the ops of `block` (not of its nested regions). Returns whether it made a fusion.
Expected<bool> fuseBlock(Block &block) {
  BlockIndex index(block);
  std::unordered_set<Op *> grouped;
  std::vector<Group> groups;
  GroupBuilder builder(block, index, grouped);
  for (auto it = block.ops().rbegin(); it != block.ops().rend(); ++it) {
    Op *op = it->get();
    if (grouped.count(op))
      continue;
    std::optional<Group> g = builder.build(op);
    if (!g || g->computeOps() < 2)
      continue;
    grouped.insert(g->members.begin(), g->members.end());
    groups.push_back(std::move(*g));
  }
  if (groups.empty())
    return false;

  // All groups are formed on the original block, then rewritten: a later group may read a
  // member of an earlier one, and the replacements below redirect it to the fusion result.
  std::unordered_map<Value *, Value *> replace;
  for (const Group &g : groups)
    WEFT_TRY(emitFusion(g, index, replace));
  ir::replaceUses(block, replace);

  // Erase the moved members, latest first, then the copied ops that no one else uses.
  std::vector<Op *> dead(grouped.begin(), grouped.end());
  std::unordered_set<Op *> copied;
  for (const Group &g : groups)
    copied.insert(g.copies.begin(), g.copies.end());
  for (Op *c : copied) {
    if (c->parentBlock() != &block)
      continue; // an enclosing block's op; DCE removes it once nothing uses it
    const auto &users = index.usersOf(c->result());
    if (std::all_of(users.begin(), users.end(), [&](Op *u) { return grouped.count(u) != 0; }))
      dead.push_back(c);
  }
  std::sort(dead.begin(), dead.end(),
            [&](Op *a, Op *b) { return index.pos.at(a) > index.pos.at(b); });
  for (Op *op : dead)
    block.erase(op);
  return true;
}

/// Fuses `block` and, first, the bodies of its scans and whiles (never fusion bodies).
Expected<bool> fuseRecursively(Block &block) {
  bool changed = false;
  for (auto &op : block.ops()) {
    if (!ir::isLoop(op->kind()))
      continue;
    for (size_t r = 0; r < op->numRegions(); ++r) {
      auto inner = fuseRecursively(op->region(r));
      WEFT_TRY(inner.status());
      changed |= *inner;
    }
  }
  auto here = fuseBlock(block);
  WEFT_TRY(here.status());
  return changed || *here;
}

class FuseElementwisePass : public FunctionPass {
public:
  std::string_view name() const override { return "fuse-elementwise"; }

  Expected<bool> runOnFunction(ir::Function &f) override { return fuseRecursively(f.body()); }
};

} // namespace

std::unique_ptr<Pass> createFuseElementwisePass() {
  return std::make_unique<FuseElementwisePass>();
}

} // namespace weft::passes
