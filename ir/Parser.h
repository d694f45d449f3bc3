//===- ir/Parser.h - reading the textual IR -------------------------------===//
#pragma once

#include "ir/Module.h"

#include <memory>
#include <string_view>

namespace weft::ir {

/// Parses a module (docs/IR.md). Every op is type-checked as it is read; errors carry
/// `filename`:line:column and say what was expected. The result is not yet verified.
Expected<std::unique_ptr<Module>> parseModule(std::string_view text,
                                              std::string_view filename = "<input>");

} // namespace weft::ir
