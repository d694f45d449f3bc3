//===- runtime/train/Trainer.h - the loop around a compiled training step --===//
//
// A training step is one compiled function: it takes the parameters, the
// optimizer state, a batch and the step number, and returns the loss, the new
// parameters and the new state (passes/optim builds it; it may be JIT-compiled
// or loaded from an object weftc wrote, so this library links only weft's
// runtime). The Trainer feeds it batches from host memory epoch by epoch,
// keeps the parameters and state between calls, evaluates on held-out data
// between epochs, shows progress, writes metrics as CSV and the loss curve as
// an SVG. Its own work is batching (a gather of rows) and bookkeeping; the
// same seed, data and step function give a bit-identical loss curve.
//
//   train::Trainer t(step, layout, params, state, options);
//   auto history = t.fit(trainSet, &heldOut);
//
// A step that keeps its weights and optimizer state on a GPU between calls (a train::Step with
// a Residency, runtime/train/Step.h) gets them pulled back before each checkpoint, evaluation
// and at the end of fit(), and uploaded again after a resume or keep-best's rollback.
//
// Data parallelism (mpirun -np N, a step built with optimize-step{data_parallel=1}): every
// process draws the same global batches (same shuffle, same seed) and feeds the step its own
// contiguous shard of each; the step averages the gradients, so all processes keep the same
// parameters. They start from rank 0's values (broadcast by make), and only rank 0 shows
// progress and writes metrics, the loss curve and checkpoints (docs/DataParallel.md).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Array.h"
#include "runtime/Support.h"
#include "runtime/train/Dataset.h"
#include "runtime/train/KeepBest.h"
#include "runtime/train/Metrics.h"
#include "runtime/train/Step.h"

#include <cstdio>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace weft::train {

/// A value the step carries from call to call: where it enters and where its new value leaves.
struct Carried {
  std::string name;
  size_t arg = 0;
  size_t result = 0;
  /// For a parameter: a result that is finite exactly when its gradient is (the gradient, or
  /// its norm), used to name the parameter when the loss stops being finite.
  std::optional<size_t> gradResult;
};

/// A batch input: the dataset array `name` is passed as argument `arg`.
struct Fed {
  std::string name;
  size_t arg = 0;
};

/// How a training step's arguments and results are arranged.
struct StepLayout {
  size_t numArgs = 0;
  std::vector<Carried> params, state;
  std::vector<Fed> batch;
  /// The step number (an i64 scalar, counting from 0), when the step takes one.
  std::optional<size_t> stepArg;
  size_t lossResult = 0;
};

/// An evaluation function: parameters and a batch in, named scalar metrics out (each a mean
/// over the batch; the Trainer weighs batches by their size).
struct Evaluation {
  Function function;
  size_t numArgs = 0;
  /// Argument position of each parameter, in StepLayout::params order.
  std::vector<size_t> paramArgs;
  std::vector<Fed> batch;
  /// Names of the results, in order ("loss", "accuracy", ...).
  std::vector<std::string> metrics;
};

enum class Progress { Auto, Bar, Lines, Off };

/// This process's place among the data-parallel replicas.
struct Replica {
  int rank = 0, count = 1;
};
enum class OnNonFinite { Stop, Skip };

struct TrainOptions {
  int64_t epochs = 1;
  /// Stop once the step number reaches this, even mid-epoch (0: no limit). A later fit()
  /// or a resumed Trainer continues from there.
  int64_t maxSteps = 0;
  BatchOptions batching;
  /// Auto: a bar redrawn in place on a terminal, plain lines otherwise.
  Progress progress = Progress::Auto;
  std::FILE *out = stderr;
  /// Lines mode: a line every this many steps besides each epoch's end (0: only epoch ends).
  int64_t lineEvery = 0;
  /// Written atomically at each epoch's end when not empty.
  std::string metricsCsv, lossSvg;
  /// Checkpoints: every checkpointEvery steps (and at the end of fit) the parameters, the
  /// optimizer state and the position are written atomically to
  /// checkpointDir/<checkpointPrefix>-<step>.safetensors, keeping the newest keepLast files.
  std::string checkpointDir, checkpointPrefix = "checkpoint";
  int64_t checkpointEvery = 0;
  size_t keepLast = 3;
  /// A step whose loss is NaN or infinite stops training with an error naming the step and
  /// the first parameter whose gradient is not finite, or (Skip) leaves parameters and state
  /// as they were and goes on.
  OnNonFinite onNonFinite = OnNonFinite::Stop;
  /// Where this process stands among the replicas; unset: runtime/Collective.h's world (one
  /// process unless started by mpirun). Every global batch must split evenly between them.
  std::optional<Replica> replica;
  /// Bit-identical data parallelism (docs/DataParallel.md): every global batch is cut into
  /// this many equal shards, each process computes the step on its share of them (shards /
  /// replicas, at once on as many threads), and the step's all_reduces add the shards in shard
  /// order (collective::runShards). Any number of processes that divides it then ends with the
  /// same parameters to the bit, one process included. 0: one shard per process, added in
  /// MPI's order.
  int64_t shards = 0;
  /// When set, fit() needs held-out data and ends with the parameters of the epoch whose
  /// held-out metric was best (runtime/train/KeepBest.h), not the last epoch's; the optimizer
  /// state stays the last epoch's. History::bestEpoch names that epoch.
  std::optional<KeepBest> keepBest;
};

/// Where training stands: the next step's number and its place in the epochs.
struct Position {
  int64_t step = 0, epoch = 0, batchInEpoch = 0;
};

struct History {
  /// The loss of every step taken, in order (skipped steps are absent).
  std::vector<double> losses;
  /// Per epoch evaluated: the metrics of the held-out set, named as Evaluation::metrics.
  std::vector<std::vector<double>> eval;
  int64_t skippedSteps = 0;
  double examplesPerSecond = 0;
  /// With TrainOptions::keepBest: the epoch (counting from 0) whose parameters fit() kept.
  std::optional<int64_t> bestEpoch;
};

class Trainer {
public:
  /// Errors when the layout's positions or the initial values do not fit together, or when
  /// the step keeps on its device an argument that is not a parameter or state, or is meant to
  /// run as several shards at once (each shard needs its own copy of the weights).
  static Expected<Trainer> make(Step step, StepLayout layout, std::vector<Array> params,
                                std::vector<Array> state, TrainOptions options);
  static Expected<Trainer> make(Function step, StepLayout layout, std::vector<Array> params,
                                std::vector<Array> state, TrainOptions options) {
    return make(Step(std::move(step)), std::move(layout), std::move(params), std::move(state),
                std::move(options));
  }

  /// Adds a held-out evaluation run after every epoch.
  void evaluateWith(Evaluation e) { eval_ = std::move(e); }

  /// Trains until options.epochs epochs are done (counting those done before a resume).
  Expected<History> fit(const Dataset &data, const Dataset *heldOut = nullptr);
  /// Runs the evaluation function over `data`; the metrics, weighted by batch size.
  Expected<std::vector<double>> evaluate(const Dataset &data);

  /// The parameters and state as the last call of fit(), evaluate(), saveCheckpoint() or
  /// syncFromDevice() left them (fit() ends with the step's device values pulled back).
  const std::vector<Array> &params() const { return params_; }
  const std::vector<Array> &state() const { return state_; }
  const StepLayout &layout() const { return layout_; }
  const Position &position() const { return pos_; }
  /// This process's place among the replicas (options' replica, or the MPI world).
  const Replica &replica() const { return replica_; }
  /// Continues from a checkpoint: the values and the position it was written at.
  Status resume(std::vector<Array> params, std::vector<Array> state, Position at);
  /// Continues from the checkpoint file at `path`, or from the newest one in options'
  /// checkpointDir when `path` is empty (and none there: nothing changes, returns false).
  /// A checkpoint of another model, or one whose tensors do not match this step's, is an error
  /// that lists every mismatch.
  Expected<bool> resumeFromCheckpoint(const std::string &path = {});
  /// Writes a checkpoint of where training stands now (the device's values, for a step that
  /// keeps them there); returns its path.
  Expected<std::string> saveCheckpoint();
  /// Copies the values the step keeps on its device (Step.h) into params() and state(); does
  /// nothing for a step that keeps none, or when no step ran since the last sync.
  Status syncFromDevice();

private:
  Trainer(Step step, StepLayout layout, std::vector<Array> params, std::vector<Array> state,
          TrainOptions options)
      : step_(std::move(step)), layout_(std::move(layout)), params_(std::move(params)),
        state_(std::move(state)), options_(std::move(options)) {}
  /// Copies rank 0's parameters and optimizer state to every process of the world.
  Status broadcastFromRankZero();

  /// One call of the step on a batch (dataset columns by index), or one per shard of it; the
  /// loss. Parameters and state are moved into the call and their new values moved out:
  /// nothing is copied (but for the shards after the first).
  Expected<double> runStep(std::vector<std::vector<Array>> batches,
                           const std::vector<size_t> &columns, int64_t *skipped);
  /// The step on each of this process's shards (options' shards), at once; the first shard's
  /// results, computed from `args`.
  Expected<std::vector<Array>> stepShards(std::span<Array> args,
                                          std::vector<std::vector<Array>> &batches,
                                          const std::vector<size_t> &columns);
  std::string nonFiniteCulprit(const std::vector<Array> &results) const;
  /// This replica's contiguous share of a global batch's rows.
  Expected<std::vector<int64_t>> shard(std::vector<int64_t> rows) const;
  /// Whether this process is the one that prints and writes files (rank 0).
  bool leads() const { return replica_.rank == 0; }
  Status writeLossCurve() const;
  /// The host's parameters and state changed (restored, rolled back): the step's next call
  /// uploads them to its device.
  void hostChanged();
  /// fit() without its final sync.
  Expected<History> fitSteps(const Dataset &data, const Dataset *heldOut);

  Step step_;
  StepLayout layout_;
  std::vector<Array> params_, state_;
  TrainOptions options_;
  Replica replica_;
  std::optional<Evaluation> eval_;
  Position pos_;
  std::vector<double> curve_; ///< every loss this Trainer computed, for the SVG
  MetricsLog metrics_;
};

} // namespace weft::train
