//===- examples/models/AddingProblem.cpp ------------------------------------===//
#include "examples/models/AddingProblem.h"

#include "frontend/nn/Linear.h"
#include "frontend/nn/Losses.h"
#include "frontend/nn/Recurrent.h"
#include "runtime/Random.h"

namespace weft::examples {

train::Dataset addingData(int64_t n, int64_t T, int64_t seed) {
  Array xs(DType::F32, {T, n, 2}), ys(DType::F32, {n, 1});
  uint64_t draw = 0;
  auto uniform = [&] { return random::uniformF64(seed, draw++); };
  for (int64_t b = 0; b < n; ++b) {
    int64_t half = T / 2;
    int64_t first = static_cast<int64_t>(uniform() * double(half));
    int64_t second = half + static_cast<int64_t>(uniform() * double(T - half));
    float sum = 0;
    for (int64_t t = 0; t < T; ++t) {
      float v = static_cast<float>(uniform());
      bool marked = t == first || t == second;
      xs.data<float>()[(t * n + b) * 2] = v;
      xs.data<float>()[(t * n + b) * 2 + 1] = marked ? 1.0f : 0.0f;
      if (marked)
        sum += v;
    }
    ys.data<float>()[b] = sum;
  }
  train::Dataset d;
  d.add("xs", std::move(xs), /*exampleAxis=*/1).check();
  d.add("ys", std::move(ys)).check();
  return d;
}

AddingModel buildAddingModel(bool lstm, int64_t length, int64_t hidden) {
  Graph g("adding");
  Dim B = g.dim("B");
  Tensor xs = g.input("xs", {Dim(length), B, 2});
  Tensor ys = g.input("ys", {B, 1});
  nn::Scope model(g, nn::Mode::Train);
  Tensor hT;
  if (lstm) {
    nn::LSTM layer(model.child("rnn"), 2, hidden);
    hT = layer(xs).h_n;
  } else {
    nn::RNN layer(model.child("rnn"), 2, hidden);
    hT = layer(xs).h_n;
  }
  Tensor pred = nn::linear(model.child("out"), reshape(hT, {B, hidden}), hidden, 1);
  g.output(nn::mseLoss(pred, ys));
  AddingModel m;
  m.init = g.initParams(/*seed=*/lstm ? 1 : 2);
  for (const ParamInfo &p : g.params())
    m.paramNames += (m.paramNames.empty() ? "" : ",") + p.name;
  m.module = g.build();
  return m;
}

} // namespace weft::examples
