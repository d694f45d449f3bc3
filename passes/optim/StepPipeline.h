//===- passes/optim/StepPipeline.h - the passes that build a training step ===//
//
// A model's training step is the `train` pipeline (passes/Passes.def) with optimize-step in
// autodiff's place: optimize-step differentiates (passes/optim/TrainStep.cpp) and appends the
// optimizer update, so the fusions before it (attention, LSTM, GRU, RNN, hoisted input
// projections) reach the gradient as fused ops with fused VJPs, and the passes after it
// (save-lstm-gates, save-gru-gates, hoist-weight-gradients, clean-up, elementwise fusion) see
// the forward and its gradient in one step function.
//
//===----------------------------------------------------------------------===//
#pragma once

#include <string>
#include <string_view>

namespace weft::optim {

/// The pipeline that adds @<f>_step to a module of models with a scalar loss, for
/// optimize-step's options as a pipeline spells them ("kind=adam lr=1e-3 params=W,b";
/// docs/Optimizers.md): the `train` pipeline with "optimize-step{<options>}" for "autodiff".
/// PassManager::addPipeline checks the options.
std::string trainStepPipeline(std::string_view optimizeStepOptions);

} // namespace weft::optim
