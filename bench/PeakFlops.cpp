//===- bench/PeakFlops.cpp - independent FMA chains per vector width -------===//
//
// Each kernel keeps kChains accumulators (enough independent chains to cover
// the FMA latency times the number of FMA pipes on current x86 cores) and
// updates each with acc = acc * m + a per iteration. m and a keep the values
// finite and normal, and the sum of the accumulators is returned so that
// nothing is optimized away. One iteration is kChains * lanes * 2 flops.
//
//===----------------------------------------------------------------------===//
#include "bench/PeakFlops.h"

#include "bench/BenchTiming.h"

#include <cstdint>
#include <immintrin.h>
#include <thread>
#include <vector>

namespace weft::bench {

namespace {

/// 12 chains: AVX-512 has 32 registers, so accumulators and constants all stay in them.
constexpr int kChains512 = 12;
/// 10 chains: AVX2 has 16 registers, 2 of them hold m and a.
constexpr int kChains256 = 10;

__attribute__((target("avx512f"))) float fma512(int64_t iters) {
  __m512 acc[kChains512];
  for (int c = 0; c < kChains512; ++c)
    acc[c] = _mm512_set1_ps(static_cast<float>(c));
  const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-6f);
  for (int64_t i = 0; i < iters; ++i)
    for (int c = 0; c < kChains512; ++c)
      acc[c] = _mm512_fmadd_ps(acc[c], m, a);
  __m512 s = acc[0];
  for (int c = 1; c < kChains512; ++c)
    s = _mm512_add_ps(s, acc[c]);
  // Through memory: GCC 12's _mm512_reduce_add_ps trips -Wuninitialized in its own header.
  alignas(64) float out[16];
  _mm512_store_ps(out, s);
  float r = 0;
  for (float v : out)
    r += v;
  return r;
}

__attribute__((target("avx2,fma"))) float fma256(int64_t iters) {
  __m256 acc[kChains256];
  for (int c = 0; c < kChains256; ++c)
    acc[c] = _mm256_set1_ps(static_cast<float>(c));
  const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-6f);
  for (int64_t i = 0; i < iters; ++i)
    for (int c = 0; c < kChains256; ++c)
      acc[c] = _mm256_fmadd_ps(acc[c], m, a);
  __m256 s = acc[0];
  for (int c = 1; c < kChains256; ++c)
    s = _mm256_add_ps(s, acc[c]);
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  float r = 0;
  for (float v : out)
    r += v;
  return r;
}

/// SSE2 has no FMA: a multiply and an add count as the same 2 flops.
float mulAdd128(int64_t iters) {
  __m128 acc[kChains256];
  for (int c = 0; c < kChains256; ++c)
    acc[c] = _mm_set1_ps(static_cast<float>(c));
  const __m128 m = _mm_set1_ps(0.999999f), a = _mm_set1_ps(1e-6f);
  for (int64_t i = 0; i < iters; ++i)
    for (int c = 0; c < kChains256; ++c)
      acc[c] = _mm_add_ps(_mm_mul_ps(acc[c], m), a);
  alignas(16) float out[4];
  __m128 s = acc[0];
  for (int c = 1; c < kChains256; ++c)
    s = _mm_add_ps(s, acc[c]);
  _mm_store_ps(out, s);
  return out[0] + out[1] + out[2] + out[3];
}

struct Kernel {
  const char *isa;
  float (*run)(int64_t iters);
  double flopsPerIter;
};

Kernel widestKernel() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f"))
    return {"avx512f", fma512, kChains512 * 16 * 2.0};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {"avx2+fma", fma256, kChains256 * 8 * 2.0};
  return {"sse2", mulAdd128, kChains256 * 4 * 2.0};
}

} // namespace

PeakFlops measurePeakFlops(int threads, double seconds, int runs) {
  Kernel k = widestKernel();
  // Calibrate the iteration count on one thread, after a warm-up that lets clocks settle.
  int64_t iters = 1 << 16;
  volatile float sink = k.run(iters);
  double t = timeOnce([&] { sink = k.run(iters); });
  iters = std::max<int64_t>(iters, static_cast<int64_t>(iters * seconds / std::max(t, 1e-9)));
  std::vector<double> rates;
  for (int r = 0; r < runs; ++r) {
    std::vector<float> sums(static_cast<size_t>(threads));
    double wall = timeOnce([&] {
      std::vector<std::thread> workers;
      for (int w = 1; w < threads; ++w)
        workers.emplace_back([&, w] { sums[static_cast<size_t>(w)] = k.run(iters); });
      sums[0] = k.run(iters);
      for (std::thread &w : workers)
        w.join();
    });
    sink = sums[0];
    rates.push_back(k.flopsPerIter * static_cast<double>(iters) * threads / wall * 1e-9);
  }
  (void)sink;
  // The best run: other processes only ever slow a run down, so the fastest is the closest to
  // what the cores can do.
  return {k.isa, *std::max_element(rates.begin(), rates.end())};
}

} // namespace weft::bench
