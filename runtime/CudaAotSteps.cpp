//===- runtime/CudaAotSteps.cpp -------------------------------------------===//
#include "runtime/CudaAotSteps.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

namespace weft::cuda {

Status checkScanLengths(const Array &lengths, int64_t steps) {
  for (int64_t b = 0; b < lengths.numel(); ++b)
    if (lengths.getInt(b) < 0 || lengths.getInt(b) > steps)
      return err(
          fmt::format("length {} of example {} is outside [0, {}]", lengths.getInt(b), b, steps));
  return Status::ok();
}

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
        return err(
            fmt::format("{}: an index is out of range (at element {} of the result)", s.op, word));
      break;
    }
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
