//===- frontend/seq2seq/BeamSearchDecoder.cpp -----------------------------===//
//
// Shapes in the loop body (B examples, K beams, V tokens, H units, E embedding):
//
//   state_i [B, K, H], input [B, K, E]  --merge-->  [B*K, H], [B*K, E]  --step-->  logits [B*K, V]
//   total [B, K, V] = score [B, K, 1] + log_softmax(logits)   (finished beams: +0 for <PAD> only)
//   flat [B, K*V] = total / lp(len + 1)   --K times argmax-->  idx [B, K]
//   parent = idx / V, token = idx % V;  rows of [B*K] = b*K + parent, of [B*K*V] = b*K*V + idx
//   new state, score, length, finished: gathered at those rows
//
// emits: token [B, K] and parent + 1 [B, K] (0 marks a step the example did not run, where
// the walk back keeps its beam).
//
//===----------------------------------------------------------------------===//
#include "frontend/seq2seq/BeamSearchDecoder.h"

#include "frontend/Control.h"
#include "frontend/Ops.h"
#include "frontend/nn/attention/TileBatch.h"

#include <fmt/format.h>

namespace weft::seq2seq {

namespace {

/// The score of a beam that does not exist yet (beams 1..K-1 before the first step) and of a
/// finished beam's continuations other than <PAD>.
constexpr double kDead = -1e30;
/// Marks a candidate already chosen; below every real or dead score.
constexpr double kTaken = -3e38;

/// [B, rest...] -> [B, K, rest...], each example's row repeated for its K beams.
Tensor expandBeams(const Tensor &x, int64_t K, SrcLoc loc) {
  Shape one = x.shape(), all = x.shape();
  one.insert(one.begin() + 1, Dim(1));
  all.insert(all.begin() + 1, Dim(K));
  return broadcast_to(reshape(x, one, loc), all, loc);
}

/// [B, K, rest...] -> [B*K, rest...].
Tensor mergeBeams(const Tensor &x, SrcLoc loc) {
  const Shape &s = x.shape();
  Shape m{s[0] * s[1]};
  m.insert(m.end(), s.begin() + 2, s.end());
  return reshape(x, m, loc);
}

/// All of `x`'s elements in one axis.
Tensor flatten(const Tensor &x, SrcLoc loc) {
  Dim n = 1;
  for (const Dim &d : x.shape())
    n = n * d;
  return reshape(x, {n}, loc);
}

/// b * stride + offset[b, k] for offsets [B, K] (i64): indices into rows of B*stride.
Tensor rowIndex(const Tensor &offset, int64_t stride, SrcLoc loc) {
  Tensor b = iota(offset.shape(), 0, DType::I64, loc);
  return add(mul(b, full_like(b, double(stride), loc), loc), offset, loc);
}

/// The decoder tiled to B*K rows (row b*K + k: beam k of example b): its initial state and
/// context repeated per beam, and with attention the mechanism's memory, key projection and mask
/// (nn::tileBatch). The attention vector is the state's last tensor, so the loop reorders it by
/// the parent beams like the cell's state.
BasicDecoder tiled(const BasicDecoder &d, int64_t K, SrcLoc loc) {
  State s;
  for (const Tensor &t : d.initialState())
    s.push_back(nn::tileBatch(t, K, loc));
  if (d.attention()) {
    s.pop_back(); // the attention's zeros: BasicDecoder appends the tiled attention's own
    return BasicDecoder(d.cell(), d.helper(), s, d.outputLayer(), d.attention()->tiled(K, loc),
                        loc);
  }
  Tensor context = d.context().valid() ? nn::tileBatch(d.context(), K, loc) : Tensor();
  return BasicDecoder(d.cell(), d.helper(), s, d.outputLayer(), context, loc);
}

} // namespace

BeamSearchDecoder::BeamSearchDecoder(const BasicDecoder &decoder, int64_t beamWidth,
                                     double lengthPenaltyWeight, SrcLoc loc)
    : decoder_(decoder), beamWidth_(beamWidth), alpha_(lengthPenaltyWeight) {
  if (!std::holds_alternative<GreedyEmbeddingHelper>(decoder.helper()))
    throwAt(loc, "seq2seq::BeamSearchDecoder: the decoder must have a GreedyEmbeddingHelper (its "
                 "embedding, start and end tokens)");
  int64_t V = decoder.outputLayer().outFeatures();
  if (beamWidth < 1 || beamWidth > V)
    throwAt(loc, fmt::format("seq2seq::BeamSearchDecoder: the beam width must be in [1, {}] (the "
                             "vocabulary), got {}",
                             V, beamWidth));
  if (!(lengthPenaltyWeight >= 0))
    throwAt(loc, fmt::format("seq2seq::BeamSearchDecoder: the length penalty weight must be at "
                             "least 0, got {}",
                             lengthPenaltyWeight));
}

BeamSearchOutputs dynamicDecode(const BeamSearchDecoder &beams, int64_t maximumIterations,
                                SrcLoc loc) {
  if (maximumIterations < 1)
    throwAt(loc, fmt::format("seq2seq::dynamicDecode: maximumIterations must be at least 1, got {}",
                             maximumIterations));
  const BasicDecoder &d = beams.decoder();
  const auto &h = std::get<GreedyEmbeddingHelper>(d.helper());
  const int64_t K = beams.beamWidth(), V = d.outputLayer().outFeatures();
  const double alpha = beams.lengthPenaltyWeight();
  BasicDecoder body = tiled(d, K, loc);
  Dim B = h.startTokens.shape()[0];
  size_t ns = d.initialState().size();

  // Carries: state..., input, score, finished, length; all [B, K, ...].
  std::vector<Tensor> init;
  for (const Tensor &s : d.initialState())
    init.push_back(expandBeams(s, K, loc));
  init.push_back(expandBeams(gather(h.embedding, h.startTokens, 0, loc), K, loc));
  Tensor beam = iota({B, Dim(K)}, 1, DType::I64, loc);
  init.push_back(select(eq(beam, zeros({B, Dim(K)}, DType::I64, loc), loc),
                        zeros({B, Dim(K)}, DType::F32, loc), full({B, Dim(K)}, kDead), loc));
  init.push_back(full({B, Dim(K)}, 0.0, DType::I1, loc));
  init.push_back(zeros({B, Dim(K)}, DType::I64, loc));

  detail::RegionFrame f = detail::beginWhile(full({B}, 0.0, DType::I1, loc), init,
                                             maximumIterations, ns + 4, ns + 4, loc);
  std::vector<Tensor> r;
  try {
    const std::vector<Tensor> &a = f.args;
    const Tensor &input = a[ns], &score = a[ns + 1], &finished = a[ns + 2], &length = a[ns + 3];
    State state;
    for (size_t i = 0; i < ns; ++i)
      state.push_back(mergeBeams(a[i], loc));
    BasicDecoder::StepResult step = body.step(mergeBeams(input, loc), state, loc);

    Shape bkv{B, Dim(K), Dim(V)};
    Tensor logp = reshape(log_softmax(step.logits, 1, loc), bkv, loc);
    Tensor fin = broadcast_to(reshape(finished, {B, Dim(K), 1}, loc), bkv, loc);
    Tensor isPad = eq(iota(bkv, 2, DType::I64, loc), zeros(bkv, DType::I64, loc), loc);
    Tensor stay = select(isPad, zeros(bkv, DType::F32, loc), full(bkv, kDead), loc);
    Tensor total = add(broadcast_to(reshape(score, {B, Dim(K), 1}, loc), bkv, loc),
                       select(fin, stay, logp, loc), loc);
    Tensor grown =
        add(broadcast_to(reshape(length, {B, Dim(K), 1}, loc), bkv, loc),
            select(fin, zeros(bkv, DType::I64, loc), full(bkv, 1.0, DType::I64), loc), loc);
    Tensor ranked = total;
    if (alpha != 0) {
      Tensor lp =
          pow(div(add(cast(grown, DType::F32, loc), full(bkv, 5.0), loc), full(bkv, 6.0), loc),
              alpha, loc);
      ranked = div(total, lp, loc);
    }

    // The K best of K*V candidates, best first.
    Tensor flat = reshape(ranked, {B, Dim(K * V)}, loc);
    Tensor position = iota({B, Dim(K * V)}, 1, DType::I64, loc);
    std::vector<Tensor> chosen;
    for (int64_t k = 0; k < K; ++k) {
      Tensor best = reshape(argmax(flat, 1, loc), {B, 1}, loc);
      chosen.push_back(best);
      Tensor taken = eq(position, broadcast_to(best, {B, Dim(K * V)}, loc), loc);
      flat = select(taken, full_like(flat, kTaken, loc), flat, loc);
    }
    Tensor idx = K == 1 ? chosen[0] : concat(chosen, 1, loc);
    Tensor parent = div(idx, full_like(idx, double(V), loc), loc);
    Tensor token = sub(idx, mul(parent, full_like(parent, double(V), loc), loc), loc);
    Tensor parentRow = rowIndex(parent, K, loc), candidate = rowIndex(idx, K * V, loc);

    Tensor done = logical_or(gather(flatten(finished, loc), parentRow, 0, loc),
                             eq(token, full_like(token, double(h.endToken), loc), loc), loc);
    Tensor allDone = eq(sum(cast(done, DType::I64, loc), {1}, false, loc),
                        full({B}, double(K), DType::I64, loc), loc);
    std::vector<Tensor> yields{allDone};
    for (const Tensor &s : step.state)
      yields.push_back(gather(s, parentRow, 0, loc));
    yields.push_back(gather(h.embedding, token, 0, loc));
    yields.push_back(gather(flatten(total, loc), candidate, 0, loc));
    yields.push_back(done);
    yields.push_back(gather(flatten(grown, loc), candidate, 0, loc));
    yields.push_back(token);
    yields.push_back(add(parent, full_like(parent, 1.0, loc), loc));
    r = detail::endWhile(f, std::move(yields), loc);
  } catch (...) {
    detail::abortRegion(f);
    throw;
  }
  // finished, state..., input, score, finished beams, length, tokens, parents, trips.
  BeamSearchOutputs out;
  out.scores = r[ns + 2];
  out.lengths = r[ns + 4];
  out.trips = r[ns + 7];

  // gather_tree: from the final beams back to the first step.
  auto [first, ids] = scan(
      {r[ns + 5], r[ns + 6]}, {iota({B, Dim(K)}, 1, DType::I64, loc)},
      [&](Tensor tokens, Tensor parents, Tensor at) {
        Tensor row = rowIndex(at, K, loc);
        Tensor token = gather(flatten(tokens, loc), row, 0, loc);
        Tensor parent = gather(flatten(parents, loc), row, 0, loc);
        Tensor back = select(eq(parent, full_like(parent, 0.0, loc), loc), at,
                             sub(parent, full_like(parent, 1.0, loc), loc), loc);
        return carry(back).emit(token);
      },
      ScanOptions().reversed(), loc);
  out.predictedIds = ids;
  return out;
}

} // namespace weft::seq2seq
