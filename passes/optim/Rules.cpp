//===- passes/optim/Rules.cpp - torch.optim's update rules as IR ----------===//
//
// One parameter p with gradient g (clipped already), torch.optim's formulas
// (single-tensor path, maximize=False, amsgrad=False), t = this step's number
// from 1, wd the weight decay (L2: g += wd p; AdamW: p *= 1 - lr wd):
//   sgd:      p -= lr g
//   momentum: b = g on the first step, else momentum b + (1 - dampening) g;
//             p -= lr b              (nesterov: p -= lr (g + momentum b))
//   rmsprop:  v = alpha v + (1 - alpha) g^2;  centered: m = lerp(m, g, 1 - alpha),
//             a = sqrt(v - m^2) + eps, else a = sqrt(v) + eps;
//             momentum > 0: b = momentum b + g / a, p -= lr b; else p -= lr g / a
//   adagrad:  s += g^2;  p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)
//   adam(w):  m = lerp(m, g, 1 - beta1);  v = beta2 v + (1 - beta2) g^2;
//             p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
//
//===----------------------------------------------------------------------===//
#include "passes/optim/StepParts.h"

namespace weft::optim {
namespace {

using ir::Value;

/// torch's lerp(a, b, w) = a + w (b - a), for a weight below 0.5.
Value *lerp(Scalars &s, Value *a, Value *b, double w) {
  return s.add(a, s.mul(s.constLike(a, w), s.sub(b, a)));
}

/// torch's a.mul_(c).addcmul_(g, g, value=v): c a + v g g.
Value *decayedSquares(Scalars &s, Value *a, double c, Value *g, double v) {
  return s.add(s.mul(a, s.constLike(a, c)), s.mul(s.mul(s.constLike(g, v), g), g));
}

std::vector<Value *> sgd(Scalars &s, const ParamUpdate &u, Value *g, const StepScalars &k,
                         const OptimOptions &o) {
  Value *p = u.param;
  std::vector<Value *> out{nullptr};
  if (o.momentum != 0) {
    Value *b = u.state[0];
    Value *next =
        s.add(s.mul(b, s.constLike(b, o.momentum)), s.mul(s.constLike(g, 1.0 - o.dampening), g));
    b = s.select(s.condLike(k.first, b), g, next);
    out.push_back(b);
    g = o.rule == Rule::Nesterov ? s.add(g, s.mul(s.constLike(b, o.momentum), b)) : b;
  }
  out[0] = s.sub(p, s.mul(s.like(k.lr, g), g));
  return out;
}

std::vector<Value *> rmsprop(Scalars &s, const ParamUpdate &u, Value *g, const StepScalars &k,
                             const OptimOptions &o) {
  Value *p = u.param;
  Value *v = decayedSquares(s, u.state[0], o.alpha, g, 1.0 - o.alpha);
  std::vector<Value *> out{nullptr, v};
  size_t next = 1;
  Value *buf = o.momentum > 0 ? u.state[next++] : nullptr;
  Value *avg;
  if (o.centered) {
    Value *m = lerp(s, u.state[next], g, 1.0 - o.alpha);
    avg = s.sub(v, s.mul(m, m));
    avg = s.add(s.sqrt(avg), s.constLike(p, o.eps));
    if (buf) {
      buf = s.add(s.mul(buf, s.constLike(buf, o.momentum)), s.div(g, avg));
      out.push_back(buf);
    }
    out.push_back(m);
  } else {
    avg = s.add(s.sqrt(v), s.constLike(p, o.eps));
    if (buf) {
      buf = s.add(s.mul(buf, s.constLike(buf, o.momentum)), s.div(g, avg));
      out.push_back(buf);
    }
  }
  Value *step = buf ? buf : s.div(g, avg);
  out[0] = s.sub(p, s.mul(s.like(k.lr, p), step));
  return out;
}

std::vector<Value *> adagrad(Scalars &s, const ParamUpdate &u, Value *g, const StepScalars &k,
                             const OptimOptions &o) {
  Value *p = u.param;
  Value *sum = s.add(u.state[0], s.mul(g, g));
  Value *decay = s.add(s.real(1.0), s.mul(s.sub(k.t, s.real(1.0)), s.real(o.lrDecay)));
  Value *clr = s.div(k.lr, decay);
  Value *std = s.add(s.sqrt(sum), s.constLike(sum, o.eps));
  return {s.sub(p, s.mul(s.like(clr, p), s.div(g, std))), sum};
}

std::vector<Value *> adam(Scalars &s, const ParamUpdate &u, Value *g, const StepScalars &k,
                          const OptimOptions &o) {
  Value *p = u.param;
  if (o.rule == Rule::AdamW && o.weightDecay != 0)
    p = s.mul(p, s.like(s.sub(s.real(1.0), s.mul(k.lr, s.real(o.weightDecay))), p));
  Value *m = lerp(s, u.state[0], g, 1.0 - o.beta1);
  Value *v = decayedSquares(s, u.state[1], o.beta2, g, 1.0 - o.beta2);
  Value *bc1 = s.sub(s.real(1.0), s.pow(s.real(o.beta1), k.t));
  Value *bc2 = s.sub(s.real(1.0), s.pow(s.real(o.beta2), k.t));
  Value *stepSize = s.div(k.lr, bc1);
  Value *denom = s.add(s.div(s.sqrt(v), s.like(s.sqrt(bc2), v)), s.constLike(v, o.eps));
  return {s.sub(p, s.mul(s.like(stepSize, p), s.div(m, denom))), m, v};
}

} // namespace

std::vector<Value *> applyRule(Scalars &s, const ParamUpdate &u, const StepScalars &k,
                               const OptimOptions &o) {
  Value *g = u.grad;
  if (o.weightDecay != 0 && o.rule != Rule::AdamW) // L2, as torch's weight_decay
    g = s.add(g, s.mul(s.constLike(u.param, o.weightDecay), u.param));
  switch (o.rule) {
  case Rule::Sgd:
  case Rule::Momentum:
  case Rule::Nesterov:
    return sgd(s, u, g, k, o);
  case Rule::RmsProp:
    return rmsprop(s, u, g, k, o);
  case Rule::Adagrad:
    return adagrad(s, u, g, k, o);
  case Rule::Adam:
  case Rule::AdamW:
    return adam(s, u, g, k, o);
  }
  WEFT_UNREACHABLE("unhandled optimizer rule");
}

} // namespace weft::optim
