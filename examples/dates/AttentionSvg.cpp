//===- examples/dates/AttentionSvg.cpp ------------------------------------===//
#include "examples/dates/AttentionSvg.h"

#include "runtime/Support.h"
#include "runtime/Svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace weft::examples::dates {
namespace {

constexpr int kCell = 18, kLeft = 56, kTop = 40, kGap = 36;

/// White at 0, a dark blue at 1.
std::string shade(double w) {
  w = std::clamp(std::isfinite(w) ? w : 0.0, 0.0, 1.0);
  auto mix = [&](int from, int to) {
    return static_cast<int>(std::lround(from + (to - from) * w));
  };
  return fmt::format("rgb({},{},{})", mix(255, 8), mix(255, 48), mix(255, 107));
}

} // namespace

std::string renderAttentionSvg(const std::vector<AttentionMap> &maps) {
  int width = kLeft, height = 0;
  for (const AttentionMap &m : maps) {
    if (m.weights.size() != m.outputs.size())
      throw Error(err(fmt::format("attention map: {} rows of weights for {} outputs",
                                  m.weights.size(), m.outputs.size())));
    for (const auto &row : m.weights)
      if (row.size() != m.inputs.size())
        throw Error(err(fmt::format("attention map: a row of {} weights for {} inputs", row.size(),
                                    m.inputs.size())));
    width = std::max(width, kLeft + kCell * static_cast<int>(m.inputs.size()) + 10);
    height += kTop + kCell * static_cast<int>(m.outputs.size()) + kGap;
  }
  std::string svg = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" "
                                "height=\"{}\" font-family=\"monospace\" font-size=\"12\">\n"
                                "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
                                width, height);
  int y0 = 0;
  for (const AttentionMap &m : maps) {
    std::string in, out;
    for (const std::string &s : m.inputs)
      in += s;
    for (const std::string &s : m.outputs)
      out += s == "<EOS>" ? "" : s;
    svg += fmt::format("<text x=\"4\" y=\"{}\">{} -&gt; {}</text>\n", y0 + 14, escapeXml(in),
                       escapeXml(out));
    int gridTop = y0 + kTop;
    for (size_t j = 0; j < m.inputs.size(); ++j)
      svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                         kLeft + kCell * static_cast<int>(j) + kCell / 2, gridTop - 4,
                         escapeXml(m.inputs[j]));
    for (size_t i = 0; i < m.outputs.size(); ++i) {
      int y = gridTop + kCell * static_cast<int>(i);
      svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\n", kLeft - 4,
                         y + kCell - 5, escapeXml(m.outputs[i]));
      for (size_t j = 0; j < m.inputs.size(); ++j)
        svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\">"
                           "<title>{:.3f}</title></rect>\n",
                           kLeft + kCell * static_cast<int>(j), y, kCell, kCell,
                           shade(m.weights[i][j]), m.weights[i][j]);
    }
    y0 = gridTop + kCell * static_cast<int>(m.outputs.size()) + kGap;
  }
  svg += "</svg>\n";
  return svg;
}

} // namespace weft::examples::dates
