//===- passes/FuseGru.cpp - a scan computing a GRU cell -> gru_sequence ---===//
//
// A scan with one carry h, one sequence xs [T, B, I] and at most the emit h2 qualifies when
// its body is
//
//   h2 = (1 - z) * n + z * h    or    h2 = n + z * (h - n)      (any operand order)
//   z = sigmoid(a_z),  n = tanh(a_n),  r = sigmoid(a_r)
//   a_n = x W_n + r * (h U_n + b_hn) + b_n     PyTorch, cuDNN: linear_before_reset = 1
//   a_n = x W_n + (r * h) U_n + b_n            Cho et al. 2014: linear_before_reset = 0
//   yield carry(h2) emit(h2)
//
// where a_r, a_z and the rest of a_n are sums of affine terms (passes/CellMatch.h), each gate
// with exactly one x term and one h term: nn::GRU in either form, a cell written by hand, gate
// GEMMs separate or concatenated ([x, h] W, [x, r * h] W_n), gates in any column order, biases
// anywhere. The fused op's operands are gathered before the loop in the gate order r, z, n.
// The biases inside r * (...) become bh's n block; those of r and z from the same matrix
// become bh's r and z blocks (so nn::GRU's bias_hh is used as it is), all others bx.
//
// Refused: any other op in the body (a state used outside the cell), an x term under r, an
// emit other than h2, several carries or sequences.
//
//===----------------------------------------------------------------------===//
#include "ir/Infer.h"
#include "passes/CellMatch.h"
#include "passes/Passes.h"
#include "passes/Rewrite.h"

#include <array>
#include <set>

namespace weft::passes {
namespace {

using ir::OpKind;
using ir::Value;
using namespace cell;

/// The GRU cell on top of the shared affine-term matching.
class GruMatcher : public BodyMatcher {
public:
  GruMatcher(ir::Block &body, Value *x, Value *h) : BodyMatcher(body, x, h), h_(h) {}

  struct Match {
    std::array<std::vector<Term>, 3> gates; // r, z, n
    bool linearBeforeReset = false;
  };

  std::optional<Match> match(Value *h2) {
    auto update = matchUpdate(h2);
    if (!update)
      return std::nullopt;
    auto [az, an] = *update;
    Match out;
    auto &[rt, zt, nt] = out.gates;
    if (!terms(az.first, az.second, zt) || !oneEach(zt))
      return std::nullopt;
    allowReset(true);
    bool nOk = terms(an.first, an.second, nt);
    allowReset(false);
    Value *r = resetGate();
    auto ar = r ? activation(r, OpKind::Sigmoid) : std::nullopt;
    if (!nOk || !ar || !ar->first || !terms(ar->first, ar->second, rt) || !oneEach(rt))
      return std::nullopt;
    // The candidate: one x term outside r, one h term through r (after or before its GEMM).
    int inputs = 0, hiddens = 0;
    std::set<Reset> resets;
    for (const Term &t : nt) {
      if (t.source == Source::Input && t.reset != Reset::None)
        return std::nullopt;
      inputs += t.source == Source::Input;
      if (t.source == Source::Hidden) {
        if (t.reset == Reset::None || t.rows < 0)
          return std::nullopt;
        ++hiddens;
        out.linearBeforeReset = t.reset == Reset::After;
      }
      if (t.reset != Reset::None)
        resets.insert(t.reset);
    }
    if (inputs != 1 || hiddens != 1 || resets.size() != 1)
      return std::nullopt;
    return out;
  }

private:
  using Gate = std::pair<Value *, int64_t>; // pre-activation and first column (activation())

  /// The gates z and n when h2 is (1 - z) * n + z * h or n + z * (h - n).
  std::optional<std::pair<Gate, Gate>> matchUpdate(Value *h2) {
    auto sum = operandsOf(h2, OpKind::Add);
    if (!sum)
      return std::nullopt;
    auto gate = [&](Value *v, OpKind kind) -> std::optional<Gate> {
      auto g = activation(v, kind);
      return g && g->first ? g : std::nullopt;
    };
    for (auto [p, q] : {*sum, std::pair{sum->second, sum->first}}) {
      // z * h + (1 - z) * n
      if (auto z = mulWith(p, h_)) {
        auto gz = isActivation(*z, OpKind::Sigmoid) ? gate(*z, OpKind::Sigmoid) : std::nullopt;
        auto uw = operandsOf(q, OpKind::Mul);
        if (!gz || !uw)
          continue;
        for (auto [u, w] : {*uw, std::pair{uw->second, uw->first}}) {
          auto oneMinus = operandsOf(u, OpKind::Sub);
          if (oneMinus && oneMinus->second == *z && isOne(oneMinus->first) &&
              isActivation(w, OpKind::Tanh))
            if (auto gn = gate(w, OpKind::Tanh))
              return std::pair{*gz, *gn};
        }
        continue;
      }
      // n + z * (h - n)
      if (!isActivation(p, OpKind::Tanh))
        continue;
      auto zd = operandsOf(q, OpKind::Mul);
      if (!zd)
        continue;
      for (auto [z, d] : {*zd, std::pair{zd->second, zd->first}}) {
        auto hn = operandsOf(d, OpKind::Sub);
        if (!hn || hn->first != h_ || hn->second != p || !isActivation(z, OpKind::Sigmoid))
          continue;
        auto gz = gate(z, OpKind::Sigmoid);
        auto gn = gate(p, OpKind::Tanh);
        if (gz && gn)
          return std::pair{*gz, *gn};
      }
    }
    return std::nullopt;
  }

  Value *h_;
};

Expected<bool> fuse(ir::Op &scan) {
  auto g = ir::scanOperands(scan.numOperands(), scan.attrs());
  WEFT_TRY(g.status());
  ir::Block &body = scan.region();
  if (g->numCarry != 1 || g->numSeq != 1 || scan.numResults() > 2)
    return false;
  Value *xs = scan.operand(1);
  const ir::Type &st = xs->type(), &ht = scan.operand(0)->type();
  if (st.rank() != 3 || !ir::isFloat(st.dtype()) || ht.rank() != 2 || !ht.dim(1).isStatic() ||
      ht.dtype() != st.dtype())
    return false;
  const int64_t hidden = ht.dim(1).size();
  ir::Op *yield = body.back();
  Value *h2 = yield->operand(0);
  if (yield->numOperands() == 2 && yield->operand(1) != h2)
    return false;
  GruMatcher m(body, body.arg(1), body.arg(0));
  auto match = m.match(h2);
  // Every body op is part of the cell (the yield aside): nothing else reads the state.
  if (!match || !m.matchedAll())
    return false;

  // Biases: n's inside r * (...) go to bh, and r's and z's from those matrices with them.
  std::set<Value *> hiddenBiases;
  for (const Term &t : match->gates[2])
    if (t.source == Source::Bias && t.reset == Reset::After)
      hiddenBiases.insert(t.mat);
  std::array<std::vector<Term>, 3> bx, bh;
  for (size_t k = 0; k < 3; ++k)
    for (const Term &t : match->gates[k]) {
      if (t.source != Source::Bias)
        continue;
      bool inside = k == 2 ? t.reset == Reset::After : hiddenBiases.count(t.mat) > 0;
      (inside ? bh : bx)[k].push_back(t);
    }
  OperandBuilder ob(scan, hidden);
  auto wx = ob.gather(pick(match->gates, Source::Input));
  WEFT_TRY(wx.status());
  auto wh = ob.gather(pick(match->gates, Source::Hidden));
  WEFT_TRY(wh.status());
  auto bxv = ob.gatherBias(bx, st.dtype());
  WEFT_TRY(bxv.status());
  auto bhv = ob.gatherBias(bh, st.dtype());
  WEFT_TRY(bhv.status());
  std::vector<Value *> operands = {xs, scan.operand(0), *wx, *wh, *bxv, *bhv};
  if (g->hasLengths)
    operands.push_back(scan.operands().back());
  ir::Attrs attrs;
  if (scan.reverse())
    attrs["reverse"] = int64_t{1};
  if (match->linearBeforeReset)
    attrs["linear_before_reset"] = int64_t{1};
  auto fused = ob.builder().create(OpKind::GruSequence, operands, attrs, {}, scan.loc());
  WEFT_TRY(fused.status());
  std::vector<std::pair<size_t, size_t>> from = {{0, 1}}; // hT
  if (scan.numResults() == 2)
    from.push_back({1, 0}); // hs
  const std::pair<Value *, const char *> names[] = {
      {*wx, "wx"}, {*wh, "wh"}, {*bxv, "bx"}, {*bhv, "bh"}};
  replaceScan(scan, **fused, from, names);
  return true;
}

class FuseGruPass : public Pass {
public:
  std::string_view name() const override { return "fuse-gru"; }
  Expected<bool> run(ir::Module &m) override { return rewriteEachScan(m, fuse); }
};

} // namespace

std::unique_ptr<Pass> createFuseGruPass() { return std::make_unique<FuseGruPass>(); }

} // namespace weft::passes
