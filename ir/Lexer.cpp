//===- ir/Lexer.cpp -------------------------------------------------------===//
#include "ir/Lexer.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace weft::ir {
namespace {

bool isNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.';
}
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

class Lexer {
public:
  explicit Lexer(std::string_view src) : src_(src) {}

  std::vector<Token> run() {
    std::vector<Token> toks;
    while (true) {
      skipSpace();
      Token t = next();
      bool stop = t.kind == TokKind::Eof || t.kind == TokKind::Error;
      toks.push_back(std::move(t));
      if (stop)
        return toks;
    }
  }

private:
  char peek(size_t ahead = 0) const {
    return pos_ + ahead < src_.size() ? src_[pos_ + ahead] : '\0';
  }
  void advance() {
    if (src_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }

  void skipSpace() {
    while (pos_ < src_.size()) {
      char c = peek();
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        advance();
      } else if (c == '/' && peek(1) == '/') {
        while (pos_ < src_.size() && peek() != '\n')
          advance();
      } else {
        return;
      }
    }
  }

  Token make(TokKind k, size_t begin) {
    Token t;
    t.kind = k;
    t.text = src_.substr(begin, pos_ - begin);
    t.line = line_;
    t.column = col_;
    return t;
  }

  Token error(std::string msg) {
    Token t = make(TokKind::Error, pos_);
    t.str = std::move(msg);
    return t;
  }

  Token next() {
    uint32_t line = line_, col = col_;
    Token t = lex();
    t.line = line;
    t.column = col;
    return t;
  }

  Token single(TokKind k) {
    size_t begin = pos_;
    advance();
    return make(k, begin);
  }

  Token lex() {
    if (pos_ >= src_.size())
      return make(TokKind::Eof, pos_);
    char c = peek();
    switch (c) {
    case '(':
      return single(TokKind::LParen);
    case ')':
      return single(TokKind::RParen);
    case '{':
      return single(TokKind::LBrace);
    case '}':
      return single(TokKind::RBrace);
    case '[':
      return single(TokKind::LBracket);
    case ']':
      return single(TokKind::RBracket);
    case '<':
      return single(TokKind::Less);
    case '>':
      return single(TokKind::Greater);
    case ',':
      return single(TokKind::Comma);
    case ':':
      return single(TokKind::Colon);
    case '=':
      return single(TokKind::Equal);
    case '*':
      return single(TokKind::Star);
    case '"':
      return string();
    case '%':
      return sigilName(TokKind::ValueName);
    case '@':
      return sigilName(TokKind::FuncName);
    case '^':
      return sigilName(TokKind::BlockName);
    default:
      break;
    }
    if (c == '-' && peek(1) == '>') {
      size_t begin = pos_;
      advance();
      advance();
      return make(TokKind::Arrow, begin);
    }
    if (c == '-' && peek(1) == 'i' && peek(2) == 'n' && peek(3) == 'f' && !isNameChar(peek(4))) {
      size_t begin = pos_;
      for (int i = 0; i < 4; ++i)
        advance();
      Token t = make(TokKind::Float, begin);
      t.floatValue = -INFINITY;
      return t;
    }
    if (isDigit(c) || (c == '-' && isDigit(peek(1))))
      return number();
    if (isIdentStart(c)) {
      size_t begin = pos_;
      while (isNameChar(peek()))
        advance();
      return make(TokKind::Ident, begin);
    }
    return error(fmt::format("unexpected character '{}'", printable(c)));
  }

  static std::string printable(char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f)
      return std::string(1, c);
    return fmt::format("\\x{:02x}", u);
  }

  Token sigilName(TokKind k) {
    char sigil = peek();
    advance();
    size_t begin = pos_;
    while (isNameChar(peek()))
      advance();
    if (pos_ == begin)
      return error(fmt::format("expected a name after '{}'", sigil));
    return make(k, begin);
  }

  Token number() {
    size_t begin = pos_;
    if (peek() == '-')
      advance();
    bool isFloatTok = false;
    while (isDigit(peek()))
      advance();
    if (peek() == '.') {
      isFloatTok = true;
      advance();
      while (isDigit(peek()))
        advance();
    }
    if (peek() == 'e' || peek() == 'E') {
      size_t sign = (peek(1) == '+' || peek(1) == '-') ? 1 : 0;
      if (isDigit(peek(1 + sign))) {
        isFloatTok = true;
        advance();
        if (sign)
          advance();
        while (isDigit(peek()))
          advance();
      }
    }
    if (isNameChar(peek()))
      return error(fmt::format("malformed number '{}'", src_.substr(begin, pos_ - begin + 1)));
    Token t = make(isFloatTok ? TokKind::Float : TokKind::Int, begin);
    const char *first = t.text.data(), *last = first + t.text.size();
    if (isFloatTok) {
      // strtod rounds underflow to zero or a subnormal, and overflow to infinity.
      std::string copy(t.text);
      char *end = nullptr;
      t.floatValue = std::strtod(copy.c_str(), &end);
      if (end != copy.c_str() + copy.size() || std::isinf(t.floatValue))
        return error(fmt::format("float out of range: {}", t.text));
    } else {
      auto [ptr, ec] = std::from_chars(first, last, t.intValue);
      if (ec != std::errc() || ptr != last)
        return error(fmt::format("integer out of range: {}", t.text));
    }
    return t;
  }

  Token string() {
    size_t begin = pos_;
    advance();
    std::string s;
    while (true) {
      if (pos_ >= src_.size() || peek() == '\n')
        return error("unterminated string");
      char c = peek();
      advance();
      if (c == '"')
        break;
      if (c != '\\') {
        s += c;
        continue;
      }
      if (pos_ >= src_.size())
        return error("unterminated string");
      char e = peek();
      advance();
      if (e == 'n')
        s += '\n';
      else if (e == '"' || e == '\\')
        s += e;
      else
        return error(fmt::format("unknown escape '\\{}' in string", printable(e)));
    }
    Token t = make(TokKind::String, begin);
    t.str = std::move(s);
    return t;
  }

  std::string_view src_;
  size_t pos_ = 0;
  uint32_t line_ = 1, col_ = 1;
};

} // namespace

std::vector<Token> tokenize(std::string_view src) { return Lexer(src).run(); }

std::string describe(const Token &t) {
  switch (t.kind) {
  case TokKind::Eof:
    return "end of input";
  case TokKind::ValueName:
    return fmt::format("'%{}'", t.text);
  case TokKind::FuncName:
    return fmt::format("'@{}'", t.text);
  case TokKind::BlockName:
    return fmt::format("'^{}'", t.text);
  default:
    return fmt::format("'{}'", t.text);
  }
}

} // namespace weft::ir
