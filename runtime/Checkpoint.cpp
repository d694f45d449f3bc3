//===- runtime/Checkpoint.cpp - training state in one safetensors file ----===//
#include "runtime/Checkpoint.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <set>

namespace weft {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kOptimizerPrefix = "optimizer/";
constexpr std::string_view kReservedPrefix = "weft.";
constexpr const char *kFormatKey = "weft.format";
constexpr const char *kFormat = "checkpoint-1";
constexpr const char *kStepKey = "weft.step";
constexpr const char *kSeedKey = "weft.rng.seed";
constexpr const char *kCounterKey = "weft.rng.counter";

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

/// The decimal integer stored under `key`, all of the string.
template <typename Int>
Expected<Int> metadataInt(const std::map<std::string, std::string> &metadata, const char *key) {
  auto it = metadata.find(key);
  if (it == metadata.end())
    return err(fmt::format("no \"{}\" in its metadata", key));
  Int value{};
  const std::string &s = it->second;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty())
    return err(fmt::format("\"{}\" is '{}', not a {}-bit integer", key, s, sizeof(Int) * 8));
  return value;
}

Expected<Checkpoint> fromSafetensors(Safetensors st) {
  auto format = st.metadata.find(kFormatKey);
  if (format == st.metadata.end())
    return err("a safetensors file, but not a weft checkpoint (no \"weft.format\" in its "
               "metadata)");
  if (format->second != kFormat)
    return err(fmt::format("checkpoint format '{}' is not one this weft reads ({})", format->second,
                           kFormat));
  Checkpoint c;
  auto step = metadataInt<int64_t>(st.metadata, kStepKey);
  WEFT_TRY(step.status());
  if (*step < 0)
    return err(fmt::format("\"{}\" is negative ({})", kStepKey, *step));
  c.step = *step;
  auto seed = metadataInt<int64_t>(st.metadata, kSeedKey);
  WEFT_TRY(seed.status());
  auto counter = metadataInt<uint64_t>(st.metadata, kCounterKey);
  WEFT_TRY(counter.status());
  c.rng = {*seed, *counter};
  for (auto &[key, value] : st.metadata)
    if (!startsWith(key, kReservedPrefix))
      c.metadata[key] = value;
  for (NamedArray &t : st.tensors) {
    if (startsWith(t.name, kOptimizerPrefix))
      c.optimizerState.push_back({t.name.substr(kOptimizerPrefix.size()), std::move(t.array)});
    else
      c.params.push_back(std::move(t));
  }
  return c;
}

std::string typeOf(const TensorSpec &s) {
  return fmt::format("{}{}", dtypeName(s.dtype), formatShape(s.shape));
}

/// One line per tensor of `found` that `expected` lacks or has otherwise, and per tensor of
/// `expected` that `found` lacks; `found` is reordered as `expected` when nothing differs.
void compare(std::vector<NamedArray> &found, const std::vector<TensorSpec> &expected,
             const char *what, std::vector<std::string> &lines) {
  std::map<std::string, NamedArray *> byName;
  for (NamedArray &t : found)
    byName[t.name] = &t;
  std::set<std::string> wanted;
  for (const TensorSpec &e : expected) {
    wanted.insert(e.name);
    auto it = byName.find(e.name);
    if (it == byName.end()) {
      lines.push_back(fmt::format("missing {} '{}' ({})", what, e.name, typeOf(e)));
      continue;
    }
    const Array &a = it->second->array;
    bool dtypeDiffers = a.dtype() != e.dtype, shapeDiffers = a.shape() != e.shape;
    if (dtypeDiffers && shapeDiffers)
      lines.push_back(fmt::format("{} '{}': {} in the checkpoint, {} in the model", what, e.name,
                                  a.typeStr(), typeOf(e)));
    else if (dtypeDiffers)
      lines.push_back(fmt::format("{} '{}': dtype {} in the checkpoint, {} in the model", what,
                                  e.name, dtypeName(a.dtype()), dtypeName(e.dtype)));
    else if (shapeDiffers)
      lines.push_back(fmt::format("{} '{}': shape {} in the checkpoint, {} in the model", what,
                                  e.name, formatShape(a.shape()), formatShape(e.shape)));
  }
  for (const NamedArray &t : found)
    if (!wanted.count(t.name))
      lines.push_back(fmt::format("unexpected {} '{}' ({})", what, t.name, t.array.typeStr()));
  if (!lines.empty())
    return;
  std::vector<NamedArray> ordered;
  for (const TensorSpec &e : expected)
    ordered.push_back(std::move(*byName[e.name]));
  found = std::move(ordered);
}

bool sharesAName(const std::vector<NamedArray> &found, const std::vector<TensorSpec> &expected) {
  std::set<std::string_view> names;
  for (const TensorSpec &e : expected)
    names.insert(e.name);
  return std::any_of(found.begin(), found.end(),
                     [&](const NamedArray &t) { return names.count(t.name) != 0; });
}

/// "<prefix>-0000000012.safetensors" -> 12; nullopt for any other name.
std::optional<int64_t> stepOfFileName(std::string_view name, std::string_view prefix) {
  constexpr std::string_view kSuffix = ".safetensors";
  if (!startsWith(name, prefix) || name.size() < prefix.size() + 1 + 10 + kSuffix.size() ||
      name[prefix.size()] != '-' || name.substr(name.size() - kSuffix.size()) != kSuffix)
    return std::nullopt;
  std::string_view digits =
      name.substr(prefix.size() + 1, name.size() - prefix.size() - 1 - kSuffix.size());
  int64_t step = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), step);
  if (ec != std::errc() || end != digits.data() + digits.size() || digits[0] == '-')
    return std::nullopt;
  return step;
}

/// The checkpoint files of `dir` with `prefix`, oldest first.
Expected<std::vector<std::pair<int64_t, fs::path>>> checkpointsIn(const std::string &dir,
                                                                  const std::string &prefix) {
  std::vector<std::pair<int64_t, fs::path>> files;
  std::error_code ec;
  if (!fs::exists(dir, ec))
    return files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (auto step = stepOfFileName(it->path().filename().string(), prefix))
      files.emplace_back(*step, it->path());
  if (ec)
    return err(fmt::format("cannot list '{}': {}", dir, ec.message()));
  std::sort(files.begin(), files.end());
  return files;
}

} // namespace

std::vector<TensorSpec> specsOf(const std::vector<NamedArray> &arrays) {
  std::vector<TensorSpec> specs;
  for (const NamedArray &t : arrays)
    specs.push_back({t.name, t.array.dtype(), t.array.shape()});
  return specs;
}

Status saveCheckpoint(const std::string &path, const Checkpoint &c,
                      const AtomicWriteObserver &observer) {
  auto fail = [&](const std::string &why) {
    return err(fmt::format("cannot save checkpoint '{}': {}", path, why));
  };
  Safetensors st;
  for (const NamedArray &p : c.params) {
    if (startsWith(p.name, kOptimizerPrefix))
      return fail(fmt::format("parameter '{}' starts with '{}', which marks optimizer state",
                              p.name, kOptimizerPrefix));
    st.tensors.push_back(p);
  }
  for (const NamedArray &s : c.optimizerState)
    st.tensors.push_back({std::string(kOptimizerPrefix) + s.name, s.array});
  for (auto &[key, value] : c.metadata) {
    if (startsWith(key, kReservedPrefix))
      return fail(fmt::format("metadata key '{}' starts with 'weft.', which weft reserves", key));
    st.metadata[key] = value;
  }
  st.metadata[kFormatKey] = kFormat;
  st.metadata[kStepKey] = std::to_string(c.step);
  st.metadata[kSeedKey] = std::to_string(c.rng.seed);
  st.metadata[kCounterKey] = std::to_string(c.rng.counter);
  auto bytes = encodeSafetensors(st);
  if (!bytes)
    return fail(bytes.diag().message);
  return writeFileAtomically(path, *bytes, observer);
}

Expected<Checkpoint> loadCheckpoint(const std::string &path) {
  auto st = readSafetensors(path);
  WEFT_TRY(st.status());
  auto c = fromSafetensors(std::move(*st));
  if (!c)
    return err(fmt::format("'{}': {}", path, c.diag().message));
  return c;
}

Expected<Checkpoint> loadCheckpoint(const std::string &path, const CheckpointSpec &expected) {
  auto c = loadCheckpoint(path);
  WEFT_TRY(c.status());
  if (!expected.params.empty() && !c->params.empty() && !sharesAName(c->params, expected.params))
    return err(fmt::format("'{}' is a checkpoint of another model: none of its {} parameters "
                           "(such as '{}') is one of this model's {} (such as '{}'); load one "
                           "that this model saved, or start without one",
                           path, c->params.size(), c->params[0].name, expected.params.size(),
                           expected.params[0].name));
  std::vector<std::string> lines;
  compare(c->params, expected.params, "parameter", lines);
  compare(c->optimizerState, expected.optimizerState, "optimizer state", lines);
  if (lines.empty())
    return c;
  std::string message = fmt::format("checkpoint '{}' does not match the model:", path);
  for (const std::string &line : lines)
    message += "\n  " + line;
  return err(message);
}

Expected<std::string> saveCheckpointIn(const std::string &dir, const std::string &prefix,
                                       const Checkpoint &c, size_t keepLast,
                                       const AtomicWriteObserver &observer) {
  std::string path = (fs::path(dir) / fmt::format("{}-{:010}.safetensors", prefix, c.step));
  WEFT_TRY(saveCheckpoint(path, c, observer));
  if (keepLast == 0)
    return path;
  auto files = checkpointsIn(dir, prefix);
  WEFT_TRY(files.status());
  // Only after the new file is durable: a crash in between leaves one file too many.
  for (size_t i = 0; i + keepLast < files->size(); ++i) {
    std::error_code ec;
    fs::remove((*files)[i].second, ec);
    if (ec)
      return err(fmt::format("cannot remove the old checkpoint '{}': {}",
                             (*files)[i].second.string(), ec.message()));
  }
  return path;
}

Expected<std::string> newestCheckpointIn(const std::string &dir, const std::string &prefix) {
  auto files = checkpointsIn(dir, prefix);
  WEFT_TRY(files.status());
  return files->empty() ? std::string() : files->back().second.string();
}

} // namespace weft
