//===- backends/cuda/LoopLaunches.cpp - the launches a loop makes ---------===//
//
// What a scan or while launches besides its body, and the check of a scan-like op's lengths
// (Lowering.h's LoopCode): the copies of its yields into carries and stacked rows, the zeroing of a
// while's emits, and `finished |= done`. The host's loop (RunSteps.cpp) and code built ahead of
// time (AotPlan.cpp) both take them from here, so the two cannot drift apart.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/Lowering.h"
#include "runtime/CudaAotSteps.h"

#include <algorithm>

namespace weft::cuda::detail {
namespace {

int64_t numel(const std::vector<int64_t> &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

Grid strided(const Device &d, int64_t items) {
  int64_t t = d.blockThreads();
  return {std::max<int64_t>(1, std::min((items + t - 1) / t, d.maxBlocks())), t};
}

} // namespace

void checkLengths(Step &check, int slot, const ir::Type &type, const ir::Type &sequence) {
  check.lengths = Step::Lengths{slot, type, sequence};
  check.check = [slot, type, sequence](Device &d, const std::function<DeviceAddress(int)> &address,
                                       const ir::DimBindings &dims) -> Status {
    auto seq = sequence.evaluateShape(dims);
    WEFT_TRY(seq.status());
    auto shape = type.evaluateShape(dims);
    WEFT_TRY(shape.status());
    Array lengths(type.dtype(), *shape);
    WEFT_TRY(d.download(lengths.data(), address(slot), lengths.nbytes()));
    WEFT_TRY(d.synchronize());
    return checkScanLengths(lengths, seq->at(0));
  };
}

Expected<int64_t> scanTrips(const LoopCode &l, const ir::DimBindings &dims) {
  auto seq = l.sequenceType.evaluateShape(dims);
  WEFT_TRY(seq.status());
  return seq->at(0);
}

Expected<size_t> viewOffset(const LoopCode::View &v, const ir::DimBindings &dims, int64_t t) {
  auto bytes = v.step.evaluateBytes(dims);
  WEFT_TRY(bytes.status());
  return static_cast<size_t>(t) * *bytes;
}

Expected<std::optional<LoopLaunch>> loopCopyLaunch(const LoopCode &l, const LoopCopy &c,
                                                   const ir::DimBindings &dims,
                                                   const Device &device, int64_t t, int64_t row,
                                                   bool zero) {
  auto shape = c.type.evaluateShape(dims);
  WEFT_TRY(shape.status());
  const int64_t n = numel(*shape);
  if (n == 0)
    return std::optional<LoopLaunch>();
  const int64_t rowElems = shape->empty() || (*shape)[0] == 0 ? n : n / (*shape)[0];
  // Without a mask the kernel never reads its third buffer; it gets the destination.
  LoopLaunch out;
  out.kernel = c.kernel;
  out.refs = {c.to, c.from, l.maskRef >= 0 ? l.maskRef : c.to};
  out.launch = {{n, rowElems, row * n, t, zero ? 1 : 0}, strided(device, n)};
  return std::optional<LoopLaunch>(std::move(out));
}

Expected<LoopLaunch> loopZeroLaunch(const LoopCopy &z, const ir::DimBindings &dims,
                                    const Device &device) {
  auto shape = z.type.evaluateShape(dims);
  WEFT_TRY(shape.status());
  const int64_t n = numel(*shape);
  return LoopLaunch{z.kernel, {z.to}, {{n, 0}, strided(device, n)}};
}

LoopLaunch whileOrLaunch(const LoopCode &l, int64_t flags, const Device &device) {
  return LoopLaunch{l.orKernel, {l.finishedSlot, l.doneRef}, {{flags}, strided(device, flags)}};
}

} // namespace weft::cuda::detail
