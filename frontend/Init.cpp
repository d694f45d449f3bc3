//===- frontend/Init.cpp --------------------------------------------------===//
#include "frontend/Init.h"

#include "ir/Printer.h"
#include "runtime/Random.h"

#include <fmt/format.h>

#include <cmath>

namespace weft {
namespace {

struct Fans {
  double in = 1, out = 1;
};

Fans fans(const std::vector<int64_t> &shape, FanLayout layout) {
  size_t r = shape.size();
  if (r == 0)
    return {};
  if (r == 1)
    return {double(shape[0]), double(shape[0])};
  if (layout == FanLayout::InOut)
    return {double(shape[r - 2]), double(shape[r - 1])};
  double receptive = 1;
  for (size_t i = 2; i < r; ++i)
    receptive *= double(shape[i]);
  return {double(shape[1]) * receptive, double(shape[0]) * receptive};
}

/// `gain` times a matrix with orthonormal rows or columns, flattened as [shape[0], rest].
/// Modified Gram-Schmidt on the columns of the taller orientation of a standard normal matrix
/// gives Q of a QR with a positive diagonal of R: the sign correction torch.nn.init applies,
/// so Q is Haar-distributed.
void fillOrthogonal(Array &out, const std::vector<int64_t> &shape, double gain, int64_t seed) {
  int64_t rows = shape[0], cols = out.numel() / rows;
  int64_t tall = std::max(rows, cols), wide = std::min(rows, cols);
  // q[i][j] column-major by j: column j is q[j * tall + i].
  std::vector<double> q(static_cast<size_t>(tall * wide));
  for (size_t k = 0; k < q.size(); ++k)
    q[k] = random::normalF64(seed, k);
  for (int64_t j = 0; j < wide; ++j) {
    double *cj = &q[static_cast<size_t>(j * tall)];
    for (int64_t p = 0; p < j; ++p) {
      const double *cp = &q[static_cast<size_t>(p * tall)];
      double dot = 0;
      for (int64_t i = 0; i < tall; ++i)
        dot += cp[i] * cj[i];
      for (int64_t i = 0; i < tall; ++i)
        cj[i] -= dot * cp[i];
    }
    double norm = 0;
    for (int64_t i = 0; i < tall; ++i)
      norm += cj[i] * cj[i];
    norm = std::sqrt(norm);
    for (int64_t i = 0; i < tall; ++i)
      cj[i] /= norm;
  }
  // rows >= cols: W[r][c] = column c at row r; otherwise W = Q^T, W[r][c] = column r at row c.
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      double v = rows >= cols ? q[static_cast<size_t>(c * tall + r)]
                              : q[static_cast<size_t>(r * tall + c)];
      out.setDouble(r * cols + c, gain * v);
    }
}

} // namespace

std::string Init::str() const {
  std::string s;
  switch (kind) {
  case Kind::Constant:
    s = fmt::format("constant({})", ir::formatFloat(a));
    break;
  case Kind::Uniform:
    s = fmt::format("uniform({}, {})", ir::formatFloat(a), ir::formatFloat(b));
    break;
  case Kind::Normal:
    s = fmt::format("normal({})", ir::formatFloat(a));
    break;
  case Kind::Xavier:
    s = "xavier";
    break;
  case Kind::XavierNormal:
    s = "xavier_normal";
    break;
  case Kind::He:
    s = "he";
    break;
  case Kind::HeUniform:
    s = "he_uniform";
    break;
  case Kind::Lecun:
    s = "lecun";
    break;
  case Kind::Orthogonal:
    s = fmt::format("orthogonal({})", ir::formatFloat(a));
    break;
  }
  if (layout == FanLayout::OutIn)
    s += "[out,in]";
  if (zeroRow >= 0)
    s += fmt::format(" with row {} zero", zeroRow);
  return s;
}

Init init::torchLinear(int64_t inFeatures) {
  double k = 1.0 / std::sqrt(double(inFeatures));
  return uniform(-k, k);
}

Init init::torchRecurrent(int64_t hiddenSize) { return torchLinear(hiddenSize); }

namespace {

/// Sets rows [rowsBegin, rowsEnd) of axis 0 to rowsValue (checked to fit by the caller).
void fillRows(Array &out, const std::vector<int64_t> &shape, const Init &init) {
  if (init.rowsEnd <= init.rowsBegin || out.numel() == 0)
    return;
  int64_t rowSize = out.numel() / shape[0];
  for (int64_t i = init.rowsBegin * rowSize; i < init.rowsEnd * rowSize; ++i)
    out.setDouble(i, init.rowsValue);
}

} // namespace

Expected<Array> drawInit(const Init &init, DType dtype, const std::vector<int64_t> &shape,
                         int64_t seed) {
  Array out(dtype, shape);
  if (init.zeroRow >= 0 && (shape.empty() || init.zeroRow >= shape[0]))
    return err(fmt::format("initializer {}: the shape's first dim has no row {}", init.str(),
                           init.zeroRow));
  if (init.rowsEnd > init.rowsBegin &&
      (shape.empty() || init.rowsBegin < 0 || init.rowsEnd > shape[0]))
    return err(fmt::format("initializer {}: rows [{}, {}) do not fit a first dim of {}", init.str(),
                           init.rowsBegin, init.rowsEnd, shape.empty() ? 0 : shape[0]));
  if (init.kind == Init::Kind::Constant) {
    for (int64_t i = 0; i < out.numel(); ++i)
      out.setDouble(i, init.a);
    fillRows(out, shape, init);
    return out;
  }
  if (!isFloat(dtype))
    return err(
        fmt::format("initializer {} needs a float dtype, got {}", init.str(), dtypeName(dtype)));
  if (init.kind == Init::Kind::Orthogonal) {
    if (shape.size() < 2)
      return err(fmt::format("initializer {} needs a shape of rank 2 or more, got rank {}",
                             init.str(), shape.size()));
    if (out.numel() > 0)
      fillOrthogonal(out, shape, init.a, seed);
  } else {
    Fans f = fans(shape, init.layout);
    bool uniform = init.kind == Init::Kind::Uniform || init.kind == Init::Kind::Xavier ||
                   init.kind == Init::Kind::HeUniform;
    double lo = init.a, hi = init.b, stddev = init.a;
    if (init.kind == Init::Kind::Xavier) {
      hi = std::sqrt(6.0 / (f.in + f.out));
      lo = -hi;
    } else if (init.kind == Init::Kind::HeUniform) {
      hi = std::sqrt(6.0 / f.in);
      lo = -hi;
    } else if (init.kind == Init::Kind::XavierNormal) {
      stddev = std::sqrt(2.0 / (f.in + f.out));
    } else if (init.kind == Init::Kind::He) {
      stddev = std::sqrt(2.0 / f.in);
    } else if (init.kind == Init::Kind::Lecun) {
      stddev = std::sqrt(1.0 / f.in);
    }
    for (int64_t i = 0; i < out.numel(); ++i) {
      auto u = static_cast<uint64_t>(i);
      out.setDouble(i, uniform ? lo + (hi - lo) * random::uniformF64(seed, u)
                               : stddev * random::normalF64(seed, u));
    }
  }
  if (init.zeroRow >= 0) {
    int64_t rowSize = out.numel() / shape[0];
    for (int64_t i = 0; i < rowSize; ++i)
      out.setDouble(init.zeroRow * rowSize + i, 0.0);
  }
  fillRows(out, shape, init);
  return out;
}

} // namespace weft
