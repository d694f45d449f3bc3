//===- frontend/nn/StateDict.h - PyTorch weights into a graph's parameters --===//
//
// A state dict maps dotted names (as torch's model.state_dict() gives them) to values. Loading
// one into a Graph matches the names against the graph's parameters (nn::Scope names them the
// same way) and returns the parameter values in the graph's order, ready for
// Graph::arguments(inputs, params).
//
//   nn::StateDict sd{{"lstm.weight_ih_l0", readNpy("weight_ih_l0.npy").take()}, ...};
//   std::vector<Array> params = nn::paramsFromStateDict(g, sd).take();
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Graph.h"

#include <map>
#include <string>
#include <vector>

namespace weft::nn {

using StateDict = std::map<std::string, Array>;

/// The values of g.params() in order, each taken from `sd` by name. Float values convert to the
/// parameter's float dtype (PyTorch's f32 weights load into an f64 graph). Every name must
/// match: the error lists each parameter missing from `sd`, each entry of `sd` that names no
/// parameter, and each shape or dtype that differs (with both), one per line.
Expected<std::vector<Array>> paramsFromStateDict(const Graph &g, const StateDict &sd);

} // namespace weft::nn
