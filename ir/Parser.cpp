//===- ir/Parser.cpp - reading the textual IR -----------------------------===//
//
// A recursive-descent parser over the tokens of ir/Lexer.h. Ops are built with
// OpBuilder as they are read, so every op is type-checked at its own position.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"

#include "ir/Builder.h"
#include "ir/Infer.h"
#include "ir/Lexer.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace weft::ir {
namespace {

/// Deeper nesting of scan/while regions than this is rejected (it guards the recursion).
constexpr int kMaxRegionDepth = 64;

std::string typesStr(const std::vector<Type> &ts) {
  std::string s = "(";
  for (size_t i = 0; i < ts.size(); ++i)
    s += (i ? ", " : "") + ts[i].str();
  return s + ")";
}

/// Whether the element count of `t` (the product of its dims, in order, as
/// Type::numElements computes it) fits in int64.
bool sizeFits(const Type &t) {
  int64_t n = 1;
  for (const Dim &d : t.dims())
    if (__builtin_mul_overflow(n, d.coeff(), &n))
      return false;
  return true;
}

/// `[]` names no element type, so the attribute parser reads it as a list of integers; the
/// empty value of a float constant (what folding an empty tensor prints) is an empty list of
/// floats, as the result type says.
void typeEmptyConstantValue(OpKind kind, const std::vector<Type> &declared, Attrs &attrs) {
  if (kind != OpKind::Constant || declared.size() != 1 || !isFloat(declared[0].dtype()))
    return;
  auto it = attrs.find(attrKey(AttrId::Value));
  if (it == attrs.end())
    return;
  if (auto *ints = std::get_if<std::vector<int64_t>>(&it->second); ints && ints->empty())
    it->second = std::vector<double>{};
}

class Parser {
public:
  Parser(std::string_view text, std::string_view filename)
      : toks_(tokenize(text)), file_(filename) {}

  Expected<std::unique_ptr<Module>> module() {
    auto m = std::make_unique<Module>();
    while (cur().kind != TokKind::Eof) {
      if (!isIdent("func"))
        return expected("'func'");
      Status s = function(*m);
      if (!s)
        return s.diag();
    }
    return m;
  }

private:
  // --- tokens --------------------------------------------------------------
  const Token &cur() const { return toks_[pos_]; }
  const Token &peek(size_t ahead = 1) const {
    return toks_[std::min(pos_ + ahead, toks_.size() - 1)];
  }
  const Token &take() {
    const Token &t = toks_[pos_];
    if (pos_ + 1 < toks_.size())
      ++pos_;
    return t;
  }
  bool is(TokKind k) const { return cur().kind == k; }
  bool isIdent(std::string_view s) const { return is(TokKind::Ident) && cur().text == s; }

  Loc locOf(const Token &t) const { return Loc{std::string(file_), t.line, t.column}; }
  Diag error(const Token &t, std::string msg) const {
    if (t.kind == TokKind::Error)
      return Diag{t.str, locOf(t)};
    return Diag{std::move(msg), locOf(t)};
  }
  /// "expected <what>, got <current token>".
  Diag expected(std::string_view what) const {
    return error(cur(), fmt::format("expected {}, got {}", what, describe(cur())));
  }
  Status expect(TokKind k, std::string_view what) {
    if (!is(k))
      return expected(what);
    take();
    return {};
  }
  Status expectIdent(std::string_view word) {
    if (!isIdent(word))
      return expected(fmt::format("'{}'", word));
    take();
    return {};
  }

  // --- names ---------------------------------------------------------------
  /// Claims `name` for a new value of the current function.
  Status claim(const Token &t) {
    if (!defined_.insert(std::string(t.text)).second)
      return error(t, fmt::format("%{} is already defined", t.text));
    return {};
  }
  /// Makes a claimed name refer to `v` in the current scope.
  void bind(const Token &t, Value *v) {
    v->setName(std::string(t.text));
    visible_[std::string(t.text)] = v;
    scopes_.back().push_back(std::string(t.text));
  }
  Expected<Value *> use() {
    if (!is(TokKind::ValueName))
      return expected("a value name (%name)");
    const Token &t = take();
    auto it = visible_.find(std::string(t.text));
    if (it == visible_.end())
      return error(t, fmt::format("use of undefined value %{}", t.text));
    return it->second;
  }
  /// `%a, %b, ...` (at least one) after an op name.
  Status operandList(std::vector<Value *> &out, std::string_view closer) {
    while (true) {
      auto v = use();
      if (!v)
        return v.diag();
      out.push_back(*v);
      if (!is(TokKind::Comma)) {
        if (!closer.empty() && !is(TokKind::RParen))
          return expected(fmt::format("',' or {} after operand", closer));
        if (closer.empty() && is(TokKind::ValueName))
          return expected("',' after operand");
        return {};
      }
      take();
    }
  }
  /// `keyword(%a, ...)`; the list may be empty.
  Status groupedOperands(std::string_view keyword, std::vector<Value *> &out, size_t &count) {
    WEFT_TRY(expectIdent(keyword));
    WEFT_TRY(expect(TokKind::LParen, fmt::format("'(' after '{}'", keyword)));
    size_t before = out.size();
    if (!is(TokKind::RParen))
      WEFT_TRY(operandList(out, "')'"));
    WEFT_TRY(expect(TokKind::RParen, "')'"));
    count = out.size() - before;
    return {};
  }

  // --- types ---------------------------------------------------------------
  Expected<Dim> dim() {
    const Token &start = cur();
    Dim d = 1;
    int64_t coeff = 1;
    while (true) {
      if (is(TokKind::Int)) {
        int64_t n = take().intValue;
        if (n < 0)
          return error(start, fmt::format("dim must not be negative, got {}", n));
        if (__builtin_mul_overflow(coeff, n, &coeff))
          return error(start, "dim is out of range (it overflows int64)");
      } else if (is(TokKind::Ident)) {
        d = d * Dim::symbol(std::string(take().text));
      } else {
        return expected("a dim (integer or symbol)");
      }
      if (!is(TokKind::Star))
        break;
      take();
    }
    return Dim(coeff) * d;
  }

  Expected<Type> type() {
    const Token &start = cur();
    WEFT_TRY(expectIdent("tensor"));
    WEFT_TRY(expect(TokKind::Less, "'<' after 'tensor'"));
    std::vector<Dim> dims;
    while (true) {
      if (is(TokKind::Ident) && peek().kind == TokKind::Greater) {
        const Token &dt = take();
        auto d = parseDType(dt.text);
        if (!d)
          return error(
              dt, fmt::format("unknown dtype '{}' (expected f32, f64, i32, i64 or i1)", dt.text));
        take();
        Type t(std::move(dims), *d);
        if (!sizeFits(t))
          return error(start, fmt::format("type {} has too many elements", t.str()));
        return t;
      }
      auto d = dim();
      if (!d)
        return d.diag();
      dims.push_back(*d);
      if (!isIdent("x"))
        return expected("'x' after a dim in a tensor type");
      take();
    }
  }

  Status typeList(std::vector<Type> &out) {
    while (true) {
      auto t = type();
      if (!t)
        return t.diag();
      out.push_back(*t);
      if (!is(TokKind::Comma))
        return {};
      take();
    }
  }

  // --- attributes ----------------------------------------------------------
  /// An integer or float, or nullopt (consuming nothing) if the token is neither.
  std::optional<Attr> number() {
    if (is(TokKind::Int))
      return Attr(take().intValue);
    if (is(TokKind::Float))
      return Attr(take().floatValue);
    if (isIdent("inf"))
      return take(), Attr(double(INFINITY));
    if (isIdent("nan"))
      return take(), Attr(double(NAN));
    return std::nullopt;
  }

  Expected<Attr> attrValue() {
    if (auto n = number())
      return *n;
    if (is(TokKind::String))
      return Attr(take().str);
    if (!is(TokKind::LBracket))
      return expected("an attribute value (integer, float, list or string)");
    take();
    std::vector<int64_t> ints;
    std::vector<double> floats;
    bool anyFloat = false;
    while (!is(TokKind::RBracket)) {
      const Token &t = cur();
      auto v = number();
      if (!v)
        return expected("an integer or float in the list");
      if (auto *i = std::get_if<int64_t>(&*v)) {
        ints.push_back(*i);
      } else {
        floats.push_back(std::get<double>(*v));
        anyFloat = true;
      }
      if (!ints.empty() && anyFloat)
        return error(t, "list mixes integers and floats");
      if (!is(TokKind::Comma))
        break;
      take();
    }
    WEFT_TRY(expect(TokKind::RBracket, "',' or ']' in list"));
    if (anyFloat)
      return Attr(std::move(floats));
    return Attr(std::move(ints));
  }

  Status attrDict(Attrs &attrs) {
    take(); // '{'
    while (true) {
      if (!is(TokKind::Ident))
        return expected("an attribute name");
      const Token &key = take();
      WEFT_TRY(expect(TokKind::Equal, fmt::format("'=' after attribute name '{}'", key.text)));
      auto v = attrValue();
      if (!v)
        return v.diag();
      if (!attrs.emplace(std::string(key.text), std::move(*v)).second)
        return error(key, fmt::format("attribute '{}' is given twice", key.text));
      if (is(TokKind::RBrace))
        break;
      WEFT_TRY(expect(TokKind::Comma, "',' or '}' after attribute"));
    }
    take(); // '}'
    return {};
  }

  // --- ops -----------------------------------------------------------------
  /// `%a: type, ...` up to (not including) ')'.
  Status params(std::vector<std::pair<const Token *, Type>> &out) {
    if (is(TokKind::RParen))
      return {};
    while (true) {
      if (!is(TokKind::ValueName))
        return expected("a parameter name (%name)");
      const Token &name = take();
      WEFT_TRY(expect(TokKind::Colon, "':' after parameter name"));
      auto t = type();
      if (!t)
        return t.diag();
      out.emplace_back(&name, *t);
      if (!is(TokKind::Comma))
        return {};
      take();
    }
  }

  /// The ops of a block up to and including its closing '}'; the block must end with the
  /// terminator `term`.
  Status blockBody(Block &block, OpKind term, int depth) {
    OpBuilder b(block);
    while (true) {
      if (is(TokKind::RBrace)) {
        Op *last = block.back();
        if (!last || last->kind() != term)
          return error(cur(), fmt::format("expected '{}' before '}}'", opName(term)));
        take();
        return {};
      }
      if (is(TokKind::Eof))
        return expected(fmt::format("an op or '}}' (unterminated {})",
                                    term == OpKind::Return ? "function" : "region"));
      if (Op *last = block.back(); last && isTerminator(last->kind()))
        return expected(fmt::format("'}}' after '{}'", last->name()));
      WEFT_TRY(op(b, term, depth));
    }
  }

  Status op(OpBuilder &b, OpKind term, int depth) {
    const Token &start = cur();
    Loc loc = locOf(start);
    std::vector<const Token *> names;
    if (is(TokKind::ValueName)) {
      while (true) {
        if (!is(TokKind::ValueName))
          return expected("a result name (%name)");
        names.push_back(&take());
        if (!is(TokKind::Comma))
          break;
        take();
      }
      WEFT_TRY(expect(TokKind::Equal, "',' or '=' after result names"));
    }
    if (!is(TokKind::Ident))
      return expected("an op name");
    const Token &opTok = take();
    auto kind = parseOpKind(opTok.text);
    if (!kind)
      return error(opTok, fmt::format("unknown op '{}'", opTok.text));
    if (isTerminator(*kind) && *kind != term)
      return error(opTok, fmt::format("'{}' is not allowed here (this block ends with '{}')",
                                      opTok.text, opName(term)));
    for (const Token *n : names)
      WEFT_TRY(claim(*n));

    std::vector<Value *> operands;
    Attrs attrs;
    if (*kind == OpKind::Scan) {
      size_t nc = 0, ns = 0, nl = 0;
      WEFT_TRY(groupedOperands("carry", operands, nc));
      WEFT_TRY(groupedOperands("over", operands, ns));
      if (isIdent("lengths")) {
        WEFT_TRY(groupedOperands("lengths", operands, nl));
        if (nl != 1)
          return error(start, fmt::format("scan: lengths takes one operand, got {}", nl));
      }
      attrs[std::string(attrKey(AttrId::NumCarry))] = static_cast<int64_t>(nc);
      attrs[std::string(attrKey(AttrId::NumSeq))] = static_cast<int64_t>(ns);
    } else if (*kind == OpKind::While) {
      size_t nf = 0, nc = 0;
      WEFT_TRY(groupedOperands("finished", operands, nf));
      if (nf != 1)
        return error(start, fmt::format("while: finished takes one operand, got {}", nf));
      WEFT_TRY(groupedOperands("carry", operands, nc));
    } else if (is(TokKind::ValueName)) {
      WEFT_TRY(operandList(operands, ""));
    }
    if (is(TokKind::LBrace) && peek().kind != TokKind::BlockName) {
      Attrs written;
      WEFT_TRY(attrDict(written));
      for (auto &[key, value] : written) {
        if (*kind == OpKind::Scan &&
            (key == attrKey(AttrId::NumCarry) || key == attrKey(AttrId::NumSeq)))
          return error(start, fmt::format("scan: '{}' is spelled by carry(...) and over(...), "
                                          "not as an attribute",
                                          key));
        attrs[key] = std::move(value);
      }
    }

    Op *op = nullptr;
    if (hasRegion(*kind)) {
      auto begun = b.beginRegionOp(*kind, std::move(operands), std::move(attrs), loc);
      if (!begun)
        return begun.diag();
      op = *begun;
      WEFT_TRY(region(*op, depth + 1));
      WEFT_TRY(b.finishRegionOp(op));
    }

    std::vector<Type> written;
    if (is(TokKind::Colon)) {
      take();
      WEFT_TRY(typeList(written));
    }
    if (!op) {
      std::vector<Type> declared;
      if (hasDeclaredResultType(*kind))
        declared = written;
      typeEmptyConstantValue(*kind, declared, attrs);
      auto created = b.create(*kind, std::move(operands), std::move(attrs), declared, loc);
      if (!created)
        return created.diag();
      op = *created;
    }
    if (written.size() != op->numResults())
      return error(start, fmt::format("{} has {} result{} but {} type{} written", op->name(),
                                      op->numResults(), op->numResults() == 1 ? "" : "s",
                                      written.size(), written.size() == 1 ? " is" : "s are"));
    if (names.size() != op->numResults())
      return error(start, fmt::format("{} has {} result{} but {} name{} given", op->name(),
                                      op->numResults(), op->numResults() == 1 ? "" : "s",
                                      names.size(), names.size() == 1 ? " is" : "s are"));
    for (size_t i = 0; i < written.size(); ++i) {
      const Type &inferred = op->result(i)->type();
      if (written[i] != inferred)
        return error(start, fmt::format("result type {} does not match inferred {}",
                                        written[i].str(), inferred.str()));
      if (!sizeFits(inferred))
        return error(start, fmt::format("result type {} has too many elements", inferred.str()));
    }
    for (size_t i = 0; i < names.size(); ++i)
      bind(*names[i], op->result(i));
    return {};
  }

  /// `{ ^body(%a: type, ...): op* }` of a scan or while whose region has its arguments.
  Status region(Op &op, int depth) {
    if (depth > kMaxRegionDepth)
      return error(cur(), fmt::format("regions are nested more than {} deep", kMaxRegionDepth));
    WEFT_TRY(expect(TokKind::LBrace, fmt::format("'{{' to open the body of {}", op.name())));
    if (!is(TokKind::BlockName) || cur().text != "body")
      return expected("'^body'");
    take();
    WEFT_TRY(expect(TokKind::LParen, "'(' after '^body'"));
    const Token &sigTok = cur();
    std::vector<std::pair<const Token *, Type>> ps;
    WEFT_TRY(params(ps));
    WEFT_TRY(expect(TokKind::RParen, "',' or ')' after body argument"));
    WEFT_TRY(expect(TokKind::Colon, "':' after the body signature"));
    Block &body = op.region();
    std::vector<Type> want;
    for (Value *a : body.args())
      want.push_back(a->type());
    std::vector<Type> got;
    for (auto &p : ps)
      got.push_back(p.second);
    if (got != want)
      return error(sigTok, fmt::format("body signature {} does not match {} which {} needs",
                                       typesStr(got), typesStr(want), op.name()));
    scopes_.emplace_back();
    for (size_t i = 0; i < ps.size(); ++i) {
      WEFT_TRY(claim(*ps[i].first));
      bind(*ps[i].first, body.arg(i));
    }
    WEFT_TRY(blockBody(body, OpKind::Yield, depth));
    for (const std::string &n : scopes_.back())
      visible_.erase(n);
    scopes_.pop_back();
    return {};
  }

  // --- functions -----------------------------------------------------------
  /// `aliases(RESULT = %param, ...)` after the result types (ir/Module.h, OutputAlias).
  Status aliases(Function &f) {
    take(); // 'aliases'
    WEFT_TRY(expect(TokKind::LParen, "'(' after 'aliases'"));
    for (;;) {
      if (!is(TokKind::Int))
        return expected("a result index");
      const Token &index = take();
      size_t result = 0;
      auto [end, ec] =
          std::from_chars(index.text.data(), index.text.data() + index.text.size(), result);
      if (ec != std::errc() || end != index.text.data() + index.text.size())
        return error(index, fmt::format("bad result index {}", index.text));
      WEFT_TRY(expect(TokKind::Equal, "'=' after the result index"));
      if (!is(TokKind::ValueName))
        return expected("a parameter name (%name)");
      const Token &name = take();
      size_t param = f.numParams();
      for (size_t i = 0; i < f.numParams(); ++i)
        if (f.param(i)->name() == name.text)
          param = i;
      if (param == f.numParams())
        return error(name,
                     fmt::format("aliases: %{} is not a parameter of @{}", name.text, f.name()));
      f.addAlias({result, param});
      if (!is(TokKind::Comma))
        break;
      take();
    }
    return expect(TokKind::RParen, "',' or ')' after an alias");
  }

  Status function(Module &m) {
    take(); // 'func'
    if (!is(TokKind::FuncName))
      return expected("a function name (@name)");
    const Token &nameTok = take();
    visible_.clear();
    defined_.clear();
    scopes_.assign(1, {});
    Function &f = m.addFunction(std::string(nameTok.text));
    WEFT_TRY(expect(TokKind::LParen, "'(' after the function name"));
    std::vector<std::pair<const Token *, Type>> ps;
    WEFT_TRY(params(ps));
    WEFT_TRY(expect(TokKind::RParen, "',' or ')' after parameter"));
    for (auto &[tok, t] : ps) {
      WEFT_TRY(claim(*tok));
      bind(*tok, f.addParam(t, std::string(tok->text)));
    }
    WEFT_TRY(expect(TokKind::Arrow, "'->' after the parameters"));
    WEFT_TRY(expect(TokKind::LParen, "'(' before the result types"));
    std::vector<Type> results;
    if (!is(TokKind::RParen))
      WEFT_TRY(typeList(results));
    WEFT_TRY(expect(TokKind::RParen, "',' or ')' after result type"));
    if (isIdent("aliases"))
      WEFT_TRY(aliases(f));
    WEFT_TRY(expect(TokKind::LBrace, "'{' to open the function body"));
    WEFT_TRY(blockBody(f.body(), OpKind::Return, 0));
    std::vector<Type> returned = f.resultTypes();
    if (returned != results)
      return Diag{fmt::format("function @{} returns {} but its signature says {}", f.name(),
                              typesStr(returned), typesStr(results)),
                  f.returnOp()->loc()};
    return {};
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  std::string_view file_;
  /// Names usable at the current point, and every name of the current function.
  std::unordered_map<std::string, Value *> visible_;
  std::unordered_set<std::string> defined_;
  /// Names bound in each open scope (function body, then nested regions).
  std::vector<std::vector<std::string>> scopes_;
};

} // namespace

Expected<std::unique_ptr<Module>> parseModule(std::string_view text, std::string_view filename) {
  return Parser(text, filename).module();
}

} // namespace weft::ir
