//===- frontend/Graph.h - building one function of weft IR ----------------===//
//
// A Graph records a model as IR while the DSL code runs; build() hands out the
// finished, verified module. Building and computing are separate phases: run
// the built function with a backend (or the reference interpreter) afterwards.
//
//   weft::Graph g("mlp");
//   Dim B = g.dim("B");
//   Tensor x = g.input("x", {B, 784});
//   Tensor W = g.param("W", {784, 10}, init::xavier());
//   g.output(softmax(matmul(x, W), 1));
//   auto module = g.build();
//
// Inputs and params are the function's parameters in creation order. build() may be called
// any number of times: each call returns an independent copy, and the graph stays usable.
// Tensors hold a pointer to their Graph, which must outlive them.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Init.h"
#include "frontend/Tensor.h"
#include "ir/Builder.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace weft {

/// One parameter: its function-parameter position, name, type and initializer. A parameter
/// that is not trainable is state the model carries but does not learn (BatchNorm's running
/// mean): a buffer in PyTorch's terms, saved and initialized like the others.
struct ParamInfo {
  size_t position = 0;
  std::string name;
  ir::Type type;
  Init init;
  bool trainable = true;
};

class Graph {
public:
  explicit Graph(std::string name);
  ~Graph();
  Graph(const Graph &) = delete;
  Graph &operator=(const Graph &) = delete;

  /// The graph that DSL calls without a tensor operand (zeros, iota, ...) build into: the
  /// most recently constructed Graph that is still alive on this thread. Throws if none.
  static Graph &current(SrcLoc loc = SrcLoc::current());

  const std::string &name() const { return fn_->name(); }

  /// A symbolic dimension, bound to a size when the built function is called.
  Dim dim(std::string name) const { return Dim::symbol(std::move(name)); }
  /// A data input (a function parameter). A name the graph already has for an input or a
  /// parameter throws at `loc`.
  Tensor input(std::string name, Shape shape, DType dtype = DType::F32,
               SrcLoc loc = SrcLoc::current());
  /// The input named `name`, or an invalid Tensor when the graph has none.
  Tensor inputNamed(std::string_view name);
  /// A trainable parameter (a function parameter) with its initializer. A name the graph
  /// already has for an input or a parameter throws at `loc`.
  Tensor param(std::string name, Shape shape, Init init, DType dtype = DType::F32,
               SrcLoc loc = SrcLoc::current());
  /// Non-trainable state (a function parameter) with its initializer, listed in params().
  Tensor buffer(std::string name, Shape shape, Init init, DType dtype = DType::F32,
                SrcLoc loc = SrcLoc::current());
  /// Appends a result of the function.
  void output(Tensor t, SrcLoc loc = SrcLoc::current());
  void outputs(std::vector<Tensor> ts, SrcLoc loc = SrcLoc::current());

  /// A verified module holding one function named after the graph. Throws weft::Error when
  /// there are no outputs or a scan/while body is still open.
  std::unique_ptr<ir::Module> build(SrcLoc loc = SrcLoc::current()) const;

  /// The parameters and buffers, in creation order.
  const std::vector<ParamInfo> &params() const { return params_; }
  /// The names of the trainable parameters, in creation order: what autodiff's `wrt` takes.
  std::vector<std::string> trainableNames() const;
  /// Initial values of the parameters, in creation order; parameter k is drawn from a stream
  /// derived from (seed, k). Throws if a parameter's shape is symbolic.
  std::vector<Array> initParams(int64_t seed) const;
  /// Interleaves input values (in input creation order) and parameter values (in parameter
  /// order) into the function's argument order.
  std::vector<Array> arguments(std::vector<Array> inputs, std::vector<Array> params) const;

  // --- The op-building interface used by the DSL's functions; models do not need it. ---

  /// The IR value of `t`, after checking that it is a tensor of this graph that is visible at
  /// the current insertion point; throws an error naming `what` at `loc` otherwise.
  ir::Value *use(const Tensor &t, const char *what, SrcLoc loc) const;
  /// Builds a single-result op at the insertion point; type errors throw at `loc`.
  Tensor op(ir::OpKind kind, std::vector<ir::Value *> operands, ir::Attrs attrs,
            std::vector<ir::Type> declared, SrcLoc loc);
  ir::OpBuilder &builder() { return builder_; }
  /// Enters / leaves the body of a region op; ops are appended to the innermost open body.
  void pushBlock(ir::Block &b);
  void popBlock();
  /// Moves a region op whose body failed to build out of the IR. Tensors that refer into it
  /// stay valid objects and are reported as out of scope when used.
  void abandon(ir::Op *op);

private:
  /// Throws at `loc` when the function already has a parameter (an input, param or buffer)
  /// named `name`: the IR names them, and two of one name would be one to the user.
  void checkNewName(const std::string &name, const char *what, SrcLoc loc) const;

  std::unique_ptr<ir::Module> module_;
  ir::Function *fn_;
  ir::OpBuilder builder_;
  std::vector<ir::Block *> open_;
  std::vector<ir::Value *> outputs_;
  std::vector<ParamInfo> params_;
  std::vector<size_t> inputPositions_;
  std::vector<std::unique_ptr<ir::Op>> abandoned_;
};

/// A located weft::Error for a mistake in DSL code at `loc`.
[[noreturn]] void throwAt(SrcLoc loc, std::string message);
/// The IR location of a DSL call.
Loc toLoc(SrcLoc loc);

} // namespace weft
