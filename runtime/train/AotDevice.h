//===- runtime/train/AotDevice.h - a compiled function on the CPU or a GPU ===//
//
// What a native binary's `--device cpu|cuda` picks: the function's CPU entry
// (aotFunction) or its embedded GPU code (runtime/CudaAot.h), as the same
// train::Function. On a machine without a GPU, "cuda" fails at once with
// "no CUDA device: ..." and the reason.
//
// A training step on the GPU (aotStepOn) keeps what it updates in place on the
// GPU between steps: the weights and optimizer state are uploaded once, and a
// step moves only its batch up and its loss (and its other results) down. The
// Trainer it is given pulls them back when the host needs them (Step.h).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Aot.h"
#include "runtime/Support.h"
#include "runtime/train/Trainer.h"

#include <span>
#include <string_view>

namespace weft::cuda {
class Driver;
} // namespace weft::cuda

namespace weft::train {

/// The devices a native binary offers, for messages: "cpu|cuda".
constexpr std::string_view kAotDevices = "cpu|cuda";

/// `fn` on `device` ("cpu" or "cuda", GPU 0, through `driver`: the system's when null); an
/// unknown device is an error naming the choices. On the GPU, arrays go in as they are and the
/// results come back as new arrays (an in-place update is a result like any other; the argument
/// is left as it was).
Expected<Function> aotFunctionOn(const weft_aot_function &fn, std::string_view device,
                                 const cuda::Driver *driver = nullptr);

/// As above, but on "cuda" the arguments at positions `constants` (an inference program's
/// weights, which must not change from call to call) go up with the first call only and stay
/// on the GPU; later calls read them there. Errors when one is out of range or updated in place.
Expected<Function> aotFunctionOn(const weft_aot_function &fn, std::string_view device,
                                 std::span<const size_t> constants,
                                 const cuda::Driver *driver = nullptr);

/// The training step `fn` on `device`, for a Trainer. On "cuda", every argument it updates in
/// place (IR `aliases`: weights, optimizer state) stays on the GPU from the first step on; on
/// "cpu" it is aotFunction(fn), which updates them in place in host memory.
Expected<Step> aotStepOn(const weft_aot_function &fn, std::string_view device,
                         const cuda::Driver *driver = nullptr);

} // namespace weft::train
