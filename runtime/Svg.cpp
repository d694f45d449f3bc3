//===- runtime/Svg.cpp ----------------------------------------------------===//
#include "runtime/Svg.h"

#include "runtime/AtomicFile.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace weft {
namespace {

constexpr const char *kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                   "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

/// [lo, hi] widened to a nonempty range.
struct Range {
  double lo = 0, hi = 1;
};

/// "Nice" tick values covering `r` (1, 2 or 5 times a power of ten apart), and `r` widened to
/// the outer ticks.
std::vector<double> ticks(Range &r) {
  double span = r.hi - r.lo;
  double raw = span / 5;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {2.0, 5.0, 10.0})
    if (raw > step)
      step = m * mag;
  r.lo = std::floor(r.lo / step) * step;
  r.hi = std::ceil(r.hi / step) * step;
  std::vector<double> out;
  for (double v = r.lo; v <= r.hi + step / 2; v += step)
    out.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return out;
}

std::string tickLabel(double v, bool logY) {
  if (logY)
    return fmt::format("1e{}", static_cast<int>(std::lround(v)));
  return fmt::format("{:.6g}", v);
}

} // namespace

std::string escapeXml(const std::string &s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
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

Expected<std::string> renderSvg(const LinePlot &plot) {
  // The data range over the drawable points; y in log10 on a log axis.
  auto usable = [&](double x, double y) {
    return std::isfinite(x) && std::isfinite(y) && (!plot.logY || y > 0);
  };
  auto yValue = [&](double y) { return plot.logY ? std::log10(y) : y; };
  Range xr{1e300, -1e300}, yr{1e300, -1e300};
  for (const PlotSeries &s : plot.series) {
    if (s.x.size() != s.y.size())
      return err(fmt::format("plot '{}': series '{}' has {} x values and {} y values", plot.title,
                             s.name, s.x.size(), s.y.size()));
    for (size_t i = 0; i < s.x.size(); ++i)
      if (usable(s.x[i], s.y[i])) {
        xr = {std::min(xr.lo, s.x[i]), std::max(xr.hi, s.x[i])};
        yr = {std::min(yr.lo, yValue(s.y[i])), std::max(yr.hi, yValue(s.y[i]))};
      }
  }
  for (Range *r : {&xr, &yr}) {
    if (r->lo > r->hi)
      *r = {0, 1}; // nothing to draw
    if (r->hi - r->lo < 1e-12 * std::max(1.0, std::abs(r->lo)))
      *r = {r->lo - 0.5, r->hi + 0.5};
  }
  std::vector<double> xt = ticks(xr);
  std::vector<double> yt;
  if (plot.logY) { // whole decades
    yr = {std::floor(yr.lo), std::ceil(yr.hi)};
    for (double e = yr.lo; e <= yr.hi; ++e)
      yt.push_back(e);
  } else {
    yt = ticks(yr);
  }

  const double w = plot.width, h = plot.height, left = 70, right = 150, top = 30, bottom = 50;
  auto px = [&](double x) { return left + (w - left - right) * (x - xr.lo) / (xr.hi - xr.lo); };
  auto py = [&](double yv) { return top + (h - top - bottom) * (yr.hi - yv) / (yr.hi - yr.lo); };

  std::string s = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" "
                              "height=\"{}\" font-family=\"sans-serif\" font-size=\"12\">\n"
                              "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
                              plot.width, plot.height);
  for (double v : yt)
    s += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#ddd\"/>"
                     "<text x=\"{3}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
                     left, w - right, py(v), left - 6, py(v) + 4, tickLabel(v, plot.logY));
  for (double v : xt)
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", px(v),
                     h - bottom + 18, tickLabel(v, false));
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" "
                   "stroke=\"#888\"/>\n",
                   left, top, w - left - right, h - top - bottom);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n",
                   (left + w - right) / 2, h - 10, escapeXml(plot.xLabel));
  s += fmt::format("<text transform=\"translate(16,{}) rotate(-90)\" text-anchor=\"middle\">{}"
                   "</text>\n",
                   (top + h - bottom) / 2, escapeXml(plot.yLabel));
  s += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"14\">{}</text>\n", left, top - 10,
                   escapeXml(plot.title));
  for (size_t k = 0; k < plot.series.size(); ++k) {
    const PlotSeries &ser = plot.series[k];
    const char *color = kColors[k % std::size(kColors)];
    // One polyline per run of drawable points.
    std::string pts;
    auto flush = [&] {
      if (!pts.empty())
        s += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.5\" "
                         "points=\"{}\"/>\n",
                         color, pts);
      pts.clear();
    };
    for (size_t i = 0; i < ser.x.size(); ++i) {
      if (!usable(ser.x[i], ser.y[i])) {
        flush();
        continue;
      }
      pts += fmt::format("{}{:.1f},{:.1f}", pts.empty() ? "" : " ", px(ser.x[i]),
                         py(yValue(ser.y[i])));
    }
    flush();
    double ly = top + 10 + 18.0 * double(k);
    s += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\" "
                     "stroke-width=\"2\"/><text x=\"{4}\" y=\"{5}\">{6}</text>\n",
                     w - right + 10, w - right + 30, ly, color, w - right + 36, ly + 4,
                     escapeXml(ser.name));
  }
  s += "</svg>\n";
  return s;
}

Status writeSvg(const std::string &path, const LinePlot &plot) {
  auto text = renderSvg(plot);
  if (!text)
    return text.diag();
  return writeFileAtomically(path, *text);
}

} // namespace weft
