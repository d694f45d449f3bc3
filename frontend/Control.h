//===- frontend/Control.h - scan and while loops with C++ lambdas ---------===//
//
// A loop body is a lambda that takes Tensors and returns what the IR body
// yields. It runs once, while the graph is being built, and records the body.
//
//   auto [hT, cT, hs] = scan(xs, {h0, c0}, [&](Tensor x, Tensor h, Tensor c) {
//     ...
//     return carry(h2, c2).emit(h2);
//   }, ScanOptions().withLengths(len));
//
// scan: the lambda takes one time step of each sequence, then the carries (like a step
// function f(x, state)); the IR body's arguments are in the other order (carries first). It
// returns carry(new carries...).emit(per-step outputs...). The results are the final carries,
// then each emit stacked on a new axis 0 of size T. Scans nest.
//
// while_loop: the lambda takes the carries and returns
// done(flags).carry(new carries...).emit(per-trip outputs...). The results are the final
// finished flags, the final carries, the emits stacked on a new axis 0 of size max_trips, and
// the trip count (tensor<i64>). See docs/IR.md "while" for the per-example semantics.
//
// Tensors made inside a body are out of scope once it returns: pass them out as carries or
// emits. Using one later is an error at the line that uses it.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "frontend/Graph.h"

#include <array>
#include <initializer_list>
#include <type_traits>
#include <utility>
#include <vector>

namespace weft {

/// What a scan body returns: NC new carries and NE per-step outputs.
template <size_t NC, size_t NE> struct Step {
  std::array<Tensor, NC> carries;
  std::array<Tensor, NE> emits;
  /// The same carries with these per-step outputs.
  template <class... Ts> Step<NC, sizeof...(Ts)> emit(const Ts &...ts) const {
    return {carries, {Tensor(ts)...}};
  }
};
/// The new carries of a scan body, in the order of the initial carries.
template <class... Ts> Step<sizeof...(Ts), 0> carry(const Ts &...ts) {
  return {{Tensor(ts)...}, {}};
}

/// What a while body returns: per-example done flags, NC new carries, NE per-trip outputs.
template <size_t NC, size_t NE> struct WhileStep {
  Tensor done;
  std::array<Tensor, NC> carries;
  std::array<Tensor, NE> emits;
  template <class... Ts> WhileStep<sizeof...(Ts), NE> carry(const Ts &...ts) const {
    return {done, {Tensor(ts)...}, emits};
  }
  template <class... Ts> WhileStep<NC, sizeof...(Ts)> emit(const Ts &...ts) const {
    return {done, carries, {Tensor(ts)...}};
  }
};
/// Starts a while body's result: `flags` (tensor<B x i1>) marks the examples that are done.
inline WhileStep<0, 0> done(const Tensor &flags) { return {flags, {}, {}}; }

/// The sequences a scan iterates over: one tensor or a list.
struct Sequences {
  std::vector<Tensor> list;
  /*implicit*/ Sequences(const Tensor &t) : list{t} {}
  /*implicit*/ Sequences(std::initializer_list<Tensor> ts) : list(ts) {}
  /*implicit*/ Sequences(std::vector<Tensor> ts) : list(std::move(ts)) {}
};

struct ScanOptions {
  /// Optional tensor<B x i32|i64>: example b runs len[b] steps; later steps keep its carries
  /// and emit zeros. Every carry and emit then has axis 0 of size B, every sequence axis 1.
  Tensor lengths;
  /// Runs t = T-1 .. 0 (emits still land at the index of their step).
  bool reverse = false;

  /// Fluent setters: ScanOptions().withLengths(len).reversed().
  ScanOptions &withLengths(Tensor len) {
    lengths = len;
    return *this;
  }
  ScanOptions &reversed(bool on = true) {
    reverse = on;
    return *this;
  }
};

namespace detail {

inline constexpr size_t kMaxBodyArity = 16;
inline constexpr size_t kNoArity = ~size_t(0);
template <size_t> using AsTensor = Tensor;

template <class F, size_t... I> constexpr bool invocableWith(std::index_sequence<I...>) {
  return std::is_invocable_v<F &, AsTensor<I>...>;
}
/// The smallest number of Tensor arguments the body accepts.
template <class F, size_t N = 0> constexpr size_t bodyArity() {
  if constexpr (N > kMaxBodyArity)
    return kNoArity;
  else if constexpr (invocableWith<F>(std::make_index_sequence<N>{}))
    return N;
  else
    return bodyArity<F, N + 1>();
}
template <class F, size_t... I>
decltype(auto) callBody(F &f, const std::vector<Tensor> &args, std::index_sequence<I...>) {
  return f(args[I]...);
}

template <class R> struct StepTraits : std::false_type {};
template <size_t C, size_t E> struct StepTraits<Step<C, E>> : std::true_type {
  static constexpr size_t numCarry = C, numEmit = E;
};
template <class R> struct WhileStepTraits : std::false_type {};
template <size_t C, size_t E> struct WhileStepTraits<WhileStep<C, E>> : std::true_type {
  static constexpr size_t numCarry = C, numEmit = E;
};

/// A region op under construction; `args` are the body's Tensors in the lambda's order.
struct RegionFrame {
  Graph *graph = nullptr;
  ir::Op *op = nullptr;
  std::vector<Tensor> args;
  bool open = false, finished = false;
};

RegionFrame beginScan(const std::vector<Tensor> &seqs, const std::vector<Tensor> &init,
                      const ScanOptions &opts, size_t arity, size_t bodyCarries, SrcLoc loc);
std::vector<Tensor> endScan(RegionFrame &f, std::vector<Tensor> yields, SrcLoc loc);
RegionFrame beginWhile(const Tensor &finished, const std::vector<Tensor> &init, int64_t maxTrips,
                       size_t arity, size_t bodyCarries, SrcLoc loc);
std::vector<Tensor> endWhile(RegionFrame &f, std::vector<Tensor> yields, SrcLoc loc);
/// Closes the body and removes the op after the body threw.
void abortRegion(RegionFrame &f);

template <size_t N> std::array<Tensor, N> toArray(const std::vector<Tensor> &v) {
  std::array<Tensor, N> out;
  for (size_t i = 0; i < N; ++i)
    out[i] = v.at(i);
  return out;
}

} // namespace detail

/// A loop over axis 0 of `xs` with carried state; see the file comment.
template <class F>
auto scan(Sequences xs, std::vector<Tensor> init, F &&body, ScanOptions opts = {},
          SrcLoc loc = SrcLoc::current()) {
  using Body = std::remove_reference_t<F>;
  constexpr size_t arity = detail::bodyArity<Body>();
  static_assert(arity != detail::kNoArity,
                "a scan body takes Tensor parameters: per-step slices, then carries");
  using R = std::decay_t<decltype(detail::callBody(std::declval<Body &>(),
                                                   std::declval<const std::vector<Tensor> &>(),
                                                   std::make_index_sequence<arity>{}))>;
  using Traits = detail::StepTraits<R>;
  static_assert(Traits::value, "a scan body returns carry(...) or carry(...).emit(...)");
  detail::RegionFrame f = detail::beginScan(xs.list, init, opts, arity, Traits::numCarry, loc);
  try {
    R r = detail::callBody(body, f.args, std::make_index_sequence<arity>{});
    std::vector<Tensor> yields(r.carries.begin(), r.carries.end());
    yields.insert(yields.end(), r.emits.begin(), r.emits.end());
    return detail::toArray<Traits::numCarry + Traits::numEmit>(
        detail::endScan(f, std::move(yields), loc));
  } catch (...) {
    detail::abortRegion(f);
    throw;
  }
}

/// A bounded data-dependent loop; see the file comment.
template <class F>
auto while_loop(const Tensor &finished, std::vector<Tensor> init, int64_t maxTrips, F &&body,
                SrcLoc loc = SrcLoc::current()) {
  using Body = std::remove_reference_t<F>;
  constexpr size_t arity = detail::bodyArity<Body>();
  static_assert(arity != detail::kNoArity, "a while body takes the carries as Tensor parameters");
  using R = std::decay_t<decltype(detail::callBody(std::declval<Body &>(),
                                                   std::declval<const std::vector<Tensor> &>(),
                                                   std::make_index_sequence<arity>{}))>;
  using Traits = detail::WhileStepTraits<R>;
  static_assert(Traits::value, "a while body returns done(flags).carry(...).emit(...)");
  detail::RegionFrame f =
      detail::beginWhile(finished, init, maxTrips, arity, Traits::numCarry, loc);
  try {
    R r = detail::callBody(body, f.args, std::make_index_sequence<arity>{});
    // Reserved and appended one by one: GCC 12 at -O3 misreads a range insert of the emits
    // after the carries as out of bounds (-Warray-bounds).
    std::vector<Tensor> yields;
    yields.reserve(1 + Traits::numCarry + Traits::numEmit);
    yields.push_back(r.done);
    for (const Tensor &t : r.carries)
      yields.push_back(t);
    for (const Tensor &t : r.emits)
      yields.push_back(t);
    return detail::toArray<2 + Traits::numCarry + Traits::numEmit>(
        detail::endWhile(f, std::move(yields), loc));
  } catch (...) {
    detail::abortRegion(f);
    throw;
  }
}

} // namespace weft
