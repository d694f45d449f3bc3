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

/// Splits "a, b{k=v k2=v2},c" into entries (a pass name with its options, if any); aliases
/// expand in place. An empty entry is an error.
Status splitPipeline(std::string_view pipeline, std::vector<std::string_view> &entries) {
  if (trim(pipeline).empty())
    return {};
  size_t pos = 0;
  while (true) {
    size_t comma = pos;
    while (comma < pipeline.size() && pipeline[comma] != ',') {
      if (pipeline[comma] == '{') // options may not nest; find the closing brace
        comma = std::min(pipeline.find('}', comma), pipeline.size() - 1);
      ++comma;
    }
    std::string_view entry = trim(pipeline.substr(pos, comma - pos));
    if (entry.empty())
      return err(fmt::format("empty pass name in pipeline '{}'", pipeline));
    if (auto alias = expandPipelineAlias(entry))
      WEFT_TRY(splitPipeline(*alias, entries));
    else
      entries.push_back(entry);
    if (comma >= pipeline.size())
      return {};
    pos = comma + 1;
  }
}

/// Creates the pass an entry names and applies its options: "name" or "name{k=v k2=v2}".
Expected<std::unique_ptr<Pass>> createPassFromEntry(std::string_view entry) {
  size_t brace = entry.find('{');
  std::string_view name = trim(entry.substr(0, brace));
  auto pass = createPassByName(name);
  if (!pass || brace == std::string_view::npos)
    return pass;
  if (entry.back() != '}')
    return err(fmt::format("pass options of '{}' must end with '}}'", name));
  std::string_view opts = entry.substr(brace + 1, entry.size() - brace - 2);
  while (!(opts = trim(opts)).empty()) {
    std::string_view item = opts.substr(0, opts.find_first_of(" \t"));
    opts.remove_prefix(item.size());
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return err(fmt::format("pass option '{}' of '{}' must be key=value", item, name));
    WEFT_TRY((*pass)->setOption(item.substr(0, eq), item.substr(eq + 1)));
  }
  return pass;
}

} // namespace

Status PassManager::addPipeline(std::string_view pipeline) {
  std::vector<std::string_view> entries;
  WEFT_TRY(splitPipeline(pipeline, entries));
  std::vector<std::unique_ptr<Pass>> created;
  for (std::string_view entry : entries) {
    auto pass = createPassFromEntry(entry);
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
