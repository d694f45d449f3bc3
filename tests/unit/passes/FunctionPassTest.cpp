// passes/Pass.h: FunctionPass runs runOnFunction on each function in module order, reports a
// change when any function changed, and stops at the first error.
#include "passes/Pass.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace weft::passes::passes_FunctionPassTest {
namespace {

/// Records the functions it sees; "b" changes, "c" fails.
class RecordingPass final : public FunctionPass {
public:
  std::string_view name() const override { return "recording"; }
  Expected<bool> runOnFunction(ir::Function &f) override {
    seen.push_back(f.name());
    if (f.name() == "c")
      return err("c is refused");
    return f.name() == "b";
  }
  std::vector<std::string> seen;
};

} // namespace

TEST_CASE("a function pass visits every function in order and ORs their changes") {
  ir::Module m;
  m.addFunction("a");
  m.addFunction("b");
  RecordingPass p;
  auto changed = p.run(m);
  REQUIRE(changed.isOk());
  CHECK(*changed);
  CHECK(p.seen == std::vector<std::string>{"a", "b"});
  ir::Module unchanged;
  unchanged.addFunction("a");
  CHECK_FALSE(*RecordingPass().run(unchanged));
}

TEST_CASE("a function pass stops at the first function that fails") {
  ir::Module m;
  m.addFunction("c");
  m.addFunction("b");
  RecordingPass p;
  auto r = p.run(m);
  REQUIRE_FALSE(r.isOk());
  CHECK(r.diag().message == "c is refused");
  CHECK(p.seen == std::vector<std::string>{"c"});
}

} // namespace weft::passes::passes_FunctionPassTest
