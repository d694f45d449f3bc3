//===- bench/gpu/Runner.cpp - the GPU round's one program -----------------===//
//
// Built by bench/gpu.sh from the bundle's registry.cpp and objects, linked with weft's runtime
// only (no LLVM), and run by the bundle's run.sh on the GPU machine:
//
//   weft-gpu list
//   weft-gpu parity FUNCTION DIR [--device cuda|cpu]   DIR/in<i>.npy against DIR/want<r>.npy
//   weft-gpu bench FUNCTION [--device cuda|cpu] [--seconds S]
//
// parity prints `parity FUNCTION ok (max error E)` or what differs (exit 1); bench prints
// `bench FUNCTION ms M calls N` (the median call, inputs uploaded and results downloaded in
// each). Where the function has no GPU code, both print `skipped FUNCTION: <why>` and exit 3;
// without a GPU, `no CUDA device: ...` and exit 1.
//
//===----------------------------------------------------------------------===//
#include "runtime/Aot.h"
#include "runtime/CudaAot.h"
#include "runtime/Npy.h"
#include "runtime/Random.h"
#include "runtime/train/AotDevice.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

extern const weft_aot_function *const kWeftGpuFunctions[];
extern const size_t kWeftGpuFunctionCount;

namespace {

using namespace weft;

const weft_aot_function *find(const std::string &name) {
  for (size_t i = 0; i < kWeftGpuFunctionCount; ++i)
    if (name == kWeftGpuFunctions[i]->name)
      return kWeftGpuFunctions[i];
  return nullptr;
}

/// Loads `fn` on `device`; exit code 3 (skipped) where it has no GPU code, 1 on other errors.
int load(const weft_aot_function &fn, const std::string &device, train::Function &out) {
  auto f = train::aotFunctionOn(fn, device);
  if (f) {
    out = std::move(*f);
    return 0;
  }
  const std::string &m = f.diag().message;
  if (device == "cuda" && m.rfind("no CUDA device", 0) != 0 && !cuda::aotGpuCodeOf(fn)) {
    std::printf("skipped %s: %s\n", fn.name, m.c_str());
    return 3;
  }
  std::fprintf(stderr, "%s\n", f.diag().str().c_str());
  return 1;
}

int parity(const weft_aot_function &fn, const std::string &dir, const std::string &device) {
  train::Function run;
  if (int rc = load(fn, device, run))
    return rc;
  std::vector<Array> in;
  for (size_t i = 0; i < fn.n_params; ++i) {
    auto a = readNpy(dir + "/in" + std::to_string(i) + ".npy");
    if (!a) {
      std::fprintf(stderr, "%s\n", a.diag().str().c_str());
      return 1;
    }
    in.push_back(std::move(*a));
  }
  auto got = run(in);
  if (!got) {
    std::fprintf(stderr, "parity %s: %s\n", fn.name, got.diag().str().c_str());
    return 1;
  }
  double worst = 0;
  for (size_t r = 0; r < got->size(); ++r) {
    auto want = readNpy(dir + "/want" + std::to_string(r) + ".npy");
    if (!want) {
      std::fprintf(stderr, "%s\n", want.diag().str().c_str());
      return 1;
    }
    const Array &g = (*got)[r];
    if (g.dtype() != want->dtype() || g.shape() != want->shape()) {
      std::printf("parity %s: result %zu is %s%s, the reference's %s%s\n", fn.name, r,
                  std::string(dtypeName(g.dtype())).c_str(), formatShape(g.shape()).c_str(),
                  std::string(dtypeName(want->dtype())).c_str(),
                  formatShape(want->shape()).c_str());
      return 1;
    }
    for (int64_t k = 0; k < g.numel(); ++k) {
      bool same;
      double error = 0;
      if (isFloat(g.dtype())) {
        double a = g.getDouble(k), b = want->getDouble(k);
        // f32 sums in another order than the interpreter's: a relative tolerance.
        error = std::abs(a - b) / std::max(1.0, std::abs(b));
        same = error <= 1e-4 || (std::isnan(a) && std::isnan(b));
      } else {
        same = g.getInt(k) == want->getInt(k);
      }
      worst = std::max(worst, error);
      if (!same) {
        std::printf("parity %s: result %zu element %lld is %.9g, the reference's %.9g\n", fn.name,
                    r, static_cast<long long>(k), g.getDouble(k), want->getDouble(k));
        return 1;
      }
    }
  }
  std::printf("parity %s ok (max relative error %.2e)\n", fn.name, worst);
  return 0;
}

int bench(const weft_aot_function &fn, const std::string &device, double seconds) {
  train::Function run;
  if (int rc = load(fn, device, run))
    return rc;
  // The dims the GPU code was built for (weftc --bind); inputs uniform in [0, 0.1): finite,
  // and valid optimizer state.
  std::vector<int64_t> bound(fn.n_symbols + 1, 0);
  cuda::AotPlan plan;
  if (fn.n_symbols > 0) {
    Status code = cuda::aotGpuCodeOf(fn, &plan);
    if (!code) {
      std::printf("skipped %s: %s\n", fn.name, code.diag().message.c_str());
      return 3;
    }
    for (size_t s = 0; s < fn.n_symbols; ++s)
      for (size_t k = 0; k < plan.symbols.size(); ++k)
        if (plan.symbols[k] == fn.symbols[s])
          bound[s] = plan.symbolValues[k];
  }
  std::vector<Array> in;
  for (size_t i = 0; i < fn.n_params; ++i) {
    const weft_aot_slot &slot = fn.slots[fn.param_slots[i]];
    std::vector<int64_t> shape(static_cast<size_t>(slot.rank));
    weft_aot_slot_shape(&fn, fn.param_slots[i], bound.data(), shape.data());
    Array a(static_cast<DType>(slot.dtype), shape);
    for (int64_t k = 0; k < a.numel(); ++k)
      a.setDouble(k, 0.1 * random::uniformF32(static_cast<int64_t>(i), static_cast<uint64_t>(k)));
    in.push_back(std::move(a));
  }
  std::vector<double> ms;
  auto start = std::chrono::steady_clock::now();
  for (int call = 0;
       call < 3 ||
       (call < 200 &&
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds);
       ++call) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = run(in);
    auto t1 = std::chrono::steady_clock::now();
    if (!r) {
      std::fprintf(stderr, "bench %s: %s\n", fn.name, r.diag().str().c_str());
      return 1;
    }
    if (call > 0) // the first call warms up
      ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("bench %s ms %.4f calls %zu\n", fn.name, ms[ms.size() / 2], ms.size());
  return 0;
}

int usage() {
  std::fprintf(stderr, "usage: weft-gpu list | parity FUNCTION DIR | bench FUNCTION "
                       "[--device cuda|cpu] [--seconds S]\n");
  return 2;
}

} // namespace

int main(int argc, char **argv) try {
  if (argc < 2)
    return usage();
  std::string command = argv[1];
  if (command == "list") {
    for (size_t i = 0; i < kWeftGpuFunctionCount; ++i) {
      Status code = cuda::aotGpuCodeOf(*kWeftGpuFunctions[i]);
      std::printf("%-18s %s\n", kWeftGpuFunctions[i]->name,
                  code ? "GPU code" : code.diag().message.c_str());
    }
    return 0;
  }
  std::vector<std::string> positional;
  std::string device = "cuda";
  double seconds = 3;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--device") == 0 && i + 1 < argc)
      device = argv[++i];
    else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
      seconds = std::atof(argv[++i]);
    else
      positional.push_back(argv[i]);
  }
  if (positional.empty())
    return usage();
  const weft_aot_function *fn = find(positional[0]);
  if (!fn) {
    std::fprintf(stderr, "weft-gpu: no function '%s' (weft-gpu list)\n", positional[0].c_str());
    return 2;
  }
  if (command == "parity" && positional.size() == 2)
    return parity(*fn, positional[1], device);
  if (command == "bench" && positional.size() == 1)
    return bench(*fn, device, seconds);
  return usage();
} catch (const std::exception &e) {
  std::fprintf(stderr, "weft-gpu: %s\n", e.what());
  return 1;
}
