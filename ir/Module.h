//===- ir/Module.h - functions and modules --------------------------------===//
#pragma once

#include "ir/Op.h"

#include <memory>
#include <string>
#include <vector>

namespace weft::ir {

/// A declared in-place update: returned value `result` is written into the buffer of parameter
/// `param`, which the call updates (an optimizer step updating a weight). Same type, each result
/// and parameter at most once (the verifier checks). Text: `aliases(0 = %w)` after the result
/// types, printed only when there is one.
struct OutputAlias {
  size_t result = 0;
  size_t param = 0;
  bool operator==(const OutputAlias &) const = default;
};

/// A named function: typed parameters (the body block's arguments), a body that ends in
/// `return`, and the result types that return gives.
class Function {
public:
  explicit Function(std::string name) : name_(std::move(name)) {}

  const std::string &name() const { return name_; }
  void setName(std::string n) { name_ = std::move(n); }
  Block &body() { return body_; }
  const Block &body() const { return body_; }
  size_t numParams() const { return body_.numArgs(); }
  Value *param(size_t i) const { return body_.arg(i); }
  Value *addParam(Type t, std::string name) { return body_.addArg(std::move(t), std::move(name)); }
  /// The terminating `return`, or nullptr if the body is not finished.
  Op *returnOp() const;
  /// Types of the returned values (empty while unfinished).
  std::vector<Type> resultTypes() const;
  /// The symbols used by parameter types, in first-use order: what a caller must bind.
  std::vector<std::string> symbols() const;
  /// The declared in-place updates, in the order given.
  const std::vector<OutputAlias> &aliases() const { return aliases_; }
  void addAlias(OutputAlias a) { aliases_.push_back(a); }

private:
  std::string name_;
  Block body_;
  std::vector<OutputAlias> aliases_;
};

class Module {
public:
  Function &addFunction(std::string name);
  /// The function named `name`, or nullptr.
  Function *function(std::string_view name) const;
  const std::vector<std::unique_ptr<Function>> &functions() const { return funcs_; }
  std::vector<std::unique_ptr<Function>> &functions() { return funcs_; }

private:
  std::vector<std::unique_ptr<Function>> funcs_;
};

} // namespace weft::ir
