//===- runtime/text/Vocabulary.cpp ----------------------------------------===//
#include "runtime/text/Vocabulary.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

namespace weft::text {
namespace {

constexpr const char *kSpecials[kNumSpecial] = {"<PAD>", "<UNK>", "<BOS>", "<EOS>"};

/// The length of the valid UTF-8 sequence at the start of `s`, or 0 (RFC 3629: no overlong
/// forms, no surrogates, nothing above U+10FFFF).
size_t utf8Length(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  const unsigned char c = b(0);
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2))
      return 0;
    if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) >= 0xA0))
      return 0; // overlong, or a surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3))
      return 0;
    if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) >= 0x90))
      return 0; // overlong, or above U+10FFFF
    return 4;
  }
  return 0;
}

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

} // namespace

std::vector<Unit> splitChars(std::string_view text) {
  std::vector<Unit> units;
  for (size_t i = 0; i < text.size();) {
    size_t n = utf8Length(text.substr(i));
    units.push_back(Unit{text.substr(i, n ? n : 1), n != 0});
    i += n ? n : 1;
  }
  return units;
}

std::vector<Unit> splitWords(std::string_view text) {
  std::vector<Unit> units;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && isSpace(text[i]))
      ++i;
    size_t begin = i;
    while (i < text.size() && !isSpace(text[i]))
      ++i;
    if (i > begin) {
      std::string_view w = text.substr(begin, i - begin);
      bool valid = true;
      for (const Unit &c : splitChars(w))
        valid = valid && c.valid;
      units.push_back(Unit{w, valid});
    }
  }
  return units;
}

Vocabulary::Vocabulary(Kind kind) : kind_(kind) {
  for (const char *s : kSpecials)
    addToken(s);
}

void Vocabulary::addToken(std::string token) {
  ids_.emplace(token, static_cast<int32_t>(tokens_.size()));
  tokens_.push_back(std::move(token));
}

Vocabulary Vocabulary::build(std::span<const std::string> texts, Kind kind, BuildOptions options) {
  std::map<std::string, int64_t, std::less<>> counts;
  for (const std::string &t : texts)
    for (const Unit &u : kind == Kind::Char ? splitChars(t) : splitWords(t))
      if (u.valid)
        ++counts[std::string(u.bytes)];
  std::vector<std::pair<std::string, int64_t>> ranked(counts.begin(), counts.end());
  // Most frequent first, ties in byte order (the map's order): a total order, so std::sort is
  // deterministic.
  std::sort(ranked.begin(), ranked.end(), [](const auto &a, const auto &b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  Vocabulary v(kind);
  for (auto &[token, count] : ranked) {
    if (count < options.minCount || (options.maxSize > 0 && v.size() >= options.maxSize))
      break;
    if (!v.ids_.contains(token)) // a text may spell out a special token
      v.addToken(token);
  }
  return v;
}

int32_t Vocabulary::id(std::string_view token) const {
  auto it = ids_.find(std::string(token));
  return it == ids_.end() ? kUnk : it->second;
}

const std::string &Vocabulary::token(int32_t id) const {
  return id >= 0 && id < size() ? tokens_[static_cast<size_t>(id)] : tokens_[kUnk];
}

std::vector<int32_t> Vocabulary::encode(std::string_view text) const {
  std::vector<int32_t> ids;
  for (const Unit &u : kind_ == Kind::Char ? splitChars(text) : splitWords(text))
    ids.push_back(u.valid ? id(u.bytes) : kUnk);
  return ids;
}

std::string Vocabulary::decode(std::span<const int32_t> ids) const {
  std::string out;
  bool first = true;
  for (int32_t id : ids) {
    if (id == kEos)
      break;
    if (id == kPad || id == kBos)
      continue;
    if (kind_ == Kind::Word && !first)
      out += ' ';
    out += token(id);
    first = false;
  }
  return out;
}

std::string Vocabulary::toJson() const {
  nlohmann::json j = {{"format", "weft-vocabulary"},
                      {"version", 1},
                      {"kind", kind_ == Kind::Char ? "char" : "word"},
                      {"tokens", tokens_}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
}

Expected<Vocabulary> Vocabulary::fromJson(std::string_view text) {
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr,
                                           /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return err("a vocabulary file must hold a JSON object; this is not JSON or not an object");
  auto field = [&](const char *name) -> const nlohmann::json * {
    auto it = j.find(name);
    return it == j.end() ? nullptr : &*it;
  };
  const auto *format = field("format"), *version = field("version"), *kind = field("kind"),
             *tokens = field("tokens");
  if (!format || !format->is_string() || *format != "weft-vocabulary")
    return err("not a weft vocabulary: its \"format\" is not \"weft-vocabulary\"");
  if (!version || !version->is_number_integer() || *version != 1)
    return err("a weft vocabulary of an unknown version (this weft reads version 1)");
  if (!kind || !kind->is_string() || (*kind != "char" && *kind != "word"))
    return err("a vocabulary's \"kind\" must be \"char\" or \"word\"");
  if (!tokens || !tokens->is_array() || tokens->size() < kNumSpecial)
    return err("a vocabulary's \"tokens\" must be a list that starts with the 4 special tokens");
  Vocabulary v(*kind == "char" ? Kind::Char : Kind::Word);
  for (size_t i = 0; i < tokens->size(); ++i) {
    const nlohmann::json &t = (*tokens)[i];
    if (!t.is_string())
      return err(fmt::format("vocabulary token {} is not a string", i));
    const std::string &s = t.get_ref<const std::string &>();
    if (i < kNumSpecial) {
      if (s != kSpecials[i])
        return err(fmt::format("vocabulary token {} must be {}, got \"{}\"", i, kSpecials[i], s));
      continue;
    }
    if (s.empty() || v.ids_.contains(s))
      return err(fmt::format("vocabulary token {} (\"{}\") is empty or appears twice", i, s));
    v.addToken(s);
  }
  return v;
}

} // namespace weft::text
