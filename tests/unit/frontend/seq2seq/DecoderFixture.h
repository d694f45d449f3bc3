//===- tests/unit/frontend/seq2seq/DecoderFixture.h - small decoders to run -===//
//
// The seq2seq tests build decoders into Graphs, fill their parameters by name and run them on
// the reference interpreter and the CPU JIT (../nn/RunBackends.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Weft.h"
#include "runtime/Array.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace weft::testing {

/// The graph's parameter values in its order: `fixed` where it names a parameter, the graph's
/// initializer (seed 5) elsewhere.
std::vector<Array> paramValues(const Graph &g, const std::map<std::string, Array> &fixed = {});

/// The ids of row-major [T, B] i64 results, as per-example sequences (the first B columns).
std::vector<std::vector<int64_t>> columns(const Array &ids);

} // namespace weft::testing
