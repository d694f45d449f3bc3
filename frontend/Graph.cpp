//===- frontend/Graph.cpp -------------------------------------------------===//
#include "frontend/Graph.h"

#include "ir/Verifier.h"
#include "runtime/Random.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>

namespace weft {
namespace {

/// Live graphs on this thread, oldest first; Graph::current() is the last.
thread_local std::vector<Graph *> liveGraphs;

using ValueMap = std::unordered_map<const ir::Value *, ir::Value *>;

void cloneBlock(const ir::Block &src, ir::Block &dst, ValueMap &map) {
  for (const auto &op : src.ops()) {
    std::vector<ir::Value *> operands;
    for (ir::Value *v : op->operands())
      operands.push_back(map.at(v));
    auto copy = std::make_unique<ir::Op>(op->kind(), std::move(operands), op->attrs(), op->loc());
    for (ir::Value *r : op->results()) {
      ir::Value *nr = copy->addResult(r->type());
      nr->setName(r->name());
      map[r] = nr;
    }
    for (size_t i = 0; i < op->numRegions(); ++i) {
      ir::Block &nb = copy->addRegion();
      for (ir::Value *a : op->region(i).args())
        map[a] = nb.addArg(a->type(), a->name());
      cloneBlock(op->region(i), nb, map);
    }
    dst.append(std::move(copy));
  }
}

/// The block a value is defined in.
const ir::Block *definingBlock(const ir::Value *v) {
  return v->isBlockArg() ? v->ownerBlock() : v->definingOp()->parentBlock();
}

} // namespace

Loc toLoc(SrcLoc loc) { return Loc{loc.file_name(), loc.line(), 0}; }

void throwAt(SrcLoc loc, std::string message) { throw Error(Diag{std::move(message), toLoc(loc)}); }

Graph::Graph(std::string name)
    : module_(std::make_unique<ir::Module>()), fn_(&module_->addFunction(std::move(name))),
      builder_(fn_->body()) {
  open_.push_back(&fn_->body());
  liveGraphs.push_back(this);
}

Graph::~Graph() { std::erase(liveGraphs, this); }

Graph &Graph::current(SrcLoc loc) {
  if (liveGraphs.empty())
    throwAt(loc, "no weft::Graph is alive to build into; create one first");
  return *liveGraphs.back();
}

void Graph::checkNewName(const std::string &name, const char *what, SrcLoc loc) const {
  for (size_t i = 0; i < fn_->numParams(); ++i) {
    if (fn_->param(i)->name() != name)
      continue;
    const bool input =
        std::find(inputPositions_.begin(), inputPositions_.end(), i) != inputPositions_.end();
    throwAt(loc, fmt::format("{} '{}' is declared twice in graph '{}' (first as {})", what, name,
                             this->name(), input ? "an input" : "a parameter"));
  }
}

Tensor Graph::input(std::string name, Shape shape, DType dtype, SrcLoc loc) {
  if (open_.size() > 1)
    throwAt(loc, fmt::format("input '{}' declared inside a scan or while body", name));
  checkNewName(name, "input", loc);
  inputPositions_.push_back(fn_->numParams());
  return Tensor(this, fn_->addParam(ir::Type(std::move(shape), dtype), std::move(name)));
}

Tensor Graph::inputNamed(std::string_view name) {
  for (size_t i : inputPositions_)
    if (fn_->param(i)->name() == name)
      return Tensor(this, fn_->param(i));
  return Tensor();
}

Tensor Graph::param(std::string name, Shape shape, Init init, DType dtype, SrcLoc loc) {
  if (open_.size() > 1)
    throwAt(loc, fmt::format("param '{}' declared inside a scan or while body", name));
  checkNewName(name, "parameter", loc);
  ir::Type t(std::move(shape), dtype);
  params_.push_back(ParamInfo{fn_->numParams(), name, t, init});
  return Tensor(this, fn_->addParam(std::move(t), std::move(name)));
}

Tensor Graph::buffer(std::string name, Shape shape, Init init, DType dtype, SrcLoc loc) {
  Tensor t = param(std::move(name), std::move(shape), init, dtype, loc);
  params_.back().trainable = false;
  return t;
}

std::vector<std::string> Graph::trainableNames() const {
  std::vector<std::string> names;
  for (const ParamInfo &p : params_)
    if (p.trainable)
      names.push_back(p.name);
  return names;
}

void Graph::output(Tensor t, SrcLoc loc) {
  if (open_.size() > 1)
    throwAt(loc, "output declared inside a scan or while body; return it as an emit instead");
  outputs_.push_back(use(t, "output", loc));
}

void Graph::outputs(std::vector<Tensor> ts, SrcLoc loc) {
  for (const Tensor &t : ts)
    output(t, loc);
}

std::unique_ptr<ir::Module> Graph::build(SrcLoc loc) const {
  if (open_.size() > 1)
    throwAt(loc, fmt::format("graph '{}' cannot be built inside a scan or while body", name()));
  if (outputs_.empty())
    throwAt(loc, fmt::format("graph '{}' has no outputs; call output() first", name()));
  auto m = std::make_unique<ir::Module>();
  ir::Function &f = m->addFunction(name());
  ValueMap map;
  for (ir::Value *p : fn_->body().args())
    map[p] = f.addParam(p->type(), p->name());
  cloneBlock(fn_->body(), f.body(), map);
  std::vector<ir::Value *> results;
  for (ir::Value *v : outputs_)
    results.push_back(map.at(v));
  ir::OpBuilder b(f.body());
  auto ret = b.create(ir::OpKind::Return, std::move(results), {}, {}, toLoc(loc));
  ret.take();
  if (Status s = ir::verify(*m); !s)
    throwAt(loc, fmt::format("graph '{}' built invalid IR (a weft bug): {}", name(), s.message()));
  return m;
}

std::vector<Array> Graph::initParams(int64_t seed) const {
  std::vector<Array> out;
  for (size_t k = 0; k < params_.size(); ++k) {
    const ParamInfo &p = params_[k];
    if (!p.type.isStatic())
      throw Error(err(fmt::format("initParams: param '{}' has symbolic shape {}; parameters "
                                  "need static shapes to be initialized",
                                  p.name, p.type.shapeStr())));
    std::vector<int64_t> shape;
    for (const Dim &d : p.type.dims())
      shape.push_back(d.size());
    auto stream = static_cast<int64_t>(random::bits(seed, k));
    auto a = drawInit(p.init, p.type.dtype(), shape, stream);
    if (!a)
      throw Error(err(fmt::format("initParams: param '{}': {}", p.name, a.diag().message)));
    out.push_back(std::move(*a));
  }
  return out;
}

std::vector<Array> Graph::arguments(std::vector<Array> inputs, std::vector<Array> params) const {
  if (inputs.size() != inputPositions_.size() || params.size() != params_.size())
    throw Error(
        err(fmt::format("arguments: graph '{}' has {} inputs and {} params, got {} and {}", name(),
                        inputPositions_.size(), params_.size(), inputs.size(), params.size())));
  std::vector<Array> args(fn_->numParams());
  for (size_t i = 0; i < inputs.size(); ++i)
    args[inputPositions_[i]] = std::move(inputs[i]);
  for (size_t i = 0; i < params.size(); ++i)
    args[params_[i].position] = std::move(params[i]);
  return args;
}

ir::Value *Graph::use(const Tensor &t, const char *what, SrcLoc loc) const {
  if (!t.valid())
    throwAt(loc, fmt::format("{}: the tensor is empty (default-constructed)", what));
  if (t.graph() != this)
    throwAt(loc, fmt::format("{}: the tensor belongs to graph '{}', not '{}'", what,
                             t.graph()->name(), name()));
  const ir::Block *b = definingBlock(t.value());
  if (std::find(open_.begin(), open_.end(), b) == open_.end())
    throwAt(loc, fmt::format("{}: tensor {} was defined inside a scan or while body that has "
                             "finished; pass it out as a carry or an emit",
                             what, t.type().str()));
  return t.value();
}

Tensor Graph::op(ir::OpKind kind, std::vector<ir::Value *> operands, ir::Attrs attrs,
                 std::vector<ir::Type> declared, SrcLoc loc) {
  auto v = builder_.create1(kind, std::move(operands), std::move(attrs), std::move(declared),
                            toLoc(loc));
  return Tensor(this, v.take());
}

void Graph::pushBlock(ir::Block &b) {
  open_.push_back(&b);
  builder_.setInsertionPointToEnd(b);
}

void Graph::popBlock() {
  WEFT_CHECK(open_.size() > 1, "popBlock without a matching pushBlock");
  open_.pop_back();
  builder_.setInsertionPointToEnd(*open_.back());
}

void Graph::abandon(ir::Op *op) {
  ir::Block *parent = op->parentBlock();
  WEFT_CHECK(parent, "abandoning a detached op");
  abandoned_.push_back(parent->detach(op));
}

} // namespace weft
