//===- runtime/train/AotFunction.h - a weftc-compiled function as a train::Function -===//
//
// A program that trains a model weftc compiled ahead of time (an object and its header,
// runtime/Aot.h) hands the Trainer the step's weft_aot_function:
//
//   const weft_aot_function &fn = weft_model_step_fn;        // from the generated header
//   auto layout = train::aotStepLayout(fn).take();
//   auto state = train::aotZeroState(fn, layout).take();
//   auto t = train::Trainer::make(train::aotFunction(fn), layout, params, state, o).take();
//
// Arrays go in as they are; the results' shapes come from the function's slot tables under the
// symbols the inputs bind (weft_aot_bind_symbols, which binds through runtime/SymbolBinder as
// the call does). The function keeps one scratch arena across calls (weft_aot_workspace), grown
// when a larger batch needs more, so a training loop does not allocate and fault in a fresh one
// every step, and updates declared in place go straight into the arguments' buffers. Nothing
// here needs LLVM.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Aot.h"
#include "runtime/Support.h"
#include "runtime/train/Trainer.h"

#include <vector>

namespace weft::train {

/// Runs `fn` (which must outlive the result; the generated tables are static) on arrays. A
/// declared in-place update (an optimize-step's new parameters and state) is written into its
/// argument, whose array is moved out of the span and returned as that result: no parameter is
/// copied per step. Copies of the result share one workspace; a call made while another is running
/// on it (from another thread) takes a fresh arena of its own instead of waiting.
Function aotFunction(const weft_aot_function &fn);

/// The step's layout from its parameter and result names (stepLayoutFromNames).
Expected<StepLayout> aotStepLayout(const weft_aot_function &fn);

/// Zeros for each optimizer state argument of `layout`, where every rule's state starts by
/// default (docs/Optimizers.md; Adagrad with an initial_accumulator_value starts there instead);
/// errors when a state's type has a symbolic dim.
Expected<std::vector<Array>> aotZeroState(const weft_aot_function &fn, const StepLayout &layout);

} // namespace weft::train
