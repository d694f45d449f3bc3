#include "passes/PassManager.h"

#include "PassTestUtil.h"

#include <sstream>

namespace passes_PassManagerTest {

using namespace weft;
using namespace weft::ir;
using namespace weft::passes;
using namespace weft::passes::test;

namespace {

/// f(a, b) = (a + b) + (a + b), with a duplicate add for cse to merge.
std::unique_ptr<Module> makeModule() {
  auto m = std::make_unique<Module>();
  Function &f = m->addFunction("f");
  Value *a = f.addParam(Type({2}, DType::F32), "a");
  Value *b = f.addParam(Type({2}, DType::F32), "b");
  OpBuilder ob(f.body());
  Value *s1 = make(ob, OpKind::Add, {a, b});
  Value *s2 = make(ob, OpKind::Add, {a, b});
  Value *r = make(ob, OpKind::Mul, {s1, s2});
  REQUIRE(ob.create(OpKind::Return, {r}).isOk());
  return m;
}

/// Breaks the IR on purpose: gives the returned value a wrong type.
class BreakTypesPass final : public Pass {
public:
  std::string_view name() const override { return "break-types"; }
  Expected<bool> run(Module &m) override {
    Function &f = *m.functions()[0];
    f.returnOp()->operand(0)->setType(Type({3}, DType::F32));
    return true;
  }
};

/// Counts its runs and changes nothing.
class CountingPass final : public Pass {
public:
  explicit CountingPass(int &runs) : runs_(runs) {}
  std::string_view name() const override { return "count"; }
  Expected<bool> run(Module &) override {
    ++runs_;
    return false;
  }

private:
  int &runs_;
};

class FailingPass final : public Pass {
public:
  std::string_view name() const override { return "fail"; }
  Expected<bool> run(Module &) override { return err("cannot do this"); }
};

} // namespace

TEST_CASE("a pipeline string adds the named passes in order, aliases expanded") {
  std::ostringstream out;
  PassManager pm(out);
  REQUIRE(pm.addPipeline("cse, dce,simplify").isOk());
  CHECK(pm.passNames() == std::vector<std::string>{"cse", "dce", "simplify"});
  REQUIRE(pm.addPipeline("canonicalize").isOk());
  CHECK(pm.passNames() == std::vector<std::string>{"cse", "dce", "simplify", "simplify",
                                                   "concat-padded-sums", "fold-constants", "cse",
                                                   "dce"});
}

TEST_CASE("an unknown pass name is an error listing the known passes, and adds nothing") {
  std::ostringstream out;
  PassManager pm(out);
  Status s = pm.addPipeline("cse,frobnicate");
  REQUIRE_FALSE(s.isOk());
  CHECK(s.message() ==
        "unknown pass 'frobnicate' (known: autodiff, concat-padded-sums, cse, data-parallel, dce, "
        "expand-gru, expand-lstm, expand-rnn, fold-constants, fuse-additive-attention, "
        "fuse-attention, fuse-elementwise, "
        "fuse-gru, fuse-lstm, fuse-lstm-attention, fuse-lstm-step, fuse-rnn, "
        "hoist-input-projections, "
        "hoist-weight-gradients, licm, "
        "optimize-step, overlap-collectives, save-gru-gates, save-lstm-gates, simplify, "
        "split-scan, vectorize-scan, canonicalize, optimize, train)");
  CHECK(pm.size() == 0);
}

TEST_CASE("an empty entry in a pipeline is an error") {
  std::ostringstream out;
  PassManager pm(out);
  CHECK_FALSE(pm.addPipeline("cse,,dce").isOk());
  CHECK(pm.addPipeline("").isOk());
  CHECK(pm.size() == 0);
}

TEST_CASE("every registered name creates a pass of that name") {
  for (std::string_view name : passNames()) {
    CAPTURE(name);
    auto p = createPassByName(name);
    REQUIRE(p.isOk());
    CHECK((*p)->name() == name);
  }
}

TEST_CASE("verify-each names the pass that broke the IR and dumps the IR") {
  auto m = makeModule();
  std::ostringstream out;
  PassManager pm(out);
  REQUIRE(pm.addPipeline("cse").isOk());
  pm.add(std::make_unique<BreakTypesPass>());
  Status s = pm.run(*m);
  REQUIRE_FALSE(s.isOk());
  CHECK(s.message().find("pass 'break-types' (#2) produced invalid IR") == 0);
  CHECK(out.str().find("// -----// IR after break-types (invalid) //----- //\nfunc @f") !=
        std::string::npos);
}

TEST_CASE("without verify-each a broken pass goes unnoticed by the pass manager") {
  auto m = makeModule();
  std::ostringstream out;
  PassManagerOptions opts;
  opts.verifyEach = false;
  PassManager pm(out, opts);
  pm.add(std::make_unique<BreakTypesPass>());
  CHECK(pm.run(*m).isOk());
  CHECK(out.str().empty());
}

TEST_CASE("a failing pass is reported by name") {
  auto m = makeModule();
  std::ostringstream out;
  PassManagerOptions opts;
  opts.printAfterFailure = true;
  PassManager pm(out, opts);
  pm.add(std::make_unique<FailingPass>());
  Status s = pm.run(*m);
  REQUIRE_FALSE(s.isOk());
  CHECK(s.message() == "pass 'fail' (#1) failed: cannot do this");
  CHECK(out.str().find("IR after fail (failed)") != std::string::npos);
}

TEST_CASE("print-after-all dumps the IR after every pass with a header") {
  auto m = makeModule();
  std::ostringstream out;
  PassManagerOptions opts;
  opts.printAfterAll = true;
  PassManager pm(out, opts);
  REQUIRE(pm.addPipeline("cse,dce").isOk());
  REQUIRE(pm.run(*m).isOk());
  std::string s = out.str();
  size_t cse = s.find("// -----// IR after cse //----- //\nfunc @f");
  size_t dce = s.find("// -----// IR after dce //----- //\nfunc @f");
  CHECK(cse != std::string::npos);
  CHECK(dce != std::string::npos);
  CHECK(cse < dce);
}

TEST_CASE("print-after-change prints unchanged for passes that changed nothing") {
  auto m = makeModule();
  std::ostringstream out;
  PassManagerOptions opts;
  opts.printAfterChange = true;
  PassManager pm(out, opts);
  REQUIRE(pm.addPipeline("cse,cse").isOk());
  REQUIRE(pm.run(*m).isOk());
  std::string s = out.str();
  // The first cse merges the adds; the second finds nothing.
  CHECK(s.find("// -----// IR after cse //----- //\nfunc @f") != std::string::npos);
  CHECK(s.find("// -----// IR after cse //----- //\n// (unchanged)\n") != std::string::npos);
}

TEST_CASE("print-after prints only after the named passes") {
  auto m = makeModule();
  std::ostringstream out;
  PassManagerOptions opts;
  opts.printAfter = {"dce"};
  PassManager pm(out, opts);
  REQUIRE(pm.addPipeline("cse,dce").isOk());
  REQUIRE(pm.run(*m).isOk());
  CHECK(out.str().find("IR after cse") == std::string::npos);
  CHECK(out.str().find("IR after dce") != std::string::npos);
}

TEST_CASE("stop-after-pass-num runs only the first N passes") {
  auto m = makeModule();
  int runs = 0;
  std::ostringstream out;
  PassManagerOptions opts;
  opts.stopAfterPassNum = 2;
  PassManager pm(out, opts);
  for (int i = 0; i < 4; ++i)
    pm.add(std::make_unique<CountingPass>(runs));
  REQUIRE(pm.run(*m).isOk());
  CHECK(runs == 2);
}

TEST_CASE("the timing report lists every pass, the verifier and the total") {
  auto m = makeModule();
  std::ostringstream out, report;
  PassManagerOptions opts;
  opts.timePasses = true;
  PassManager pm(out, opts);
  REQUIRE(pm.addPipeline("cse,dce").isOk());
  REQUIRE(pm.run(*m).isOk());
  pm.printTimingReport(report);
  std::string s = report.str();
  CAPTURE(s);
  CHECK(s.find("wall ms") != std::string::npos);
  CHECK(s.find("%  cse\n") != std::string::npos);
  CHECK(s.find("%  dce\n") != std::string::npos);
  CHECK(s.find("%  (verifier)\n") != std::string::npos);
  CHECK(s.find("100.0%  total\n") != std::string::npos);
}

} // namespace passes_PassManagerTest
