//===- examples/transformer_dates.cpp - the dates task with a Transformer -===//
//
// The task of examples/dates.cpp (human-readable dates to ISO 8601) learned by a small
// Transformer encoder-decoder (Vaswani et al. 2017): characters embedded (dModel 64) plus
// sinusoidal positions, 2 encoder layers over the date (self-attention masked by its length),
// 2 decoder layers over the ISO date so far (causal self-attention, then attention over the
// encoder's output masked by the source length), 4 heads, a feed-forward width of 128, post-norm
// as torch.nn.Transformer, and a linear map to the next character.
//
// Every attention is nn::scaledDotProductAttention's softmax(Q K^T s + mask) V, which the
// fuse-attention pass turns into one `attention` op (one kernel, no T x T matrix kept; its
// gradient recomputes) in training and at inference; `--dump-ir` prints the inference graph
// after the passes.
//
// Training reads the whole target at once (teacher forcing: the target shifted right, the causal
// mask hiding the future). Greedy decoding is a `while` that carries the tokens chosen so far
// [B, 11] (<BOS> first), runs the decoder over all 11 positions each trip (the causal mask makes
// the positions after the current one irrelevant) and writes the argmax at the current one into
// the next.
//
//   weft-example-transformer-dates [--out OUT] [--epochs N] [--train N] [--held-out N]
//                                  [--seed S] [--batch N] [--lr X] [--warmup N] [--cosine]
//                                  [--dropout P] [--opt-level 0-3] [--dump-ir]
//
// Adam's rate warms up linearly over the first 200 steps to 0.002 and then follows a cosine to 0
// at the last step of the 10 epochs (the usual Transformer schedule: no full rate from a cold
// start, and a decay to finish); --warmup N and --cosine replace that schedule (giving either
// replaces both: --warmup 0 alone is a constant rate).
//
// --dropout P (default 0) drops in every layer as torch.nn.Transformer's dropout does, with a new
// mask every training step: the seed is the step counter mixed with --seed (nn::stepSeed), so a
// run resumed from a checkpoint draws the same masks. Whether it helps here is not yet measured.
//
// With --out, the trained parameters (OUT/transformer_dates.safetensors) and the vocabulary
// (OUT/vocabulary.json) are written there, and OUT/transformer_dates, the native program, which
// answers stdin lines as examples/dates.cpp's OUT/dates does.
//
// Its last line: `held-out exact dates: <p>% (<k>/<n>) after <s> s of training`. With the
// defaults it read 100.00% (2000/2000) after 218 CPU s on two threads (README.md).
//
//===----------------------------------------------------------------------===//
#include "examples/dates/DatesTask.h"
#include "frontend/nn/Dropout.h"
#include "frontend/nn/Losses.h"
#include "frontend/nn/attention/Masks.h"
#include "frontend/nn/attention/PositionalEncoding.h"
#include "frontend/nn/attention/Transformer.h"
#include "frontend/seq2seq/Helpers.h"
#include "frontend/seq2seq/Layers.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

using namespace weft;
using namespace weft::examples::dates;

namespace {

struct Sizes {
  int64_t model = 64, heads = 4, feedforward = 128, encoderLayers = 2, decoderLayers = 2;
  double dropout = 0.0;
};

/// The layers, declared once per graph, applied outside and inside the decoding loop.
struct Transformer {
  seq2seq::Embedding sourceEmbedding, targetEmbedding;
  std::vector<nn::TransformerEncoderLayer> encoder;
  std::vector<nn::TransformerDecoderLayer> decoder;
  Tensor outputWeightT, outputBias;

  Transformer(const nn::Scope &s, const Sizes &z, int64_t vocab)
      : sourceEmbedding(s.child("source_embedding"), vocab, z.model),
        targetEmbedding(s.child("target_embedding"), vocab, z.model) {
    nn::TransformerLayerOptions o =
        nn::TransformerLayerOptions().withDimFeedforward(z.feedforward).withDropout(z.dropout);
    for (int64_t l = 0; l < z.encoderLayers; ++l)
      encoder.emplace_back(s.child("encoder").child("layers").child(fmt::format("{}", l)), z.model,
                           z.heads, o);
    for (int64_t l = 0; l < z.decoderLayers; ++l)
      decoder.emplace_back(s.child("decoder").child("layers").child(fmt::format("{}", l)), z.model,
                           z.heads, o);
    nn::Scope out = s.child("output");
    outputWeightT =
        transpose(out.param("weight", {vocab, z.model}, init::torchLinear(z.model)), {1, 0});
    outputBias = out.param("bias", {vocab}, init::torchLinear(z.model));
  }

  /// source [S, B] -> memory [S, B, d].
  Tensor encode(const Tensor &source, const Tensor &lengths) const {
    Tensor x = nn::addPositions(sourceEmbedding(source));
    for (const nn::TransformerEncoderLayer &layer : encoder)
      x = layer(x, nn::AttentionMasks().withKeyLengths(lengths));
    return x;
  }
  /// inputs [T, B] (<BOS> then the target so far) -> [T, B, d].
  Tensor decode(const Tensor &inputs, const Tensor &memory, const Tensor &lengths) const {
    Tensor y = nn::addPositions(targetEmbedding(inputs));
    for (const nn::TransformerDecoderLayer &layer : decoder)
      y = layer(y, memory, nn::AttentionMasks().withCausal(),
                nn::AttentionMasks().withKeyLengths(lengths));
    return y;
  }
  /// [..., d] -> logits [..., V].
  Tensor logits(const Tensor &y) const { return matmul(y, outputWeightT) + outputBias; }
};

void buildModel(Graph &g, Decode how, int64_t vocab, int64_t maxIterations, const Sizes &z,
                int64_t seed) {
  Dim B = g.dim("B"), S = g.dim("S");
  Tensor source = g.input("source", {S, B}, DType::I32);
  Tensor sourceLengths = g.input("source_lengths", {B}, DType::I32);
  nn::Scope model(g, how == Decode::TeacherForcing ? nn::Mode::Train : nn::Mode::Eval);
  // Training draws new dropout masks every step from the step counter (nn::stepSeed).
  if (how == Decode::TeacherForcing && z.dropout > 0)
    model = model.withSeed(nn::stepSeed(g, seed));
  Transformer net(model, z, vocab);
  Tensor memory = net.encode(source, sourceLengths);

  if (how == Decode::TeacherForcing) {
    Dim T = g.dim("T");
    Tensor targets = g.input("targets", {T, B}, DType::I32);
    g.input("targets_lengths", {B}, DType::I32); // every ISO date has 10 characters
    Tensor y = net.decode(seq2seq::shiftRight(targets, text::kBos), memory, sourceLengths);
    Tensor real = ne(targets, zeros({T, B}, DType::I32));
    g.output(nn::crossEntropy(net.logits(y), targets, real));
    return;
  }
  // Greedy decoding over a buffer of L = maxIterations tokens per date.
  int64_t L = maxIterations;
  Tensor position = iota({B, Dim(L)}, 1); // [B, L] i64: 0 .. L-1 on every row
  Tensor start =
      select(eq(position, zeros({B, Dim(L)}, DType::I64)),
             full({B, Dim(L)}, double(text::kBos), DType::I64), zeros({B, Dim(L)}, DType::I64));
  auto [finished, tokens, len, ids, trips] = while_loop(
      full({B}, 0.0, DType::I1), {start, full({B}, 0.0, DType::I64)}, maxIterations,
      [&](Tensor tokens, Tensor len) {
        // Every unfinished date has run all trips so far: max(len) is this trip's position.
        Tensor trip = max(len, {0});
        Tensor y = net.decode(transpose(tokens, {1, 0}), memory, sourceLengths); // [L, B, d]
        Tensor here = cast(eq(iota({Dim(L)}, 0), broadcast_to(trip, {Dim(L)})), DType::F32);
        Tensor row = sum(y * reshape(here, {Dim(L), 1, 1}), {0}); // [B, d]
        Tensor next = argmax(net.logits(row), 1);                 // [B] i64
        // Written at position trip + 1 (past the buffer on the last trip, where nothing reads it).
        Tensor write = eq(position, broadcast_to(reshape(trip + 1.0, {1, 1}), {B, Dim(L)}));
        Tensor nextTokens = select(write, broadcast_to(reshape(next, {B, 1}), {B, Dim(L)}), tokens);
        return done(eq(next, full_like(next, double(text::kEos))))
            .carry(nextTokens, len + 1.0)
            .emit(next);
      });
  g.outputs({ids, len});
}

} // namespace

int main(int argc, char **argv) try {
  TaskConfig c;
  c.name = "transformer_dates";
  c.lr = 0.002;
  c.epochs = 10;
  bool dumpIR = false;
  Sizes z;
  CLI::App app("Human-readable dates to ISO 8601 with a small Transformer.",
               "weft-example-transformer-dates");
  addTaskOptions(app, c);
  app.add_flag("--dump-ir", dumpIR, "print the inference graph after the passes");
  app.add_option("--dropout", z.dropout,
                 "dropout in every layer while training (a new mask every step)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9))
      ->type_name("P");
  examples::parseCommandLine(app, argc, argv);
  bool scheduleGiven = app.count("--warmup") > 0 || app.count("--cosine") > 0;
  if (!scheduleGiven) {
    c.warmup = 200;
    c.cosine = true;
  }
  if (!c.out.empty())
    std::filesystem::create_directories(c.out);
  Task task = makeTask(c);
  BuildModel build = [&](Graph &g, Decode how, int64_t vocab, int64_t maxIterations) {
    buildModel(g, how, vocab, maxIterations, z, c.seed);
  };
  if (dumpIR)
    printInferenceIR(c, build, task.vocab);
  Trained t = trainModel(c, build, task);
  if (!c.out.empty())
    save(c, task.vocab, t);
  std::vector<std::string> inputs;
  for (const Example &e : task.data.heldOut)
    inputs.push_back(e.human);
  Inference inference = buildInference(c, build, task.vocab, t);
  Answers answers = answer(c, task.vocab, inference, inputs);
  if (!c.out.empty())
    writeNative(c, task, t, inference, answers);
  reportHeldOut(task, answers, t);
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "weft-example-transformer-dates: %s\n", e.what());
  return 1;
}
