#include "GradCheck.h"

#include "backends/reference/Interpreter.h"
#include "ir/Infer.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "ir/Walk.h"
#include "passes/PassManager.h"
#include "passes/autodiff/Autodiff.h"
#include "runtime/Random.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <sstream>

namespace weft::testing {
namespace {

/// The function-level scans of `f`.
std::vector<ir::Op *> topLevelScans(const ir::Function &f) {
  std::vector<ir::Op *> scans;
  for (const auto &op : f.body().ops())
    if (op->kind() == ir::OpKind::Scan)
      scans.push_back(op.get());
  return scans;
}

/// Scans inside the bodies of the function-level scans of `f`: checkpointing adds one to the
/// forward and one to the reverse sweep of every scan it segments.
size_t scansInScans(const ir::Function &f) {
  size_t n = 0;
  for (ir::Op *scan : topLevelScans(f))
    ir::walk(scan->region(), [&](ir::Op &op) { n += op.kind() == ir::OpKind::Scan; });
  return n;
}

/// Whether checkpointing every k steps segments a scan of `f`: one over a static T > k.
bool hasSegmentableScan(const ir::Function &f, int64_t k) {
  for (ir::Op *scan : topLevelScans(f)) {
    auto g = ir::scanOperands(scan->numOperands(), scan->attrs());
    const ir::Dim &steps = scan->operand(g->numCarry)->type().dim(0);
    if (steps.isStatic() && steps.size() > k)
      return true;
  }
  return false;
}

} // namespace

void checkGradients(const GradCase &c) {
  auto parsed = ir::parseModule(c.ir, "gradcase.wir");
  REQUIRE_OK(parsed);
  ir::Module &m = **parsed;
  ir::Function &f = *m.functions().front();
  CAPTURE(f.name());
  std::vector<ir::Function *> grads;
  // Stash, recompute, and checkpoints every 2 steps (scans over T > 2 become segments).
  struct Variant {
    autodiff::Residuals residuals;
    int64_t checkpointEvery;
    const char *suffix;
  };
  for (auto [policy, every, suffix] :
       {Variant{autodiff::Residuals::Stash, 0, "_grad_stash"},
        Variant{autodiff::Residuals::Recompute, 0, "_grad_recompute"},
        Variant{autodiff::Residuals::Stash, 2, "_grad_checkpoint2"}}) {
    autodiff::GradOptions options;
    options.wrt = c.wrt;
    options.residuals = policy;
    options.checkpointEvery = every;
    options.name = f.name() + suffix;
    auto grad = autodiff::buildGradient(m, f, options);
    REQUIRE_OK(grad);
    grads.push_back(*grad);
  }
  Status ok = ir::verify(m);
  REQUIRE_MESSAGE(ok.isOk(), std::string(ok.message() + "\n" + ir::print(m)));
  // The checkpointed gradient must not be the stashed one again: its scans run as segments.
  if (hasSegmentableScan(f, 2))
    CHECK_MESSAGE(
        scansInScans(*grads[2]) > scansInScans(*grads[0]),
        (std::string("checkpoint=2 left the scans unsegmented\n") + ir::print(*grads[2])));

  // And the stashed gradient after the training passes (weight gradients hoisted out of the
  // reverse scans as one GEMM, loop invariants moved out), in a module of its own.
  auto trained = ir::parseModule(c.ir, "gradcase.wir");
  REQUIRE(trained.isOk());
  {
    autodiff::GradOptions options;
    options.wrt = c.wrt;
    auto grad = autodiff::buildGradient(**trained, *(*trained)->functions().front(), options);
    REQUIRE_OK(grad);
    std::ostringstream log;
    passes::PassManager pm(log);
    REQUIRE(pm.addPipeline("hoist-weight-gradients,licm,canonicalize").isOk());
    Status ran = pm.run(**trained);
    REQUIRE_MESSAGE(ran.isOk(), ran.message());
    grads.push_back(*grad);
  }

  std::vector<Array> inputs;
  for (size_t i = 0; i < f.numParams(); ++i) {
    ir::Value *p = f.param(i);
    if (auto it = c.fixed.find(p->name()); it != c.fixed.end()) {
      inputs.push_back(it->second);
      continue;
    }
    bool isWrt = std::find(c.wrt.begin(), c.wrt.end(), p->name()) != c.wrt.end();
    double lo = isWrt ? c.lo : -1.0, hi = isWrt ? c.hi : 1.0;
    auto shape = p->type().evaluateShape({});
    REQUIRE_MESSAGE(shape.isOk(), "gradient cases use static shapes");
    Array a(p->type().dtype(), *shape);
    int64_t seed = static_cast<int64_t>(std::hash<std::string>{}(p->name()) & 0xffffff);
    for (int64_t k = 0; k < a.numel(); ++k)
      a.setDouble(k, lo + (hi - lo) * random::uniformF64(seed, static_cast<uint64_t>(k)));
    inputs.push_back(std::move(a));
  }

  auto loss = [&](const std::vector<Array> &in) {
    auto r = reference::run(f, in);
    REQUIRE_OK(r);
    return (*r)[0].getDouble(0);
  };
  std::vector<std::vector<Array>> outs;
  for (ir::Function *g : grads) {
    auto out = reference::run(*g, inputs);
    REQUIRE_OK(out);
    CHECK((*out)[0].getDouble(0) == doctest::Approx(loss(inputs)).epsilon(1e-12));
    outs.push_back(std::move(*out));
  }

  const double h = 1e-5;
  for (size_t w = 0; w < c.wrt.size(); ++w) {
    size_t pi = 0;
    while (f.param(pi)->name() != c.wrt[w])
      ++pi;
    for (int64_t k = 0; k < inputs[pi].numel(); ++k) {
      std::vector<Array> plus = inputs, minus = inputs;
      double x = inputs[pi].getDouble(k);
      plus[pi].setDouble(k, x + h);
      minus[pi].setDouble(k, x - h);
      double fd = (loss(plus) - loss(minus)) / (2 * h);
      for (size_t p = 0; p < outs.size(); ++p) {
        double ad = outs[p][w + 1].getDouble(k);
        CAPTURE(grads[p]->name());
        CAPTURE(c.wrt[w]);
        CAPTURE(k);
        CAPTURE(fd);
        CAPTURE(ad);
        CHECK(std::abs(ad - fd) <= 1e-6 * (1.0 + std::abs(fd)));
      }
    }
  }
}

} // namespace weft::testing
