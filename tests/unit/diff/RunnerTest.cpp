#include "backends/Registry.h"
#include "ir/Parser.h"
#include "tests/diff/DiffRunner.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

namespace diff_RunnerTest {

using namespace weft;
using namespace weft::difftest;

namespace {

std::unique_ptr<ir::Module> parse(const char *text) {
  auto m = ir::parseModule(text);
  REQUIRE_MESSAGE(m.isOk(), m.diag().str());
  return std::move(*m);
}

// Divides by a parameter named so that its values are lengths in [0, 0]: always 0.
const char *kDivByZero = R"(
func @f(%a: tensor<3 x i32>, %len0_0: tensor<3 x i32>) -> (tensor<3 x i32>, tensor<3 x i32>) {
  %q = div %a, %len0_0 : tensor<3 x i32>
  return %a, %q
}
)";

} // namespace

TEST_CASE("runner: a fault on both sides is agreement") {
  auto m = parse(kDivByZero);
  CHECK_FALSE(runDifferential(*m, {}, 1, defaultVariants()));
}

TEST_CASE("runner: a pipeline may remove a fault (DCE of an unused division)") {
  auto m = parse(R"(
func @f(%a: tensor<3 x i32>, %len0_0: tensor<3 x i32>) -> (tensor<3 x i32>) {
  %q = div %a, %len0_0 : tensor<3 x i32>
  return %a
}
)");
  CHECK_FALSE(runDifferential(*m, {}, 1, defaultVariants()));
  // Without passes the JIT must fault like the interpreter does.
  auto f = runDifferential(*m, {}, 1, {{"cpu", "", "cpu"}});
  CHECK_FALSE(f);
}

TEST_CASE("runner: len<k>_<bound> parameters hold lengths in [0, bound]") {
  auto m = parse(R"(
func @f(%len0_T: tensor<B x i64>, %len1_3: tensor<B x i32>, %x: tensor<B x i32>) -> (tensor<B x i64>) {
  return %len0_T
}
)");
  auto in = makeInputs(*m->function("f"), {{"B", 50}, {"T", 4}}, 7);
  REQUIRE(in.isOk());
  int64_t hi0 = 0, hi1 = 0, lo2 = 0;
  for (int64_t i = 0; i < 50; ++i) {
    CHECK((*in)[0].getInt(i) >= 0);
    CHECK((*in)[1].getInt(i) >= 0);
    hi0 = std::max(hi0, (*in)[0].getInt(i));
    hi1 = std::max(hi1, (*in)[1].getInt(i));
    lo2 = std::min(lo2, (*in)[2].getInt(i));
  }
  CHECK(hi0 == 4);
  CHECK(hi1 == 3);
  CHECK(lo2 < 0); // other integers are signed
}

TEST_CASE("runner: a parameter's inputs depend on its name, not on its position") {
  auto a = parse("func @f(%x: tensor<4 x f32>, %y: tensor<4 x f32>) -> (tensor<4 x f32>) {\n"
                 "  return %y\n}\n");
  auto b = parse("func @f(%y: tensor<4 x f32>) -> (tensor<4 x f32>) {\n  return %y\n}\n");
  auto ia = makeInputs(*a->function("f"), {}, 3), ib = makeInputs(*b->function("f"), {}, 3);
  REQUIRE(ia.isOk());
  REQUIRE(ib.isOk());
  CHECK_FALSE(compareArrays((*ia)[1], (*ib)[0]));
  CHECK(compareArrays((*ia)[0], (*ia)[1]));
}

TEST_CASE("runner: an unknown pass or a module without @f is a failure that says so") {
  auto m = parse(kDivByZero);
  auto f = runDifferential(*m, {}, 1, {{"x", "no-such-pass", "reference"}});
  REQUIRE(f);
  CHECK(f->variant == "x");
  CHECK(f->kind == "pipeline");
  auto g = parse("func @g() -> () {\n  return\n}\n");
  auto h = runDifferential(*g, {}, 1, defaultVariants());
  REQUIRE(h);
  CHECK(h->str() == "oracle: pipeline: the module has no function @f");
}

TEST_CASE("runner: every registered backend runs, and an unknown one is a failure that says so") {
  std::set<std::string> backendsRun;
  for (const Variant &v : defaultVariants())
    backendsRun.insert(v.backend);
  std::set<std::string> registered;
  for (const backends::Backend *b : backends::registeredBackends())
    registered.insert(std::string(b->name()));
  CHECK(backendsRun == registered);
  auto m = parse(kDivByZero);
  auto f = runDifferential(*m, {}, 1, {{"y", "", "no-such-backend"}});
  REQUIRE(f);
  CHECK(f->variant == "y");
  CHECK(f->kind == "compile");
  CHECK(f->message.find("unknown backend 'no-such-backend'") != std::string::npos);
}

} // namespace diff_RunnerTest
