//===- passes/PassManager.cpp ---------------------------------------------===//
#include "passes/PassManager.h"

#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/Passes.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace weft::passes {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

/// Splits "a, b,c" into names; an empty entry is an error.
Status splitPipeline(std::string_view pipeline, std::vector<std::string_view> &names) {
  if (trim(pipeline).empty())
    return {};
  size_t pos = 0;
  while (true) {
    size_t comma = pipeline.find(',', pos);
    std::string_view name = trim(pipeline.substr(pos, comma - pos));
    if (name.empty())
      return err(fmt::format("empty pass name in pipeline '{}'", pipeline));
    if (auto alias = expandPipelineAlias(name))
      WEFT_TRY(splitPipeline(*alias, names));
    else
      names.push_back(name);
    if (comma == std::string_view::npos)
      return {};
    pos = comma + 1;
  }
}

} // namespace

Status PassManager::addPipeline(std::string_view pipeline) {
  std::vector<std::string_view> names;
  WEFT_TRY(splitPipeline(pipeline, names));
  std::vector<std::unique_ptr<Pass>> created;
  for (std::string_view name : names) {
    auto pass = createPassByName(name);
    if (!pass)
      return pass.diag();
    created.push_back(std::move(*pass));
  }
  for (auto &p : created)
    add(std::move(p));
  return {};
}

std::vector<std::string> PassManager::passNames() const {
  std::vector<std::string> names;
  for (const auto &p : passes_)
    names.emplace_back(p->name());
  return names;
}

bool PassManager::wantsPrint(std::string_view passName) const {
  const auto &named = options_.printAfter;
  bool isNamed = std::find(named.begin(), named.end(), passName) != named.end();
  if (options_.printAfterAll || isNamed)
    return true;
  // --print-after-change alone covers every pass.
  return options_.printAfterChange && named.empty();
}

void PassManager::dump(const ir::Module &m, std::string_view passName, std::string_view note) {
  *out_ << fmt::format("// -----// IR after {}{} //----- //\n", passName, note);
  *out_ << ir::print(m) << "\n";
}

Status PassManager::run(ir::Module &m) {
  timings_.clear();
  double verifyMs = 0;
  size_t limit = options_.stopAfterPassNum.value_or(passes_.size());
  for (size_t i = 0; i < passes_.size() && i < limit; ++i) {
    Pass &pass = *passes_[i];
    auto start = Clock::now();
    Expected<bool> changed = pass.run(m);
    timings_.push_back({std::string(pass.name()), msSince(start)});
    if (!changed) {
      if (options_.printAfterFailure)
        dump(m, pass.name(), " (failed)");
      return err(
          fmt::format("pass '{}' (#{}) failed: {}", pass.name(), i + 1, changed.diag().str()));
    }
    if (options_.verifyEach) {
      auto vstart = Clock::now();
      Status ok = ir::verify(m);
      verifyMs += msSince(vstart);
      if (!ok) {
        dump(m, pass.name(), " (invalid)");
        return err(fmt::format("pass '{}' (#{}) produced invalid IR: {}", pass.name(), i + 1,
                               ok.diag().str()));
      }
    }
    if (!wantsPrint(pass.name()))
      continue;
    if (options_.printAfterChange && !*changed) {
      *out_ << fmt::format("// -----// IR after {} //----- //\n// (unchanged)\n\n", pass.name());
      continue;
    }
    dump(m, pass.name(), "");
  }
  if (options_.verifyEach)
    timings_.push_back({"(verifier)", verifyMs});
  return {};
}

void PassManager::printTimingReport(std::ostream &os) const {
  if (!options_.timePasses)
    return;
  double total = 0;
  for (const Timing &t : timings_)
    total += t.ms;
  os << "===-------------------------------------------------------------===\n"
     << "                 pass execution timing report\n"
     << "===-------------------------------------------------------------===\n";
  os << fmt::format("  {:>10}  {:>7}  {}\n", "wall ms", "%", "pass");
  for (const Timing &t : timings_)
    os << fmt::format("  {:>10.3f}  {:>6.1f}%  {}\n", t.ms, total > 0 ? 100 * t.ms / total : 0.0,
                      t.name);
  os << fmt::format("  {:>10.3f}  {:>6.1f}%  {}\n", total, 100.0, "total");
}

} // namespace weft::passes
