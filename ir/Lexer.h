//===- ir/Lexer.h - tokens of the textual IR ------------------------------===//
//
// Splits IR text (docs/IR.md) into tokens with their line and column. Numbers are
// decoded here (integers that do not fit int64 are an error token), and so are strings.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace weft::ir {

enum class TokKind : uint8_t {
  Eof,
  Error,     ///< A malformed token; `str` holds the message.
  Ident,     ///< func, add, tensor, f32, B, x, inf, ...
  ValueName, ///< %name (text without the '%')
  FuncName,  ///< @name (text without the '@')
  BlockName, ///< ^name (text without the '^')
  Int,
  Float,
  String, ///< decoded into `str`
  LParen,
  RParen,
  LBrace,
  RBrace,
  LBracket,
  RBracket,
  Less,
  Greater,
  Comma,
  Colon,
  Equal,
  Star,
  Arrow,
};

struct Token {
  TokKind kind = TokKind::Eof;
  /// The source text of the token (for names: without the sigil).
  std::string_view text;
  /// A decoded string literal, or the message of an Error token.
  std::string str;
  int64_t intValue = 0;
  double floatValue = 0;
  uint32_t line = 1, column = 1;
};

/// Tokenizes all of `src`; the result ends with an Eof token, or stops at the first Error
/// token. `//` comments and whitespace are skipped.
std::vector<Token> tokenize(std::string_view src);

/// How a token is named in messages: "'foo'", "end of input".
std::string describe(const Token &t);

} // namespace weft::ir
