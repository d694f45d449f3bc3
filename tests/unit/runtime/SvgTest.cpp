//===- tests/unit/runtime/SvgTest.cpp - line plots as SVG -----------------===//
#include "runtime/Svg.h"

#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace runtime_SvgTest {

using namespace weft;

namespace {

size_t count(const std::string &s, const std::string &what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE("a line plot draws one polyline per series, its ends at the plot's corners") {
  LinePlot p;
  p.title = "loss <train & eval>";
  p.xLabel = "step";
  p.series.push_back({"train", {0, 5, 10}, {1.0, 0.5, 0.0}});
  p.series.push_back({"eval", {0, 10}, {0.8, 0.2}});
  auto svg = renderSvg(p);
  REQUIRE_OK(svg);
  CHECK(svg->starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(svg->ends_with("</svg>\n"));
  CHECK(count(*svg, "<polyline") == 2);
  // Defaults: 640 x 400, plot area x in [70, 490], y in [30, 350]; x [0, 10] and y [0, 1] are
  // already round, so (0, 1) is the top left corner and (10, 0) the bottom right.
  CHECK(svg->find("points=\"70.0,30.0 280.0,190.0 490.0,350.0\"") != std::string::npos);
  CHECK(svg->find("loss &lt;train &amp; eval&gt;") != std::string::npos);
  CHECK(svg->find(">train</text>") != std::string::npos);
}

TEST_CASE("points that cannot be drawn break the line; a log axis drops values <= 0") {
  LinePlot p;
  p.logY = true;
  p.series.push_back({"g", {0, 1, 2, 3, 4}, {1e-3, NAN, 1e-1, 0.0, 10}});
  auto svg = renderSvg(p);
  REQUIRE_OK(svg);
  CHECK(count(*svg, "<polyline") == 3);
  CHECK(svg->find(">1e-3</text>") != std::string::npos);
  CHECK(svg->find(">1e1</text>") != std::string::npos);
  CHECK(svg->find("nan") == std::string::npos);
}

TEST_CASE("a constant series and an empty plot still render") {
  LinePlot p;
  p.series.push_back({"flat", {1, 2}, {3, 3}});
  CHECK_OK(renderSvg(p));
  CHECK_OK(renderSvg(LinePlot{}));
}

TEST_CASE("series of mismatched lengths are an error; writeSvg writes the file") {
  LinePlot bad;
  bad.title = "t";
  bad.series.push_back({"s", {1, 2, 3}, {1}});
  auto svg = renderSvg(bad);
  REQUIRE_FALSE(svg.isOk());
  CHECK(svg.diag().message.find("series 's' has 3 x values and 1 y values") != std::string::npos);

  LinePlot p;
  p.series.push_back({"s", {1, 2}, {1, 2}});
  auto path = std::filesystem::temp_directory_path() /
              ("weft_svg_test_" + std::to_string(::getpid()) + ".svg");
  REQUIRE_OK(writeSvg(path.string(), p));
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  CHECK(text.str() == renderSvg(p).take());
  std::filesystem::remove(path);
}

} // namespace runtime_SvgTest
