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

#include <cstdint>
#include <memory>
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
  /// The same scope (and its children) with `seed`, a tensor<i64> scalar, as the seed of the
  /// graph's random layers (dropout). The seed is an input of the graph so that each training
  /// step can pass a new one; see nn/Dropout.h for how each layer derives its own stream.
  Scope withSeed(Tensor seed, SrcLoc loc = SrcLoc::current()) const;
  /// The seed set by withSeed, or an empty Tensor.
  const Tensor &seed() const { return seed_; }
  /// A number for one random site (a dropout call): 0, 1, 2, ... in the order the sites are
  /// built, counted over every scope derived from the same root, so that no two sites of a
  /// model get the same number and the same model code numbers its sites the same way. Build
  /// a model from one root scope: two roots over one graph count their sites independently.
  int64_t nextRandomSite() const { return (*randomSites_)++; }

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
  Tensor seed_;
  std::shared_ptr<int64_t> randomSites_ = std::make_shared<int64_t>(0);
};

} // namespace weft::nn
