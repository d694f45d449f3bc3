//===- runtime/train/Trainer.cpp ------------------------------------------===//
#include "runtime/train/Trainer.h"

#include "runtime/Checkpoint.h"
#include "runtime/Collective.h"
#include "runtime/Svg.h"
#include "runtime/train/Progress.h"

#include <fmt/format.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>

namespace weft::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

/// Checks that argument positions are below `numArgs` and each is used once.
Status checkArgs(size_t numArgs, const std::vector<std::pair<std::string, size_t>> &uses) {
  std::vector<std::string> owner(numArgs);
  for (const auto &[name, arg] : uses) {
    if (arg >= numArgs)
      return err(
          fmt::format("'{}' is argument {} of a function that takes {}", name, arg, numArgs));
    if (!owner[arg].empty())
      return err(fmt::format("'{}' and '{}' are both argument {}", owner[arg], name, arg));
    owner[arg] = name;
  }
  for (size_t a = 0; a < numArgs; ++a)
    if (owner[a].empty())
      return err(fmt::format("argument {} of the function is neither a parameter, state, batch "
                             "input nor the step number",
                             a));
  return Status::ok();
}

Status checkValues(const char *what, const std::vector<Carried> &slots,
                   const std::vector<Array> &values) {
  if (slots.size() != values.size())
    return err(fmt::format("the step carries {} {}, but {} initial values were given", slots.size(),
                           what, values.size()));
  return Status::ok();
}

Expected<std::vector<size_t>> columnsOf(const Dataset &data, const std::vector<Fed> &fed) {
  std::vector<size_t> cols;
  for (const Fed &f : fed) {
    auto cOr = data.find(f.name);
    if (!cOr)
      return cOr.diag();
    size_t c = std::move(*cOr);
    cols.push_back(c);
  }
  return cols;
}

/// The host array of carried argument `arg` (a parameter or state), or null.
Array *carriedArray(const StepLayout &layout, std::vector<Array> &params, std::vector<Array> &state,
                    size_t arg) {
  for (size_t i = 0; i < layout.params.size(); ++i)
    if (layout.params[i].arg == arg)
      return &params[i];
  for (size_t i = 0; i < layout.state.size(); ++i)
    if (layout.state[i].arg == arg)
      return &state[i];
  return nullptr;
}

bool allFinite(const Array &a) {
  if (!isFloat(a.dtype()))
    return true;
  for (int64_t i = 0; i < a.numel(); ++i)
    if (!std::isfinite(a.getDouble(i)))
      return false;
  return true;
}

} // namespace

Expected<Trainer> Trainer::make(Step step, StepLayout layout, std::vector<Array> params,
                                std::vector<Array> state, TrainOptions options) {
  std::vector<std::pair<std::string, size_t>> uses;
  for (const Carried &c : layout.params)
    uses.emplace_back(c.name, c.arg);
  for (const Carried &c : layout.state)
    uses.emplace_back(c.name, c.arg);
  for (const Fed &f : layout.batch)
    uses.emplace_back(f.name, f.arg);
  if (layout.stepArg)
    uses.emplace_back("the step number", *layout.stepArg);
  WEFT_TRY(checkArgs(layout.numArgs, uses));
  WEFT_TRY(checkValues("parameters", layout.params, params));
  WEFT_TRY(checkValues("optimizer state values", layout.state, state));
  if (options.epochs < 0)
    return err(fmt::format("epochs must not be negative, got {}", options.epochs));
  Replica rep = options.replica.value_or(Replica{collective::rank(), collective::worldSize()});
  if (rep.count < 1 || rep.rank < 0 || rep.rank >= rep.count)
    return err(fmt::format("replica {} of {} does not exist", rep.rank, rep.count));
  if (options.shards < 0 || options.shards % rep.count != 0)
    return err(fmt::format("{} shards do not split evenly between {} replicas: choose a multiple "
                           "of the number of processes",
                           options.shards, rep.count));
  if (const Residency *r = step.residency_.get()) {
    for (size_t arg : r->kept())
      if (!carriedArray(layout, params, state, arg))
        return err(fmt::format("the step keeps argument {} on its device, but it is not a "
                               "parameter or optimizer state the step updates",
                               arg));
    if (options.shards / rep.count > 1)
      return err(fmt::format("a step that keeps its weights on its device runs one shard per "
                             "process, not {}: each shard would need its own copy of them",
                             options.shards / rep.count));
  }
  Trainer t(std::move(step), std::move(layout), std::move(params), std::move(state),
            std::move(options));
  t.replica_ = rep;
  // Every process starts from the same values, whatever each drew for its initialization.
  if (collective::worldSize() > 1)
    WEFT_TRY(t.broadcastFromRankZero());
  t.hostChanged();
  return t;
}

Status Trainer::syncFromDevice() {
  if (!step_.residency_)
    return Status::ok();
  std::vector<Array *> host;
  for (size_t arg : step_.residency_->kept())
    host.push_back(carriedArray(layout_, params_, state_, arg));
  return step_.residency_->pull(host);
}

void Trainer::hostChanged() {
  if (step_.residency_)
    step_.residency_->hostChanged();
}

Status Trainer::broadcastFromRankZero() {
  for (std::vector<Array> *values : {&params_, &state_})
    for (Array &a : *values)
      WEFT_TRY(collective::broadcast(a.data(), static_cast<int64_t>(a.nbytes()), 0));
  return Status::ok();
}

Expected<std::vector<int64_t>> Trainer::shard(std::vector<int64_t> rows) const {
  if (replica_.count == 1)
    return rows;
  const auto n = static_cast<int64_t>(rows.size()), count = int64_t{replica_.count};
  if (n % count != 0)
    return err(fmt::format("a global batch of {} examples does not split evenly between {} "
                           "replicas: choose a batch size that is a multiple of {} (and dropLast "
                           "when the data set's size is not one)",
                           n, count, count));
  const int64_t begin = replica_.rank * (n / count);
  return std::vector<int64_t>(rows.begin() + begin, rows.begin() + begin + n / count);
}

Status Trainer::resume(std::vector<Array> params, std::vector<Array> state, Position at) {
  WEFT_TRY(checkValues("parameters", layout_.params, params));
  WEFT_TRY(checkValues("optimizer state values", layout_.state, state));
  params_ = std::move(params);
  state_ = std::move(state);
  pos_ = at;
  hostChanged();
  return Status::ok();
}

std::string Trainer::nonFiniteCulprit(const std::vector<Array> &results) const {
  bool haveGradients = false;
  for (const Carried &p : layout_.params) {
    if (!p.gradResult)
      continue;
    haveGradients = true;
    if (!allFinite(results[*p.gradResult]))
      return fmt::format("the first parameter whose gradient is not finite is '{}'", p.name);
  }
  if (haveGradients)
    return "every parameter's gradient is finite";
  for (const Carried &p : layout_.params)
    if (!allFinite(results[p.result]))
      return fmt::format("the step returns no gradients; the first parameter whose new value "
                         "is not finite is '{}'",
                         p.name);
  return "the step returns no gradients, and every new parameter value is finite";
}

Expected<std::vector<Array>> Trainer::stepShards(std::span<Array> args,
                                                 std::vector<std::vector<Array>> &batches,
                                                 const std::vector<size_t> &columns) {
  // Every shard after the first gets its own copy of the parameters and state (the step may
  // update its arguments in place), made before any shard runs.
  std::vector<std::vector<Array>> copies(batches.size());
  for (size_t j = 1; j < batches.size(); ++j) {
    copies[j].assign(args.begin(), args.end());
    for (size_t i = 0; i < layout_.batch.size(); ++i)
      copies[j][layout_.batch[i].arg] = std::move(batches[j][columns[i]]);
  }
  std::vector<Expected<std::vector<Array>>> results(batches.size(),
                                                    Expected<std::vector<Array>>(err("not run")));
  Status s = collective::runShards(static_cast<int>(batches.size()), [&](int j) -> Status {
    auto idx = static_cast<size_t>(j);
    results[idx] = step_.function_(j == 0 ? args : std::span<Array>(copies[idx]));
    return results[idx] ? Status::ok() : Status(results[idx].diag());
  });
  if (!s)
    return s.diag();
  return std::move(results[0]);
}

Expected<double> Trainer::runStep(std::vector<std::vector<Array>> batches,
                                  const std::vector<size_t> &columns, int64_t *skipped) {
  std::vector<Array> &batch = batches[0];
  std::vector<Array> args(layout_.numArgs);
  for (size_t i = 0; i < layout_.params.size(); ++i)
    args[layout_.params[i].arg] = std::move(params_[i]);
  for (size_t i = 0; i < layout_.state.size(); ++i)
    args[layout_.state[i].arg] = std::move(state_[i]);
  for (size_t i = 0; i < layout_.batch.size(); ++i)
    args[layout_.batch[i].arg] = std::move(batch[columns[i]]);
  if (layout_.stepArg)
    args[*layout_.stepArg] = Array::of<int64_t>({}, {pos_.step});
  auto giveBack = [&] {
    for (size_t i = 0; i < layout_.params.size(); ++i)
      params_[i] = std::move(args[layout_.params[i].arg]);
    for (size_t i = 0; i < layout_.state.size(); ++i)
      state_[i] = std::move(args[layout_.state[i].arg]);
  };

  // Where each carried value lives now: a result at the same address was updated in place.
  std::vector<const void *> paramData, stateData;
  for (const Carried &c : layout_.params)
    paramData.push_back(args[c.arg].data());
  for (const Carried &c : layout_.state)
    stateData.push_back(args[c.arg].data());

  auto results = batches.size() == 1 ? step_.function_(args) : stepShards(args, batches, columns);
  if (!results) {
    giveBack();
    return err(fmt::format("step {}: {}", pos_.step, results.diag().str()));
  }
  // After a skipped or failed step the carried values are the old ones: the arguments, or,
  // where the step updated an argument in place, its result (which it left unchanged).
  auto keepOld = [&] {
    giveBack();
    for (size_t i = 0; i < layout_.params.size(); ++i)
      if ((*results)[layout_.params[i].result].data() == paramData[i])
        params_[i] = std::move((*results)[layout_.params[i].result]);
    for (size_t i = 0; i < layout_.state.size(); ++i)
      if ((*results)[layout_.state[i].result].data() == stateData[i])
        state_[i] = std::move((*results)[layout_.state[i].result]);
  };
  const Array &lossArray = (*results)[layout_.lossResult];
  if (lossArray.numel() != 1 || !isFloat(lossArray.dtype())) {
    keepOld();
    return err(fmt::format("step {}: the loss (result {}) is a {}, not a float scalar", pos_.step,
                           layout_.lossResult, lossArray.typeStr()));
  }
  const double loss = lossArray.getDouble(0);
  if (!std::isfinite(loss)) {
    std::string culprit = nonFiniteCulprit(*results);
    keepOld();
    if (options_.onNonFinite == OnNonFinite::Stop)
      return err(fmt::format("step {}: the loss is {}; {} (OnNonFinite::Skip skips such steps)",
                             pos_.step, loss, culprit));
    ++*skipped;
    return loss;
  }
  for (size_t i = 0; i < layout_.params.size(); ++i)
    params_[i] = std::move((*results)[layout_.params[i].result]);
  for (size_t i = 0; i < layout_.state.size(); ++i)
    state_[i] = std::move((*results)[layout_.state[i].result]);
  return loss;
}

Expected<History> Trainer::fit(const Dataset &data, const Dataset *heldOut) {
  Expected<History> h = fitSteps(data, heldOut);
  // Also after an error: what the caller reads next is what the device holds.
  Status synced = syncFromDevice();
  if (h && !synced)
    return synced.diag();
  return h;
}

Expected<History> Trainer::fitSteps(const Dataset &data, const Dataset *heldOut) {
  auto batcherOr = Batcher::make(data.size(), options_.batching, data.lengths());
  if (!batcherOr)
    return batcherOr.diag();
  Batcher batcher = std::move(*batcherOr);
  auto columnsOr = columnsOf(data, layout_.batch);
  if (!columnsOr)
    return columnsOr.diag();
  std::vector<size_t> columns = std::move(*columnsOr);
  if (heldOut && !eval_)
    return err("fit() got held-out data but no evaluation function (call evaluateWith first)");
  std::optional<BestEpoch> best;
  if (options_.keepBest) {
    if (!heldOut)
      return err("keep-best needs held-out data to judge the epochs by: pass it to fit()");
    auto bestOr = BestEpoch::make(*options_.keepBest, eval_->metrics);
    if (!bestOr)
      return bestOr.diag();
    best = std::move(*bestOr);
  }
  auto style = !leads() || options_.progress == Progress::Off ? ProgressReporter::Style::Off
               : options_.progress == Progress::Bar           ? ProgressReporter::Style::Bar
               : options_.progress == Progress::Lines         ? ProgressReporter::Style::Lines
                                                      : ProgressReporter::autoStyle(options_.out);
  ProgressReporter progress(options_.out, style, options_.epochs, options_.lineEvery);
  const int64_t batches = batcher.batchesPerEpoch();
  if (pos_.batchInEpoch > batches)
    return err(fmt::format("cannot resume at batch {} of an epoch of {} batches", pos_.batchInEpoch,
                           batches));

  History h;
  double totalSeconds = 0;
  int64_t totalExamples = 0;
  for (; pos_.epoch < options_.epochs; ++pos_.epoch, pos_.batchInEpoch = 0) {
    const std::vector<int64_t> order = batcher.order(pos_.epoch);
    double lossSum = 0, epochSeconds = 0;
    int64_t taken = 0, examples = 0;
    for (; pos_.batchInEpoch < batches; ++pos_.batchInEpoch) {
      if (options_.maxSteps > 0 && pos_.step >= options_.maxSteps)
        break;
      auto begin = Clock::now();
      std::vector<int64_t> rows = batcher.batch(order, pos_.batchInEpoch);
      auto mine = shard(rows);
      if (!mine)
        return err(fmt::format("step {}: {}", pos_.step, mine.diag().str()));
      // This process's shards (one unless options' shards): contiguous parts of its rows.
      const int64_t local = options_.shards > 0 ? options_.shards / replica_.count : 1;
      if (static_cast<int64_t>(mine->size()) % local != 0)
        return err(fmt::format("step {}: a global batch of {} examples does not split into {} "
                               "shards: choose a batch size that is a multiple of it",
                               pos_.step, rows.size(), options_.shards));
      std::vector<std::vector<Array>> shardBatches;
      const auto per = static_cast<int64_t>(mine->size()) / local;
      for (int64_t j = 0; j < local; ++j)
        shardBatches.push_back(
            data.gather({mine->begin() + j * per, mine->begin() + (j + 1) * per}));
      auto lossOr = runStep(std::move(shardBatches), columns, &h.skippedSteps);
      if (!lossOr)
        return lossOr.diag();
      double loss = std::move(*lossOr);
      epochSeconds += seconds(Clock::now() - begin);
      if (std::isfinite(loss)) {
        h.losses.push_back(loss);
        curve_.push_back(loss);
        metrics_.add(pos_.step, pos_.epoch, "train", "loss", loss);
        lossSum += loss;
        ++taken;
      }
      examples += static_cast<int64_t>(rows.size());
      ++pos_.step;
      if (leads() && options_.checkpointEvery > 0 && pos_.step % options_.checkpointEvery == 0) {
        // The position after this step: the next batch, or the next epoch's first.
        Position here = pos_;
        if (++pos_.batchInEpoch == batches)
          ++pos_.epoch, pos_.batchInEpoch = 0;
        auto saved = saveCheckpoint();
        pos_ = here;
        if (!saved)
          return saved.diag();
      }
      const int64_t stepsLeft =
          (options_.epochs - pos_.epoch - 1) * batches + (batches - pos_.batchInEpoch - 1);
      progress.step(pos_.step - 1, pos_.epoch, pos_.batchInEpoch, batches,
                    taken ? lossSum / double(taken) : NAN, double(examples) / epochSeconds,
                    epochSeconds / double(pos_.batchInEpoch + 1), stepsLeft);
    }
    totalSeconds += epochSeconds;
    totalExamples += examples;
    if (pos_.batchInEpoch < batches)
      break; // stopped by maxSteps mid-epoch
    const double meanLoss = taken ? lossSum / double(taken) : NAN;
    metrics_.add(pos_.step, pos_.epoch, "train", "examples_per_second",
                 double(examples) / epochSeconds);
    std::string extra;
    if (heldOut) {
      auto mOr = evaluate(*heldOut);
      if (!mOr)
        return mOr.diag();
      std::vector<double> m = std::move(*mOr);
      for (size_t k = 0; k < m.size(); ++k) {
        metrics_.add(pos_.step, pos_.epoch, "heldout", eval_->metrics[k], m[k]);
        extra += fmt::format(", held-out {} {:.6g}", eval_->metrics[k], m[k]);
      }
      if (best && best->offer(pos_.epoch, m, params_))
        extra += " (best)";
      h.eval.push_back(std::move(m));
    }
    progress.epochEnd(pos_.epoch, batches, meanLoss, double(examples) / epochSeconds, extra);
    if (leads() && !options_.metricsCsv.empty())
      WEFT_TRY(metrics_.write(options_.metricsCsv));
    if (leads() && !options_.lossSvg.empty())
      WEFT_TRY(writeLossCurve());
  }
  h.examplesPerSecond = totalSeconds > 0 ? double(totalExamples) / totalSeconds : 0;
  if (best && best->epoch()) {
    WEFT_TRY(syncFromDevice()); // the optimizer state stays the last step's
    params_ = best->params();
    hostChanged();
    h.bestEpoch = best->epoch();
  }
  if (leads() && !options_.checkpointDir.empty()) {
    auto saved = saveCheckpoint();
    if (!saved)
      return saved.diag();
  }
  return h;
}

namespace {

constexpr const char *kEpochKey = "trainer.epoch", *kBatchKey = "trainer.batch";

std::vector<NamedArray> named(const std::vector<Carried> &slots, const std::vector<Array> &values) {
  std::vector<NamedArray> out;
  for (size_t i = 0; i < slots.size(); ++i)
    out.push_back(NamedArray{slots[i].name, values[i]});
  return out;
}

Expected<int64_t> metadataInt(const Checkpoint &c, const char *key, const std::string &path) {
  auto it = c.metadata.find(key);
  int64_t v = 0;
  if (it == c.metadata.end() ||
      std::from_chars(it->second.data(), it->second.data() + it->second.size(), v).ec !=
          std::errc())
    return err(fmt::format("{} was not written by a weft Trainer: its metadata has no integer "
                           "'{}'",
                           path, key));
  return v;
}

} // namespace

Expected<std::string> Trainer::saveCheckpoint() {
  if (options_.checkpointDir.empty())
    return err("no checkpoint folder: set TrainOptions::checkpointDir");
  WEFT_TRY(syncFromDevice());
  std::error_code ec;
  std::filesystem::create_directories(options_.checkpointDir, ec);
  if (ec)
    return err(fmt::format("cannot create the checkpoint folder '{}': {}", options_.checkpointDir,
                           ec.message()));
  Checkpoint c;
  c.step = pos_.step;
  c.rng = RngState{options_.batching.seed, static_cast<uint64_t>(pos_.step)};
  c.params = named(layout_.params, params_);
  c.optimizerState = named(layout_.state, state_);
  c.metadata[kEpochKey] = std::to_string(pos_.epoch);
  c.metadata[kBatchKey] = std::to_string(pos_.batchInEpoch);
  return saveCheckpointIn(options_.checkpointDir, options_.checkpointPrefix, c, options_.keepLast);
}

Expected<bool> Trainer::resumeFromCheckpoint(const std::string &path) {
  std::string file = path;
  if (file.empty()) {
    if (options_.checkpointDir.empty())
      return err("no checkpoint to resume from: give a path or set TrainOptions::checkpointDir");
    auto newest = newestCheckpointIn(options_.checkpointDir, options_.checkpointPrefix);
    if (!newest)
      return newest.diag();
    if (newest->empty())
      return false;
    file = *newest;
  }
  CheckpointSpec spec{specsOf(named(layout_.params, params_)),
                      specsOf(named(layout_.state, state_))};
  auto c = loadCheckpoint(file, spec);
  if (!c)
    return c.diag();
  auto epoch = metadataInt(*c, kEpochKey, file);
  if (!epoch)
    return epoch.diag();
  auto batch = metadataInt(*c, kBatchKey, file);
  if (!batch)
    return batch.diag();
  // loadCheckpoint checked names, shapes and dtypes; take the values in the layout's order.
  auto take = [](const std::vector<Carried> &slots, std::vector<NamedArray> &from) {
    std::vector<Array> out;
    for (const Carried &s : slots)
      for (NamedArray &n : from)
        if (n.name == s.name)
          out.push_back(std::move(n.array));
    return out;
  };
  WEFT_TRY(resume(take(layout_.params, c->params), take(layout_.state, c->optimizerState),
                  Position{c->step, *epoch, *batch}));
  return true;
}

Status Trainer::writeLossCurve() const {
  LinePlot plot;
  plot.title = "training loss";
  plot.xLabel = "step";
  plot.yLabel = "loss";
  plot.logY = true;
  PlotSeries s{"loss", {}, curve_};
  for (size_t i = 0; i < curve_.size(); ++i)
    s.x.push_back(double(i + 1));
  plot.series.push_back(std::move(s));
  return writeSvg(options_.lossSvg, plot);
}

Expected<std::vector<double>> Trainer::evaluate(const Dataset &data) {
  if (!eval_)
    return err("no evaluation function (call evaluateWith first)");
  WEFT_TRY(syncFromDevice());
  const Evaluation &e = *eval_;
  if (e.paramArgs.size() != params_.size())
    return err(fmt::format("the evaluation function takes {} parameters, the step {}",
                           e.paramArgs.size(), params_.size()));
  auto columnsOr = columnsOf(data, e.batch);
  if (!columnsOr)
    return columnsOr.diag();
  std::vector<size_t> columns = std::move(*columnsOr);
  BatchOptions o = options_.batching;
  o.shuffle = false;
  o.dropLast = false;
  o.bucketByLength = false;
  auto batcherOr = Batcher::make(data.size(), o);
  if (!batcherOr)
    return batcherOr.diag();
  Batcher batcher = std::move(*batcherOr);
  const std::vector<int64_t> order = batcher.order(0);
  std::vector<double> sums(e.metrics.size(), 0.0);
  for (int64_t b = 0; b < batcher.batchesPerEpoch(); ++b) {
    std::vector<int64_t> rows = batcher.batch(order, b);
    std::vector<Array> batch = data.gather(rows);
    std::vector<Array> args(e.numArgs);
    for (size_t i = 0; i < params_.size(); ++i)
      args[e.paramArgs[i]] = std::move(params_[i]);
    for (size_t i = 0; i < e.batch.size(); ++i)
      args[e.batch[i].arg] = std::move(batch[columns[i]]);
    auto out = e.function(args);
    for (size_t i = 0; i < params_.size(); ++i)
      params_[i] = std::move(args[e.paramArgs[i]]);
    if (!out)
      return err(fmt::format("evaluation: {}", out.diag().str()));
    if (out->size() != e.metrics.size())
      return err(fmt::format("the evaluation function returns {} results for {} metrics",
                             out->size(), e.metrics.size()));
    for (size_t k = 0; k < sums.size(); ++k)
      sums[k] += (*out)[k].getDouble(0) * double(rows.size());
  }
  for (double &s : sums)
    s /= double(data.size());
  return sums;
}

} // namespace weft::train
