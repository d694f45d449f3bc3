//===- tests/unit/runtime/CheckpointTest.cpp - training state on disk -----===//
#include "runtime/Checkpoint.h"

#include "tests/unit/RequireOk.h"

#include <doctest/doctest.h>

#include <cstring>
#include <filesystem>
#include <unistd.h>

namespace weft::runtime_CheckpointTest {
namespace {

namespace fs = std::filesystem;

/// A fresh empty directory under the system temp dir.
fs::path tempDir() {
  fs::path d = fs::temp_directory_path() / ("weft-checkpoint-test-" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

Checkpoint sample() {
  Checkpoint c;
  c.step = 42;
  c.rng = {-7, (uint64_t(1) << 63) + 5};
  c.params.push_back({"fc.weight", Array::of<float>({2, 2}, {1.f, -2.f, 0.5f, 3.f})});
  c.params.push_back({"fc.bias", Array::of<float>({2}, {0.25f, -0.125f})});
  c.optimizerState.push_back({"fc.weight.momentum", Array(DType::F32, {2, 2})});
  c.optimizerState.push_back({"count", Array::of<int64_t>({}, {3})});
  c.metadata = {{"model", "tiny"}};
  return c;
}

bool same(const Array &a, const Array &b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.data(), b.data(), a.nbytes()) == 0;
}

CheckpointSpec specOf(const Checkpoint &c) {
  return {specsOf(c.params), specsOf(c.optimizerState)};
}

} // namespace

TEST_CASE("a checkpoint saves and loads params, optimizer state, step, RNG and metadata") {
  fs::path dir = tempDir();
  std::string path = (dir / "c.safetensors").string();
  Checkpoint c = sample();
  REQUIRE_OK(saveCheckpoint(path, c));
  auto back = loadCheckpoint(path, specOf(c));
  REQUIRE_OK(back);
  CHECK(back->step == 42);
  CHECK(back->rng == c.rng);
  CHECK(back->metadata == c.metadata);
  REQUIRE(back->params.size() == 2);
  REQUIRE(back->optimizerState.size() == 2);
  for (size_t i = 0; i < 2; ++i) { // in the model's order
    CHECK(back->params[i].name == c.params[i].name);
    CHECK(same(back->params[i].array, c.params[i].array));
    CHECK(back->optimizerState[i].name == c.optimizerState[i].name);
    CHECK(same(back->optimizerState[i].array, c.optimizerState[i].array));
  }
  // The file is plain safetensors: parameters under their own names, the rest in the metadata.
  auto st = readSafetensors(path);
  REQUIRE_OK(st);
  CHECK(st->find("fc.weight"));
  CHECK(st->find("optimizer/count"));
  CHECK(st->metadata.at("weft.step") == "42");
  CHECK(st->metadata.at("weft.rng.counter") == "9223372036854775813");
  fs::remove_all(dir);
}

TEST_CASE("loading against the model reports every mismatch, one line each") {
  fs::path dir = tempDir();
  std::string path = (dir / "c.safetensors").string();
  REQUIRE_OK(saveCheckpoint(path, sample()));
  CheckpointSpec spec = specOf(sample());
  spec.params[0].shape = {2, 3};                          // fc.weight: shape
  spec.params[1].dtype = DType::F64;                      // fc.bias: dtype
  spec.params.push_back({"fc2.weight", DType::F32, {4}}); // missing
  spec.optimizerState.pop_back();                         // count: unexpected
  spec.optimizerState[0].shape = {4};
  spec.optimizerState[0].dtype = DType::F64; // both
  auto r = loadCheckpoint(path, spec);
  REQUIRE(!r.isOk());
  CHECK(r.diag().message == "checkpoint '" + path +
                                "' does not match the model:\n"
                                "  parameter 'fc.weight': shape [2, 2] in the checkpoint, [2, 3] "
                                "in the model\n"
                                "  parameter 'fc.bias': dtype f32 in the checkpoint, f64 in the "
                                "model\n"
                                "  missing parameter 'fc2.weight' (f32[4])\n"
                                "  optimizer state 'fc.weight.momentum': f32[2, 2] in the "
                                "checkpoint, f64[4] in the model\n"
                                "  unexpected optimizer state 'count' (i64[])");
  fs::remove_all(dir);
}

TEST_CASE("a checkpoint of another model gives one line that says what to do") {
  fs::path dir = tempDir();
  std::string path = (dir / "c.safetensors").string();
  REQUIRE_OK(saveCheckpoint(path, sample()));
  CheckpointSpec other{{{"encoder.weight", DType::F32, {3}}, {"decoder.weight", DType::F32, {3}}},
                       {}};
  auto r = loadCheckpoint(path, other);
  REQUIRE(!r.isOk());
  CHECK(r.diag().message.find('\n') == std::string::npos);
  CHECK(r.diag().message.find("is a checkpoint of another model") != std::string::npos);
  CHECK(r.diag().message.find("load one that this model saved, or start without one") !=
        std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("a safetensors file that is not a checkpoint, or bad step metadata, is an error") {
  fs::path dir = tempDir();
  std::string path = (dir / "w.safetensors").string();
  Safetensors st;
  st.tensors.push_back({"w", Array(DType::F32, {1})});
  REQUIRE_OK(writeSafetensors(path, st));
  CHECK(loadCheckpoint(path).diag().message.find("not a weft checkpoint") != std::string::npos);
  st.metadata = {{"weft.format", "checkpoint-1"}, {"weft.step", "12x"}};
  REQUIRE_OK(writeSafetensors(path, st));
  CHECK(loadCheckpoint(path).diag().message.find("\"weft.step\" is '12x', not a 64-bit integer") !=
        std::string::npos);
  st.metadata = {{"weft.format", "checkpoint-9"}};
  REQUIRE_OK(writeSafetensors(path, st));
  CHECK(loadCheckpoint(path).diag().message.find("format 'checkpoint-9'") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("saving refuses reserved metadata keys and parameter names") {
  fs::path dir = tempDir();
  std::string path = (dir / "c.safetensors").string();
  Checkpoint c = sample();
  c.metadata["weft.step"] = "1";
  CHECK(saveCheckpoint(path, c).diag().message.find("reserves") != std::string::npos);
  c = sample();
  c.params[0].name = "optimizer/x";
  CHECK(saveCheckpoint(path, c).diag().message.find("optimizer state") != std::string::npos);
  CHECK(fs::is_empty(dir));
  fs::remove_all(dir);
}

TEST_CASE("a folder keeps the newest N checkpoints and finds the newest") {
  fs::path dir = tempDir();
  auto newest = newestCheckpointIn(dir.string(), "ckpt");
  REQUIRE_OK(newest);
  CHECK(newest->empty());
  Checkpoint c = sample();
  for (int64_t step : {9, 10, 11, 12}) {
    c.step = step;
    REQUIRE_OK(saveCheckpointIn(dir.string(), "ckpt", c, /*keepLast=*/2));
  }
  // Leftovers of an interrupted write and other files are not checkpoints.
  std::fclose(std::fopen((dir / "ckpt-0000000099.safetensors.tmp.abcdef").c_str(), "w"));
  std::fclose(std::fopen((dir / "other-0000000100.safetensors").c_str(), "w"));
  CHECK(!fs::exists(dir / "ckpt-0000000009.safetensors"));
  CHECK(!fs::exists(dir / "ckpt-0000000010.safetensors"));
  CHECK(fs::exists(dir / "ckpt-0000000011.safetensors"));
  newest = newestCheckpointIn(dir.string(), "ckpt");
  REQUIRE_OK(newest);
  CHECK(*newest == (dir / "ckpt-0000000012.safetensors").string());
  auto loaded = loadCheckpoint(*newest);
  REQUIRE_OK(loaded);
  CHECK(loaded->step == 12);
  fs::remove_all(dir);
}

} // namespace weft::runtime_CheckpointTest
