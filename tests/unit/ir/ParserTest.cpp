// Parser error messages: each names the file, line and column and what was expected.
#include "ir/Parser.h"

#include "ir/Printer.h"

#include <doctest/doctest.h>

#include <string>

namespace ir_ParserTest {

using namespace weft::ir;

namespace {

const char *kHead = "func @f(%a: tensor<2 x f32>, %i: tensor<2 x i32>) -> (tensor<2 x f32>) {\n";

/// The error of parsing `text` as t.wir, or "ok".
std::string errorOf(const std::string &text) {
  auto m = parseModule(text, "t.wir");
  return m.isOk() ? "ok" : m.diag().str();
}

/// The error of a one-function module whose body is `body`.
std::string bodyError(const std::string &body) { return errorOf(kHead + body + "}\n"); }

const char *kScanHead = "func @f(%xs: tensor<T x 2 x f32>, %h0: tensor<2 x f32>) -> "
                        "(tensor<2 x f32>) {\n"
                        "  %h, %hs = scan carry(%h0) over(%xs) {\n";

} // namespace

TEST_CASE("a well-formed function parses") {
  CHECK(bodyError("  %b = neg %a : tensor<2 x f32>\n  return %b\n") == "ok");
}

TEST_CASE("unknown ops are named at their position") {
  CHECK(bodyError("  %b = addd %a, %a : tensor<2 x f32>\n  return %b\n") ==
        "t.wir:2:8: unknown op 'addd'");
}

TEST_CASE("undefined and redefined values are errors") {
  CHECK(bodyError("  %b = add %a, %x : tensor<2 x f32>\n  return %b\n") ==
        "t.wir:2:16: use of undefined value %x");
  CHECK(bodyError("  %a = neg %a : tensor<2 x f32>\n  return %a\n") ==
        "t.wir:2:3: %a is already defined");
}

TEST_CASE("values of a region are not visible after it") {
  CHECK(errorOf(std::string(kScanHead) + "  ^body(%h1: tensor<2 x f32>, %x: tensor<2 x f32>):\n"
                                         "    %y = add %h1, %x : tensor<2 x f32>\n"
                                         "    yield %y, %y\n"
                                         "  } : tensor<2 x f32>, tensor<T x 2 x f32>\n"
                                         "  return %y\n}\n") ==
        "t.wir:7:10: use of undefined value %y");
}

TEST_CASE("written result types must match the inferred ones") {
  CHECK(bodyError("  %b = neg %a : tensor<3 x f32>\n  return %b\n") ==
        "t.wir:2:3: result type tensor<3 x f32> does not match inferred tensor<2 x f32>");
}

TEST_CASE("type errors from inference are located at the op") {
  CHECK(bodyError("  %b = add %a, %i : tensor<2 x f32>\n  return %b\n") ==
        "t.wir:2:3: add: operand types differ: tensor<2 x f32> vs tensor<2 x i32>");
}

TEST_CASE("the number of names and types must match the op's results") {
  CHECK(bodyError("  %b, %c = neg %a : tensor<2 x f32>\n  return %b\n") ==
        "t.wir:2:3: neg has 1 result but 2 names are given");
  CHECK(bodyError("  %b = neg %a\n  return %b\n") ==
        "t.wir:2:3: neg has 1 result but 0 types are written");
}

TEST_CASE("missing punctuation says what was expected") {
  CHECK(errorOf("func @f(%a: tensor<2 x f32>) -> (tensor<2 x f32> {\n  return %a\n}\n") ==
        "t.wir:1:50: expected ',' or ')' after result type, got '{'");
  CHECK(bodyError("  %b = add %a %a : tensor<2 x f32>\n  return %b\n") ==
        "t.wir:2:15: expected ',' after operand, got '%a'");
  CHECK(errorOf("func @f(%a: tensor<2 x f32>) -> () {\n  %h = scan carry(%a foo\n}\n") ==
        "t.wir:2:22: expected ',' or ')' after operand, got 'foo'");
}

TEST_CASE("bad dtypes and dims are rejected") {
  CHECK(bodyError("  %b = neg %a : tensor<2 x f33>\n  return %b\n") ==
        "t.wir:2:28: unknown dtype 'f33' (expected f32, f64, i32, i64 or i1)");
  CHECK(bodyError("  %b = neg %a : tensor<2 x , x f32>\n  return %b\n") ==
        "t.wir:2:28: expected a dim (integer or symbol), got ','");
  CHECK(bodyError("  %b = neg %a : tensor<-2 x f32>\n  return %b\n") ==
        "t.wir:2:24: dim must not be negative, got -2");
  CHECK(bodyError("  %b = neg %a : tensor<4294967296*4294967296 x f32>\n  return %b\n") ==
        "t.wir:2:24: dim is out of range (it overflows int64)");
  CHECK(bodyError("  %c = constant {value = [1]} : tensor<4294967296 x 4294967296 x i64>\n"
                  "  return %a\n") ==
        "t.wir:2:33: type tensor<4294967296 x 4294967296 x i64> has too many elements");
}

TEST_CASE("numbers out of range are errors") {
  CHECK(bodyError("  %c = constant {value = [99999999999999999999]} : tensor<2 x i64>\n"
                  "  return %a\n") == "t.wir:2:27: integer out of range: 99999999999999999999");
  CHECK(bodyError("  %c = constant {value = [1e999]} : tensor<2 x f32>\n  return %a\n") ==
        "t.wir:2:27: float out of range: 1e999");
}

TEST_CASE("the return must match the function signature") {
  CHECK(bodyError("  return %i\n") ==
        "t.wir:2:3: function @f returns (tensor<2 x i32>) but its signature says "
        "(tensor<2 x f32>)");
  CHECK(bodyError("") == "t.wir:2:1: expected 'return' before '}'");
}

TEST_CASE("region bodies are checked: signature, terminator, closing brace") {
  CHECK(errorOf(std::string(kScanHead) + "  ^body(%h1: tensor<2 x f32>, %x: tensor<3 x f32>):\n"
                                         "    yield %h1, %x\n"
                                         "  } : tensor<2 x f32>, tensor<T x 2 x f32>\n"
                                         "  return %h\n}\n") ==
        "t.wir:3:9: body signature (tensor<2 x f32>, tensor<3 x f32>) does not match "
        "(tensor<2 x f32>, tensor<2 x f32>) which scan needs");
  CHECK(errorOf(std::string(kScanHead) + "  ^body(%h1: tensor<2 x f32>, %x: tensor<2 x f32>):\n"
                                         "    %y = add %h1, %x : tensor<2 x f32>\n"
                                         "  } : tensor<2 x f32>\n  return %h\n}\n") ==
        "t.wir:5:3: expected 'yield' before '}'");
  CHECK(errorOf(std::string(kScanHead) + "  ^body(%h1: tensor<2 x f32>, %x: tensor<2 x f32>):\n"
                                         "    %y = add %h1, %x : tensor<2 x f32>\n") ==
        "t.wir:5:1: expected an op or '}' (unterminated region), got end of input");
  CHECK(errorOf(std::string(kScanHead) + "  ^body(%h1: tensor<2 x f32>, %x: tensor<2 x f32>):\n"
                                         "    return %h1\n  }\n}\n") ==
        "t.wir:4:5: 'return' is not allowed here (this block ends with 'yield')");
}

TEST_CASE("deeply nested regions are rejected instead of recursing without bound") {
  std::string text = "func @f(%xs: tensor<T x 2 x f32>) -> () {\n";
  for (int i = 0; i < 100; ++i)
    text += "%r" + std::to_string(i) + " = scan carry() over(%xs) {\n^body(%x" + std::to_string(i) +
            ": tensor<2 x f32>):\n";
  std::string err = errorOf(text);
  CHECK(err.find("regions are nested more than 64 deep") != std::string::npos);
}

TEST_CASE("lexical errors are located") {
  CHECK(bodyError("  %b = neg %a : tensor<2 x f32> $\n") == "t.wir:2:33: unexpected character '$'");
  CHECK(bodyError("  %c = constant {s = \"abc\n") == "t.wir:2:22: unterminated string");
  CHECK(errorOf("fun @f") == "t.wir:1:1: expected 'func', got 'fun'");
}

TEST_CASE("attribute lists may not mix integers and floats, nor repeat keys") {
  CHECK(bodyError("  %c = constant {value = [1, 2.0]} : tensor<2 x f32>\n  return %c\n") ==
        "t.wir:2:30: list mixes integers and floats");
  CHECK(bodyError("  %c = constant {value = [1.0], value = [2.0]} : tensor<2 x f32>\n"
                  "  return %c\n") == "t.wir:2:33: attribute 'value' is given twice");
}

TEST_CASE("nested lists are rejected without deep recursion") {
  std::string deep(100000, '[');
  CHECK(bodyError("  %c = constant {value = " + deep + "\n") ==
        "t.wir:2:27: expected an integer or float in the list, got '['");
}

TEST_CASE("zero-size dims, which slice and while can produce, read back") {
  CHECK(bodyError("  %s = slice %a {axis = 0, limit = 1, start = 1} : tensor<0 x f32>\n"
                  "  return %a\n") == "ok");
}

} // namespace ir_ParserTest
