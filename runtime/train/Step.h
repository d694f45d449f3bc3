//===- runtime/train/Step.h - a training step, and what it keeps on a device ===//
//
// The Trainer calls a step Function with every argument in host memory. A step that runs on a
// GPU may instead keep the values it updates in place (weights, optimizer moments) in the GPU's
// memory from call to call (runtime/train/AotDevice.h's aotStepOn): then only the batch goes up
// and only the loss and the other results come down per step. Its Residency is how the host's
// copies are kept honest, and a Step carries the two together, so a Trainer given one cannot
// forget to sync: it pulls the device's values before a checkpoint, an evaluation and the end of
// fit(), and marks the host's as the truth after a restore or a keep-best rollback.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Array.h"
#include "runtime/Support.h"

#include <functional>
#include <memory>
#include <span>
#include <utility>
#include <vector>

namespace weft::train {

/// Runs a compiled function on arrays (a JIT executable's function, an AOT entry point). It
/// may update a carried argument in place and return that very array, moved out of its
/// argument (cpu::Executable::runInPlace): then no parameter is copied per step. Such a step
/// must return its carried values unchanged when its loss is not finite, as the steps
/// optimize-step builds do, or a skipped step could not be undone.
using Function = std::function<Expected<std::vector<Array>>(std::span<Array>)>;

/// Arguments a step function keeps on its device between calls. A call ignores the host arrays
/// passed for them but for their type (it uploads them on the first call, and on the first
/// after hostChanged), and returns those arrays, unchanged, as the results that update them.
class Residency {
public:
  virtual ~Residency() = default;
  /// The argument positions kept on the device, in increasing order.
  virtual const std::vector<size_t> &kept() const = 0;
  /// Copies the device's values of the kept arguments into `host` (host[k] for kept()[k]) when
  /// a call may have changed them since the last pull or upload; otherwise does nothing.
  virtual Status pull(std::span<Array *const> host) = 0;
  /// The host's arrays hold the values to go on from (a restored checkpoint, rolled-back
  /// weights): the next call uploads them.
  virtual void hostChanged() = 0;
};

/// A training step: its function and, when the function keeps arguments on a device, their
/// Residency. Only the Trainer runs it, so the residency and the function cannot be parted.
class Step {
public:
  /// A step whose arguments live on the host.
  Step(Function function) : function_(std::move(function)) {} // NOLINT: implicit on purpose
  Step(Function function, std::shared_ptr<Residency> residency)
      : function_(std::move(function)), residency_(std::move(residency)) {}

private:
  friend class Trainer;
  Function function_;
  std::shared_ptr<Residency> residency_;
};

} // namespace weft::train
