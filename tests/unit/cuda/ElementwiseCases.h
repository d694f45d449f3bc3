// The elementwise ops the CUDA backend lowers, each as a one-op IR function over symbolic N,
// for the PTX and host-simulation tests.
#pragma once

#include "ir/Parser.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

namespace weft::testing {

/// A function with one op `line` over operands %a (and %b, %c) of the given types.
inline std::unique_ptr<ir::Module> oneOp(const std::string &params, const std::string &line,
                                         const std::string &result) {
  std::string text =
      fmt::format("func @f({}) -> ({}) {{\n  {}\n  return %r\n}}\n", params, result, line);
  auto m = ir::parseModule(text, "op.wir");
  REQUIRE_OK(m);
  return std::move(*m);
}

struct Case {
  std::string name, params, line, result;
};

/// Every elementwise op the CUDA backend lowers, in each dtype it takes.
inline std::vector<Case> cases() {
  std::vector<Case> out;
  auto t = [](const char *d) { return fmt::format("tensor<N x {}>", d); };
  for (const char *d : {"f32", "f64"})
    for (const char *op : {"neg", "abs", "sign", "relu", "exp", "log", "tanh", "sigmoid", "sqrt",
                           "rsqrt", "floor", "ceil", "stop_gradient", "sin", "cos", "erf"})
      out.push_back({fmt::format("{} {}", op, d), "%a: " + t(d),
                     fmt::format("%r = {} %a : {}", op, t(d)), t(d)});
  for (const char *d : {"i32", "i64"})
    for (const char *op : {"neg", "abs", "sign", "relu"})
      out.push_back({fmt::format("{} {}", op, d), "%a: " + t(d),
                     fmt::format("%r = {} %a : {}", op, t(d)), t(d)});
  for (const char *d : {"f32", "f64", "i32", "i64"}) {
    for (const char *op : {"add", "sub", "mul", "max", "min"})
      out.push_back({fmt::format("{} {}", op, d), fmt::format("%a: {}, %b: {}", t(d), t(d)),
                     fmt::format("%r = {} %a, %b : {}", op, t(d)), t(d)});
    for (const char *op : {"eq", "ne", "lt", "le", "gt", "ge"})
      out.push_back({fmt::format("{} {}", op, d), fmt::format("%a: {}, %b: {}", t(d), t(d)),
                     fmt::format("%r = {} %a, %b : {}", op, t("i1")), t("i1")});
    for (const char *to : {"f32", "f64", "i32", "i64", "i1"})
      out.push_back({fmt::format("cast {} to {}", d, to), "%a: " + t(d),
                     fmt::format("%r = cast %a : {}", t(to)), t(to)});
  }
  for (const char *d : {"f32", "f64"})
    for (const char *op : {"div", "pow"})
      out.push_back({fmt::format("{} {}", op, d), fmt::format("%a: {}, %b: {}", t(d), t(d)),
                     fmt::format("%r = {} %a, %b : {}", op, t(d)), t(d)});
  for (const char *op : {"and", "or", "xor"})
    out.push_back({op, fmt::format("%a: {}, %b: {}", t("i1"), t("i1")),
                   fmt::format("%r = {} %a, %b : {}", op, t("i1")), t("i1")});
  out.push_back({"not", "%a: " + t("i1"), "%r = not %a : " + t("i1"), t("i1")});
  out.push_back({"select", fmt::format("%c: {}, %a: {}, %b: {}", t("i1"), t("f32"), t("f32")),
                 "%r = select %c, %a, %b : " + t("f32"), t("f32")});
  return out;
}

} // namespace weft::testing
