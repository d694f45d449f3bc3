//===- examples/aot/main.cpp - running an ahead-of-time compiled model ----===//
//
// model.wir was compiled by weftc at build time into an object and rnn_model.h;
// this program links them and weft_runtime only (no LLVM, no compiler).
//
//   weft-example-aot                   runs the RNN on fixed inputs, prints the logits
//   weft-example-aot --write-inputs D  writes those inputs to D/<param>.npy (for weft-run)
//   weft-example-aot --check D         compares the results with D/<result>.npy
//   weft-example-aot --bad-inputs      shows that bad calls fail with a message
//
//===----------------------------------------------------------------------===//
#include "rnn_model.h"
#include "runtime/Npy.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int64_t T = 5, B = 3;

/// Deterministic inputs: small values from sin, different per parameter.
std::vector<float> fill(size_t n, float scale, float phase) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i)
    v[i] = scale * std::sin(0.37f * static_cast<float>(i) + phase);
  return v;
}

struct Model {
  std::vector<float> xs = fill(T * B * 4, 1.0f, 0.1f), W = fill(4 * 8, 0.5f, 0.7f),
                     U = fill(8 * 8, 0.3f, 1.3f), h0 = fill(B * 8, 0.2f, 2.1f),
                     V = fill(8 * 3, 0.6f, 2.9f);
  std::vector<float> hT = std::vector<float>(B * 8), hs = std::vector<float>(T * B * 8),
                     logits = std::vector<float>(B * 3);
};

int writeInputs(const Model &m, const std::string &dir) {
  struct In {
    const char *name;
    const std::vector<float> *v;
    std::vector<int64_t> shape;
  };
  for (const In &in : {In{"xs", &m.xs, {T, B, 4}}, In{"W", &m.W, {4, 8}}, In{"U", &m.U, {8, 8}},
                       In{"h0", &m.h0, {B, 8}}, In{"V", &m.V, {8, 3}}}) {
    weft::Status s =
        weft::writeNpy(dir + "/" + in.name + ".npy", weft::Array::of<float>(in.shape, *in.v));
    if (!s) {
      std::fprintf(stderr, "weft-example-aot: %s\n", s.diag().str().c_str());
      return 1;
    }
  }
  return 0;
}

int check(const Model &m, const std::string &dir) {
  struct Out {
    const char *name;
    const std::vector<float> *v;
  };
  int bad = 0;
  for (const Out &o : {Out{"hT", &m.hT}, Out{"hs", &m.hs}, Out{"logits", &m.logits}}) {
    auto ref = weft::readNpy(dir + "/" + o.name + ".npy");
    if (!ref || ref->dtype() != weft::DType::F32 ||
        static_cast<size_t>(ref->numel()) != o.v->size()) {
      std::fprintf(stderr, "weft-example-aot: no reference for %s\n", o.name);
      return 1;
    }
    double worst = 0;
    for (size_t i = 0; i < o.v->size(); ++i) {
      double want = ref->data<float>()[i], got = (*o.v)[i];
      worst = std::fmax(worst, std::fabs(got - want) / (1e-6 + std::fabs(want)));
    }
    std::printf("%s: max relative difference to the interpreter %.3g\n", o.name, worst);
    bad += worst > 1e-4;
  }
  std::printf(bad ? "MISMATCH\n" : "matches the reference interpreter\n");
  return bad ? 1 : 0;
}

/// Each bad call must fail with WEFT_AOT_BAD_ARGUMENT and a message that names the problem.
int badInputs(Model &m) {
  char err[512];
  int failures = 0;
  auto expect = [&](const char *what, int code, const char *needle) {
    bool ok = code == WEFT_AOT_BAD_ARGUMENT && std::strstr(err, needle);
    std::printf("%s: %s -> %s\n", what, ok ? "rejected" : "NOT REJECTED AS EXPECTED", err);
    failures += !ok;
  };
  int code = weft_rnn(nullptr, m.W.data(), m.U.data(), m.h0.data(), m.V.data(), T, B, m.hT.data(),
                      m.hs.data(), m.logits.data(), err, sizeof err);
  expect("null input", code, "input 0 (%xs) is a null pointer");

  // The generic form: shapes and buffer sizes are checked against the header's types.
  int64_t xsShape[] = {T, B, 4}, wShape[] = {4, 9}, uShape[] = {8, 8}, h0Shape[] = {B + 1, 8},
          vShape[] = {8, 3}, okW[] = {4, 8}, okH0[] = {B, 8};
  weft_aot_input in[] = {{m.xs.data(), WEFT_AOT_F32, 3, xsShape},
                         {m.W.data(), WEFT_AOT_F32, 2, wShape},
                         {m.U.data(), WEFT_AOT_F32, 2, uShape},
                         {m.h0.data(), WEFT_AOT_F32, 2, okH0},
                         {m.V.data(), WEFT_AOT_F32, 2, vShape}};
  weft_aot_output out[] = {{m.hT.data(), m.hT.size() * 4, nullptr},
                           {m.hs.data(), m.hs.size() * 4, nullptr},
                           {m.logits.data(), m.logits.size() * 4, nullptr}};
  code = weft_aot_call(&weft_rnn_fn, nullptr, in, 5, out, 3, err, sizeof err);
  expect("wrong static dim", code, "input 1 (%W) has shape [4, 9], expected [4, 8]");
  in[1].shape = okW;
  in[3].shape = h0Shape;
  code = weft_aot_call(&weft_rnn_fn, nullptr, in, 5, out, 3, err, sizeof err);
  expect("disagreeing symbol", code, "input 3 (%h0): axis 0 binds B = 4, but input 0 (%xs)");
  in[3].shape = okH0;
  out[2].capacity = 8;
  code = weft_aot_call(&weft_rnn_fn, nullptr, in, 5, out, 3, err, sizeof err);
  expect("small output", code, "output 2 (%logits) holds 8 bytes, but the result [3, 3]");
  out[2].capacity = m.logits.size() * 4;
  code = weft_aot_call(&weft_rnn_fn, nullptr, in, 5, out, 3, err, sizeof err);
  std::printf("corrected call: %s\n", code == 0 ? "ok" : err);
  return failures || code ? 1 : 0;
}

} // namespace

int main(int argc, char **argv) {
  Model m;
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "--write-inputs" && argc == 3)
    return writeInputs(m, argv[2]);
  if (mode == "--bad-inputs")
    return badInputs(m);
  char err[512];
  if (weft_rnn(m.xs.data(), m.W.data(), m.U.data(), m.h0.data(), m.V.data(), T, B, m.hT.data(),
               m.hs.data(), m.logits.data(), err, sizeof err) != 0) {
    std::fprintf(stderr, "weft-example-aot: %s\n", err);
    return 1;
  }
  if (mode == "--check" && argc == 3)
    return check(m, argv[2]);
  if (!mode.empty()) {
    std::fprintf(stderr, "usage: weft-example-aot [--write-inputs DIR | --check DIR | "
                         "--bad-inputs]\n");
    return 1;
  }
  for (int64_t b = 0; b < B; ++b)
    std::printf("logits[%lld] = %9.6f %9.6f %9.6f\n", static_cast<long long>(b), m.logits[b * 3],
                m.logits[b * 3 + 1], m.logits[b * 3 + 2]);
  return 0;
}
