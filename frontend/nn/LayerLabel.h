//===- frontend/nn/LayerLabel.h - how messages name a layer ---------------===//
#pragma once

#include "frontend/nn/Scope.h"

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace weft::nn {

/// "nn.Linear 'encoder.fc'" (or "nn.Linear" at the root scope): the start of a layer's error
/// messages, naming the PyTorch module kind and where it sits in the model.
inline std::string layerLabel(std::string_view kind, const Scope &s) {
  if (s.prefix().empty())
    return fmt::format("nn.{}", kind);
  return fmt::format("nn.{} '{}'", kind, s.prefix());
}

/// Throws at `loc` when `x` is an empty (default-constructed) handle.
inline void requireInput(const Tensor &x, const std::string &label, SrcLoc loc) {
  if (!x.valid())
    throwAt(loc, fmt::format("{}: the input tensor is empty (default-constructed)", label));
}

} // namespace weft::nn
