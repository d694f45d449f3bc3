// Round trip of the corpus in tests/data/corpus: every file is printer output (after a
// leading block of `//` comment lines), so parse -> verify -> print must give it back.
#include "ir/Builder.h"
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "tests/unit/UnaryOpTests.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace ir_RoundTripTest {

using namespace weft::ir;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> corpusFiles() {
  std::vector<fs::path> files;
  for (const auto &e : fs::directory_iterator(fs::path(WEFT_TEST_DATA_DIR) / "corpus"))
    if (e.path().extension() == ".wir")
      files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string readFile(const fs::path &p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// The text after the leading `//` comment lines, which the printer does not reproduce.
std::string withoutHeader(const std::string &text) {
  size_t pos = 0;
  while (text.compare(pos, 2, "//") == 0) {
    size_t nl = text.find('\n', pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
  }
  return text.substr(pos);
}

/// The error message of a failed parse, for test output.
std::string why(const weft::Expected<std::unique_ptr<Module>> &m) {
  return m.isOk() ? std::string() : m.diag().str();
}

} // namespace

TEST_CASE("every corpus file parses, verifies and prints back to its own text") {
  std::vector<fs::path> files = corpusFiles();
  REQUIRE(files.size() >= 8);
  for (const fs::path &p : files) {
    CAPTURE(p.string());
    std::string text = readFile(p);
    auto m = parseModule(text, p.string());
    INFO(why(m));
    REQUIRE(m.isOk());
    weft::Status s = verify(**m);
    INFO(s.message());
    CHECK(s.isOk());
    std::string printed = print(**m);
    CHECK(printed == withoutHeader(text));
    auto again = parseModule(printed, p.string());
    INFO(why(again));
    REQUIRE(again.isOk());
    CHECK(print(**again) == printed);
  }
}

namespace {

/// A function applying the float unary op `k` to a symbolic-shaped f32 tensor, as printed.
std::string unaryFunction(OpKind k) {
  return fmt::format("func @f(%x: tensor<B x 3 x f32>) -> (tensor<B x 3 x f32>) {{\n"
                     "  %y = {} %x : tensor<B x 3 x f32>\n"
                     "  return %y\n"
                     "}}\n",
                     opName(k));
}

} // namespace

TEST_CASE("every float unary op of the test table prints back to its own text") {
  for (const weft::test::UnaryOpTest &u : weft::test::unaryOpTests()) {
    CAPTURE(opName(u.kind));
    std::string text = unaryFunction(u.kind);
    auto m = parseModule(text);
    INFO(why(m));
    REQUIRE(m.isOk());
    CHECK(verify(**m).isOk());
    CHECK(print(**m) == text);
  }
}

TEST_CASE("every op kind appears in the round-trip corpus or the unary test table") {
  std::set<OpKind> seen;
  for (const weft::test::UnaryOpTest &u : weft::test::unaryOpTests())
    seen.insert(u.kind);
  for (const fs::path &p : corpusFiles()) {
    auto m = parseModule(readFile(p), p.string());
    REQUIRE(m.isOk());
    std::function<void(const Block &)> visit = [&](const Block &b) {
      for (const auto &op : b.ops()) {
        seen.insert(op->kind());
        for (size_t r = 0; r < op->numRegions(); ++r)
          visit(op->region(r));
      }
    };
    for (const auto &f : (*m)->functions())
      visit(f->body());
  }
  for (OpKind k : allOpKinds()) {
    CAPTURE(opName(k));
    CHECK(seen.count(k) == 1);
  }
}

TEST_CASE("parsing keeps value names and op locations") {
  auto m = parseModule("func @f(%a: tensor<2 x f32>) -> (tensor<2 x f32>) {\n"
                       "  %b = neg %a : tensor<2 x f32>\n"
                       "  return %b\n"
                       "}\n",
                       "t.wir");
  REQUIRE(m.isOk());
  Function &f = *(*m)->functions()[0];
  CHECK(f.param(0)->name() == "a");
  Op &neg = *f.body().ops().front();
  CHECK(neg.result()->name() == "b");
  CHECK(neg.loc().str() == "t.wir:2:3");
}

TEST_CASE("dims are parsed as monomials in canonical order and floats keep their kind") {
  auto m = parseModule("func @f(%a: tensor<T*B x 3*B x f32>) -> (tensor<T*B x 3*B x f32>) {\n"
                       "  %c = constant {value = [1e-05]} : tensor<f32>\n"
                       "  return %a\n"
                       "}\n");
  REQUIRE(m.isOk());
  Function &f = *(*m)->functions()[0];
  CHECK(f.param(0)->type().str() == "tensor<B*T x 3*B x f32>");
  const Op &c = *f.body().ops().front();
  REQUIRE(c.tryAttr<std::vector<double>>("value"));
  CHECK(c.floatsAttr("value")[0] == doctest::Approx(1e-05));
}

TEST_CASE("empty constants of every dtype print and parse back, floats as float lists") {
  for (weft::DType t :
       {weft::DType::F32, weft::DType::F64, weft::DType::I32, weft::DType::I64, weft::DType::I1}) {
    CAPTURE(weft::dtypeName(t));
    // What fold-constants builds for an empty tensor: an empty list of the result's kind.
    Module built;
    Function &f = built.addFunction("f");
    OpBuilder b(f.body());
    Type type({Dim(2), Dim(0)}, t);
    Attr empty = weft::isFloat(t) ? Attr(std::vector<double>{}) : Attr(std::vector<int64_t>{});
    auto c = b.create1(OpKind::Constant, {}, {{"value", empty}}, {type});
    REQUIRE(c.isOk());
    REQUIRE(b.create(OpKind::Return, {*c}).isOk());
    std::string text = print(built);
    CHECK(text.find("constant {value = []}") != std::string::npos);

    auto m = parseModule(text, "empty.wir");
    REQUIRE_MESSAGE(m.isOk(), why(m));
    CHECK(verify(**m).isOk());
    CHECK(print(**m) == text);
    const Op &parsed = *(*m)->functions()[0]->body().ops().front();
    CHECK(parsed.attrs().at("value").index() == empty.index());
  }
}

} // namespace ir_RoundTripTest
