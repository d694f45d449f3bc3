//===- passes/PassManager.h - running a pipeline of passes ----------------===//
//
// Runs passes in order and, as asked, verifies the IR after each one, prints it
// (after all passes, after named ones, or only when it changed), times them,
// and stops after pass N to bisect a miscompile. Dumps go to the caller's
// stream, each headed `// -----// IR after <pass> //----- //`.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "passes/Pass.h"

#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace weft::passes {

struct PassManagerOptions {
  /// Verify the module after every pass; a failure names the pass and dumps the IR.
  bool verifyEach = true;
  /// Print the IR after every pass.
  bool printAfterAll = false;
  /// Print the IR after the passes with these names.
  std::vector<std::string> printAfter;
  /// Print only after passes that changed the IR ("(unchanged)" otherwise). Alone it applies to
  /// every pass; with printAfter, to the named ones.
  bool printAfterChange = false;
  /// Print the IR after a pass that failed.
  bool printAfterFailure = false;
  /// Measure every pass (and the verifier); see printTimingReport.
  bool timePasses = false;
  /// Run only the first N passes (numbered from 1); the rest are skipped.
  std::optional<size_t> stopAfterPassNum;
};

class PassManager {
public:
  /// IR dumps are written to `out`.
  explicit PassManager(std::ostream &out, PassManagerOptions options = {})
      : out_(&out), options_(std::move(options)) {}

  void add(std::unique_ptr<Pass> pass) { passes_.push_back(std::move(pass)); }
  /// Appends the passes of a comma-separated pipeline ("cse,dce,simplify"; aliases such as
  /// "canonicalize" expand). An unknown name is an error listing the known ones, and then
  /// nothing is added.
  Status addPipeline(std::string_view pipeline);

  size_t size() const { return passes_.size(); }
  /// The names of the passes, in order.
  std::vector<std::string> passNames() const;

  /// Runs the pipeline on `m`. Errors name the failing pass (and, when verification fails,
  /// the IR is dumped to the output stream first).
  Status run(ir::Module &m);

  /// Writes the table of the last run's timings: pass, wall ms, % of total. Empty unless
  /// timePasses was set.
  void printTimingReport(std::ostream &os) const;

private:
  struct Timing {
    std::string name;
    double ms = 0;
  };
  void dump(const ir::Module &m, std::string_view passName, std::string_view note);
  bool wantsPrint(std::string_view passName) const;

  std::ostream *out_;
  PassManagerOptions options_;
  std::vector<std::unique_ptr<Pass>> passes_;
  std::vector<Timing> timings_;
};

} // namespace weft::passes
