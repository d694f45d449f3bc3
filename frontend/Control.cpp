//===- frontend/Control.cpp - building scan and while ops -----------------===//
#include "frontend/Control.h"

#include "frontend/OpSupport.h"

#include <fmt/format.h>

namespace weft::detail {
namespace {

using ir::OpKind;

/// Opens the body of a freshly begun region op.
RegionFrame open(Graph &g, ir::Op *op) {
  RegionFrame f{&g, op, {}, true, false};
  g.pushBlock(op->region());
  return f;
}

/// Yields `yields` from the body, closes it and infers the op's results.
std::vector<Tensor> close(RegionFrame &f, const char *what, std::vector<Tensor> yields,
                          SrcLoc loc) {
  Graph &g = *f.graph;
  std::vector<ir::Value *> vs;
  for (const Tensor &t : yields)
    vs.push_back(g.use(t, what, loc));
  g.builder().create(OpKind::Yield, std::move(vs), {}, {}, toLoc(loc)).take();
  g.popBlock();
  f.open = false;
  g.builder().finishRegionOp(f.op).check();
  f.finished = true;
  std::vector<Tensor> out;
  for (ir::Value *r : f.op->results())
    out.emplace_back(&g, r);
  return out;
}

} // namespace

RegionFrame beginScan(const std::vector<Tensor> &seqs, const std::vector<Tensor> &init,
                      const ScanOptions &opts, size_t arity, size_t bodyCarries, SrcLoc loc) {
  if (seqs.empty())
    throwAt(loc, "scan: needs at least one sequence");
  Graph &g = graphOf("scan", {&seqs[0]}, loc);
  if (init.size() != bodyCarries || arity != seqs.size() + init.size())
    throwAt(loc, fmt::format("scan: the body takes {} tensors and returns {} carries, but the "
                             "scan has {} sequences and {} initial carries (the body takes the "
                             "per-step slices first, then the carries)",
                             arity, bodyCarries, seqs.size(), init.size()));
  std::vector<ir::Value *> operands;
  for (const Tensor &t : init)
    operands.push_back(g.use(t, "scan carry", loc));
  for (const Tensor &t : seqs)
    operands.push_back(g.use(t, "scan sequence", loc));
  if (opts.lengths.valid())
    operands.push_back(g.use(opts.lengths, "scan lengths", loc));
  ir::Attrs attrs{{"num_carry", static_cast<int64_t>(init.size())},
                  {"num_seq", static_cast<int64_t>(seqs.size())}};
  if (opts.reverse)
    attrs["reverse"] = int64_t(1);
  ir::Op *op =
      g.builder().beginRegionOp(OpKind::Scan, std::move(operands), attrs, toLoc(loc)).take();
  RegionFrame f = open(g, op);
  // The lambda's order: slices, then carries.
  ir::Block &body = op->region();
  for (size_t i = 0; i < seqs.size(); ++i)
    f.args.emplace_back(&g, body.arg(init.size() + i));
  for (size_t i = 0; i < init.size(); ++i)
    f.args.emplace_back(&g, body.arg(i));
  return f;
}

std::vector<Tensor> endScan(RegionFrame &f, std::vector<Tensor> yields, SrcLoc loc) {
  return close(f, "scan body result", std::move(yields), loc);
}

RegionFrame beginWhile(const Tensor &finished, const std::vector<Tensor> &init, int64_t maxTrips,
                       size_t arity, size_t bodyCarries, SrcLoc loc) {
  Graph &g = graphOf("while_loop", {&finished}, loc);
  if (init.size() != bodyCarries || arity != init.size())
    throwAt(loc, fmt::format("while_loop: the body takes {} tensors and returns {} carries, but "
                             "the loop has {} initial carries",
                             arity, bodyCarries, init.size()));
  std::vector<ir::Value *> operands{finished.value()};
  for (const Tensor &t : init)
    operands.push_back(g.use(t, "while_loop carry", loc));
  ir::Op *op =
      g.builder()
          .beginRegionOp(OpKind::While, std::move(operands), {{"max_trips", maxTrips}}, toLoc(loc))
          .take();
  RegionFrame f = open(g, op);
  for (ir::Value *a : op->region().args())
    f.args.emplace_back(&g, a);
  return f;
}

std::vector<Tensor> endWhile(RegionFrame &f, std::vector<Tensor> yields, SrcLoc loc) {
  return close(f, "while_loop body result", std::move(yields), loc);
}

void abortRegion(RegionFrame &f) {
  if (!f.graph || f.finished)
    return;
  if (f.open) {
    f.graph->popBlock();
    f.open = false;
  }
  f.graph->abandon(f.op);
}

} // namespace weft::detail
