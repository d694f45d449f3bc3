//===- tests/unit/cpu/GruRnnUnusedResultsTest.cpp - gradients nothing reads ===//
//
// gru_sequence_grad and rnn_sequence_grad leave a result nothing reads unwritten, with the work
// only it needs (EmitGruRnnGrad.cpp: dxs of a layer fed by data, the weight gradients of a
// frozen one). Each form (PyTorch's and Cho's GRU, each also in the training form that reads
// saved gates, and the tanh RNN) returns only some of its gradients, and those must still be
// the interpreter's: in particular the ones that share work with a skipped one (Cho's dbh is
// dbx's column sums; dwx and dxs both follow the per-step loop).
//
//===----------------------------------------------------------------------===//
#include "Parity.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace cpu_GruRnnUnusedResultsTest {

using namespace weft;
using namespace weft::cputest;

namespace {

enum class Form { GruPyTorch, GruCho, Rnn };

struct Case {
  Form form;
  bool saved; // the GRU's training form
  const char *name;
};

const Case kForms[] = {{Form::GruPyTorch, false, "gru (PyTorch's)"},
                       {Form::GruPyTorch, true, "gru (PyTorch's), saved gates"},
                       {Form::GruCho, false, "gru (Cho's)"},
                       {Form::GruCho, true, "gru (Cho's), saved gates"},
                       {Form::Rnn, false, "rnn (tanh)"}};

constexpr int64_t kT = 5, kB = 3, kI = 4, kH = 6;

/// @grad(xs, h0, wx, wh, bx [, bh], len, dhs, dhT): the forward op, its gradient, and of the
/// gradient's results (dxs, dh0, dwx, dwh, dbx [, dbh]) only those `returned` names.
std::string gradModule(const Case &c, const std::vector<size_t> &returned) {
  const bool gru = c.form != Form::Rnn;
  const int64_t g = (gru ? 3 : 1) * kH;
  const std::string xs = fmt::format("tensor<{} x {} x {} x f64>", kT, kB, kI),
                    h = fmt::format("tensor<{} x {} x f64>", kB, kH),
                    hs = fmt::format("tensor<{} x {} x {} x f64>", kT, kB, kH),
                    wx = fmt::format("tensor<{} x {} x f64>", kI, g),
                    wh = fmt::format("tensor<{} x {} x f64>", kH, g),
                    bias = fmt::format("tensor<{} x f64>", g),
                    gates = fmt::format("tensor<{} x {} x {} x f64>", kT, kB,
                                        (c.form == Form::GruPyTorch ? 4 : 3) * kH);
  std::vector<std::string> attrs;
  if (c.form == Form::GruPyTorch)
    attrs.push_back("linear_before_reset = 1");
  if (c.saved)
    attrs.push_back("save_gates = 1");
  const std::string attr = attrs.empty() ? "" : fmt::format(" {{{}}}", fmt::join(attrs, ", "));
  const std::string op = gru ? "gru_sequence" : "rnn_sequence";
  const std::string biases = gru ? "%bx, %bh" : "%bx";
  std::vector<std::string> resultNames = {"%dxs", "%dh0", "%dwx", "%dwh", "%dbx"},
                           resultTypes = {xs, h, wx, wh, bias};
  if (gru) {
    resultNames.push_back("%dbh");
    resultTypes.push_back(bias);
  }
  std::vector<std::string> outNames, outTypes;
  for (size_t r : returned) {
    outNames.push_back(resultNames[r]);
    outTypes.push_back(resultTypes[r]);
  }
  return fmt::format(
      "func @grad(%xs: {0}, %h0: {1}, %wx: {2}, %wh: {3}, %bx: {4}{5}, %len: tensor<{6} x i64>, "
      "%dhs: {7}, %dhT: {1}) -> ({8}) {{\n"
      "  %hs, %hT{9} = {10} %xs, %h0, %wx, %wh, {11}, %len{12} : {7}, {1}{13}\n"
      "  {14} = {10}_grad %xs, %h0, %wx, %wh, {11}, %hs, %dhs, %dhT{15}, %len{12} : {16}\n"
      "  return {17}\n}}\n",
      xs, h, wx, wh, bias, gru ? fmt::format(", %bh: {}", bias) : "", kB, hs,
      fmt::join(outTypes, ", "), c.saved ? ", %gates" : "", op, biases, attr,
      c.saved ? ", " + gates : "", fmt::join(resultNames, ", "), c.saved ? ", %gates" : "",
      fmt::join(resultTypes, ", "), fmt::join(outNames, ", "));
}

} // namespace

TEST_CASE("cpu gru_sequence_grad, rnn_sequence_grad: the results returned are right when "
          "others are not computed") {
  uint64_t seed = 401;
  for (const Case &c : kForms) {
    CAPTURE(std::string(c.name));
    const bool gru = c.form != Form::Rnn;
    // Results: 0 dxs, 1 dh0, 2 dwx, 3 dwh, 4 dbx (the RNN's db), 5 dbh.
    std::vector<std::vector<size_t>> subsets = {{2, 3, 4}, {0}, {1}, {2}, {3}, {4}};
    if (gru) {
      subsets[0].push_back(5); // a training step's: the weights', no dxs, no dh0
      subsets.push_back({5});  // Cho's dbh without dbx
      subsets.push_back({0, 5});
    }
    for (const std::vector<size_t> &returned : subsets) {
      const std::string text = gradModule(c, returned);
      INFO(text);
      auto m = ir::parseModule(text);
      REQUIRE_OK(m);
      Compiled compiled = compileModule(std::move(*m));
      const ir::Function *f = compiled.module->function("grad");
      REQUIRE(f);
      std::vector<Array> in =
          randomInputs(*f, {}, {{gru ? size_t{6} : size_t{5}, {Gen::Index, kT + 1}}}, ++seed);
      auto want = reference::run(*f, in, {});
      REQUIRE_OK(want);
      // GruRnnGradKernelTest's bound.
      const int64_t terms = 8 * (kI + kH + 2) * kT * kB;
      checkTargets(compiled, "grad", in, {}, *want, Tolerance::sum(terms, 8.0 * (kI + kH + 2)));
    }
  }
}

} // namespace cpu_GruRnnUnusedResultsTest
