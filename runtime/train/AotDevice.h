//===- runtime/train/AotDevice.h - a compiled function on the CPU or a GPU ===//
//
// What a native binary's `--device cpu|cuda` picks: the function's CPU entry
// (aotFunction) or its embedded GPU code (runtime/CudaAot.h), as the same
// train::Function. On a machine without a GPU, "cuda" fails at once with
// "no CUDA device: ..." and the reason.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Aot.h"
#include "runtime/Support.h"
#include "runtime/train/Trainer.h"

#include <string_view>

namespace weft::train {

/// The devices a native binary offers, for messages: "cpu|cuda".
constexpr std::string_view kAotDevices = "cpu|cuda";

/// `fn` on `device` ("cpu" or "cuda", GPU 0); an unknown device is an error naming the choices.
/// On the GPU, arrays go in as they are and the results come back as new arrays (an in-place
/// update is a result like any other; the argument is left as it was).
Expected<Function> aotFunctionOn(const weft_aot_function &fn, std::string_view device);

} // namespace weft::train
