//===- passes/SplitScan.cpp - one scan per independent recurrence ---------===//
//
// Loop fission for scans. A decoder whose step runs a stack of cells,
//
//   scan carry(%h0, %c0, %h1, %c1) over(%xs) {
//     layer 0 (%x, %h0, %c0) -> %h0', %c0'     layer 1 (%h0', %h1, %c1) -> %h1', %c1'
//     %logits = dense(%h1')
//     yield %h0', %c0', %h1', %c1', %logits
//   }
//
// holds several recurrences that only feed each other forward in time: layer 1 at step t reads
// layer 0's output at step t, never the other way round. Such a scan is the same as one scan
// per recurrence, each emitting what the next reads, plus a scan without carries for what no
// carry needs (the output layer):
//
//   %hs0 = scan carry(%h0, %c0) over(%xs)  { layer 0; yield %h0', %c0', %h0' }
//   %hs1 = scan carry(%h1, %c1) over(%hs0) { layer 1; yield %h1', %c1', %h1' }
//   %ls  = scan over(%hs1) { yield dense(%h1') }
//
// and each of those is a form fuse-lstm, fuse-gru and fuse-rnn know (a scan whose body is one
// cell), which the stacked scan is not. A pass rather than a decoder builder that emits the
// split form, so that a stack written by hand splits too.
//
// How: the carries depend on one another through the yield (carry j on carry i when j's new
// value reads i's old one); the strongly connected groups of that graph, in dependence order,
// are the new scans, the carry-free ops last. Each body op goes to the earliest group among its
// users (an op no carry needs goes to the last scan), so that a cell's input projection stays
// with the cell. A value one group makes and a later one reads is emitted by the first and
// read as a sequence by the second; the original sequences, lengths and {reverse} go to every
// scan that needs them. With lengths the result is the same: a padded step of an example
// leaves every group's state unchanged and emits zeros, whatever its input.
//
// Refused (the scan stays whole): a single group; a carry one group reads at step t while
// another group owns it (a layer reading the layer above's previous state: the groups then
// merge, or the read is of an old state no emit carries); an op with a region or an effect,
// or with lengths one that may fault (it could see a padded step's zeros);
// an emit of a block argument or of a value from outside; with lengths, a value to pass on
// that has no batch axis 0.
//
//===----------------------------------------------------------------------===//
#include "ir/Builder.h"
#include "ir/Clone.h"
#include "ir/Infer.h"
#include "ir/Uses.h"
#include "passes/Passes.h"
#include "passes/Rewrite.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace weft::passes {
namespace {

using ir::OpKind;
using ir::Value;

constexpr size_t kMaxCarries = 64; // carry sets are bit masks

/// What one new scan holds: its carries (original indices), the body ops it runs, the values
/// of other groups it reads (as sequences) and the values it emits for later groups.
struct Group {
  std::vector<size_t> carries;
  std::vector<ir::Op *> ops;
  std::vector<Value *> reads;    // made by an earlier group, read here
  std::vector<size_t> sequences; // original sequence indices read here
  std::vector<Value *> passOn;   // made here, read by a later group
  std::vector<size_t> emits;     // original emit indices made here
};

void addOnce(std::vector<Value *> &vs, Value *v) {
  if (std::find(vs.begin(), vs.end(), v) == vs.end())
    vs.push_back(v);
}

/// Splits `scan` when its carries form several groups; false (nothing changed) otherwise.
Expected<bool> split(ir::Op &scan) {
  auto g = ir::scanOperands(scan.numOperands(), scan.attrs());
  WEFT_TRY(g.status());
  const size_t nc = g->numCarry;
  ir::Block &body = scan.region();
  ir::Op *yield = body.back();
  if (nc == 0 || nc > kMaxCarries)
    return false;
  // Which carries each body value depends on (through the body at the same step).
  std::unordered_map<const Value *, uint64_t> deps;
  for (size_t i = 0; i < nc; ++i)
    deps[body.arg(i)] = uint64_t{1} << i;
  auto depOf = [&](const Value *v) {
    auto it = deps.find(v);
    return it == deps.end() ? uint64_t{0} : it->second;
  };
  std::vector<ir::Op *> ops;
  for (auto &op : body.ops()) {
    if (op.get() == yield)
      break;
    // A padded step of a later group reads zeros where the unsplit body read real values: an
    // op that may fault on some inputs (an integer division, a gather) must not see them.
    if (op->numRegions() != 0 || !ir::isPure(op->kind()) || (g->hasLengths && ir::mayFault(*op)))
      return false;
    uint64_t d = 0;
    for (Value *v : op->operands())
      d |= depOf(v);
    for (Value *r : op->results())
      deps[r] = d;
    ops.push_back(op.get());
  }
  // reach[j]: the carries carry j's new value depends on, transitively.
  std::vector<uint64_t> reach(nc);
  for (size_t j = 0; j < nc; ++j)
    reach[j] = depOf(yield->operand(j));
  for (size_t k = 0; k < nc; ++k)
    for (size_t j = 0; j < nc; ++j)
      if (reach[j] >> k & 1)
        reach[j] |= reach[k];
  // Groups: carries that reach each other; ordered so that a group comes after those it reads.
  std::vector<int> groupOf(nc, -1);
  std::vector<Group> groups;
  std::vector<uint64_t> members;
  while (true) {
    size_t before = groups.size();
    for (size_t j = 0; j < nc; ++j) {
      if (groupOf[j] >= 0)
        continue;
      uint64_t same = uint64_t{1} << j;
      for (size_t i = 0; i < nc; ++i)
        if ((reach[j] >> i & 1) && (reach[i] >> j & 1))
          same |= uint64_t{1} << i;
      uint64_t earlier = reach[j] & ~same;
      bool ready = true;
      for (size_t i = 0; i < nc; ++i)
        ready &= !(earlier >> i & 1) || groupOf[i] >= 0;
      if (!ready)
        continue;
      groups.emplace_back();
      members.push_back(same);
      for (size_t i = 0; i < nc; ++i)
        if (same >> i & 1) {
          groupOf[i] = static_cast<int>(groups.size() - 1);
          groups.back().carries.push_back(i);
        }
    }
    if (groups.size() == before)
      break;
  }
  const int tail = static_cast<int>(groups.size());
  groups.emplace_back(); // the carry-free ops

  // Each op to the earliest group among its users; ops nobody uses are dropped.
  std::unordered_map<const Value *, int> groupOfValue;
  std::unordered_map<const ir::Op *, int> groupOfOp;
  std::unordered_map<const Value *, int> firstUser;
  auto use = [&](const Value *v, int grp) {
    auto [it, fresh] = firstUser.try_emplace(v, grp);
    if (!fresh)
      it->second = std::min(it->second, grp);
  };
  for (size_t j = 0; j < nc; ++j)
    use(yield->operand(j), groupOf[j]);
  for (size_t e = nc; e < yield->numOperands(); ++e)
    use(yield->operand(e), tail);
  for (auto it = ops.rbegin(); it != ops.rend(); ++it) {
    int grp = tail + 1;
    for (Value *r : (*it)->results())
      if (auto u = firstUser.find(r); u != firstUser.end())
        grp = std::min(grp, u->second);
    if (grp > tail)
      continue; // dead
    groupOfOp[*it] = grp;
    for (Value *r : (*it)->results())
      groupOfValue[r] = grp;
    for (Value *v : (*it)->operands())
      use(v, grp);
  }
  // Where each group reads a value: op operands and its carries' new values.
  auto read = [&](Value *v, int grp) -> bool {
    if (v->isBlockArg() && v->ownerBlock() == &body) {
      size_t a = v->index();
      if (a < nc)
        return groupOf[a] == grp; // another group's old state: refused
      size_t s = a - nc;
      auto &seqs = groups[static_cast<size_t>(grp)].sequences;
      if (std::find(seqs.begin(), seqs.end(), s) == seqs.end())
        seqs.push_back(s);
      return true;
    }
    auto it = groupOfValue.find(v);
    if (it == groupOfValue.end() || it->second == grp)
      return true; // from outside the body, or made here
    addOnce(groups[static_cast<size_t>(grp)].reads, v);
    addOnce(groups[static_cast<size_t>(it->second)].passOn, v);
    return true;
  };
  for (ir::Op *op : ops) {
    auto it = groupOfOp.find(op);
    if (it == groupOfOp.end())
      continue;
    groups[static_cast<size_t>(it->second)].ops.push_back(op);
    for (Value *v : op->operands())
      if (!read(v, it->second))
        return false;
  }
  for (size_t j = 0; j < nc; ++j)
    if (!read(yield->operand(j), groupOf[j]))
      return false;
  for (size_t e = nc; e < yield->numOperands(); ++e) {
    auto it = groupOfValue.find(yield->operand(e));
    if (it == groupOfValue.end())
      return false; // an emit of a block argument or of an outside value
    groups[static_cast<size_t>(it->second)].emits.push_back(e - nc);
  }
  if (groups[static_cast<size_t>(tail)].ops.empty())
    groups.pop_back();
  if (groups.size() < 2)
    return false;
  if (g->hasLengths) {
    const ir::Dim &batch = scan.operands().back()->type().dim(0);
    for (const Group &grp : groups)
      for (Value *v : grp.passOn)
        if (v->type().rank() == 0 || v->type().dim(0) != batch)
          return false;
  }

  // Build the groups' scans before `scan`, in order.
  ir::OpBuilder b(*scan.parentBlock());
  b.setInsertionPointBefore(&scan);
  std::unordered_map<const Value *, Value *> stacked; // passed-on value -> its stacked emit
  std::vector<Value *> results(scan.numResults(), nullptr);
  for (Group &grp : groups) {
    if (grp.sequences.empty() && grp.reads.empty())
      grp.sequences.push_back(0); // a scan needs a sequence for its T; this one is not read
    std::vector<Value *> operands;
    for (size_t j : grp.carries)
      operands.push_back(scan.operand(j));
    for (size_t s : grp.sequences)
      operands.push_back(scan.operand(nc + s));
    for (Value *v : grp.reads)
      operands.push_back(stacked.at(v));
    if (g->hasLengths)
      operands.push_back(scan.operands().back());
    ir::Attrs attrs = scan.attrs();
    attrs["num_carry"] = static_cast<int64_t>(grp.carries.size());
    attrs["num_seq"] = static_cast<int64_t>(grp.sequences.size() + grp.reads.size());
    auto fission = b.beginRegionOp(OpKind::Scan, operands, attrs, scan.loc());
    WEFT_TRY(fission.status());
    ir::Block &inner = (*fission)->region();
    ir::ValueMap map;
    size_t a = 0;
    auto bind = [&](Value *from) {
      inner.arg(a)->setName(from->name());
      map.map(from, inner.arg(a++));
    };
    for (size_t j : grp.carries)
      bind(body.arg(j));
    for (size_t s : grp.sequences)
      bind(body.arg(nc + s));
    for (Value *v : grp.reads)
      bind(v);
    ir::OpBuilder ib(inner);
    for (ir::Op *op : grp.ops)
      ir::cloneOp(ib, *op, map);
    std::vector<Value *> yielded;
    for (size_t j : grp.carries)
      yielded.push_back(map.lookup(yield->operand(j)));
    for (size_t e : grp.emits)
      yielded.push_back(map.lookup(yield->operand(nc + e)));
    for (Value *v : grp.passOn)
      yielded.push_back(map.lookup(v));
    WEFT_TRY(ib.create(OpKind::Yield, yielded, {}, {}, yield->loc()).status());
    WEFT_TRY(b.finishRegionOp(*fission));
    size_t r = 0;
    for (size_t j : grp.carries)
      results[j] = (*fission)->result(r++);
    for (size_t e : grp.emits)
      results[nc + e] = (*fission)->result(r++);
    for (Value *v : grp.passOn) {
      Value *s = (*fission)->result(r++);
      s->setName(v->name().empty() ? "" : v->name() + "_seq");
      stacked[v] = s;
    }
  }
  ir::Uses uses(*scan.parentBlock());
  for (size_t r = 0; r < scan.numResults(); ++r) {
    results[r]->setName(scan.result(r)->name());
    uses.replaceAllUsesWith(scan.result(r), results[r]);
  }
  uses.erase(scan);
  return true;
}

class SplitScanPass : public Pass {
public:
  std::string_view name() const override { return "split-scan"; }
  Expected<bool> run(ir::Module &m) override { return rewriteEachScan(m, split); }
};

} // namespace

std::unique_ptr<Pass> createSplitScanPass() { return std::make_unique<SplitScanPass>(); }

} // namespace weft::passes
