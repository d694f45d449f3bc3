//===- ir/Op.cpp - ops, blocks, functions and modules ---------------------===//
#include "ir/Module.h"

#include <algorithm>

namespace weft::ir {

Op::Op(OpKind kind, std::vector<Value *> operands, Attrs attrs, Loc loc)
    : kind_(kind), operands_(std::move(operands)), attrs_(std::move(attrs)), loc_(std::move(loc)) {}

std::vector<Value *> Op::results() const {
  std::vector<Value *> rs;
  for (const auto &r : results_)
    rs.push_back(r.get());
  return rs;
}

bool mayFault(const Op &op) {
  switch (opFault(op.kind())) {
  case OpFault::None:
    return false;
  case OpFault::DivisionByZero:
    return !isFloat(op.operand(0)->type().dtype());
  case OpFault::IndexOutOfRange:
    return true;
  case OpFault::EmptyReduce: {
    const Type &x = op.operand(0)->type();
    std::vector<int64_t> axes;
    const Attr *given = op.findAttr(op.kind() == OpKind::Argmax ? AttrId::Axis : AttrId::Axes);
    if (const auto *list = given ? std::get_if<std::vector<int64_t>>(given) : nullptr)
      axes = *list;
    else if (const auto *one = given ? std::get_if<int64_t>(given) : nullptr)
      axes = {*one};
    else
      return true;
    return std::any_of(axes.begin(), axes.end(), [&](int64_t a) {
      return a < 0 || a >= x.rank() || !x.dim(a).isStatic() || x.dim(a).size() == 0;
    });
  }
  }
  WEFT_UNREACHABLE("unhandled OpFault");
}

Value *Op::addResult(Type t) {
  results_.push_back(
      std::make_unique<Value>(std::move(t), this, nullptr, static_cast<unsigned>(results_.size())));
  return results_.back().get();
}

void Op::setResultTypes(const std::vector<Type> &types) {
  if (types.size() != results_.size()) {
    results_.clear();
    for (const Type &t : types)
      addResult(t);
    return;
  }
  for (size_t i = 0; i < types.size(); ++i)
    results_[i]->setType(types[i]);
}

namespace {
bool kindHas(OpKind k, AttrId a) {
  auto spec = findOpAttr(k, attrKey(a));
  return spec && spec->id == a;
}
} // namespace

const Attr *Op::findAttr(AttrId a) const {
  WEFT_CHECK(kindHas(kind_, a),
             "asking an op for an attribute its kind does not have (see ir/Ops.def)");
  auto it = attrs_.find(attrKey(a));
  return it == attrs_.end() ? nullptr : &it->second;
}

void Op::setAttr(AttrId a, Attr v) {
  WEFT_CHECK(kindHas(kind_, a),
             "setting an attribute the op's kind does not have (see ir/Ops.def)");
  attrs_[std::string(attrKey(a))] = std::move(v);
}

namespace {
template <typename T> const T &getAttr(const Attrs &attrs, std::string_view key, const char *what) {
  auto it = attrs.find(key);
  WEFT_CHECK(it != attrs.end(), "missing attribute (IR not verified?)");
  const T *v = std::get_if<T>(&it->second);
  WEFT_CHECK(v != nullptr, what);
  return *v;
}
} // namespace

int64_t Op::intAttr(std::string_view key) const {
  return getAttr<int64_t>(attrs_, key, "attribute is not an integer");
}
double Op::floatAttr(std::string_view key) const {
  return getAttr<double>(attrs_, key, "attribute is not a float");
}
const std::vector<int64_t> &Op::intsAttr(std::string_view key) const {
  return getAttr<std::vector<int64_t>>(attrs_, key, "attribute is not an integer list");
}
const std::vector<double> &Op::floatsAttr(std::string_view key) const {
  return getAttr<std::vector<double>>(attrs_, key, "attribute is not a float list");
}
const std::string &Op::stringAttr(std::string_view key) const {
  return getAttr<std::string>(attrs_, key, "attribute is not a string");
}

Block &Op::addRegion() {
  regions_.push_back(std::make_unique<Block>(this));
  return *regions_.back();
}

Op *Op::parentOp() const { return parent_ ? parent_->parentOp() : nullptr; }

std::vector<Value *> Block::args() const {
  std::vector<Value *> as;
  for (const auto &a : args_)
    as.push_back(a.get());
  return as;
}

Value *Block::addArg(Type t, std::string name) {
  args_.push_back(
      std::make_unique<Value>(std::move(t), nullptr, this, static_cast<unsigned>(args_.size())));
  args_.back()->setName(std::move(name));
  return args_.back().get();
}

Op *Block::insert(iterator pos, std::unique_ptr<Op> op) {
  Op *raw = op.get();
  raw->parent_ = this;
  raw->self_ = ops_.insert(pos, std::move(op));
  return raw;
}

Block::iterator Block::iteratorOf(Op *op) {
  WEFT_CHECK(op->parent_ == this, "op is not in this block");
  return op->self_;
}

void Block::erase(Op *op) { ops_.erase(iteratorOf(op)); }

std::unique_ptr<Op> Block::detach(Op *op) {
  auto it = iteratorOf(op);
  std::unique_ptr<Op> owned = std::move(*it);
  ops_.erase(it);
  owned->parent_ = nullptr;
  return owned;
}

Op *Function::returnOp() const {
  Op *last = body_.back();
  return last && last->kind() == OpKind::Return ? last : nullptr;
}

std::vector<Type> Function::resultTypes() const {
  std::vector<Type> ts;
  if (Op *ret = returnOp())
    for (Value *v : ret->operands())
      ts.push_back(v->type());
  return ts;
}

std::vector<std::string> Function::symbols() const {
  std::vector<std::string> syms;
  for (Value *p : body_.args())
    for (const Dim &d : p->type().dims())
      for (const std::string &s : d.symbols())
        if (std::find(syms.begin(), syms.end(), s) == syms.end())
          syms.push_back(s);
  return syms;
}

Function &Module::addFunction(std::string name) {
  funcs_.push_back(std::make_unique<Function>(std::move(name)));
  return *funcs_.back();
}

Function *Module::function(std::string_view name) const {
  for (const auto &f : funcs_)
    if (f->name() == name)
      return f.get();
  return nullptr;
}

} // namespace weft::ir
