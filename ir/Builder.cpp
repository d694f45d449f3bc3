//===- ir/Builder.cpp -----------------------------------------------------===//
#include "ir/Builder.h"

#include "ir/Infer.h"

#include <cmath>

namespace weft::ir {

void OpBuilder::setInsertionPointBefore(Op *op) {
  Block *b = op->parentBlock();
  WEFT_CHECK(b, "op is detached");
  setInsertionPoint(*b, b->iteratorOf(op));
}

Op *OpBuilder::insert(std::unique_ptr<Op> op) { return block_->insert(pos_, std::move(op)); }

Expected<Op *> OpBuilder::create(OpKind kind, std::vector<Value *> operands, Attrs attrs,
                                 std::vector<Type> declared, Loc loc) {
  WEFT_CHECK(!hasRegion(kind), "use beginRegionOp for scan, while and fusion");
  auto types = inferResultTypes(kind, operands, attrs, declared, nullptr);
  if (!types)
    return Diag{types.diag().message, loc};
  auto op = std::make_unique<Op>(kind, std::move(operands), std::move(attrs), std::move(loc));
  for (Type &t : *types)
    op->addResult(std::move(t));
  return insert(std::move(op));
}

Expected<Value *> OpBuilder::create1(OpKind kind, std::vector<Value *> operands, Attrs attrs,
                                     std::vector<Type> declared, Loc loc) {
  auto op = create(kind, std::move(operands), std::move(attrs), std::move(declared), loc);
  if (!op)
    return op.diag();
  WEFT_CHECK((*op)->numResults() == 1, "create1 on an op without exactly one result");
  return (*op)->result();
}

Expected<Op *> OpBuilder::beginRegionOp(OpKind kind, std::vector<Value *> operands, Attrs attrs,
                                        Loc loc) {
  WEFT_CHECK(hasRegion(kind), "beginRegionOp needs scan, while or fusion");
  auto argTypes = regionArgTypes(kind, operands, attrs);
  if (!argTypes)
    return Diag{argTypes.diag().message, loc};
  auto op = std::make_unique<Op>(kind, std::move(operands), std::move(attrs), std::move(loc));
  Block &body = op->addRegion();
  for (Type &t : *argTypes)
    body.addArg(std::move(t));
  return insert(std::move(op));
}

Status OpBuilder::finishRegionOp(Op *op) {
  auto types = inferResultTypes(op->kind(), op->operands(), op->attrs(), {}, &op->region());
  if (!types)
    return Diag{types.diag().message, op->loc()};
  op->setResultTypes(*types);
  return {};
}

Value *OpBuilder::splat(const Type &t, double v, Loc loc) {
  Attr value = isFloat(t.dtype())
                   ? Attr(std::vector<double>{v})
                   : Attr(std::vector<int64_t>{static_cast<int64_t>(std::llround(v))});
  auto r = create1(OpKind::Constant, {}, {{"value", value}}, {t}, std::move(loc));
  WEFT_CHECK(r.isOk(), "a splat constant always type-checks");
  return *r;
}

} // namespace weft::ir
