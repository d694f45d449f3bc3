//===- examples/dates/AttentionSvg.h - attention weights as SVG heat maps -===//
//
// The alignment history of a few decoded examples drawn one under another: a grid per example
// with the input's characters along the top, the output's characters down the left side, and
// each cell shaded by the weight output step i put on input position j (white 0, dark blue 1).
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <vector>

namespace weft::examples::dates {

struct AttentionMap {
  /// One label per input position and per output step (characters, or "<EOS>").
  std::vector<std::string> inputs, outputs;
  /// weights[i][j]: output step i on input position j, in [0, 1].
  std::vector<std::vector<double>> weights;
};

/// The SVG document. Throws weft::Error when a map's weights do not have outputs.size() rows of
/// inputs.size() values.
std::string renderAttentionSvg(const std::vector<AttentionMap> &maps);

} // namespace weft::examples::dates
