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

#include "examples/dates/DateFormats.h"
#include "frontend/Weft.h"
#include "runtime/text/Vocabulary.h"
#include "runtime/train/Dataset.h"

#include <functional>
#include <string>
#include <vector>

namespace weft::examples::dates {

struct TaskConfig {
  /// The example's name: graph and file names, messages.
  std::string name;
  std::string out;
  int64_t epochs = 3, trainExamples = 40000, heldOutExamples = 2000, seed = 1, batch = 64;
  double lr = 0.002, clipNorm = 5.0;
  /// LLVM's level for the JIT; 0 compiles fastest (the smoke tests).
  int optLevel = 2;
};

/// Reads --out OUT --epochs N --train N --held-out N --seed S --batch N --lr X --opt-level 0-3
/// into `c` (whose values are the defaults); throws weft::Error naming a bad flag or value.
void parseArgs(TaskConfig &c, int argc, char **argv);

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
/// it with train::Trainer and returns the parameters by name. Writes the loss curve and the
/// metrics to OUT when given.
Trained trainModel(const TaskConfig &c, const BuildModel &build, const Task &task);

struct Answers {
  std::vector<std::string> text;
  /// Per batch of inputs, the graph's outputs after the ids and lengths.
  std::vector<std::vector<Array>> extras;
};
/// Decodes `inputs` greedily in batches of c.batch, the inference graph compiled after the
/// `optimize` pipeline.
Answers answer(const TaskConfig &c, const BuildModel &build, const text::Vocabulary &vocab,
               const Trained &t, const std::vector<std::string> &inputs);

/// Prints the inference graph after the `optimize` pipeline that answer() runs.
void printInferenceIR(const TaskConfig &c, const BuildModel &build, const text::Vocabulary &vocab);

/// Writes OUT/<name>.safetensors and OUT/vocabulary.json.
void save(const TaskConfig &c, const text::Vocabulary &vocab, const Trained &t);

/// Prints a few held-out answers and the last line,
///   held-out exact dates: <p>% (<k>/<n>) after <s> s of training
/// and returns the exact fraction.
double reportHeldOut(const Task &task, const Answers &a, const Trained &t);

} // namespace weft::examples::dates
