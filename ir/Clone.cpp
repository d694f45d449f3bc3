//===- ir/Clone.cpp -------------------------------------------------------===//
#include "ir/Clone.h"

namespace weft::ir {

Op *cloneOp(OpBuilder &b, const Op &op, ValueMap &map) {
  std::vector<Value *> operands;
  for (Value *v : op.operands())
    operands.push_back(map.lookup(v));
  auto copy = std::make_unique<Op>(op.kind(), std::move(operands), op.attrs(), op.loc());
  for (Value *r : op.results()) {
    Value *c = copy->addResult(r->type());
    c->setName(r->name());
    map.map(r, c);
  }
  for (size_t i = 0; i < op.numRegions(); ++i) {
    const Block &src = op.region(i);
    Block &dst = copy->addRegion();
    for (Value *a : src.args())
      map.map(a, dst.addArg(a->type(), a->name()));
    OpBuilder inner(dst);
    for (const auto &child : src.ops())
      cloneOp(inner, *child, map);
  }
  Op *raw = copy.get();
  b.block().insert(b.insertionPoint(), std::move(copy));
  return raw;
}

Function &cloneFunction(Module &m, const Function &f, std::string name) {
  Function &g = m.addFunction(std::move(name));
  ValueMap map;
  for (Value *p : f.body().args())
    map.map(p, g.addParam(p->type(), p->name()));
  OpBuilder b(g.body());
  for (const auto &op : f.body().ops())
    cloneOp(b, *op, map);
  return g;
}

} // namespace weft::ir
