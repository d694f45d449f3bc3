//===- tests/unit/frontend/seq2seq/DecoderFixture.cpp ---------------------===//
#include "DecoderFixture.h"

namespace weft::testing {

std::vector<Array> paramValues(const Graph &g, const std::map<std::string, Array> &fixed) {
  std::vector<Array> values = g.initParams(5);
  for (size_t k = 0; k < g.params().size(); ++k)
    if (auto it = fixed.find(g.params()[k].name); it != fixed.end())
      values[k] = it->second;
  return values;
}

std::vector<std::vector<int64_t>> columns(const Array &ids) {
  int64_t T = ids.shape()[0], B = ids.shape()[1];
  std::vector<std::vector<int64_t>> out(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      out[static_cast<size_t>(b)].push_back(ids.data<int64_t>()[t * B + b]);
  return out;
}

} // namespace weft::testing
