//===- tests/unit/cpu/LstmUnusedResultsTest.cpp - LSTM gradients nothing reads ===//
//
// lstm_sequence_grad leaves a result nothing reads unwritten, with the work only it needs
// (EmitLstmGrad.cpp: dxs of a layer fed by data, dh0 and dc0, the weight gradients of a frozen
// one). Each form (recomputing and reading saved gates, each with and without lengths) returns
// only some of its gradients, and those must still be the interpreter's: in particular the ones
// that share work with a skipped one (dwx, dwh, dxs and db all read the dz the loop leaves;
// the training form gathers Hp only for dwh).
//
//===----------------------------------------------------------------------===//
#include "Parity.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace cpu_LstmUnusedResultsTest {

using namespace weft;
using namespace weft::cputest;

namespace {

struct Case {
  bool saved, masked, reverse;
  const char *name;
};

const Case kForms[] = {{false, false, false, "recomputed"},
                       {false, true, true, "recomputed, lengths, reverse"},
                       {true, false, false, "saved gates"},
                       {true, true, false, "saved gates, lengths"}};

constexpr int64_t kT = 5, kB = 3, kI = 4, kH = 6;

/// @grad(xs, h0, c0, wx, wh, b [, len], dhs, dhT, dcT): the forward op, its gradient, and of
/// the gradient's results (dxs, dh0, dc0, dwx, dwh, db) only those `returned` names.
std::string gradModule(const Case &c, const std::vector<size_t> &returned) {
  const std::string xs = fmt::format("tensor<{} x {} x {} x f64>", kT, kB, kI),
                    h = fmt::format("tensor<{} x {} x f64>", kB, kH),
                    hs = fmt::format("tensor<{} x {} x {} x f64>", kT, kB, kH),
                    wx = fmt::format("tensor<{} x {} x f64>", kI, 4 * kH),
                    wh = fmt::format("tensor<{} x {} x f64>", kH, 4 * kH),
                    bias = fmt::format("tensor<{} x f64>", 4 * kH),
                    gates = fmt::format("tensor<{} x {} x {} x f64>", kT, kB, 4 * kH);
  std::vector<std::string> attrs;
  if (c.reverse)
    attrs.push_back("reverse = 1");
  if (c.saved)
    attrs.push_back("save_gates = 1");
  const std::string attr = attrs.empty() ? "" : fmt::format(" {{{}}}", fmt::join(attrs, ", "));
  const std::string len = c.masked ? ", %len" : "";
  const std::vector<std::string> resultNames = {"%dxs", "%dh0", "%dc0", "%dwx", "%dwh", "%db"},
                                 resultTypes = {xs, h, h, wx, wh, bias};
  std::vector<std::string> outNames, outTypes;
  for (size_t r : returned) {
    outNames.push_back(resultNames[r]);
    outTypes.push_back(resultTypes[r]);
  }
  return fmt::format(
      "func @grad(%xs: {0}, %h0: {1}, %c0: {1}, %wx: {2}, %wh: {3}, %b: {4}{5}, %dhs: {6}, "
      "%dhT: {1}, %dcT: {1}) -> ({7}) {{\n"
      "  %hs, %hT, %cT{8} = lstm_sequence %xs, %h0, %c0, %wx, %wh, %b{9}{10} : {6}, {1}, {1}{11}\n"
      "  {12} = lstm_sequence_grad %xs, %h0, %c0, %wx, %wh, %b, %hs, %dhs, %dhT, %dcT{13}{9}{10}"
      " : {14}\n"
      "  return {15}\n}}\n",
      xs, h, wx, wh, bias, c.masked ? fmt::format(", %len: tensor<{} x i64>", kB) : "", hs,
      fmt::join(outTypes, ", "), c.saved ? ", %gates, %cs" : "", len, attr,
      c.saved ? fmt::format(", {}, {}", gates, hs) : "", fmt::join(resultNames, ", "),
      c.saved ? ", %gates, %cs" : "", fmt::join(resultTypes, ", "), fmt::join(outNames, ", "));
}

} // namespace

TEST_CASE("cpu lstm_sequence_grad: the results returned are right when others are not "
          "computed") {
  uint64_t seed = 501;
  for (const Case &c : kForms) {
    CAPTURE(std::string(c.name));
    // Results: 0 dxs, 1 dh0, 2 dc0, 3 dwx, 4 dwh, 5 db. First a training step's: the weights',
    // no dxs, no dh0, no dc0.
    const std::vector<std::vector<size_t>> subsets = {{3, 4, 5}, {0}, {1},    {2},   {3},
                                                      {4},       {5}, {0, 5}, {1, 2}};
    for (const std::vector<size_t> &returned : subsets) {
      const std::string text = gradModule(c, returned);
      INFO(text);
      auto m = ir::parseModule(text);
      REQUIRE_OK(m);
      Compiled compiled = compileModule(std::move(*m));
      const ir::Function *f = compiled.module->function("grad");
      REQUIRE(f);
      std::map<size_t, ParamGen> gens;
      if (c.masked)
        gens[6] = {Gen::Index, kT + 1};
      std::vector<Array> in = randomInputs(*f, {}, gens, ++seed);
      auto want = reference::run(*f, in, {});
      REQUIRE_OK(want);
      // LstmGradKernelTest's bound.
      const int64_t terms = 8 * (kI + kH + 2) * kT * kB;
      checkTargets(compiled, "grad", in, {}, *want, Tolerance::sum(terms, 8.0 * (kI + kH + 2)));
    }
  }
}

} // namespace cpu_LstmUnusedResultsTest
