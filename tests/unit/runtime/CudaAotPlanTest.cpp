// The bytes of a function's GPU code (runtime/CudaAotPlan.h) and the loader's answers where it
// cannot run them: every field survives encoding, damaged bytes are refused with a message, and
// a function without usable GPU code says why.
#include "runtime/CudaAotPlan.h"

#include "runtime/CudaAot.h"
#include "runtime/DType.h"

#include <doctest/doctest.h>

#include <string>

namespace runtime_CudaAotPlanTest {

using namespace weft;
using namespace weft::cuda;

namespace {

AotPlan samplePlan() {
  AotPlan p;
  p.function = "f";
  p.sm = "sm_90";
  p.ptx = ".version 8.5\n.target sm_90\n";
  p.kernels = {"k0", "k1"};
  p.symbols = {"B"};
  p.symbolValues = {64};
  p.arenaBytes = 256;
  p.params = {{0, 64}, {64, 64}};
  p.results = {{128, 64}};
  AotPlan::Step launch;
  launch.kind = AotPlan::Step::Kind::Launch;
  launch.kernel = 1;
  launch.buffers = {128, 0, 64};
  launch.scalars = {16, -3};
  launch.blocks = 4;
  launch.threads = 256;
  launch.coResident = true;
  launch.op = "'add' (m.wir:3:5)";
  AotPlan::Step constant;
  constant.kind = AotPlan::Step::Kind::Constant;
  constant.dst = 192;
  constant.data = std::string("\x01\x00\x02", 3);
  constant.op = "'constant' (m.wir:2:5)";
  p.steps = {launch, constant};
  return p;
}

} // namespace

TEST_CASE("GPU code: every field of a plan survives encoding") {
  AotPlan p = samplePlan();
  std::string bytes = encodeAotPlan(p);
  CHECK(encodedAotPlanSize(reinterpret_cast<const unsigned char *>(bytes.data())) == bytes.size());
  auto back = decodeAotPlan(bytes);
  REQUIRE(back);
  CHECK(back->function == "f");
  CHECK(back->ptx == p.ptx);
  CHECK(back->kernels == p.kernels);
  CHECK(back->symbols == p.symbols);
  CHECK(back->symbolValues == p.symbolValues);
  CHECK(back->arenaBytes == 256);
  REQUIRE(back->results.size() == 1);
  CHECK(back->results[0].offset == 128);
  REQUIRE(back->steps.size() == 2);
  CHECK(back->steps[0].scalars == std::vector<int64_t>{16, -3});
  CHECK(back->steps[0].buffers == std::vector<uint64_t>{128, 0, 64});
  CHECK(back->steps[0].threads == 256);
  CHECK(back->steps[0].coResident);
  CHECK_FALSE(back->steps[1].coResident);
  CHECK(back->steps[1].data == p.steps[1].data);
  CHECK(back->steps[1].op == p.steps[1].op);
  CHECK(encodeAotPlan(*back) == bytes);
}

TEST_CASE("GPU code: damaged bytes are refused with a message, never read past their end") {
  std::string bytes = encodeAotPlan(samplePlan());
  for (size_t cut : {size_t(0), size_t(8), size_t(20), bytes.size() / 2, bytes.size() - 1}) {
    CAPTURE(cut);
    auto r = decodeAotPlan(std::string_view(bytes).substr(0, cut));
    REQUIRE_FALSE(r);
  }
  auto foreign = decodeAotPlan("ELF\x7f and more bytes than a header");
  REQUIRE_FALSE(foreign);
  CHECK(foreign.diag().message == "not GPU code (weft's GPU plans start with WEFTGPU1)");
  // A count that claims more elements than the bytes hold.
  std::string huge = bytes;
  size_t kernels = 16 + (8 + 1) + (8 + 0) + (8 + 5) + (8 + samplePlan().ptx.size());
  huge[kernels + 7] = '\x7f';
  REQUIRE_FALSE(decodeAotPlan(huge));
}

TEST_CASE("GPU code: a function without it, or with a reason instead, says so") {
  weft_aot_function fn{};
  fn.name = "decode";
  auto none = aotGpuCodeOf(fn);
  REQUIRE_FALSE(none);
  CHECK(none.diag().message == "@decode was compiled without GPU code (weftc --gpu=sm_90 adds it)");

  AotPlan p;
  p.function = "decode";
  p.unavailable = "'while' is not on the CUDA backend yet";
  std::string bytes = encodeAotPlan(p);
  fn.gpu_code = reinterpret_cast<const unsigned char *>(bytes.data());
  auto why = aotGpuCodeOf(fn);
  REQUIRE_FALSE(why);
  CHECK(why.diag().message == "@decode has no GPU code: 'while' is not on the CUDA backend yet");
}

TEST_CASE("GPU code: a plan that reaches outside its allocation is refused before it runs") {
  AotPlan p = samplePlan();
  p.steps[0].buffers = {1000};
  std::string bytes = encodeAotPlan(p);
  weft_aot_function fn{};
  fn.name = "f";
  fn.n_params = 2;
  fn.n_results = 1;
  fn.gpu_code = reinterpret_cast<const unsigned char *>(bytes.data());
  auto r = aotGpuCodeOf(fn);
  REQUIRE_FALSE(r);
  CHECK(r.diag().message == "the GPU code's step for 'add' (m.wir:3:5) reaches outside its "
                            "allocation");
  p = samplePlan();
  bytes = encodeAotPlan(p);
  fn.gpu_code = reinterpret_cast<const unsigned char *>(bytes.data());
  CHECK(aotGpuCodeOf(fn));
}

TEST_CASE("GPU code: a loop's checks that jump backwards or read wrongly are refused") {
  auto refused = [](const AotPlan::Step &step, bool first) {
    AotPlan p = samplePlan();
    p.steps.insert(first ? p.steps.begin() : p.steps.end(), step);
    auto decoded = decodeAotPlan(encodeAotPlan(p));
    REQUIRE_FALSE(decoded);
    return decoded.diag().message;
  };
  AotPlan::Step loop;
  loop.kind = AotPlan::Step::Kind::WhileCheck;
  loop.op = "'while'";
  loop.scalars = {0, 0}; // back to the first step: it would never end
  CHECK(refused(loop, false) == "the GPU code's loop check for 'while' jumps outside the plan");
  loop.scalars = {0, 1 << 20};
  CHECK(refused(loop, true) == "the GPU code's loop check for 'while' jumps outside the plan");
  AotPlan::Step lengths;
  lengths.kind = AotPlan::Step::Kind::LengthsCheck;
  lengths.op = "'scan'";
  lengths.bytes = 8;
  lengths.scalars = {static_cast<int64_t>(DType::F32), 3};
  CHECK(refused(lengths, true) == "the GPU code's lengths check for 'scan' is malformed");
  lengths.scalars = {static_cast<int64_t>(DType::I64), 3};
  lengths.bytes = 12;
  CHECK(refused(lengths, true) == "the GPU code's lengths check for 'scan' is malformed");

  // Well formed, but reading or writing past the allocation: refused by the loader.
  loop.scalars = {0, 2};
  loop.src = 0;
  loop.bytes = 4;
  loop.dst = 252; // the trip count is 8 bytes
  AotPlan p = samplePlan();
  p.steps.insert(p.steps.begin(), loop);
  std::string bytes = encodeAotPlan(p);
  REQUIRE(decodeAotPlan(bytes));
  weft_aot_function fn{};
  fn.name = "f";
  fn.n_params = 2;
  fn.n_results = 1;
  fn.gpu_code = reinterpret_cast<const unsigned char *>(bytes.data());
  auto r = aotGpuCodeOf(fn);
  REQUIRE_FALSE(r);
  CHECK(r.diag().message == "the GPU code's step for 'while' reaches outside its allocation");
}

TEST_CASE("GPU code: all_reduce and division checks survive encoding; malformed ones are refused") {
  AotPlan p = samplePlan();
  AotPlan::Step reduce;
  reduce.kind = AotPlan::Step::Kind::AllReduce;
  reduce.op = "'all_reduce'";
  reduce.src = 0;
  reduce.dst = 128;
  reduce.bytes = 64;
  reduce.scalars = {static_cast<int64_t>(DType::F32), 0, 1};
  AotPlan::Step division;
  division.kind = AotPlan::Step::Kind::DivisionCheck;
  division.op = "'div'";
  division.src = 192;
  division.data = "i32[16]";
  p.steps.push_back(reduce);
  p.steps.push_back(division);
  auto back = decodeAotPlan(encodeAotPlan(p));
  REQUIRE(back);
  REQUIRE(back->steps.size() == 4);
  CHECK(back->steps[2].kind == AotPlan::Step::Kind::AllReduce);
  CHECK(back->steps[2].scalars == reduce.scalars);
  CHECK(back->steps[3].kind == AotPlan::Step::Kind::DivisionCheck);
  CHECK(back->steps[3].data == "i32[16]");

  auto refused = [](const AotPlan::Step &step) {
    AotPlan q = samplePlan();
    q.steps.push_back(step);
    auto decoded = decodeAotPlan(encodeAotPlan(q));
    REQUIRE_FALSE(decoded);
    return decoded.diag().message;
  };
  const std::string malformed = "the GPU code's all_reduce for 'all_reduce' is malformed";
  AotPlan::Step bad = reduce;
  bad.scalars = {static_cast<int64_t>(DType::I32), 0, 0}; // the collective reduces floats only
  CHECK(refused(bad) == malformed);
  bad.scalars = {static_cast<int64_t>(DType::F64), 0, 0};
  bad.bytes = 12; // not whole f64s
  CHECK(refused(bad) == malformed);
  bad.scalars = {static_cast<int64_t>(DType::F32)};
  CHECK(refused(bad) == malformed);

  // Well formed, but past the allocation: refused by the loader before anything runs.
  weft_aot_function fn{};
  fn.name = "f";
  fn.n_params = 2;
  fn.n_results = 1;
  for (bool divisionPast : {false, true}) {
    CAPTURE(divisionPast);
    AotPlan q = p;
    if (divisionPast)
      q.steps[3].src = 250; // the word is 8 bytes
    else
      q.steps[2].dst = 200;
    std::string bytes = encodeAotPlan(q);
    fn.gpu_code = reinterpret_cast<const unsigned char *>(bytes.data());
    auto r = aotGpuCodeOf(fn);
    REQUIRE_FALSE(r);
    CHECK(r.diag().message.find("reaches outside its allocation") != std::string::npos);
  }
}

} // namespace runtime_CudaAotPlanTest
