//===- examples/dates/DatesTask.cpp ---------------------------------------===//
#include "examples/dates/DatesTask.h"

#include "backends/cpu/CpuBackend.h"
#include "examples/native/NativeSeq2SeqBinary.h"
#include "ir/Printer.h"
#include "ir/Signature.h"
#include "passes/PassManager.h"
#include "passes/optim/StepPipeline.h"
#include "runtime/AtomicFile.h"
#include "runtime/Safetensors.h"
#include "runtime/train/StepLayout.h"
#include "runtime/train/Trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <sstream>

namespace weft::examples::dates {
namespace {

cpu::CompileOptions jitOptions(const TaskConfig &c) {
  cpu::CompileOptions o;
  o.optLevel = static_cast<int>(c.optLevel);
  return o;
}

const ir::Function &function(const ir::Module &m, std::string_view name) {
  for (const auto &f : m.functions())
    if (f->name() == name)
      return *f;
  throw Error(err(fmt::format("the module has no function @{}", name)));
}

/// Ids padded time-major [S, B] and lengths [B] for `texts` (an empty text counts one <PAD>).
std::pair<Array, Array> encodeBatch(const text::Vocabulary &v,
                                    const std::vector<std::string> &texts) {
  std::vector<std::vector<int32_t>> ids;
  size_t longest = 1;
  for (const std::string &t : texts) {
    ids.push_back(v.encode(t));
    if (ids.back().empty())
      ids.back().push_back(text::kPad);
    longest = std::max(longest, ids.back().size());
  }
  int64_t B = static_cast<int64_t>(texts.size()), S = static_cast<int64_t>(longest);
  Array source(DType::I32, {S, B}), lengths(DType::I32, {B});
  for (int64_t b = 0; b < B; ++b) {
    const std::vector<int32_t> &e = ids[static_cast<size_t>(b)];
    lengths.data<int32_t>()[b] = static_cast<int32_t>(e.size());
    for (size_t t = 0; t < e.size(); ++t)
      source.data<int32_t>()[static_cast<int64_t>(t) * B + b] = e[t];
  }
  return {std::move(source), std::move(lengths)};
}

/// The inference graph's module after the `optimize` pipeline (attention and LSTM fusion among
/// others).
std::unique_ptr<ir::Module> inferenceModule(Graph &g, const BuildModel &build, int64_t vocab) {
  build(g, Decode::Greedy, vocab, kMaxIterations);
  auto m = g.build();
  std::ostringstream log;
  passes::PassManager pm(log);
  pm.addPipeline("optimize").check();
  pm.run(*m).check();
  return m;
}

/// optimize-step's options for c.warmup and c.cosine (passes/optim/Schedule.cpp), each
/// beginning with a space; empty for a constant rate.
std::string scheduleOptions(const TaskConfig &c, int64_t examples) {
  std::string o;
  if (c.warmup > 0)
    o += fmt::format(" warmup={}", c.warmup);
  // The cosine starts after the warm-up and reaches 0 at the last step.
  int64_t steps = c.epochs * ((examples + c.batch - 1) / c.batch);
  if (c.cosine)
    o += fmt::format(" schedule=cosine t_max={}", std::max<int64_t>(1, steps - c.warmup));
  return o;
}

} // namespace

void addTaskOptions(CLI::App &app, TaskConfig &c) {
  app.add_option("--out", c.out, "write the weights and the native program to OUT")
      ->type_name("OUT");
  examples::addInteger(app, "--epochs", c.epochs, "training epochs");
  examples::addInteger(app, "--train", c.trainExamples, "training dates");
  examples::addInteger(app, "--held-out", c.heldOutExamples, "held-out dates");
  examples::addInteger(app, "--seed", c.seed, "the seed of the data, the weights, the shuffle");
  examples::addInteger(app, "--batch", c.batch, "batch size");
  examples::addNumber(app, "--lr", c.lr, "Adam's learning rate", 0, 1);
  examples::addInteger(app, "--warmup", c.warmup, "linear warm-up steps", 0);
  app.add_flag("--cosine", c.cosine, "decay the rate to 0 (cosine)");
  examples::addInteger(app, "--opt-level", c.optLevel, "LLVM's level for the JIT", 0, 3);
}

Task makeTask(const TaskConfig &c) {
  GenerateOptions g;
  g.seed = c.seed;
  g.trainExamples = c.trainExamples;
  g.heldOutExamples = c.heldOutExamples;
  Task task{generateDates(g), text::Vocabulary::build({}, text::Vocabulary::Kind::Char), {}};
  // Every character a format can write, so that held-out and stdin dates never meet <UNK> for
  // a letter the training draw happened to miss.
  std::vector<std::string> alphabet;
  for (int f = 0; f < kNumFormats; ++f)
    for (Casing casing : {Casing::Lower, Casing::Title, Casing::Upper})
      for (int month = 1; month <= 12; ++month)
        for (int day : {1, 2, 3, 4})
          alphabet.push_back(format({2003, month, day}, static_cast<Format>(f), casing));
  task.vocab = text::Vocabulary::build(alphabet, text::Vocabulary::Kind::Char);
  std::vector<std::vector<int32_t>> source, target;
  for (const Example &e : task.data.train) {
    source.push_back(task.vocab.encode(e.human));
    target.push_back(task.vocab.encode(e.iso));
  }
  task.trainSet.addSequences("source", std::move(source)).check();
  task.trainSet.addSequences("targets", std::move(target), {.append = text::kEos}).check();
  return task;
}

Trained trainModel(const TaskConfig &c, const BuildModel &build, const Task &task) {
  Graph g(c.name);
  build(g, Decode::TeacherForcing, task.vocab.size(), kMaxIterations);
  std::vector<Array> params = g.initParams(c.seed);
  int64_t count = 0;
  for (const Array &p : params)
    count += p.numel();
  auto m = g.build();
  std::string names;
  for (const std::string &p : g.trainableNames())
    names += (names.empty() ? "" : ",") + p;
  std::ostringstream log;
  passes::PassManager pm(log);
  pm.addPipeline(optim::trainStepPipeline(
                     fmt::format("kind=adam lr={}{} clip_norm={} params={}", c.lr,
                                 scheduleOptions(c, task.trainSet.size()), c.clipNorm, names)))
      .check();
  pm.run(*m).check();
  if (!c.out.empty())
    writeFileAtomically(c.out + "/" + c.name + "_step.opt.wir", ir::print(*m)).check();
  auto exe = cpu::compile(*m, jitOptions(c)).take();
  std::string stepName = c.name + "_step";
  const ir::Function &step = function(*m, stepName);
  ir::Signature sig = ir::Signature::of(step);
  train::StepLayout layout = train::stepLayoutFromNames(sig.paramNames, sig.resultNames).take();
  std::vector<Array> state;
  for (const train::Carried &s : layout.state)
    state.push_back(sig.zerosOf(s.arg).take());

  train::TrainOptions o;
  o.batching = {.batchSize = c.batch,
                .shuffle = true,
                .dropLast = false,
                .seed = c.seed,
                .bucketByLength = true};
  o.epochs = c.epochs;
  if (!c.out.empty()) {
    o.metricsCsv = c.out + "/" + c.name + "_metrics.csv";
    o.lossSvg = c.out + "/" + c.name + "_loss.svg";
  }
  train::Function run = [&](std::span<const Array> a) { return exe->run(stepName, a); };
  auto trainer = train::Trainer::make(run, layout, std::move(params), std::move(state), o).take();
  std::printf("training: %lld parameters, %lld dates, %lld epochs of batches of %lld, Adam "
              "(lr %g%s%s)\n",
              static_cast<long long>(count), static_cast<long long>(task.trainSet.size()),
              static_cast<long long>(c.epochs), static_cast<long long>(c.batch), c.lr,
              c.warmup > 0 ? fmt::format(", warm-up {} steps", c.warmup).c_str() : "",
              c.cosine ? ", cosine to 0" : "");
  std::fflush(stdout);
  auto start = std::chrono::steady_clock::now();
  train::History h = trainer.fit(task.trainSet).take();
  Trained t;
  t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("final loss %.4f, %.0f dates/s\n", h.losses.empty() ? 0.0 : h.losses.back(),
              h.examplesPerSecond);
  for (const train::Carried &p : layout.params)
    t.names.push_back(p.name);
  t.values = trainer.params();
  return t;
}

Inference buildInference(const TaskConfig &c, const BuildModel &build,
                         const text::Vocabulary &vocab, const Trained &t) {
  Graph g(c.name + "_infer");
  Inference inf;
  inf.function = c.name + "_infer";
  inf.module = inferenceModule(g, build, vocab.size());
  if (!c.out.empty())
    writeFileAtomically(c.out + "/" + c.name + "_decoder.opt.wir", ir::print(*inf.module)).check();
  std::map<std::string, const Array *> byName;
  for (size_t k = 0; k < t.names.size(); ++k)
    byName[t.names[k]] = &t.values[k];
  // Arguments by name, as the native program binds them (runtime/text/NativeSeq2Seq.h).
  ir::Signature sig = ir::Signature::of(function(*inf.module, inf.function));
  for (size_t i = 0; i < sig.paramNames.size(); ++i) {
    const std::string &name = sig.paramNames[i];
    if (name == "source" || name == "source_lengths") {
      (name == "source" ? inf.source : inf.sourceLengths) = i;
      inf.args.emplace_back();
      continue;
    }
    auto it = byName.find(name);
    if (it == byName.end())
      throw Error(err(fmt::format("the inference graph's parameter {} was not trained", name)));
    inf.args.push_back(*it->second);
  }
  return inf;
}

Answers answer(const TaskConfig &c, const text::Vocabulary &vocab, const Inference &inf,
               const std::vector<std::string> &inputs) {
  auto exe = cpu::compile(*inf.module, jitOptions(c)).take();
  Answers out;
  for (size_t first = 0; first < inputs.size(); first += static_cast<size_t>(c.batch)) {
    std::vector<std::string> batch(
        inputs.begin() + static_cast<ptrdiff_t>(first),
        inputs.begin() + static_cast<ptrdiff_t>(std::min(inputs.size(), first + size_t(c.batch))));
    auto [ids, lengths] = encodeBatch(vocab, batch);
    std::vector<Array> args;
    for (size_t i = 0; i < inf.args.size(); ++i)
      args.push_back(i == inf.source          ? std::move(ids)
                     : i == inf.sourceLengths ? std::move(lengths)
                                              : inf.args[i]);
    std::vector<Array> r = exe->run(inf.function, args).take();
    int64_t T = r[0].shape()[0], B = r[0].shape()[1];
    for (int64_t b = 0; b < B; ++b) {
      std::vector<int32_t> seq;
      for (int64_t i = 0; i < T; ++i)
        seq.push_back(static_cast<int32_t>(r[0].data<int64_t>()[i * B + b]));
      out.text.push_back(vocab.decode(seq));
    }
    out.extras.emplace_back(std::make_move_iterator(r.begin() + 2),
                            std::make_move_iterator(r.end()));
  }
  return out;
}

void writeNative(const TaskConfig &c, const Task &task, const Trained &t, const Inference &inf,
                 const Answers &heldOut) {
  Safetensors st;
  for (size_t k = 0; k < t.names.size(); ++k)
    st.tensors.push_back({t.names[k], t.values[k]});
  examples::NativeSeq2SeqBinary b;
  b.path = c.out + "/" + c.name;
  b.module = inf.module.get();
  b.function = inf.function;
  b.vocabularyJson = task.vocab.toJson();
  b.weights = encodeSafetensors(st).take();
  b.maxSourceLength = longestDate();
  auto start = std::chrono::steady_clock::now();
  examples::buildNativeSeq2Seq(b).check();
  std::printf("wrote %s (compiled and linked in %.1f s)\n", b.path.c_str(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  // The held-out dates and the JIT's answers, to check the native program's against.
  std::string dates, answers;
  for (size_t i = 0; i < task.data.heldOut.size(); ++i) {
    dates += task.data.heldOut[i].human + "\n";
    answers += heldOut.text[i] + "\n";
  }
  writeFileAtomically(c.out + "/held_out_dates.txt", dates).check();
  writeFileAtomically(c.out + "/held_out_answers.txt", answers).check();
}

void printInferenceIR(const TaskConfig &c, const BuildModel &build, const text::Vocabulary &vocab) {
  Graph g(c.name + "_infer");
  std::fputs(ir::print(*inferenceModule(g, build, vocab.size())).c_str(), stdout);
}

void save(const TaskConfig &c, const text::Vocabulary &vocab, const Trained &t) {
  Safetensors st;
  for (size_t k = 0; k < t.names.size(); ++k)
    st.tensors.push_back({t.names[k], t.values[k]});
  std::string weights = c.out + "/" + c.name + ".safetensors";
  writeSafetensors(weights, st).check();
  writeFileAtomically(c.out + "/vocabulary.json", vocab.toJson()).check();
  std::printf("wrote %s and %s/vocabulary.json\n", weights.c_str(), c.out.c_str());
}

double reportHeldOut(const Task &task, const Answers &a, const Trained &t) {
  const std::vector<Example> &held = task.data.heldOut;
  int64_t exact = 0;
  for (size_t i = 0; i < held.size(); ++i)
    exact += a.text[i] == held[i].iso;
  for (size_t i = 0; i < std::min<size_t>(5, held.size()); ++i)
    std::printf("  %-32s -> %s\n", held[i].human.c_str(), a.text[i].c_str());
  double fraction = held.empty() ? 0.0 : double(exact) / double(held.size());
  std::printf("held-out exact dates: %.2f%% (%lld/%zu) after %.0f s of training\n",
              100.0 * fraction, static_cast<long long>(exact), held.size(), t.seconds);
  return fraction;
}

} // namespace weft::examples::dates
