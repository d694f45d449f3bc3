//===- runtime/train/StepLayout.h - a training step's layout from its names -===//
//
// The optimize-step transform (docs/Optimizers.md) names what it builds:
//   @f_step(%W, %U, %W.exp_avg, ..., %xs, %ys, %step) -> (loss, %W.new, ..., %W.exp_avg.new, ...)
// so the Trainer's StepLayout follows from the names alone, whether they come from a JIT
// executable's signature or from an AOT object's weft_aot_function:
//   - an argument X with a result X.new is carried: a parameter, or the optimizer state of
//     parameter P when X is P.<slot> for another carried P; a carried model buffer (BatchNorm's
//     running statistics, optimize-step's `carry`) counts as a parameter without a gradient;
//   - a result P.grad_absmax is finite exactly when parameter P's gradient is (gradResult);
//   - the argument named `step` is the step number;
//   - every other argument is fed from the dataset array of the same name;
//   - result 0 is the loss.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Support.h"
#include "runtime/train/Trainer.h"

#include <string>
#include <vector>

namespace weft::train {

/// Errors when no result is the new value of any argument (not a training step), when a
/// result named X.new has no argument X, or one named P.grad_absmax no carried P.
Expected<StepLayout> stepLayoutFromNames(const std::vector<std::string> &args,
                                         const std::vector<std::string> &results);

} // namespace weft::train
