//===- frontend/nn/Scope.h - where a layer's parameters live --------------===//
//
// Layers of weft::nn are functions that build IR into a Graph. A Scope is the
// part of a model a layer owns: the graph, the dotted name prefix that
// PyTorch's state_dict would give its parameters, and whether the graph being
// built is for training or for evaluation.
//
//   nn::Scope model(g, nn::Mode::Train);
//   nn::Scope enc = model.child("encoder");
//   Tensor W = enc.child("fc").param("weight", {10, 20}, init::xavier());  // "encoder.fc.weight"
//
// The same model code, run once with Mode::Train and once with Mode::Eval, builds the training
// graph and the evaluation graph; the parameter names (and so checkpoints) agree between them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Graph.h"

#include <string>
#include <string_view>

namespace weft::nn {

/// Train: dropout drops and batch norm uses batch statistics. Eval: neither.
enum class Mode { Train, Eval };

class Scope {
public:
  Scope(Graph &g, Mode mode, SrcLoc loc = SrcLoc::current());

  Graph &graph() const { return *graph_; }
  Mode mode() const { return mode_; }
  bool training() const { return mode_ == Mode::Train; }
  /// The dotted prefix, "" at the root.
  const std::string &prefix() const { return prefix_; }

  /// The scope of a sub-layer: prefix "a.b" and name "c" give "a.b.c". Names are nonempty and
  /// hold no dot.
  Scope child(std::string_view name, SrcLoc loc = SrcLoc::current()) const;
  /// The full name of `name` in this scope.
  std::string qualify(std::string_view name) const;
  /// A trainable parameter named qualify(name). Throws at `loc` if the graph already has a
  /// parameter of that name.
  Tensor param(std::string_view name, Shape shape, Init init, DType dtype = DType::F32,
               SrcLoc loc = SrcLoc::current()) const;
  /// Non-trainable named state (Graph::buffer), e.g. "bn.running_mean": an input of the graph
  /// with an initializer, listed in Graph::params() and not in Graph::trainableNames(). A
  /// layer that updates it returns the new value; the caller outputs it and feeds it back.
  Tensor buffer(std::string_view name, Shape shape, Init init, DType dtype = DType::F32,
                SrcLoc loc = SrcLoc::current()) const;

private:
  std::string checkedName(std::string_view name, SrcLoc loc) const;

  Graph *graph_;
  Mode mode_;
  std::string prefix_;
};

} // namespace weft::nn
