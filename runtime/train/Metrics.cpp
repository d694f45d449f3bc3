//===- runtime/train/Metrics.cpp ------------------------------------------===//
#include "runtime/train/Metrics.h"

#include "runtime/AtomicFile.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace weft::train {

void MetricsLog::add(int64_t step, int64_t epoch, std::string_view split, std::string_view metric,
                     double value) {
  // 17 significant digits: a value read back from the CSV is the double that was written.
  csv_ += fmt::format("{},{},{},{},{:.17g}\n", step, epoch, split, metric, value);
}

Status MetricsLog::write(const std::string &path) const { return writeFileAtomically(path, csv_); }

namespace {

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

constexpr const char *kColors[] = {"#1f77b4", "#d62728", "#2ca02c",
                                   "#ff7f0e", "#9467bd", "#8c564b"};

} // namespace

Status writeLinePlot(const std::string &path, const std::string &title, const std::string &xLabel,
                     const std::vector<Series> &series, bool logY) {
  constexpr double W = 640, H = 400, left = 70, right = 150, top = 40, bottom = 50;
  auto value = [&](double y) { return logY ? (y > 0 ? std::log10(y) : NAN) : y; };
  double lo = INFINITY, hi = -INFINITY;
  size_t n = 1;
  for (const Series &s : series) {
    n = std::max(n, s.y.size());
    for (double y : s.y)
      if (double v = value(y); std::isfinite(v))
        lo = std::min(lo, v), hi = std::max(hi, v);
  }
  if (!(lo <= hi))
    lo = 0, hi = 1;
  if (hi - lo < 1e-12)
    lo -= 0.5, hi += 0.5;
  const double plotW = W - left - right, plotH = H - top - bottom;
  auto px = [&](size_t i) { return left + plotW * (n > 1 ? double(i) / double(n - 1) : 0.5); };
  auto py = [&](double v) { return top + plotH * (1 - (v - lo) / (hi - lo)); };

  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" "
      "fill=\"white\"/>\n<text x=\"{}\" y=\"24\" font-size=\"15\">{}</text>\n",
      W, H, left, escape(title));
  svg += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" "
                     "stroke=\"#888\"/>\n",
                     left, top, plotW, plotH);
  for (int k = 0; k <= 4; ++k) { // y ticks
    double v = lo + (hi - lo) * k / 4.0;
    std::string label = logY ? fmt::format("{:.3g}", std::pow(10.0, v)) : fmt::format("{:.3g}", v);
    svg += fmt::format("<text x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 6,
                       py(v) + 4, label);
  }
  svg += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{} (1 to {})</text>\n",
                     left + plotW / 2, H - 15, escape(xLabel), n);
  for (size_t k = 0; k < series.size(); ++k) {
    const char *color = kColors[k % std::size(kColors)];
    std::string points;
    for (size_t i = 0; i < series[k].y.size(); ++i)
      if (double v = value(series[k].y[i]); std::isfinite(v))
        points += fmt::format("{:.1f},{:.1f} ", px(i), py(v));
    svg += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" "
                       "points=\"{}\"/>\n",
                       color, points);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" fill=\"{}\">{}</text>\n", W - right + 10,
                       top + 16 + 18 * double(k), color, escape(series[k].name));
  }
  svg += "</svg>\n";
  return writeFileAtomically(path, svg);
}

} // namespace weft::train
