//===- tests/unit/cpu/AdditiveAttentionTest.cpp - fuse-additive-attention, on and off ===//
//
// A decoder scan whose step attends additively (Bahdanau) over S keys, as
// nn::BahdanauAttention writes it, with the keys' projection either given or computed in the
// body from loop invariants (licm hoists it), run with the fusion on and off, on the
// interpreter and the CPU backend, on seeded random inputs of several sizes including odd ones,
// T = 1 and S = 1, with some keys masked (-inf): outputs (the final state and the stacked
// attention weights) and the gradients of a loss that reads both.
//
//===----------------------------------------------------------------------===//
#include "Parity.h"
#include "ir/Printer.h"
#include "ir/Walk.h"

#include <fmt/format.h>

namespace cpu_AdditiveAttentionTest {

using namespace weft;
using namespace weft::cputest;

namespace {

constexpr int64_t kUnits = 5, kDepth = 3, kHidden = 4;

/// @f(xs, h0, keys | w1, mem, wq, v, mask, wc (, r, ra)): a scan over xs whose step is
/// h' = tanh(context(h) . wc + x), emitting the attention weights; with `loss`,
/// sum(hT r) + sum(weights ra).
std::string decoderText(const std::string &dt, bool keysInBody, bool loss) {
  auto T = [&](const std::string &dims) { return fmt::format("tensor<{} x {}>", dims, dt); };
  std::string keysParam = keysInBody
                              ? fmt::format("%w1: {}", T(fmt::format("{} x {}", kDepth, kUnits)))
                              : fmt::format("%keys: {}", T(fmt::format("B x S x {}", kUnits)));
  std::string bsa = T(fmt::format("B x S x {}", kUnits)), bs = T("B x S"), bh = T("B x 4");
  std::string params = fmt::format(
      "%xs: {}, %h0: {}, {}, %mem: {}, %wq: {}, %v: {}, %mask: {}, %wc: {}", T("T x B x 4"), bh,
      keysParam, T(fmt::format("B x S x {}", kDepth)), T(fmt::format("{} x {}", kHidden, kUnits)),
      T(std::to_string(kUnits)), bs, T(fmt::format("{} x {}", kDepth, kHidden)));
  if (loss)
    params += fmt::format(", %r: {}, %ra: {}", bh, T("T x B x S"));
  std::string b;
  std::string keys = "%keys";
  if (keysInBody) { // the projection of the memory, invariant in the loop
    b += fmt::format("    %w1b = broadcast %w1 {{dims = [1, 2]}} : {}\n",
                     T(fmt::format("B x {} x {}", kDepth, kUnits)));
    b += fmt::format("    %kin = matmul %mem, %w1b : {}\n", bsa);
    keys = "%kin";
  }
  b += fmt::format("    %q = matmul %h, %wq : {}\n", T(fmt::format("B x {}", kUnits)));
  b += fmt::format("    %q3 = reshape %q : {}\n", T(fmt::format("B x 1 x {}", kUnits)));
  b += fmt::format("    %qb = broadcast %q3 {{dims = [0, 1, 2]}} : {}\n", bsa);
  b += fmt::format("    %pre = add {}, %qb : {}\n", keys, bsa);
  b += fmt::format("    %hid = tanh %pre : {}\n", bsa);
  b += fmt::format("    %vb = broadcast %v {{dims = [2]}} : {}\n", bsa);
  b += fmt::format("    %hv = mul %vb, %hid : {}\n", bsa);
  b += fmt::format("    %s = reduce_sum %hv {{axes = [2]}} : {}\n", bs);
  b += fmt::format("    %sm = add %mask, %s : {}\n", bs);
  b += fmt::format("    %m = reduce_max %sm {{axes = [1]}} : {}\n", T("B"));
  b += fmt::format("    %mk = reshape %m : {}\n", T("B x 1"));
  b += fmt::format("    %mb = broadcast %mk {{dims = [0, 1]}} : {}\n", bs);
  b += fmt::format("    %sh = sub %sm, %mb : {}\n", bs);
  b += fmt::format("    %e = exp %sh : {}\n", bs);
  b += fmt::format("    %z = reduce_sum %e {{axes = [1]}} : {}\n", T("B"));
  b += fmt::format("    %zb = broadcast %z {{dims = [0]}} : {}\n", bs);
  b += fmt::format("    %p = div %e, %zb : {}\n", bs);
  b += fmt::format("    %p3 = reshape %p : {}\n", T("B x 1 x S"));
  b += fmt::format("    %c3 = matmul %p3, %mem : {}\n", T(fmt::format("B x 1 x {}", kDepth)));
  b += fmt::format("    %ctx = reshape %c3 : {}\n", T(fmt::format("B x {}", kDepth)));
  b += fmt::format("    %hc = matmul %ctx, %wc : {}\n", bh);
  b += fmt::format("    %hx = add %hc, %x : {}\n", bh);
  b += fmt::format("    %h2 = tanh %hx : {}\n", bh);
  b += "    yield %h2, %p\n";
  std::string scan =
      fmt::format("  %hT, %al = scan carry(%h0) over(%xs) {{\n  ^body(%h: {}, %x: {}):\n{}  }} : "
                  "{}, {}\n",
                  bh, bh, b, bh, T("T x B x S"));
  if (!loss)
    return fmt::format("func @f({}) -> ({}, {}) {{\n{}  return %hT, %al\n}}\n", params, bh,
                       T("T x B x S"), scan);
  std::string scalar = fmt::format("tensor<{}>", dt);
  std::string tail = fmt::format("  %hr = mul %hT, %r : {}\n", bh);
  tail += fmt::format("  %l1 = reduce_sum %hr {{axes = [0, 1]}} : {}\n", scalar);
  tail += fmt::format("  %ar = mul %al, %ra : {}\n", T("T x B x S"));
  tail += fmt::format("  %l2 = reduce_sum %ar {{axes = [0, 1, 2]}} : {}\n", scalar);
  tail += fmt::format("  %l = add %l1, %l2 : {}\n", scalar);
  return fmt::format("func @f({}) -> ({}) {{\n{}{}  return %l\n}}\n", params, scalar, scan, tail);
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
const std::vector<Size> kSizes = {{1, 1, 1}, {1, 3, 5}, {4, 2, 7}, {3, 5, 1}, {2, 3, 17}};

/// Runs `fn` of `text` after `fused` (interpreter and CPU) and after `unfused` (interpreter)
/// at every size, the last key of each row masked out where S > 1; all must match.
void checkFusedAgainstUnfused(const std::string &text, const std::string &fused,
                              const std::string &unfused, const std::string &fn, double tol) {
  std::unique_ptr<ir::Module> on = build(text, fused), off = build(text, unfused);
  REQUIRE(on->function(fn));
  INFO(ir::print(*on));
  CHECK(countOps(*on->function("f"), ir::OpKind::AdditiveAttention) == 1);
  CHECK(countOps(*off->function(fn), ir::OpKind::AdditiveAttention) == 0);
  Compiled cOn = compileModule(std::move(on));
  for (Size z : kSizes) {
    CAPTURE(z.T);
    CAPTURE(z.B);
    CAPTURE(z.S);
    ir::DimBindings dims = {{"T", z.T}, {"B", z.B}, {"S", z.S}};
    std::vector<Array> in = randomInputs(*off->function(fn), dims, {}, 11);
    if (z.S > 1)
      for (int64_t b = 0; b < z.B; ++b) // a padded key in every row
        in[6].setDouble(b * z.S + z.S - 1, -std::numeric_limits<double>::infinity());
    auto want = reference::run(*off->function(fn), in, dims);
    REQUIRE_OK(want);
    auto gotRef = reference::run(*cOn.module->function(fn), in, dims);
    REQUIRE_OK(gotRef);
    REQUIRE(gotRef->size() == want->size());
    for (size_t r = 0; r < want->size(); ++r) {
      CAPTURE(r);
      checkNear((*gotRef)[r], (*want)[r], tol);
    }
    for (const Target &t : cOn.targets) {
      CAPTURE(t.backend);
      auto got = t.exe->run(fn, in, {.dims = dims});
      REQUIRE_OK(got);
      for (size_t r = 0; r < want->size(); ++r) {
        CAPTURE(r);
        checkNear((*got)[r], (*want)[r], tol);
      }
    }
  }
}

} // namespace

TEST_CASE("fuse-additive-attention: outputs match with the fusion on and off, interpreter and "
          "CPU") {
  for (bool keysInBody : {false, true})
    for (const char *dt : {"f64", "f32"}) {
      CAPTURE(keysInBody);
      CAPTURE(dt);
      std::string text = decoderText(dt, keysInBody, /*loss=*/false);
      CAPTURE(text);
      checkFusedAgainstUnfused(text, "licm,fuse-additive-attention,dce", "", "f",
                               std::string(dt) == "f64" ? 1e-12 : 2e-5);
    }
}

TEST_CASE("fuse-additive-attention: gradients match with the fusion on and off, interpreter "
          "and CPU") {
  for (bool keysInBody : {false, true}) {
    CAPTURE(keysInBody);
    std::string text = decoderText("f64", keysInBody, /*loss=*/true);
    CAPTURE(text);
    checkFusedAgainstUnfused(text, "licm,fuse-additive-attention,autodiff", "autodiff", "f_grad",
                             1e-11);
  }
}

TEST_CASE("fuse-additive-attention: the optimize and train pipelines fuse the decoder step") {
  for (const char *pipeline : {"optimize", "train"}) {
    CAPTURE(pipeline);
    std::unique_ptr<ir::Module> m = build(decoderText("f32", true, true), pipeline);
    size_t n = 0;
    for (auto &f : m->functions())
      n += countOps(*f, ir::OpKind::AdditiveAttention);
    CHECK(n >= 1);
  }
}

} // namespace cpu_AdditiveAttentionTest
