//===- passes/Passes.cpp - the registry expanded from Passes.def ----------===//
#include "passes/Passes.h"

#include <fmt/format.h>

namespace weft::passes {
namespace {

struct PassEntry {
  std::string_view name;
  std::unique_ptr<Pass> (*factory)();
};

const PassEntry kPasses[] = {
#define PASS(Name, Factory) {Name, &Factory},
#include "passes/Passes.def"
};

const std::pair<std::string_view, std::string_view> kAliases[] = {
#define PIPELINE(Name, Passes) {Name, Passes},
#include "passes/Passes.def"
};

} // namespace

std::vector<std::string_view> passNames() {
  std::vector<std::string_view> names;
  for (const PassEntry &e : kPasses)
    names.push_back(e.name);
  return names;
}

std::vector<std::pair<std::string_view, std::string_view>> pipelineAliases() {
  return {std::begin(kAliases), std::end(kAliases)};
}

std::optional<std::string_view> expandPipelineAlias(std::string_view name) {
  for (const auto &[alias, passes] : kAliases)
    if (alias == name)
      return passes;
  return std::nullopt;
}

Expected<std::unique_ptr<Pass>> createPassByName(std::string_view name) {
  for (const PassEntry &e : kPasses)
    if (e.name == name)
      return e.factory();
  std::string known;
  for (const PassEntry &e : kPasses)
    known += (known.empty() ? "" : ", ") + std::string(e.name);
  for (const auto &a : kAliases)
    known += ", " + std::string(a.first);
  return err(fmt::format("unknown pass '{}' (known: {})", name, known));
}

} // namespace weft::passes
