//===- ir/Printer.h - the textual form of the IR --------------------------===//
//
// The grammar is in docs/IR.md; ir/Parser.h reads it back, and
// print(parse(text)) == text for printer output.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Module.h"

#include <string>

namespace weft::ir {

std::string print(const Module &m);
std::string print(const Function &f);
/// One attribute value as it appears in the text ("1", "0.5", "[1, 0]", "\"s\"").
std::string formatAttr(const Attr &a);
/// A float that always reads back as a float: "1.0", "0.1", "1e-05", "inf", "nan".
std::string formatFloat(double d);

} // namespace weft::ir
