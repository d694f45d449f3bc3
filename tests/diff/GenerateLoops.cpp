//===- tests/diff/GenerateLoops.cpp - scan and while with bodies -===//
//
// The generator (GeneratorImpl.h): scan and while with bodies.
//
//===----------------------------------------------------------------------===//
#include "tests/diff/GeneratorImpl.h"

#include <numeric>

namespace weft::difftest::detail {

/// The next value of a loop carry: usually the carry combined with something new.
Value *Generator::carryUpdate(Value *carry, bool exact, int d) {
  const Type &t = carry->type();
  Value *v;
  if (chance(0.7)) {
    std::vector<OpKind> kinds = {OpKind::Xor, OpKind::Or, OpKind::And};
    if (isNumeric(t.dtype()))
      kinds = {OpKind::Add, OpKind::Sub, OpKind::Max, OpKind::Min, OpKind::Mul};
    OpKind k = pick(kinds);
    Value *other = gen(t, exact, d);
    v = chance(0.5) ? binary(k, carry, other) : binary(k, other, carry);
  } else {
    v = gen(t, exact, d);
  }
  return clamp(v, kCarryBound);
}

/// A random type whose axis 0 is `batch` (when given).
Type Generator::batchType(std::optional<Dim> batch) {
  Type r = randomType(2);
  if (!batch)
    return r;
  if (r.rank() == 0 || chance(0.5))
    return prepend(*batch, r);
  std::vector<Dim> dims = r.dims();
  dims[0] = *batch;
  return Type(dims, r.dtype());
}

Value *Generator::genScan(const Type &t, bool exact, int d) {
  Dim B = Dim::symbol("B");
  bool asEmit = t.rank() >= 1 && chance(0.5) &&
                (t.dim(0).isStatic() || t.dim(0).symbols().size() == 1) && t.dim(0).coeff() == 1;
  Dim time = asEmit ? t.dim(0) : pick<Dim>({Dim::symbol("T"), Dim::symbol("T"), Dim(1), Dim(3)});
  Type elem = asEmit ? dropFirst(t) : t;
  bool lengthsOk = elem.rank() >= 1 && elem.dim(0) == B;
  bool useLen = lengthsOk && chance(0.5);
  std::optional<Dim> batch = useLen ? std::optional<Dim>(B) : std::nullopt;

  std::vector<Type> carryTypes, seqTypes, emitTypes;
  std::vector<bool> carryExact, emitExact;
  if (!asEmit) {
    carryTypes.push_back(t);
    carryExact.push_back(exact);
  }
  for (int64_t i = 0, n = uniform(asEmit ? 0 : 0, 1); i < n; ++i) {
    carryTypes.push_back(batchType(batch));
    carryExact.push_back(chance(0.5));
  }
  for (int64_t i = 0, n = uniform(1, 2); i < n; ++i)
    seqTypes.push_back(prepend(time, batchType(batch)));
  if (asEmit) {
    emitTypes.push_back(elem);
    emitExact.push_back(exact);
  }
  for (int64_t i = 0, n = uniform(0, 1); i < n; ++i) {
    emitTypes.push_back(batchType(batch));
    emitExact.push_back(chance(0.5));
  }

  std::vector<Value *> operands;
  for (size_t i = 0; i < carryTypes.size(); ++i)
    operands.push_back(gen(carryTypes[i], carryExact[i], d));
  for (const Type &st : seqTypes)
    operands.push_back(bounded(gen(st, chance(0.5), d), 1000));
  if (useLen) {
    std::string name = "len" + std::to_string(f_->numParams()) + "_" + time.str();
    operands.push_back(newParam(Type({B}, chance(0.5) ? DType::I32 : DType::I64), name));
  }
  Attrs attrs = {{"num_carry", static_cast<int64_t>(carryTypes.size())},
                 {"num_seq", static_cast<int64_t>(seqTypes.size())}};
  if (chance(0.3))
    attrs["reverse"] = int64_t(1);
  auto begun = b_->beginRegionOp(OpKind::Scan, operands, attrs);
  check(begun.status(), "scan");
  Op *scan = *begun;
  Block &body = scan->region();
  size_t nc = carryTypes.size();
  for (size_t i = 0; i < nc; ++i)
    info_[body.arg(i)] = {std::max(info(operands[i]).mag, kCarryBound), carryExact[i]};
  for (size_t i = 0; i < seqTypes.size(); ++i)
    info_[body.arg(nc + i)] = info(operands[nc + i]);

  std::vector<Value *> yields;
  int bodyDepth = std::min(d, kMaxDepth - 2);
  inBody(body, [&] {
    for (size_t i = 0; i < nc; ++i)
      yields.push_back(carryUpdate(body.arg(i), carryExact[i], bodyDepth));
    for (size_t i = 0; i < emitTypes.size(); ++i)
      yields.push_back(gen(emitTypes[i], emitExact[i], bodyDepth));
    check(b_->create(OpKind::Yield, yields).status(), "yield");
  });
  check(b_->finishRegionOp(scan), "finish scan");
  for (size_t i = 0; i < scan->numResults(); ++i) {
    Info in = info(yields[i]);
    if (i < nc)
      in = {std::max(info(operands[i]).mag, kCarryBound), carryExact[i]};
    info_[scan->result(i)] = in;
    scopes_.back().push_back(scan->result(i));
  }
  return asEmit ? scan->result(nc) : scan->result(0);
}

Value *Generator::genWhile(const Type &t, bool exact, int d) {
  enum { Finished, Count, Emit, Carry } role;
  if (t.rank() == 0)
    role = Count; // only i64 scalars get here
  else if (t.rank() == 1 && t.dtype() == DType::I1 && chance(0.3))
    role = Finished;
  else if (t.rank() >= 2 && t.dim(0).isStatic() && chance(0.5))
    role = Emit;
  else
    role = Carry;
  Dim batch = role == Count ? Dim::symbol("B") : role == Emit ? t.dim(1) : t.dim(0);
  int64_t maxTrips = role == Emit ? t.dim(0).size() : pick<int64_t>({0, 1, 2, 3, 5});

  std::vector<Type> carryTypes, emitTypes;
  std::vector<bool> carryExact, emitExact;
  if (role == Carry) {
    carryTypes.push_back(t);
    carryExact.push_back(exact);
  }
  for (int64_t i = 0, n = uniform(role == Carry ? 0 : 1, 1); i < n; ++i) {
    carryTypes.push_back(batchType(batch));
    carryExact.push_back(chance(0.5));
  }
  if (role == Emit) {
    emitTypes.push_back(dropFirst(t));
    emitExact.push_back(exact);
  }
  if (chance(0.4)) {
    emitTypes.push_back(batchType(batch));
    emitExact.push_back(chance(0.5));
  }

  std::vector<Value *> operands = {gen(Type({batch}, DType::I1), true, d)};
  for (size_t i = 0; i < carryTypes.size(); ++i)
    operands.push_back(gen(carryTypes[i], carryExact[i], d));
  auto begun = b_->beginRegionOp(OpKind::While, operands, {{"max_trips", maxTrips}});
  check(begun.status(), "while");
  Op *w = *begun;
  Block &body = w->region();
  size_t nc = carryTypes.size();
  for (size_t i = 0; i < nc; ++i)
    info_[body.arg(i)] = {std::max(info(operands[i + 1]).mag, kCarryBound), carryExact[i]};

  std::vector<Value *> yields;
  int bodyDepth = std::min(d, kMaxDepth - 2);
  inBody(body, [&] {
    yields.push_back(gen(Type({batch}, DType::I1), true, bodyDepth));
    for (size_t i = 0; i < nc; ++i)
      yields.push_back(carryUpdate(body.arg(i), carryExact[i], bodyDepth));
    for (size_t i = 0; i < emitTypes.size(); ++i)
      yields.push_back(gen(emitTypes[i], emitExact[i], bodyDepth));
    check(b_->create(OpKind::Yield, yields).status(), "yield");
  });
  check(b_->finishRegionOp(w), "finish while");
  // Results: finished, carries, emits, trip count.
  for (size_t i = 0; i < w->numResults(); ++i) {
    Info in = {1, true};
    if (i >= 1 && i <= nc)
      in = {std::max(info(operands[i]).mag, kCarryBound), carryExact[i - 1]};
    else if (i > nc && i + 1 < w->numResults())
      in = info(yields[i]);
    else if (i + 1 == w->numResults())
      in = {static_cast<double>(maxTrips), true};
    info_[w->result(i)] = in;
    scopes_.back().push_back(w->result(i));
  }
  switch (role) {
  case Finished:
    return w->result(0);
  case Count:
    return w->result(w->numResults() - 1);
  case Emit:
    return w->result(1 + nc);
  case Carry:
    return w->result(1);
  }
  WEFT_UNREACHABLE("unhandled while role");
}

} // namespace weft::difftest::detail
