//===- frontend/Ops.h - the DSL's tensor operations -----------------------===//
//
// Free functions that append IR ops to the tensor's Graph. Elementwise
// functions broadcast numpy-style (shapes align on the right; a size-1 or
// missing axis stretches) by inserting `broadcast` ops, since the IR has no
// implicit broadcasting. A plain number next to a tensor becomes a splat
// constant of the tensor's dtype. Dtypes are never promoted implicitly: use
// cast(). Axes may be negative (counted from the end).
//
// Every function takes the caller's location as its defaulted last argument; a
// shape or dtype error throws weft::Error starting with that file:line.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Graph.h"
#include "frontend/Tensor.h"

#include <array>
#include <cstdint>
#include <vector>

namespace weft {

using Axes = std::vector<int64_t>;

// --- Elementwise unary: one function per UNARY op of ir/Ops.def, named as in the IR text
// (exp(x), tanh(x), ...; stop_gradient(x) is the identity whose result autodiff treats as a
// constant). ---
#define WEFT_UNARY(fn) Tensor fn(const Tensor &x, SrcLoc loc = SrcLoc::current());
#define WEFT_UNARY_Numeric(fn) WEFT_UNARY(fn)
#define WEFT_UNARY_Float(fn) WEFT_UNARY(fn)
#define WEFT_UNARY_Any(fn) WEFT_UNARY(fn)
#define WEFT_UNARY_Bool(fn) // `not` is a C++ keyword: logical_not, below
#define UNARY(Enum, Name, Operands) WEFT_UNARY_##Operands(Name)
#include "ir/Ops.def"
/// Logical not of an i1 tensor.
WEFT_UNARY(logical_not)
#undef WEFT_UNARY
#undef WEFT_UNARY_Numeric
#undef WEFT_UNARY_Float
#undef WEFT_UNARY_Any
#undef WEFT_UNARY_Bool

// --- Elementwise binary, broadcasting. Comparisons return i1 tensors. ---
#define WEFT_BINARY(fn) Tensor fn(const Tensor &a, const Tensor &b, SrcLoc loc = SrcLoc::current());
WEFT_BINARY(add)
WEFT_BINARY(sub)
WEFT_BINARY(mul)
WEFT_BINARY(div)
WEFT_BINARY(max)
WEFT_BINARY(min)
WEFT_BINARY(pow)
WEFT_BINARY(eq)
WEFT_BINARY(ne)
WEFT_BINARY(lt)
WEFT_BINARY(le)
WEFT_BINARY(gt)
WEFT_BINARY(ge)
WEFT_BINARY(logical_and)
WEFT_BINARY(logical_or)
WEFT_BINARY(logical_xor)
#undef WEFT_BINARY
/// x ** p with a scalar exponent.
Tensor pow(const Tensor &x, double p, SrcLoc loc = SrcLoc::current());
/// a where cond else b; all three broadcast to one shape.
Tensor select(const Tensor &cond, const Tensor &a, const Tensor &b, SrcLoc loc = SrcLoc::current());

Tensor operator+(const Tensor &a, At b);
Tensor operator-(const Tensor &a, At b);
Tensor operator*(const Tensor &a, At b);
Tensor operator/(const Tensor &a, At b);
Tensor operator+(At a, double s);
Tensor operator-(At a, double s);
Tensor operator*(At a, double s);
Tensor operator/(At a, double s);
Tensor operator+(double s, At b);
Tensor operator-(double s, At b);
Tensor operator*(double s, At b);
Tensor operator/(double s, At b);
Tensor operator-(At x);

// --- Constants and producers. Without a tensor operand they build into Graph::current(). ---
/// A tensor of `x`'s type with every element `v`.
Tensor full_like(const Tensor &x, double v, SrcLoc loc = SrcLoc::current());
Tensor full(Shape shape, double v, DType dtype = DType::F32, SrcLoc loc = SrcLoc::current());
Tensor zeros(Shape shape, DType dtype = DType::F32, SrcLoc loc = SrcLoc::current());
Tensor ones(Shape shape, DType dtype = DType::F32, SrcLoc loc = SrcLoc::current());
/// Each element is its index along `axis`.
Tensor iota(Shape shape, int64_t axis, DType dtype = DType::I64, SrcLoc loc = SrcLoc::current());
/// Uniform in [0, 1) / standard normal, a pure function of the seed (runtime/Random.h).
Tensor random_uniform(Shape shape, int64_t seed, DType dtype = DType::F32,
                      SrcLoc loc = SrcLoc::current());
Tensor random_normal(Shape shape, int64_t seed, DType dtype = DType::F32,
                     SrcLoc loc = SrcLoc::current());
/// As above with the seed a tensor<i64> computed in the graph.
Tensor random_uniform(Shape shape, const Tensor &seed, DType dtype = DType::F32,
                      SrcLoc loc = SrcLoc::current());
Tensor random_normal(Shape shape, const Tensor &seed, DType dtype = DType::F32,
                     SrcLoc loc = SrcLoc::current());
/// Elementwise conversion to `dtype`.
Tensor cast(const Tensor &x, DType dtype, SrcLoc loc = SrcLoc::current());

// --- Shape ops. ---
/// `x` stretched numpy-style to `shape`.
Tensor broadcast_to(const Tensor &x, Shape shape, SrcLoc loc = SrcLoc::current());
/// The same elements in a new shape; one dim may be -1 (inferred).
Tensor reshape(const Tensor &x, Shape shape, SrcLoc loc = SrcLoc::current());
/// Result dim i is x dim perm[i].
Tensor transpose(const Tensor &x, Axes perm, SrcLoc loc = SrcLoc::current());
/// Elements [start, limit) along a static axis.
Tensor slice(const Tensor &x, int64_t axis, int64_t start, int64_t limit,
             SrcLoc loc = SrcLoc::current());
Tensor concat(const std::vector<Tensor> &xs, int64_t axis, SrcLoc loc = SrcLoc::current());
/// `n` equal parts along a static axis.
std::vector<Tensor> split(const Tensor &x, int64_t n, int64_t axis, SrcLoc loc = SrcLoc::current());
template <size_t N>
std::array<Tensor, N> split(const Tensor &x, int64_t axis, SrcLoc loc = SrcLoc::current()) {
  std::vector<Tensor> parts = split(x, static_cast<int64_t>(N), axis, loc);
  std::array<Tensor, N> out;
  for (size_t i = 0; i < N; ++i)
    out[i] = parts[i];
  return out;
}
/// Constant padding: `low[i]` before and `high[i]` after axis i.
Tensor pad(const Tensor &x, Axes low, Axes high, double value = 0.0,
           SrcLoc loc = SrcLoc::current());
/// numpy take: table[:axis] + idx.shape + table[axis+1:].
Tensor gather(const Tensor &table, const Tensor &idx, int64_t axis = 0,
              SrcLoc loc = SrcLoc::current());
/// base with `upd` summed into the rows `idx` along `axis` (the adjoint of gather).
Tensor scatter_add(const Tensor &base, const Tensor &idx, const Tensor &upd, int64_t axis = 0,
                   SrcLoc loc = SrcLoc::current());

// --- Reductions and matmul. ---
Tensor sum(const Tensor &x, Axes axes, bool keepdims = false, SrcLoc loc = SrcLoc::current());
Tensor max(const Tensor &x, Axes axes, bool keepdims = false, SrcLoc loc = SrcLoc::current());
Tensor min(const Tensor &x, Axes axes, bool keepdims = false, SrcLoc loc = SrcLoc::current());
Tensor mean(const Tensor &x, Axes axes, bool keepdims = false, SrcLoc loc = SrcLoc::current());
/// Index (i64) of the first maximum along `axis`, which is removed.
Tensor argmax(const Tensor &x, int64_t axis, SrcLoc loc = SrcLoc::current());
/// a [..., M, K] x b [..., K, N]. Batch dims broadcast numpy-style; a rank-2 weight against a
/// rank-3+ input multiplies every row (x [B, T, K] x W [K, N] -> [B, T, N]) through a reshape
/// to [B*T, K] rather than a broadcast copy of W.
Tensor matmul(const Tensor &a, const Tensor &b, SrcLoc loc = SrcLoc::current());

// --- Composites, built from the primitives above. ---
/// exp(x - max) / sum(exp(x - max)) along `axis`.
Tensor softmax(const Tensor &x, int64_t axis, SrcLoc loc = SrcLoc::current());
/// (x - max) - log(sum(exp(x - max))) along `axis`.
Tensor log_softmax(const Tensor &x, int64_t axis, SrcLoc loc = SrcLoc::current());

} // namespace weft
