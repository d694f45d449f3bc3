//===- tests/unit/ir/AliasesTest.cpp - declared in-place updates ----------===//
//
// `aliases(RESULT = %param)` after a function's result types: printed only
// when present, parsed back to the same text, checked by the verifier.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

namespace ir_AliasesTest {

using namespace weft;

namespace {

const char *kStep =
    R"(func @sgd(%w: tensor<4 x f32>, %g: tensor<4 x f32>) -> (tensor<4 x f32>, tensor<f32>) aliases(0 = %w) {
  %lr = constant {value = [0.1]} : tensor<4 x f32>
  %d = mul %g, %lr : tensor<4 x f32>
  %w2 = sub %w, %d : tensor<4 x f32>
  %n = reduce_sum %w2 {axes = [0]} : tensor<f32>
  return %w2, %n
}
)";

/// The verifier's message for `text` with its signature line replaced by `signature`.
std::string verifyWith(const std::string &signature) {
  std::string text = kStep;
  text.replace(0, text.find('\n'), signature);
  auto m = ir::parseModule(text, "step.wir");
  if (!m)
    return m.diag().message;
  Status s = ir::verify(**m);
  return s.isOk() ? "ok" : s.diag().message;
}

} // namespace

TEST_CASE("aliases: parsed, kept on the function, printed back as written") {
  auto m = ir::parseModule(kStep, "step.wir");
  REQUIRE_OK(m);
  const ir::Function &f = *(*m)->functions().front();
  REQUIRE(f.aliases().size() == 1);
  CHECK(f.aliases().front() == ir::OutputAlias{0, 0});
  CHECK(ir::print(**m) == kStep);
  CHECK_OK(ir::verify(**m));
}

TEST_CASE("aliases: a function without them prints no clause") {
  std::string text = kStep;
  text.erase(text.find(" aliases(0 = %w)"), std::string(" aliases(0 = %w)").size());
  auto m = ir::parseModule(text, "step.wir");
  REQUIRE_OK(m);
  CHECK((*m)->functions().front()->aliases().empty());
  CHECK(ir::print(**m) == text);
}

TEST_CASE("aliases: the verifier checks types, indices and that nothing is aliased twice") {
  const std::string head = "func @sgd(%w: tensor<4 x f32>, %g: tensor<4 x f32>) -> "
                           "(tensor<4 x f32>, tensor<f32>) ";
  CHECK(verifyWith(head + "aliases(0 = %g) {") == "ok");
  CHECK(verifyWith(head + "aliases(1 = %w) {") ==
        "function @sgd: aliases: result 1 (tensor<f32>) and %w (tensor<4 x f32>) differ in type");
  CHECK(verifyWith(head + "aliases(2 = %w) {") ==
        "function @sgd: aliases: result 2 does not exist (2 results)");
  CHECK(verifyWith(head + "aliases(0 = %w, 0 = %g) {") ==
        "function @sgd: aliases: result 0 is aliased twice");
  CHECK(verifyWith(head + "aliases(0 = %w, 1 = %w) {").find("differ in type") != std::string::npos);
}

TEST_CASE("aliases: a parameter both updated and returned as itself is an error") {
  auto m = ir::parseModule(
      R"(func @f(%w: tensor<4 x f32>) -> (tensor<4 x f32>, tensor<4 x f32>) aliases(0 = %w) {
  %e = exp %w : tensor<4 x f32>
  return %e, %w
}
)",
      "f.wir");
  REQUIRE_OK(m);
  Status s = ir::verify(**m);
  REQUIRE_FALSE(s.isOk());
  CHECK(s.diag().message ==
        "function @f: aliases: %w is updated by result 0 and also returned as result 1");
}

TEST_CASE("aliases: the parser names what is wrong") {
  auto notParam =
      ir::parseModule(R"(func @f(%w: tensor<4 x f32>) -> (tensor<4 x f32>) aliases(0 = %x) {
  return %w
}
)",
                      "f.wir");
  REQUIRE_FALSE(notParam.isOk());
  CHECK(notParam.diag().message == "aliases: %x is not a parameter of @f");
  auto noIndex = ir::parseModule(R"(func @f(%w: tensor<4 x f32>) -> (tensor<4 x f32>) aliases(%w) {
  return %w
}
)",
                                 "f.wir");
  REQUIRE_FALSE(noIndex.isOk());
  CHECK(noIndex.diag().message.find("expected a result index") == 0);
}

} // namespace ir_AliasesTest
