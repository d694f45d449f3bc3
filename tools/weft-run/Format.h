//===- tools/weft-run/Format.h - printing arrays like NumPy ---------------===//
#pragma once

#include "runtime/Array.h"

#include <string>

namespace weft::tool {

/// Nested brackets, one innermost row per line; floats in their shortest exact form. Arrays
/// of more than 1000 elements show only the first and last 3 entries of each long axis.
std::string formatArray(const Array &a);

} // namespace weft::tool
