//===- runtime/text/Vocabulary.h - tokens to ids and back -----------------===//
//
// A vocabulary maps the units of a text — characters (Unicode code points of
// UTF-8) or whitespace-separated words — to integer ids. The first four ids are
// the special tokens every sequence model needs:
//   0 <PAD>  fills the steps past a sequence's end in a batch
//   1 <UNK>  any unit the vocabulary does not hold (and any byte that is not UTF-8)
//   2 <BOS>  the decoder's first input (teacher forcing and greedy decoding)
//   3 <EOS>  ends a decoded sequence
// Built from text deterministically (most frequent first, ties by the unit's
// bytes), saved as a small JSON document beside the weights, and loaded by the
// native binaries that answer on stdin, so it lives in the runtime.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Support.h"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace weft::text {

enum : int32_t { kPad = 0, kUnk = 1, kBos = 2, kEos = 3, kNumSpecial = 4 };

/// The units of `text`: UTF-8 code points (each a string of 1 to 4 bytes; a byte that does not
/// start a valid sequence is a unit of its own, marked by `valid` false), or words.
struct Unit {
  std::string_view bytes;
  bool valid = true;
};
std::vector<Unit> splitChars(std::string_view text);
std::vector<Unit> splitWords(std::string_view text);

class Vocabulary {
public:
  enum class Kind { Char, Word };
  struct BuildOptions {
    /// Units seen fewer times are left out (they encode as <UNK>).
    int64_t minCount = 1;
    /// At most this many ids in all, the specials included (0: no limit).
    int64_t maxSize = 0;
  };

  /// The vocabulary of `texts`. Invalid UTF-8 bytes never become tokens.
  static Vocabulary build(std::span<const std::string> texts, Kind kind, BuildOptions options);
  static Vocabulary build(std::span<const std::string> texts, Kind kind) {
    return build(texts, kind, BuildOptions{});
  }

  Kind kind() const { return kind_; }
  int32_t size() const { return static_cast<int32_t>(tokens_.size()); }
  /// The id of a token, <UNK> for one not held.
  int32_t id(std::string_view token) const;
  /// The token of an id ("<UNK>" for an id out of range).
  const std::string &token(int32_t id) const;

  /// The ids of `text`'s units (no <BOS> or <EOS>).
  std::vector<int32_t> encode(std::string_view text) const;
  /// The text of `ids` up to the first <EOS>, leaving out <PAD> and <BOS>; characters are
  /// joined as they are, words with one space.
  std::string decode(std::span<const int32_t> ids) const;

  /// {"format": "weft-vocabulary", "version": 1, "kind": "char", "tokens": [...]}
  std::string toJson() const;
  /// Errors name what is wrong: not JSON, another format, specials out of place, duplicates.
  static Expected<Vocabulary> fromJson(std::string_view json);

private:
  explicit Vocabulary(Kind kind);
  void addToken(std::string token);

  Kind kind_;
  std::vector<std::string> tokens_;
  std::unordered_map<std::string, int32_t> ids_;
};

} // namespace weft::text
