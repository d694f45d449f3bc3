//===- tests/unit/cpu/LstmAttentionStepTest.cpp - fuse-lstm-attention, on and off ===//
//
// An attention decoder's scan as seq2seq::DecoderAttention writes it: an LSTM cell (x wx + h wh
// + b, gates sliced i f g o), Bahdanau's attention queried by its new h, and the attention
// vector concat(h2, context) . wa. Run with fuse-lstm-attention on (one lstm_attention_step
// per step) and off, on the interpreter and the CPU backend, on seeded random inputs of
// several sizes including odd ones, T = 1, S = 1, and batches that are not a multiple of the
// kernel's block of rows, with and without a mask (the last key of each row padded): the final
// state, the stacked attention vectors and the stacked weights must match.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "ir/Printer.h"
#include "ir/Walk.h"

#include <fmt/format.h>

#include <limits>

namespace cpu_LstmAttentionStepTest {

using namespace weft;
using namespace weft::cputest;

namespace {

/// The cell's and the attention's sizes: input I, hidden H, units A, values D, output N.
struct Dims {
  int64_t I, H, A, D, N;
};

/// @f(xs, h0, c0, wx, wh, b, wq, keys, v, mem, wa (, mask)) -> (hT, cT, as, al): the decoder
/// scan over xs [T, B, I] with keys [B, S, A] and memory [B, S, D].
std::string decoderText(const std::string &dt, Dims d, bool masked) {
  auto T = [&](const std::string &dims) { return fmt::format("tensor<{} x {}>", dims, dt); };
  auto bx = [&](int64_t n) { return T(fmt::format("B x {}", n)); };
  const int64_t G = 4 * d.H;
  std::string params = fmt::format(
      "%xs: {}, %h0: {}, %c0: {}, %wx: {}, %wh: {}, %b: {}, %wq: {}, %keys: {}, %v: {}, %mem: {}, "
      "%wa: {}",
      T(fmt::format("T x B x {}", d.I)), bx(d.H), bx(d.H), T(fmt::format("{} x {}", d.I, G)),
      T(fmt::format("{} x {}", d.H, G)), T(std::to_string(G)), T(fmt::format("{} x {}", d.H, d.A)),
      T(fmt::format("B x S x {}", d.A)), T(std::to_string(d.A)), T(fmt::format("B x S x {}", d.D)),
      T(fmt::format("{} x {}", d.H + d.D, d.N)));
  if (masked)
    params += fmt::format(", %mask: {}", T("B x S"));
  std::string s;
  auto line = [&](const std::string &text) { s += "    " + text + "\n"; };
  line(fmt::format("%gx = matmul %x, %wx : {}", bx(G)));
  line(fmt::format("%gh = matmul %h, %wh : {}", bx(G)));
  line(fmt::format("%bb = broadcast %b {{dims = [1]}} : {}", bx(G)));
  line(fmt::format("%z0 = add %gx, %gh : {}", bx(G)));
  line(fmt::format("%z = add %bb, %z0 : {}", bx(G)));
  const char *names = "ifgo";
  for (int64_t k = 0; k < 4; ++k)
    line(fmt::format("%z{} = slice %z {{axis = 1, limit = {}, start = {}}} : {}", names[k],
                     (k + 1) * d.H, k * d.H, bx(d.H)));
  line(fmt::format("%i = sigmoid %zi : {}", bx(d.H)));
  line(fmt::format("%f = sigmoid %zf : {}", bx(d.H)));
  line(fmt::format("%g = tanh %zg : {}", bx(d.H)));
  line(fmt::format("%o = sigmoid %zo : {}", bx(d.H)));
  line(fmt::format("%fc = mul %c, %f : {}", bx(d.H)));
  line(fmt::format("%ig = mul %i, %g : {}", bx(d.H)));
  line(fmt::format("%c2 = add %ig, %fc : {}", bx(d.H)));
  line(fmt::format("%tc = tanh %c2 : {}", bx(d.H)));
  line(fmt::format("%h2 = mul %o, %tc : {}", bx(d.H)));
  // Bahdanau's attention as nn::BahdanauAttention and nn::AttentionMechanism write it.
  std::string bsa = T(fmt::format("B x S x {}", d.A)), bs = T("B x S");
  line(fmt::format("%q = matmul %h2, %wq : {}", bx(d.A)));
  line(fmt::format("%q3 = reshape %q : {}", T(fmt::format("B x 1 x {}", d.A))));
  line(fmt::format("%qb = broadcast %q3 {{dims = [0, 1, 2]}} : {}", bsa));
  line(fmt::format("%pre = add %keys, %qb : {}", bsa));
  line(fmt::format("%hid = tanh %pre : {}", bsa));
  line(fmt::format("%vb = broadcast %v {{dims = [2]}} : {}", bsa));
  line(fmt::format("%hv = mul %hid, %vb : {}", bsa));
  line(fmt::format("%s0 = reduce_sum %hv {{axes = [2]}} : {}", bs));
  if (masked)
    line(fmt::format("%s = add %s0, %mask : {}", bs));
  const char *scores = masked ? "%s" : "%s0";
  line(fmt::format("%m = reduce_max {} {{axes = [1]}} : {}", scores, T("B")));
  line(fmt::format("%mk = reshape %m : {}", T("B x 1")));
  line(fmt::format("%mb = broadcast %mk {{dims = [0, 1]}} : {}", bs));
  line(fmt::format("%sh = sub {}, %mb : {}", scores, bs));
  line(fmt::format("%e = exp %sh : {}", bs));
  line(fmt::format("%zs = reduce_sum %e {{axes = [1]}} : {}", T("B")));
  line(fmt::format("%zb = broadcast %zs {{dims = [0]}} : {}", bs));
  line(fmt::format("%p = div %e, %zb : {}", bs));
  line(fmt::format("%p3 = reshape %p : {}", T("B x 1 x S")));
  line(fmt::format("%c3 = matmul %p3, %mem : {}", T(fmt::format("B x 1 x {}", d.D))));
  line(fmt::format("%ctx = reshape %c3 : {}", bx(d.D)));
  line(fmt::format("%hc = concat %h2, %ctx {{axis = 1}} : {}", bx(d.H + d.D)));
  line(fmt::format("%a2 = matmul %hc, %wa : {}", bx(d.N)));
  line("yield %h2, %c2, %a2, %p");
  std::string results = fmt::format("{}, {}, {}, {}", bx(d.H), bx(d.H),
                                    T(fmt::format("T x B x {}", d.N)), T("T x B x S"));
  return fmt::format("func @f({}) -> ({}) {{\n"
                     "  %hT, %cT, %as, %al = scan carry(%h0, %c0) over(%xs) {{\n"
                     "  ^body(%h: {}, %c: {}, %x: {}):\n{}  }} : {}\n"
                     "  return %hT, %cT, %as, %al\n}}\n",
                     params, results, bx(d.H), bx(d.H), bx(d.I), s, results);
}

size_t countOps(const ir::Function &f, ir::OpKind k) {
  size_t n = 0;
  ir::walk(const_cast<ir::Block &>(f.body()), [&](ir::Op &op) { n += op.kind() == k; });
  return n;
}

/// |got - want| <= tol * (1 + max |want|), elementwise, NaN nowhere.
void checkNear(const Array &got, const Array &want, double tol) {
  REQUIRE(got.shape() == want.shape());
  double scale = 1;
  for (int64_t i = 0; i < want.numel(); ++i)
    scale = std::max(scale, std::fabs(want.getDouble(i)));
  for (int64_t i = 0; i < want.numel(); ++i) {
    CAPTURE(i);
    REQUIRE_FALSE(std::isnan(want.getDouble(i)));
    CHECK(std::fabs(got.getDouble(i) - want.getDouble(i)) <= tol * scale);
  }
}

std::unique_ptr<ir::Module> build(const std::string &text, const std::string &pipeline) {
  auto m = ir::parseModule(text);
  REQUIRE_OK(m);
  if (!pipeline.empty())
    runPipeline(**m, pipeline);
  return std::move(*m);
}

struct Size {
  int64_t T, B, S;
};
// B 5 and 6: a block of four rows and a tail; B 9: two blocks and a tail.
const std::vector<Size> kSizes = {{1, 1, 1}, {1, 5, 4}, {3, 6, 7}, {2, 9, 1}, {4, 3, 13}};

void checkFusedAgainstUnfused(const std::string &text, bool masked, double tol) {
  std::unique_ptr<ir::Module> on = build(text, "fuse-additive-attention,fuse-lstm-attention,dce");
  std::unique_ptr<ir::Module> off = build(text, "");
  // INFO evaluates its message when a check fails, after `on` has moved into compileModule.
  const std::string onText = ir::print(*on);
  INFO(onText);
  REQUIRE(countOps(*on->function("f"), ir::OpKind::LstmAttentionStep) == 1);
  CHECK(countOps(*on->function("f"), ir::OpKind::Sigmoid) == 0);
  Compiled cOn = compileModule(std::move(on));
  for (Size z : kSizes) {
    CAPTURE(z.T);
    CAPTURE(z.B);
    CAPTURE(z.S);
    ir::DimBindings dims = {{"T", z.T}, {"B", z.B}, {"S", z.S}};
    std::vector<Array> in = randomInputs(*off->function("f"), dims, {}, 17);
    if (masked && z.S > 1)
      for (int64_t b = 0; b < z.B; ++b) // a padded key in every row
        in.back().setDouble(b * z.S + z.S - 1, -std::numeric_limits<double>::infinity());
    auto want = reference::run(*off->function("f"), in, dims);
    REQUIRE_OK(want);
    auto gotRef = reference::run(*cOn.module->function("f"), in, dims);
    REQUIRE_OK(gotRef);
    REQUIRE(gotRef->size() == want->size());
    for (size_t r = 0; r < want->size(); ++r) {
      CAPTURE(r);
      checkNear((*gotRef)[r], (*want)[r], tol);
    }
    for (const Target &t : cOn.targets) {
      CAPTURE(t.backend);
      auto got = t.exe->run("f", in, {.dims = dims});
      REQUIRE_OK(got);
      for (size_t r = 0; r < want->size(); ++r) {
        CAPTURE(r);
        checkNear((*got)[r], (*want)[r], tol);
      }
    }
  }
}

} // namespace

TEST_CASE("fuse-lstm-attention: outputs match with the fusion on and off, interpreter and CPU") {
  // 4H = 76, A = 37, D = 70, N = 67: whole groups of the kernel's register tile and its
  // masked tail (64 f32 / 32 f64 columns with AVX-512).
  for (Dims d :
       {Dims{3, 4, 5, 3, 4}, Dims{5, 7, 3, 6, 5}, Dims{1, 1, 1, 1, 1}, Dims{5, 19, 37, 70, 67}})
    for (bool masked : {true, false})
      for (const char *dt : {"f64", "f32"}) {
        CAPTURE(d.H);
        CAPTURE(masked);
        CAPTURE(dt);
        std::string text = decoderText(dt, d, masked);
        CAPTURE(text);
        checkFusedAgainstUnfused(text, masked, std::string(dt) == "f64" ? 1e-12 : 3e-5);
      }
}

TEST_CASE("fuse-lstm-attention: the optimize pipeline fuses Bahdanau's decoder step, the train "
          "one keeps the cell and the attention apart") {
  std::string text = decoderText("f32", Dims{3, 4, 5, 3, 4}, true);
  std::unique_ptr<ir::Module> opt = build(text, "optimize");
  CHECK(countOps(*opt->function("f"), ir::OpKind::LstmAttentionStep) == 1);
  std::unique_ptr<ir::Module> train = build(text, "train");
  size_t steps = 0, attentions = 0;
  for (auto &f : train->functions()) {
    steps += countOps(*f, ir::OpKind::LstmAttentionStep);
    attentions += countOps(*f, ir::OpKind::AdditiveAttention);
  }
  CHECK(steps == 0);
  CHECK(attentions >= 1);
}

} // namespace cpu_LstmAttentionStepTest
