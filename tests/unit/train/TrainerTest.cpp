#include "runtime/train/Trainer.h"

#include "backends/cpu/CpuBackend.h"
#include "ir/Parser.h"
#include "runtime/train/StepLayout.h"
#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace train_TrainerTest {

using namespace weft;
using namespace weft::train;

namespace {

constexpr float kTrueW[3] = {1.0f, -2.0f, 0.5f};

/// N examples of y = x . kTrueW with x from sin: a linear regression with an exact answer.
Dataset regression(int64_t n) {
  Array x(DType::F32, {n, 3}), y(DType::F32, {n});
  for (int64_t i = 0; i < n; ++i) {
    float dot = 0;
    for (int64_t k = 0; k < 3; ++k) {
      float v = std::sin(0.7f * float(k + 1) * float(i) + float(k));
      x.data<float>()[i * 3 + k] = v;
      dot += v * kTrueW[k];
    }
    y.data<float>()[i] = dot;
  }
  Dataset d;
  d.add("x", std::move(x)).check();
  d.add("y", std::move(y)).check();
  return d;
}

/// The step's layout: w (arg 0 -> result 1, gradient result 3), momentum v (arg 1 -> result 2),
/// x (arg 2), y (arg 3), the step number (arg 4); the loss is result 0.
StepLayout momentumLayout() {
  StepLayout l;
  l.numArgs = 5;
  l.params = {{"w", 0, 1, 3}};
  l.state = {{"v", 1, 2, std::nullopt}};
  l.batch = {{"x", 2}, {"y", 3}};
  l.stepArg = 4;
  l.lossResult = 0;
  return l;
}

/// SGD with momentum on the mean squared error, written in C++: a step function whose every
/// number is known. `seen` records each call's step number and batch size.
Function momentumStep(float lr, std::vector<std::pair<int64_t, int64_t>> *seen = nullptr) {
  return [=](std::span<const Array> a) -> Expected<std::vector<Array>> {
    const Array &w = a[0], &v = a[1], &x = a[2], &y = a[3];
    const int64_t B = x.shape()[0];
    if (seen)
      seen->emplace_back(a[4].getInt(0), B);
    Array g(DType::F32, {3}), w2(DType::F32, {3}), v2(DType::F32, {3});
    float loss = 0;
    for (int64_t i = 0; i < B; ++i) {
      float e = -y.data<float>()[i];
      for (int64_t k = 0; k < 3; ++k)
        e += x.data<float>()[i * 3 + k] * w.data<float>()[k];
      loss += e * e / float(B);
      for (int64_t k = 0; k < 3; ++k)
        g.data<float>()[k] += 2 * e * x.data<float>()[i * 3 + k] / float(B);
    }
    for (int64_t k = 0; k < 3; ++k) {
      v2.data<float>()[k] = 0.9f * v.data<float>()[k] + g.data<float>()[k];
      w2.data<float>()[k] = w.data<float>()[k] - lr * v2.data<float>()[k];
    }
    return std::vector<Array>{Array::of<float>({}, {loss}), w2, v2, g};
  };
}

TrainOptions quiet(int64_t epochs, int64_t batch = 8, int64_t seed = 5) {
  TrainOptions o;
  o.epochs = epochs;
  o.batching = {.batchSize = batch, .shuffle = true, .dropLast = false, .seed = seed};
  o.progress = Progress::Off;
  return o;
}

Trainer momentumTrainer(TrainOptions o, float lr = 0.05f) {
  auto t = Trainer::make(momentumStep(lr), momentumLayout(), {Array(DType::F32, {3})},
                         {Array(DType::F32, {3})}, std::move(o));
  REQUIRE_OK(t);
  return std::move(*t);
}

bool sameBits(const Array &a, const Array &b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

std::string slurp(const std::string &path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

} // namespace

TEST_CASE("the trainer fits a linear regression with a step written in C++") {
  Trainer t = momentumTrainer(quiet(30));
  auto h = t.fit(regression(64));
  REQUIRE_OK(h);
  CHECK(h->losses.size() == 30 * 8);
  CHECK(h->losses.back() < 1e-4 * h->losses.front());
  for (int k = 0; k < 3; ++k)
    CHECK(t.params()[0].data<float>()[k] == doctest::Approx(kTrueW[k]).epsilon(1e-3));
  CHECK(t.position().step == 240);
  CHECK(t.position().epoch == 30);
}

TEST_CASE("the step sees each step number once and the last batch of an epoch partial") {
  std::vector<std::pair<int64_t, int64_t>> seen;
  auto t = Trainer::make(momentumStep(0.01f, &seen), momentumLayout(), {Array(DType::F32, {3})},
                         {Array(DType::F32, {3})}, quiet(2, 4));
  REQUIRE_OK(t);
  REQUIRE_OK(t->fit(regression(10)));
  std::vector<std::pair<int64_t, int64_t>> expected{{0, 4}, {1, 4}, {2, 2}, {3, 4}, {4, 4}, {5, 2}};
  CHECK(seen == expected);
}

TEST_CASE("the same seed gives a bit-identical loss curve; another seed another one") {
  Trainer a = momentumTrainer(quiet(3)), b = momentumTrainer(quiet(3)),
          c = momentumTrainer(quiet(3, 8, 6));
  auto ha = a.fit(regression(40)), hb = b.fit(regression(40)), hc = c.fit(regression(40));
  REQUIRE_OK(ha);
  REQUIRE_OK(hb);
  REQUIRE_OK(hc);
  CHECK(ha->losses == hb->losses); // == on doubles: bit-identical (none is NaN)
  CHECK(ha->losses != hc->losses);
}

TEST_CASE("resuming mid-epoch continues exactly as a run that never stopped") {
  const Dataset data = regression(30); // 4 batches of 8 per epoch, the last of 6
  Trainer whole = momentumTrainer(quiet(3));
  auto hw = whole.fit(data);
  REQUIRE_OK(hw);

  TrainOptions first = quiet(3);
  first.maxSteps = 6; // stops in the middle of epoch 1
  Trainer stopped = momentumTrainer(first);
  auto h1 = stopped.fit(data);
  REQUIRE_OK(h1);
  CHECK(stopped.position().step == 6);
  CHECK(stopped.position().epoch == 1);
  CHECK(stopped.position().batchInEpoch == 2);

  Trainer resumed = momentumTrainer(quiet(3));
  REQUIRE_OK(resumed.resume(stopped.params(), stopped.state(), stopped.position()));
  auto h2 = resumed.fit(data);
  REQUIRE_OK(h2);
  std::vector<double> joined = h1->losses;
  joined.insert(joined.end(), h2->losses.begin(), h2->losses.end());
  CHECK(joined == hw->losses);
  CHECK(sameBits(resumed.params()[0], whole.params()[0]));
  CHECK(sameBits(resumed.state()[0], whole.state()[0]));
}

TEST_CASE("a non-finite loss stops training naming the step and the parameter") {
  // Step 3's gradient (result 3) is infinite, and so the loss.
  Function inner = momentumStep(0.05f);
  Function broken = [&](std::span<Array> a) -> Expected<std::vector<Array>> {
    auto r = inner(a);
    if (r && a[4].getInt(0) == 3) {
      (*r)[0] = Array::of<float>({}, {NAN});
      (*r)[3] = Array::of<float>({3}, {1.0f, INFINITY, 1.0f});
    }
    return r;
  };
  auto t = Trainer::make(broken, momentumLayout(), {Array(DType::F32, {3})},
                         {Array(DType::F32, {3})}, quiet(5));
  REQUIRE_OK(t);
  auto h = t->fit(regression(16));
  REQUIRE_FALSE(h);
  CHECK(h.diag().message == "step 3: the loss is nan; the first parameter whose gradient is not "
                            "finite is 'w' (OnNonFinite::Skip skips such steps)");
  CHECK(t->position().step == 3);
  CHECK(std::isfinite(t->params()[0].getDouble(0))); // the values from before step 3

  // A loss that overflows while the gradient is still finite says so.
  auto u = Trainer::make(momentumStep(1e19f), momentumLayout(), {Array(DType::F32, {3})},
                         {Array(DType::F32, {3})}, quiet(5));
  REQUIRE_OK(u);
  auto hu = u->fit(regression(16));
  REQUIRE_FALSE(hu);
  CHECK(hu.diag().message == "step 1: the loss is inf; every parameter's gradient is finite "
                             "(OnNonFinite::Skip skips such steps)");
}

TEST_CASE("OnNonFinite::Skip leaves parameters and state as they were and goes on") {
  // Loss NaN on step 2 only; the trainer must skip it and leave w, v untouched by it.
  Function inner = momentumStep(0.05f);
  Function flaky = [&](std::span<Array> a) -> Expected<std::vector<Array>> {
    auto r = inner(a);
    if (r && a[4].getInt(0) == 2) {
      (*r)[0] = Array::of<float>({}, {NAN});
      (*r)[1] = Array::of<float>({3}, {NAN, NAN, NAN});
    }
    return r;
  };
  TrainOptions o = quiet(1);
  o.onNonFinite = OnNonFinite::Skip;
  o.maxSteps = 2;
  auto before =
      Trainer::make(flaky, momentumLayout(), {Array(DType::F32, {3})}, {Array(DType::F32, {3})}, o);
  REQUIRE_OK(before);
  REQUIRE_OK(before->fit(regression(40)));
  o.maxSteps = 3;
  auto t =
      Trainer::make(flaky, momentumLayout(), {Array(DType::F32, {3})}, {Array(DType::F32, {3})}, o);
  REQUIRE_OK(t);
  auto h = t->fit(regression(40));
  REQUIRE_OK(h);
  CHECK(h->skippedSteps == 1);
  CHECK(h->losses.size() == 2);
  CHECK(sameBits(t->params()[0], before->params()[0]));
  CHECK(sameBits(t->state()[0], before->state()[0]));
  CHECK(t->position().step == 3);
}

TEST_CASE("held-out metrics are means over examples, batches weighted by their size") {
  Trainer t = momentumTrainer(quiet(2, 4));
  Evaluation e;
  e.numArgs = 2;
  e.paramArgs = {0};
  e.batch = {{"y", 1}};
  e.metrics = {"mean_y"};
  e.function = [](std::span<const Array> a) -> Expected<std::vector<Array>> {
    double s = 0;
    for (int64_t i = 0; i < a[1].numel(); ++i)
      s += a[1].getDouble(i);
    return std::vector<Array>{Array::of<double>({}, {s / double(a[1].numel())})};
  };
  t.evaluateWith(e);
  Dataset all = regression(20);
  auto parts = all.split(0.25); // 5 held-out examples: batches of 4 and 1
  REQUIRE_OK(parts);
  auto h = t.fit(parts->first, &parts->second);
  REQUIRE_OK(h);
  REQUIRE(h->eval.size() == 2);
  double expected = 0;
  for (int64_t i = 0; i < 5; ++i)
    expected += parts->second.array(1).getDouble(i) / 5.0;
  CHECK(h->eval[0][0] == doctest::Approx(expected).epsilon(1e-12));
}

TEST_CASE("progress is plain lines off a terminal and a redrawn bar on one") {
  for (Progress style : {Progress::Lines, Progress::Bar}) {
    char *buf = nullptr;
    size_t len = 0;
    std::FILE *out = open_memstream(&buf, &len);
    REQUIRE(out != nullptr);
    TrainOptions o = quiet(2, 4);
    o.progress = style;
    o.out = out;
    o.lineEvery = 2;
    Trainer t = momentumTrainer(o);
    REQUIRE_OK(t.fit(regression(10)));
    std::fclose(out);
    std::string text(buf, len);
    std::free(buf);
    CHECK(text.find("epoch 2/2: 3 steps, loss ") != std::string::npos);
    if (style == Progress::Lines) {
      CHECK(text.find('\r') == std::string::npos);
      CHECK(text.find("epoch 1/2 step 2 batch 2/3 loss") != std::string::npos);
    } else {
      CHECK(text.find("\repoch 1/2 [") != std::string::npos);
      CHECK(text.find("ETA") != std::string::npos);
    }
  }
}

TEST_CASE("metrics go to a CSV and the loss curve to an SVG, both rewritten each epoch") {
  auto dir =
      std::filesystem::temp_directory_path() / ("weft-trainer-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  TrainOptions o = quiet(2, 4);
  o.metricsCsv = (dir / "metrics.csv").string();
  o.lossSvg = (dir / "loss.svg").string();
  Trainer t = momentumTrainer(o);
  auto h = t.fit(regression(10));
  REQUIRE_OK(h);
  std::string csv = slurp(o.metricsCsv);
  CHECK(csv.rfind("step,epoch,split,metric,value\n0,0,train,loss,", 0) == 0);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 6 + 2); // header, 6 losses, 2 ex/s
  CHECK(csv.find("\n3,0,train,examples_per_second,") != std::string::npos);
  std::string svg = slurp(o.lossSvg);
  CHECK(svg.rfind("<svg ", 0) == 0);
  CHECK(svg.find("<polyline") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a layout that does not fit its function is refused before training") {
  StepLayout l = momentumLayout();
  l.batch[1].arg = 2; // x and y both argument 2
  auto t = Trainer::make(momentumStep(0.1f), l, {Array(DType::F32, {3})}, {Array(DType::F32, {3})},
                         quiet(1));
  REQUIRE_FALSE(t);
  CHECK(t.diag().message == "'x' and 'y' are both argument 2");
  auto u =
      Trainer::make(momentumStep(0.1f), momentumLayout(), {}, {Array(DType::F32, {3})}, quiet(1));
  REQUIRE_FALSE(u);
  CHECK(u.diag().message == "the step carries 1 parameters, but 0 initial values were given");
  Trainer v = momentumTrainer(quiet(1));
  Dataset wrong;
  REQUIRE_OK(wrong.add("x", Array(DType::F32, {4, 3})));
  auto h = v.fit(wrong);
  REQUIRE_FALSE(h);
  CHECK(h.diag().message == "dataset has no array named 'y' (it has: x)");
}

TEST_CASE("a step compiled by the JIT trains through the same loop") {
  // SGD on the summed squared error of y = x w; the loss reported is the mean.
  const char *text = R"(
func @step(%w: tensor<3 x 1 x f32>, %x: tensor<B x 3 x f32>, %y: tensor<B x 1 x f32>) -> (tensor<f32>, tensor<3 x 1 x f32>) {
  %p = matmul %x, %w : tensor<B x 1 x f32>
  %e = sub %p, %y : tensor<B x 1 x f32>
  %e2 = mul %e, %e : tensor<B x 1 x f32>
  %loss = reduce_mean %e2 {axes = [0, 1]} : tensor<f32>
  %xt = transpose %x {perm = [1, 0]} : tensor<3 x B x f32>
  %g = matmul %xt, %e : tensor<3 x 1 x f32>
  %lr = constant {value = [0.02]} : tensor<3 x 1 x f32>
  %d = mul %g, %lr : tensor<3 x 1 x f32>
  %w2 = sub %w, %d : tensor<3 x 1 x f32>
  return %loss, %w2
}
)";
  auto m = ir::parseModule(text, "step.wir");
  REQUIRE_OK(m);
  auto exe = cpu::compile(**m);
  REQUIRE_OK(exe);
  Function step = [&](std::span<const Array> a) { return (*exe)->run("step", a); };
  StepLayout l;
  l.numArgs = 3;
  l.params = {{"w", 0, 1, std::nullopt}};
  l.batch = {{"x", 1}, {"y", 2}};
  Dataset data = regression(48);
  Dataset d;
  REQUIRE_OK(d.add("x", data.array(0)));
  Array y = data.array(1);
  REQUIRE_OK(d.add(
      "y", Array::of<float>({48, 1}, std::vector<float>(y.data<float>(), y.data<float>() + 48))));
  auto t = Trainer::make(step, l, {Array(DType::F32, {3, 1})}, {}, quiet(25));
  REQUIRE_OK(t);
  auto h = t->fit(d);
  REQUIRE_OK(h);
  CHECK(h->losses.back() < 1e-4 * h->losses.front());
  for (int k = 0; k < 3; ++k)
    CHECK(t->params()[0].getDouble(k) == doctest::Approx(kTrueW[k]).epsilon(1e-3));
}

TEST_CASE("an optimize-step function's layout follows from its names") {
  auto l = stepLayoutFromNames({"enc.W", "b", "enc.W.exp_avg", "enc.W.exp_avg_sq", "b.exp_avg",
                                "b.exp_avg_sq", "xs", "ys", "step"},
                               {"loss", "enc.W.new", "b.new", "enc.W.exp_avg.new",
                                "enc.W.exp_avg_sq.new", "b.exp_avg.new", "b.exp_avg_sq.new"});
  REQUIRE_OK(l);
  CHECK(l->numArgs == 9);
  REQUIRE(l->params.size() == 2);
  CHECK(l->params[0].name == "enc.W");
  CHECK(l->params[0].arg == 0);
  CHECK(l->params[0].result == 1);
  CHECK(l->params[1].name == "b");
  CHECK(l->params[1].result == 2);
  REQUIRE(l->state.size() == 4);
  CHECK(l->state[1].name == "enc.W.exp_avg_sq");
  CHECK(l->state[1].arg == 3);
  CHECK(l->state[1].result == 4);
  REQUIRE(l->batch.size() == 2);
  CHECK(l->batch[1].name == "ys");
  CHECK(l->batch[1].arg == 7);
  CHECK(l->stepArg == std::optional<size_t>(8));

  auto notStep = stepLayoutFromNames({"x"}, {"y"});
  REQUIRE_FALSE(notStep);
  CHECK(notStep.diag().message.find("not a training step") != std::string::npos);
  auto orphan = stepLayoutFromNames({"x"}, {"loss", "W.new"});
  REQUIRE_FALSE(orphan);
  CHECK(orphan.diag().message == "result 1 is named 'W.new', but the step takes no argument 'W'");
}

TEST_CASE("a run resumed from its newest checkpoint ends bit-identical to one never stopped") {
  auto dir =
      std::filesystem::temp_directory_path() / ("weft-trainer-ckpt-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const Dataset data = regression(30); // 4 batches per epoch
  Trainer whole = momentumTrainer(quiet(3));
  REQUIRE_OK(whole.fit(data));

  TrainOptions first = quiet(3);
  first.checkpointDir = dir.string();
  first.checkpointEvery = 1;
  first.maxSteps = 7; // dies, say, during step 8: the newest checkpoint is after step 7
  Trainer stopped = momentumTrainer(first);
  REQUIRE_OK(stopped.fit(data));

  TrainOptions again = quiet(3);
  again.checkpointDir = dir.string();
  Trainer resumed = momentumTrainer(again);
  auto found = resumed.resumeFromCheckpoint();
  REQUIRE_OK(found);
  CHECK(*found);
  CHECK(resumed.position().step == 7);
  CHECK(resumed.position().epoch == 1);
  CHECK(resumed.position().batchInEpoch == 3);
  REQUIRE_OK(resumed.fit(data));
  CHECK(sameBits(resumed.params()[0], whole.params()[0]));
  CHECK(sameBits(resumed.state()[0], whole.state()[0]));

  // A checkpoint of another model: every mismatch on its own line.
  StepLayout other = momentumLayout();
  other.params[0].name = "encoder.W";
  auto t = Trainer::make(momentumStep(0.1f), other, {Array(DType::F32, {3})},
                         {Array(DType::F32, {3})}, again);
  REQUIRE_OK(t);
  auto refused = t->resumeFromCheckpoint();
  REQUIRE_FALSE(refused);
  CHECK(refused.diag().message.find("encoder.W") != std::string::npos);
  std::filesystem::remove_all(dir);
}

} // namespace train_TrainerTest
