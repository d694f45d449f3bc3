//===- runtime/Svg.h - line plots as SVG files ----------------------------===//
//
// A small line-plot writer for the examples and the trainer (loss curves, per-layer
// statistics): axes with round tick values, one polyline per series, a legend. Points whose x
// or y is not finite (or not positive on a log axis) break the line instead of bending it.
//
//   LinePlot p{.title = "loss", .xLabel = "step", .yLabel = "loss"};
//   p.series.push_back({"train", steps, losses});
//   writeSvg("loss.svg", p).check();
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Support.h"

#include <string>
#include <vector>

namespace weft {

struct PlotSeries {
  std::string name;
  std::vector<double> x, y;
};

struct LinePlot {
  std::string title, xLabel, yLabel;
  std::vector<PlotSeries> series;
  /// A log10 y axis (gradient norms, losses over decades).
  bool logY = false;
  int width = 640, height = 400;
};

/// The SVG document for `plot`. Series with x and y of different lengths are an error.
/// `s` with &, <, > and " escaped for SVG text and attributes.
std::string escapeXml(const std::string &s);

Expected<std::string> renderSvg(const LinePlot &plot);

/// Renders `plot` and writes it to `path` atomically (runtime/AtomicFile.h).
Status writeSvg(const std::string &path, const LinePlot &plot);

} // namespace weft
