//===- runtime/CudaAotSteps.cpp -------------------------------------------===//
#include "runtime/CudaAotSteps.h"

#include "runtime/Collective.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <string_view>

namespace weft::cuda {

Status checkScanLengths(const Array &lengths, int64_t steps) {
  for (int64_t b = 0; b < lengths.numel(); ++b)
    if (lengths.getInt(b) < 0 || lengths.getInt(b) > steps)
      return err(
          fmt::format("length {} of example {} is outside [0, {}]", lengths.getInt(b), b, steps));
  return Status::ok();
}

std::string divisionByZeroMessage(int64_t element, const std::string &value) {
  return fmt::format("integer division by zero at element {} of {}", element, value);
}

int64_t faultingIndexPosition(int64_t word, int64_t inner, int64_t count) {
  if (inner <= 0 || count <= 0) // no work, so no fault: not a position of the indices
    return 0;
  return (word / inner) % count;
}

std::string indexOutOfRangeMessage(int64_t index, int64_t flat, const std::vector<int64_t> &indices,
                                   int64_t bound, int64_t axis, const std::string &table) {
  std::vector<int64_t> position(indices.size());
  for (size_t a = indices.size(), rest = static_cast<size_t>(flat); a-- > 0;) {
    position[a] = static_cast<int64_t>(rest % static_cast<size_t>(indices[a]));
    rest /= static_cast<size_t>(indices[a]);
  }
  return fmt::format("index {} at position {} of the indices is out of range [0, {}) for axis {} "
                     "of {}",
                     index, formatShape(position), bound, axis, table);
}

Status allReduceOnHost(Array &data, int64_t group, bool mean) {
  Status done = collective::allReduce(data.data(), data.numel(), data.dtype(), group, mean);
  if (done)
    return done;
  std::string_view msg = done.diag().message;
  constexpr std::string_view prefix = "all_reduce: ";
  if (msg.substr(0, prefix.size()) == prefix)
    msg.remove_prefix(prefix.size());
  return err(std::string(msg));
}

namespace {

/// A gather's or scatter_add's StatusCheck step `s` found its word set to `word`: the error
/// names the index, read from the indices at offset s.dst (scalars: the indices' dtype, the
/// table's elements after its axis, the axis's size, the axis, then the indices' dims; data:
/// the table's type).
Status indexFault(const AotPlan::Step &s, int64_t word, AotStepTarget &target) {
  const std::vector<int64_t> &v = s.scalars;
  const auto dtype = static_cast<DType>(v.size() >= 4 ? v[0] : -1);
  if (v.size() < 4 || (dtype != DType::I32 && dtype != DType::I64))
    return err(fmt::format("{}: an index is out of range (at element {} of the work; the plan "
                           "does not say which)",
                           s.op, word));
  const std::vector<int64_t> dims(v.begin() + 4, v.end());
  int64_t count = 1;
  for (int64_t d : dims)
    count *= d;
  const int64_t flat = faultingIndexPosition(word, v[1], count);
  Array index(dtype, {1});
  WEFT_TRY(target.read(index.data(), s.dst + static_cast<uint64_t>(flat) * index.nbytes(),
                       index.nbytes(), s.op));
  return err(fmt::format("{}: {}", s.op,
                         indexOutOfRangeMessage(index.getInt(0), flat, dims, v[2], v[3], s.data)));
}

/// Plan step `s`, an AllReduce: its bytes read back, reduced on the host, written to its `dst`.
Status allReduceStep(const AotPlan::Step &s, AotStepTarget &target) {
  const auto dtype = static_cast<DType>(s.scalars.at(0));
  Array data(dtype, {static_cast<int64_t>(s.bytes) / dtypeBytes(dtype)});
  if (data.nbytes() > 0)
    WEFT_TRY(target.read(data.data(), s.src, data.nbytes(), s.op));
  Status done = allReduceOnHost(data, s.scalars.at(1), s.scalars.at(2) != 0);
  if (!done)
    return err(fmt::format("{}: {}", s.op, done.diag().message));
  if (data.nbytes() > 0)
    WEFT_TRY(target.write(s.dst, data.data(), data.nbytes(), s.op));
  return Status::ok();
}

} // namespace

Status runAotSteps(const AotPlan &plan, AotStepTarget &target) {
  using Kind = AotPlan::Step::Kind;
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    const AotPlan::Step &s = plan.steps[i];
    switch (s.kind) {
    case Kind::Launch:
      WEFT_TRY(target.launch(s));
      break;
    case Kind::Copy:
      if (s.bytes > 0 && s.dst != s.src)
        WEFT_TRY(target.copy(s.dst, s.src, s.bytes, s.op));
      break;
    case Kind::Constant:
      WEFT_TRY(target.constant(i, s));
      break;
    case Kind::StatusCheck: {
      int64_t word = 0;
      WEFT_TRY(target.read(&word, s.src, sizeof word, s.op));
      if (word != std::numeric_limits<int64_t>::max())
        return indexFault(s, word, target);
      break;
    }
    case Kind::DivisionCheck: {
      int64_t word = 0;
      WEFT_TRY(target.read(&word, s.src, sizeof word, s.op));
      if (word != std::numeric_limits<int64_t>::max())
        return err(fmt::format("{}: {}", s.op, divisionByZeroMessage(word, s.data)));
      break;
    }
    case Kind::AllReduce:
      WEFT_TRY(allReduceStep(s, target));
      break;
    case Kind::LengthsCheck: {
      const auto dtype = static_cast<DType>(s.scalars.at(0));
      Array lengths(dtype, {static_cast<int64_t>(s.bytes) / dtypeBytes(dtype)});
      WEFT_TRY(target.read(lengths.data(), s.src, lengths.nbytes(), s.op));
      Status ok = checkScanLengths(lengths, s.scalars.at(1));
      if (!ok)
        return err(fmt::format("{}: {}", s.op, ok.diag().message));
      break;
    }
    case Kind::WhileCheck: {
      std::string finished(s.bytes, '\0');
      WEFT_TRY(target.read(finished.data(), s.src, s.bytes, s.op));
      if (std::all_of(finished.begin(), finished.end(), [](char f) { return f != 0; })) {
        const int64_t trips = s.scalars.at(0);
        WEFT_TRY(target.write(s.dst, &trips, sizeof trips, s.op));
        // The decoder checked that the jump goes forward, to a step of the plan or its end.
        i = static_cast<size_t>(s.scalars.at(1)) - 1;
      }
      break;
    }
    }
  }
  return Status::ok();
}

} // namespace weft::cuda
