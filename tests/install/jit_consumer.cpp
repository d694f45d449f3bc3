// Builds y = tanh(x * W) + b with the DSL, compiles it with the CPU JIT, prints the result.
#include "backends/cpu/CpuBackend.h"
#include "frontend/Weft.h"

#include <cstdio>

using namespace weft;

int main() try {
  Graph g("affine");
  Dim B = g.dim("B");
  Tensor x = g.input("x", {B, 3});
  Tensor W = g.input("W", {3, 2});
  Tensor b = g.input("b", {2});
  g.output(tanh(matmul(x, W)) + b);
  auto exe = cpu::compile(*g.build());
  if (!exe) {
    std::fprintf(stderr, "jit_consumer: %s\n", exe.diag().str().c_str());
    return 1;
  }
  std::vector<Array> in{Array::of<float>({2, 3}, {1, 0, 0, 0, 1, 2}),
                        Array::of<float>({3, 2}, {0.5f, -0.5f, 0.25f, 0, 0, 0.125f}),
                        Array::of<float>({2}, {1, 2})};
  auto out = (*exe)->run("affine", in);
  if (!out) {
    std::fprintf(stderr, "jit_consumer: %s\n", out.diag().str().c_str());
    return 1;
  }
  const Array &y = (*out)[0];
  for (int r = 0; r < 2; ++r)
    std::printf("%.6f %.6f\n", y.getDouble(2 * r), y.getDouble(2 * r + 1));
  return 0;
} catch (const Error &e) {
  std::fprintf(stderr, "jit_consumer: %s\n", e.what());
  return 1;
}
