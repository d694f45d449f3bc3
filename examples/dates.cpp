//===- examples/dates.cpp - human-readable dates to ISO, with attention ---===//
//
// "25th of March 2003", "tue 3/25/03", "March 25, 2003", "2003.03.25" and ten more formats
// (examples/dates/DateFormats.h) in, "2003-03-25" out, learned by an encoder-decoder with
// Bahdanau attention (Bahdanau et al. 2015): characters embedded, a bidirectional LSTM reads
// the date, and an LSTM decoder wrapped in nn::AttentionWrapper attends over the encoder's
// outputs at every step (additive scores, masked by the source lengths), its attention vector a
// linear map of [h, context] that also feeds the next step. A dense layer gives the next
// character.
//
// The decoder's step is one function (decoderStep) run by a `scan` over the target shifted
// right in training (teacher forcing) and by a `while` that feeds back its argmax at inference
// (greedy decoding, stopping when every date has emitted <EOS>); the `while` also stacks each
// step's alignments, the attention weights drawn in OUT/attention.svg.
//
//   weft-example-dates [--out OUT] [--epochs N] [--train N] [--held-out N] [--seed S]
//                      [--batch N] [--lr X] [--opt-level 0-3]
//
// The held-out dates are calendar dates the training set never shows. With --out, the trained
// parameters (OUT/dates.safetensors), the vocabulary (OUT/vocabulary.json), the loss curve and
// OUT/attention.svg (three held-out dates) are written there, and OUT/dates, the native
// program: the greedy decoder compiled ahead of time with the vocabulary and the weights inside,
// linked against weft's runtime only (examples/native). It answers one date per line on stdin
// with one ISO date per line on stdout; characters it does not know, and bytes that are not
// UTF-8, read as <UNK>; an empty line gets an empty answer; a line longer than the longest
// training date is truncated to that many characters with a warning on stderr
// (runtime/text/NativeSeq2Seq.h):
//
//   $ printf '25th of March 2003\ntue 3/25/03\n' | OUT/dates
//   2003-03-25
//   2003-03-25
//
// Its last line: `held-out exact dates: <p>% (<k>/<n>) after <s> s of training`. With the
// defaults (2 epochs over 30,000 generated dates, Adam at 0.004, seed 1) it reads 100.00%
// (2000/2000), after 43 s of CPU time in all (user + sys, WEFT_NUM_THREADS=1, build included).
//
//===----------------------------------------------------------------------===//
#include "examples/dates/AttentionSvg.h"
#include "examples/dates/DatesTask.h"
#include "frontend/nn/Losses.h"
#include "frontend/nn/Recurrent.h"
#include "frontend/nn/attention/AttentionWrapper.h"
#include "frontend/nn/attention/BahdanauAttention.h"
#include "frontend/seq2seq/Helpers.h"
#include "frontend/seq2seq/Layers.h"
#include "runtime/AtomicFile.h"

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <memory>

using namespace weft;
using namespace weft::examples::dates;

namespace {

struct Sizes {
  int64_t embedding = 32, encoder = 64, decoder = 128, attentionUnits = 64, attention = 64;
};

/// The decoder: one step of the wrapped cell, then the output layer.
struct Decoder {
  nn::AttentionWrapper wrapper;
  seq2seq::Dense output;

  struct Step {
    Tensor logits; ///< [B, V]
    nn::AttentionWrapperStep inner;
  };
  Step operator()(const Tensor &x, const nn::AttentionWrapperState &state) const {
    nn::AttentionWrapperStep s = wrapper(x, state);
    return {output(s.output), s};
  }
};

void buildModel(Graph &g, Decode how, int64_t vocab, int64_t maxIterations) {
  Sizes z;
  Dim B = g.dim("B"), S = g.dim("S");
  Tensor source = g.input("source", {S, B}, DType::I32);
  Tensor sourceLengths = g.input("source_lengths", {B}, DType::I32);
  nn::Scope model(g, how == Decode::TeacherForcing ? nn::Mode::Train : nn::Mode::Eval);

  seq2seq::Embedding sourceEmbedding(model.child("source_embedding"), vocab, z.embedding);
  nn::LSTM encoder(model.child("encoder"), z.embedding, z.encoder,
                   nn::RecurrentOptions().bidir().withForgetBias());
  nn::RecurrentOutputs encoded =
      encoder(sourceEmbedding(source), nn::RecurrentInputs().withLengths(sourceLengths));
  Tensor memory = transpose(encoded.output, {1, 0, 2}); // [B, S, 2H], batch-major

  auto mechanism = std::make_shared<nn::BahdanauAttention>(
      model.child("attention"), z.attentionUnits, memory, sourceLengths, z.decoder);
  nn::LSTMCell cell(model.child("decoder"), z.embedding + z.attention, z.decoder);
  Decoder decoder{
      nn::AttentionWrapper(model.child("decoder"), cell, mechanism,
                           nn::AttentionWrapperOptions().withAttentionLayerSize(z.attention)),
      seq2seq::Dense(model.child("output"), z.attention, vocab)};
  seq2seq::Embedding targetEmbedding(model.child("target_embedding"), vocab, z.embedding);
  nn::AttentionWrapperState s0 = decoder.wrapper.zeroState();

  if (how == Decode::TeacherForcing) {
    Dim T = g.dim("T");
    Tensor targets = g.input("targets", {T, B}, DType::I32);
    g.input("targets_lengths", {B}, DType::I32); // every ISO date has 10 characters
    Tensor inputs = targetEmbedding(seq2seq::shiftRight(targets, text::kBos));
    auto [h, c, a, logits] =
        scan(inputs, {s0.h, s0.c, s0.attention}, [&](Tensor x, Tensor h, Tensor c, Tensor a) {
          Decoder::Step s = decoder(x, {h, c, a});
          const nn::AttentionWrapperState &n = s.inner.state;
          return carry(n.h, n.c, n.attention).emit(s.logits);
        });
    Tensor real = ne(targets, zeros({T, B}, DType::I32));
    g.output(nn::crossEntropy(logits, targets, real));
    return;
  }
  // Greedy decoding: the argmax, embedded, is the next input; a date is done at its <EOS>.
  Tensor start = gather(targetEmbedding.table(), full({B}, double(text::kBos), DType::I64), 0);
  auto [finished, h, c, a, x, len, ids, alignments, trips] = while_loop(
      full({B}, 0.0, DType::I1), {s0.h, s0.c, s0.attention, start, full({B}, 0.0, DType::I64)},
      maxIterations, [&](Tensor h, Tensor c, Tensor a, Tensor x, Tensor len) {
        Decoder::Step s = decoder(x, {h, c, a});
        const nn::AttentionWrapperState &n = s.inner.state;
        Tensor next = argmax(s.logits, 1);
        return done(eq(next, full_like(next, double(text::kEos))))
            .carry(n.h, n.c, n.attention, gather(targetEmbedding.table(), next, 0), len + 1.0)
            .emit(next, s.inner.alignments);
      });
  g.outputs({ids, len, alignments});
}

/// The alignments of held-out example `i` (batch `i / batch`, row `i % batch`) as a heat map.
AttentionMap attentionMap(const TaskConfig &c, const text::Vocabulary &vocab,
                          const std::string &input, const std::string &output,
                          const Answers &answers, size_t i) {
  const Array &history = answers.extras[i / size_t(c.batch)][0]; // [T, B, S]
  int64_t T = history.shape()[0], B = history.shape()[1], S = history.shape()[2];
  int64_t b = static_cast<int64_t>(i % size_t(c.batch));
  AttentionMap m;
  for (int32_t id : vocab.encode(input))
    m.inputs.push_back(vocab.token(id));
  for (int32_t id : vocab.encode(output))
    m.outputs.push_back(vocab.token(id));
  m.outputs.push_back("<EOS>");
  m.outputs.resize(std::min<size_t>(m.outputs.size(), size_t(T)));
  for (size_t t = 0; t < m.outputs.size(); ++t) {
    std::vector<double> row;
    for (size_t j = 0; j < m.inputs.size() && int64_t(j) < S; ++j)
      row.push_back(history.getDouble((int64_t(t) * B + b) * S + int64_t(j)));
    m.weights.push_back(std::move(row));
  }
  return m;
}

} // namespace

int main(int argc, char **argv) try {
  TaskConfig c;
  c.name = "dates";
  CLI::App app("Human-readable dates to ISO 8601 with Bahdanau attention.", "weft-example-dates");
  addTaskOptions(app, c);
  examples::parseCommandLine(app, argc, argv);
  if (!c.out.empty())
    std::filesystem::create_directories(c.out);
  Task task = makeTask(c);
  Trained t = trainModel(c, buildModel, task);
  if (!c.out.empty())
    save(c, task.vocab, t);

  std::vector<std::string> inputs;
  for (const Example &e : task.data.heldOut)
    inputs.push_back(e.human);
  Inference inference = buildInference(c, buildModel, task.vocab, t);
  Answers answers = answer(c, task.vocab, inference, inputs);
  if (!c.out.empty()) {
    writeNative(c, task, t, inference, answers);
    std::vector<AttentionMap> maps;
    for (size_t i = 0; i < std::min<size_t>(3, inputs.size()); ++i)
      maps.push_back(attentionMap(c, task.vocab, inputs[i], answers.text[i], answers, i));
    writeFileAtomically(c.out + "/attention.svg", renderAttentionSvg(maps)).check();
    std::printf("wrote %s/attention.svg\n", c.out.c_str());
  }
  reportHeldOut(task, answers, t);
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "weft-example-dates: %s\n", e.what());
  return 1;
}
