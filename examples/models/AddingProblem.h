//===- examples/models/AddingProblem.h - the adding problem's data and model ---===//
//
// Hochreiter & Schmidhuber (1997), experiment 4 (see examples/adding.cpp): the data set and
// the model, shared by the example and the data-parallel benchmark (bench/data_parallel_bench.cpp).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Weft.h"
#include "runtime/train/Dataset.h"

#include <memory>
#include <string>
#include <vector>

namespace weft::examples {

/// `n` sequences of length T: time-major "xs" [T, n, 2] (a value in [0, 1) and a marker, two
/// positions marked, one in each half) and "ys" [n, 1], the sum of the two marked values.
train::Dataset addingData(int64_t n, int64_t T, int64_t seed);

/// The model as a loss function @adding(params..., xs, ys): a recurrent layer (nn::LSTM when
/// `lstm`, else the tanh nn::RNN) of `hidden` units over xs, a linear readout of its last
/// state, and the mean squared error. `init` receives its parameters, `paramNames` their
/// names, comma-separated, as optimize-step's `params` option takes them.
struct AddingModel {
  std::unique_ptr<ir::Module> module;
  std::vector<Array> init;
  std::string paramNames;
};
AddingModel buildAddingModel(bool lstm, int64_t length, int64_t hidden);

} // namespace weft::examples
