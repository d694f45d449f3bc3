//===- examples/dates/DatesTask.h - what the two dates examples share -----===//
//
// Both dates examples (dates.cpp: an LSTM encoder-decoder with Bahdanau attention;
// transformer_dates.cpp: a small Transformer) learn the same task, human-readable dates to
// ISO 8601, and differ only in their model. This file holds the rest: the command line, the
// data (DateFormats.h) and its character vocabulary, the training step (optimize-step with
// Adam, run by train::Trainer with its progress bar), greedy inference in batches, the
// held-out exact-match metric and the saved weights and vocabulary.
//
// A model is one function that builds either graph in a Graph:
//   - Decode::TeacherForcing: inputs source [S, B] and source_lengths [B] (i32 ids), targets
//     [T, B] (the ISO date then <EOS>) and targets_lengths [B]; one output, the mean
//     cross-entropy over the target tokens;
//   - Decode::Greedy: inputs source and source_lengths; outputs the greedy ids [T, B] (i64,
//     <EOS> then <PAD> after a date's end) and their lengths [B], then whatever else the model
//     shows (the attention weights).
// Both graphs read the same parameters by name.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "examples/CommandLine.h"
#include "examples/dates/DateFormats.h"
#include "frontend/Weft.h"
#include "ir/Module.h"
#include "runtime/text/Vocabulary.h"
#include "runtime/train/Dataset.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace weft::examples::dates {

struct TaskConfig {
  /// The example's name: graph and file names, messages.
  std::string name;
  std::string out;
  int64_t epochs = 2, trainExamples = 30000, heldOutExamples = 2000, seed = 1, batch = 128;
  double lr = 0.004, clipNorm = 5.0;
  /// Adam's learning rate: a linear warm-up over the first `warmup` steps from lr / 3 to lr,
  /// then constant, or with `cosine` down to 0 at the last step (optimize-step's schedules).
  int64_t warmup = 0;
  bool cosine = false;
  /// LLVM's level for the JIT; 0 compiles fastest (the smoke tests).
  int64_t optLevel = 2;
};

/// Adds --out OUT --epochs N --train N --held-out N --seed S --batch N --lr X --warmup N
/// --cosine --opt-level 0-3 to `app`, read into `c` (whose values are the defaults); the example
/// parses with examples::parseCommandLine (examples/CommandLine.h).
void addTaskOptions(CLI::App &app, TaskConfig &c);

enum class Decode { TeacherForcing, Greedy };

/// Builds the model's graph as the file comment says; `maxIterations` bounds a greedy decode.
using BuildModel =
    std::function<void(Graph &g, Decode how, int64_t vocabSize, int64_t maxIterations)>;

/// An ISO date, 10 characters, then <EOS>.
inline constexpr int64_t kMaxIterations = 11;

struct Task {
  DateSplit data;
  text::Vocabulary vocab;
  train::Dataset trainSet;
};
Task makeTask(const TaskConfig &c);

struct Trained {
  std::vector<std::string> names;
  std::vector<Array> values;
  double seconds = 0;
};

/// Builds the training step (optimize-step with Adam, clipped), prints the model's size, trains
/// it with train::Trainer and returns the parameters by name. Writes the loss curve, the
/// metrics and the step's IR after the passes (OUT/<name>_step.opt.wir) to OUT when given.
Trained trainModel(const TaskConfig &c, const BuildModel &build, const Task &task);

/// The greedy decoder after the `optimize` pipeline, the one module the JIT answers with and the
/// native program is compiled from.
struct Inference {
  std::unique_ptr<ir::Module> module;
  std::string function;
  /// The function's arguments: the trained parameters, and empty arrays in the inputs' places.
  std::vector<Array> args;
  size_t source = 0, sourceLengths = 0;
};
/// Writes the decoder's IR after the passes to OUT/<name>_decoder.opt.wir when OUT is given.
Inference buildInference(const TaskConfig &c, const BuildModel &build,
                         const text::Vocabulary &vocab, const Trained &t);

struct Answers {
  std::vector<std::string> text;
  /// Per batch of inputs, the graph's outputs after the ids and lengths.
  std::vector<std::vector<Array>> extras;
};
/// Decodes `inputs` greedily in batches of c.batch, `inf` compiled by the JIT.
Answers answer(const TaskConfig &c, const text::Vocabulary &vocab, const Inference &inf,
               const std::vector<std::string> &inputs);

/// Writes OUT/<name>, the native program (examples/native: the decoder compiled ahead of time,
/// vocabulary and weights inside; it reads lines of at most longestDate() characters and
/// truncates longer ones with a warning), and OUT/held_out_dates.txt with
/// OUT/held_out_answers.txt, the JIT's answers `heldOut` to compare the program's with.
void writeNative(const TaskConfig &c, const Task &task, const Trained &t, const Inference &inf,
                 const Answers &heldOut);

/// Prints the inference graph after the `optimize` pipeline that answer() runs.
void printInferenceIR(const TaskConfig &c, const BuildModel &build, const text::Vocabulary &vocab);

/// Writes OUT/<name>.safetensors and OUT/vocabulary.json.
void save(const TaskConfig &c, const text::Vocabulary &vocab, const Trained &t);

/// Prints a few held-out answers and the last line,
///   held-out exact dates: <p>% (<k>/<n>) after <s> s of training
/// and returns the exact fraction.
double reportHeldOut(const Task &task, const Answers &a, const Trained &t);

} // namespace weft::examples::dates
