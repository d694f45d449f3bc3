//===- backends/cuda/RunSteps.cpp - a call's steps on a device ------------===//
//
// Steps run in program order over the call's addresses (Lowering.h's CallState). A loop's
// control flow is the host's: per trip it points the views at the sequences' step t, runs the
// body's steps, then copies the yields, in an order that reads every yielded value before any
// carry is overwritten:
//
//   emits (into row t of the stacked results)  ->  staged swaps  ->  carries  ->  finished |= done
//
// A while downloads its finished flags before each trip (the one read-back per trip) and stops
// when all are set or after max_trips; a scan checks its lengths once, before the first step.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/Lowering.h"
#include "runtime/CudaAotSteps.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

namespace weft::cuda::detail {
namespace {

Status launch(CallState &call, const LoopLaunch &l, const std::string &what) {
  std::vector<DeviceAddress> buffers;
  for (int ref : l.refs)
    buffers.push_back(call.addresses[static_cast<size_t>(ref)]);
  return call.device.launch(call.kernels, l.kernel, buffers, l.launch.scalars, l.launch.grid, what);
}

/// Launches loop copy `c` for step t (LoopLaunches.cpp says how).
Status launchCopy(CallState &call, const LoopCode &l, const LoopCopy &c, int64_t t, int64_t row,
                  bool zero, const std::string &what) {
  auto copy = loopCopyLaunch(l, c, call.dims, call.device, t, row, zero);
  WEFT_TRY(copy.status());
  return *copy ? launch(call, **copy, what) : Status::ok();
}

Expected<int64_t> scanSteps(CallState &call, const LoopCode &l) {
  auto trips = scanTrips(l, call.dims);
  WEFT_TRY(trips.status());
  const int64_t steps = *trips;
  if (!l.lengthsType)
    return steps;
  auto shape = l.lengthsType->evaluateShape(call.dims);
  WEFT_TRY(shape.status());
  Array lengths(l.lengthsType->dtype(), *shape);
  WEFT_TRY(call.device.download(lengths.data(), call.addresses[static_cast<size_t>(l.maskRef)],
                                lengths.nbytes()));
  WEFT_TRY(call.device.synchronize());
  WEFT_TRY(checkScanLengths(lengths, steps));
  return steps;
}

/// Puts constant step `step` into its slot: copied from the executable's device copy, or
/// uploaded from the host.
Status uploadConstant(const Step &step, CallState &call) {
  const size_t total = call.bytes[static_cast<size_t>(step.slots[0])];
  const DeviceAddress to = call.addresses[static_cast<size_t>(step.slots[0])];
  if (call.constantAddress) {
    auto from = call.constantAddress(step, total);
    WEFT_TRY(from.status());
    return call.device.copy(to, *from, total);
  }
  std::vector<std::byte> filled = filledConstant(step, total);
  return call.device.upload(to, filled.data(), total);
}

Status runLoop(const Step &step, CallState &call) {
  const LoopCode &l = *step.loop;
  auto &at = call.addresses;
  for (auto [to, from] : l.init)
    WEFT_TRY(call.device.copy(at[static_cast<size_t>(to)], at[static_cast<size_t>(from)],
                              call.bytes[static_cast<size_t>(to)]));
  for (const LoopCopy &z : l.zeroed) {
    auto zero = loopZeroLaunch(z, call.dims, call.device);
    WEFT_TRY(zero.status());
    WEFT_TRY(launch(call, *zero, step.what));
  }
  int64_t steps = l.maxTrips;
  if (!l.isWhile) {
    auto n = scanSteps(call, l);
    if (!n)
      return err(fmt::format("{}: {}", step.what, n.diag().message));
    steps = *n;
  }
  // A while's flags, one byte per example, read back before each trip.
  std::vector<uint8_t> finished(l.isWhile ? call.bytes[static_cast<size_t>(l.finishedSlot)] : 0);
  int64_t trips = 0;
  for (; trips < steps; ++trips) {
    if (l.isWhile) {
      WEFT_TRY(call.device.download(finished.data(), at[static_cast<size_t>(l.finishedSlot)],
                                    finished.size()));
      WEFT_TRY(call.device.synchronize());
      if (std::all_of(finished.begin(), finished.end(), [](uint8_t f) { return f != 0; }))
        break;
    }
    const int64_t t = l.reverse ? steps - 1 - trips : trips;
    for (const LoopCode::View &v : l.views) {
      auto offset = viewOffset(v, call.dims, t);
      WEFT_TRY(offset.status());
      at[static_cast<size_t>(v.ref)] = at[static_cast<size_t>(v.sequence)] + *offset;
    }
    WEFT_TRY(runSteps(l.body, call));
    for (const LoopCopy &c : l.emits)
      WEFT_TRY(launchCopy(call, l, c, t, t, /*zero=*/true, step.what));
    for (const LoopCopy &c : l.staged)
      WEFT_TRY(launchCopy(call, l, c, t, 0, /*zero=*/false, step.what));
    for (const LoopCopy &c : l.carries)
      WEFT_TRY(launchCopy(call, l, c, t, 0, /*zero=*/false, step.what));
    if (l.isWhile)
      WEFT_TRY(launch(call, whileOrLaunch(l, static_cast<int64_t>(finished.size()), call.device),
                      step.what));
  }
  if (l.isWhile) // (an upload from pageable memory has read it when it returns)
    WEFT_TRY(call.device.upload(at[static_cast<size_t>(l.tripsSlot)], &trips, sizeof trips));
  return Status::ok();
}

} // namespace

std::vector<std::byte> filledConstant(const Step &step, size_t total) {
  std::vector<std::byte> filled(total);
  if (step.splat) {
    size_t element = static_cast<size_t>(dtypeBytes(step.constant->dtype()));
    for (size_t pos = 0; pos + element <= total; pos += element)
      std::memcpy(filled.data() + pos, step.constant->data(), element);
  } else {
    std::memcpy(filled.data(), step.constant->data(), std::min(total, step.constant->nbytes()));
  }
  return filled;
}

Status runSteps(const std::vector<Step> &steps, CallState &call) {
  auto &at = call.addresses;
  auto address = [&](int ref) { return at[static_cast<size_t>(ref)]; };
  for (const Step &step : steps) {
    switch (step.kind) {
    case Step::Kind::Kernel: {
      auto launch = step.launch(call.dims, call.device);
      if (!launch)
        return err(fmt::format("{}: {}", step.what, launch.diag().message));
      std::vector<DeviceAddress> buffers;
      for (int s : step.slots)
        buffers.push_back(address(s));
      WEFT_TRY(call.device.launch(call.kernels, step.kernel, buffers, launch->scalars, launch->grid,
                                  step.what));
      break;
    }
    case Step::Kind::Check: {
      Status ok = step.check(call.device, address, call.dims);
      if (!ok)
        return err(fmt::format("{}: {}", step.what, ok.diag().message));
      break;
    }
    case Step::Kind::Copy: {
      Status done = call.device.copy(address(step.slots[0]), address(step.slots[1]),
                                     call.bytes[static_cast<size_t>(step.slots[0])]);
      if (!done)
        return err(fmt::format("{}: {}", step.what, done.diag().message));
      break;
    }
    case Step::Kind::Upload: {
      Status done = uploadConstant(step, call);
      if (!done)
        return err(fmt::format("{}: {}", step.what, done.diag().message));
      break;
    }
    case Step::Kind::Loop:
      WEFT_TRY(runLoop(step, call));
      break;
    case Step::Kind::Host: {
      Status done = step.host(call.device, address, call.dims);
      if (!done)
        return err(fmt::format("{}: {}", step.what, done.diag().message));
      break;
    }
    }
  }
  return Status::ok();
}

} // namespace weft::cuda::detail
