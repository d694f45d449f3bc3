//===- frontend/Tensor.h - tensor handles of the C++ DSL ------------------===//
//
// A Tensor is a cheap handle: the Graph it belongs to and the ir::Value that
// holds it. Building a model only records IR; nothing is computed here.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "ir/Type.h"

#include <source_location>
#include <string>
#include <vector>

namespace weft::ir {
class Value;
} // namespace weft::ir

namespace weft {

class Graph;

/// A dimension: an integer or a named symbol made by Graph::dim.
using Dim = ir::Dim;
/// A list of dims, written {B, 64}.
using Shape = std::vector<Dim>;
/// Where a DSL call was written; every DSL function takes one as its defaulted last argument.
using SrcLoc = std::source_location;

/// A handle to a tensor value of one Graph. Default-constructed handles are empty; using an
/// empty handle in an op is an error at the caller's line.
class Tensor {
public:
  Tensor() = default;
  Tensor(Graph *g, ir::Value *v) : graph_(g), value_(v) {}

  bool valid() const { return value_ != nullptr; }
  Graph *graph() const { return graph_; }
  ir::Value *value() const { return value_; }

  /// The full type: tensor<B x 64 x f32>.
  const ir::Type &type() const;
  const Shape &shape() const;
  DType dtype() const;
  int64_t rank() const;
  /// Sets the name the IR printer shows for this value (%h2) and returns the handle.
  Tensor named(std::string name) const;

private:
  Graph *graph_ = nullptr;
  ir::Value *value_ = nullptr;
};

/// The operand type of the DSL's operators. Operators cannot take defaulted arguments, so the
/// caller's location is captured by this converting constructor instead.
struct At {
  Tensor t;
  SrcLoc loc;
  /*implicit*/ At(Tensor t, SrcLoc loc = SrcLoc::current()) : t(t), loc(loc) {}
};

} // namespace weft
