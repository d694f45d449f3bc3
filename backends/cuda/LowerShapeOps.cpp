//===- backends/cuda/LowerShapeOps.cpp - ops that move elements -----------===//
//
// transpose, broadcast and slice as one strided copy (ShapeKernels.cpp) with the strides that
// make it that op; concat as a copy per operand into its part of the result; pad as a fill,
// then a copy into the interior; gather and scatter_add as a status word set, the kernel, and
// a check of the word that names the index out of range. Lowering.cpp dispatches here.
//
//===----------------------------------------------------------------------===//
#include "backends/cuda/LowerOps.h"
#include "runtime/CudaAotSteps.h"

#include <cstring>
#include <limits>
#include <tuple>

namespace weft::cuda::detail {
namespace {

using ir::OpKind;

/// A strided copy's scalars (emitCopyKernel).
std::vector<int64_t> copyScalars(const Shape &dims, const Shape &src, const Shape &dst,
                                 int64_t srcOffset, int64_t dstOffset) {
  std::vector<int64_t> s = {numel(dims)};
  for (const Shape *v : {&dims, &src, &dst})
    s.insert(s.end(), v->begin(), v->end());
  s.push_back(srcOffset);
  s.push_back(dstOffset);
  return s;
}

/// Adds the copy kernel for `op`'s dtype and `rank`.
Expected<std::string> copyKernel(OpLowering &l, const ir::Op &op, int rank) {
  std::string name = l.kernelName(op);
  WEFT_TRY(emitCopyKernel(*l.km.module, name, l.target,
                          static_cast<int>(dtypeBytes(op.result()->type().dtype())), rank)
               .status());
  return name;
}

} // namespace

/// transpose, broadcast and slice: a copy over the result, reading the operand at strides.
Expected<std::vector<Step>> lowerRestride(OpLowering &l, const ir::Op &op) {
  const ir::Type in = op.operand(0)->type(), out = op.result()->type();
  auto name = copyKernel(l, op, static_cast<int>(out.rank()));
  WEFT_TRY(name.status());
  const OpKind kind = op.kind();
  const std::vector<int64_t> perm = kind == OpKind::Transpose ? op.perm() : Shape{};
  const std::vector<int64_t> bdims = kind == OpKind::Broadcast ? op.dims() : Shape{};
  const int64_t axis = kind == OpKind::Slice ? op.axis() : 0;
  const int64_t start = kind == OpKind::Slice ? op.start() : 0;
  return std::vector<Step>{
      l.kernelStep(op, *name, {l.slot(op.result()), l.slot(op.operand(0))},
                   [=](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto si = in.evaluateShape(dims);
                     WEFT_TRY(si.status());
                     auto so = out.evaluateShape(dims);
                     WEFT_TRY(so.status());
                     Shape inStrides = rowMajor(*si), src(so->size(), 0);
                     int64_t offset = 0;
                     if (kind == OpKind::Transpose) {
                       for (size_t i = 0; i < perm.size(); ++i)
                         src[i] = inStrides[static_cast<size_t>(perm[i])];
                     } else if (kind == OpKind::Broadcast) {
                       for (size_t i = 0; i < bdims.size(); ++i)
                         if ((*si)[i] != 1)
                           src[static_cast<size_t>(bdims[i])] = inStrides[i];
                     } else {
                       src = inStrides;
                       offset = start * inStrides[static_cast<size_t>(axis)];
                     }
                     int64_t n = numel(*so);
                     return Launch{copyScalars(*so, src, rowMajor(*so), offset, 0), strided(d, n)};
                   })};
}

Expected<std::vector<Step>> lowerConcat(OpLowering &l, const ir::Op &op) {
  const ir::Type out = op.result()->type();
  auto name = copyKernel(l, op, static_cast<int>(out.rank()));
  WEFT_TRY(name.status());
  std::vector<ir::Type> ins;
  for (const ir::Value *v : op.operands())
    ins.push_back(v->type());
  const auto axis = static_cast<size_t>(op.axis());
  std::vector<Step> steps;
  for (size_t k = 0; k < ins.size(); ++k) {
    LaunchPlan launch = [=](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
      auto so = out.evaluateShape(dims);
      WEFT_TRY(so.status());
      int64_t before = 0;
      Shape mine;
      for (size_t j = 0; j <= k; ++j) {
        auto s = ins[j].evaluateShape(dims);
        WEFT_TRY(s.status());
        if (j < k)
          before += (*s)[axis];
        else
          mine = *s;
      }
      Shape outStrides = rowMajor(*so);
      return Launch{copyScalars(mine, rowMajor(mine), outStrides, 0, before * outStrides[axis]),
                    strided(d, numel(mine))};
    };
    if (k == 0) {
      steps.push_back(
          l.kernelStep(op, *name, {l.slot(op.result()), l.slot(op.operand(k))}, launch));
    } else { // the same kernel again, on the next operand
      Step s = steps.front();
      s.slots = {l.slot(op.result()), l.slot(op.operand(k))};
      s.launch = launch;
      steps.push_back(std::move(s));
    }
  }
  return steps;
}

Expected<std::vector<Step>> lowerPad(OpLowering &l, const ir::Op &op) {
  const ir::Type in = op.operand(0)->type(), out = op.result()->type();
  const int bytes = static_cast<int>(dtypeBytes(out.dtype()));
  std::string fill = l.kernelName(op) + "_fill";
  WEFT_TRY(emitFillKernel(*l.km.module, fill, l.target, bytes).status());
  // The fill value in the result's dtype, as the interpreter converts it, as raw bits.
  Array value(out.dtype(), {1});
  value.setDouble(0, op.padValue());
  int64_t bits = 0;
  std::memcpy(&bits, value.data(), static_cast<size_t>(bytes));
  std::vector<Step> steps;
  steps.push_back(
      l.kernelStep(op, fill, {l.slot(op.result())},
                   [out, bits](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
                     auto so = out.evaluateShape(dims);
                     WEFT_TRY(so.status());
                     return Launch{{numel(*so), bits}, strided(d, numel(*so))};
                   }));
  auto name = copyKernel(l, op, static_cast<int>(out.rank()));
  WEFT_TRY(name.status());
  const Shape low = op.low();
  steps.push_back(l.kernelStep(
      op, *name, {l.slot(op.result()), l.slot(op.operand(0))},
      [in, out, low](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
        auto si = in.evaluateShape(dims);
        WEFT_TRY(si.status());
        auto so = out.evaluateShape(dims);
        WEFT_TRY(so.status());
        Shape outStrides = rowMajor(*so);
        int64_t offset = 0;
        for (size_t a = 0; a < low.size(); ++a)
          offset += low[a] * outStrides[a];
        return Launch{copyScalars(*si, rowMajor(*si), outStrides, 0, offset),
                      strided(d, numel(*si))};
      }));
  return steps;
}

Expected<std::vector<Step>> lowerGather(OpLowering &l, const ir::Op &op) {
  const ir::Type table = op.operand(0)->type(), indices = op.operand(1)->type();
  const int bytes = static_cast<int>(dtypeBytes(table.dtype()));
  std::string name = l.kernelName(op);
  const bool scatter = op.kind() == OpKind::ScatterAdd;
  WEFT_TRY((scatter
                ? emitScatterAddKernel(*l.km.module, name, l.target, table.dtype(), indices.dtype())
                : emitGatherKernel(*l.km.module, name, l.target, bytes, indices.dtype()))
               .status());
  const int status = l.plan.scratchOf(op).at(0);
  const auto axis = static_cast<size_t>(op.axis());
  std::vector<Step> steps;
  Step reset = l.step(op, Step::Kind::Upload);
  Array none(DType::I64, {1});
  none.setInt(0, std::numeric_limits<int64_t>::max());
  reset.constant = std::make_shared<const Array>(std::move(none));
  reset.slots = {status};
  steps.push_back(std::move(reset));
  // The table as [P, axis, Q], the gathered elements as [P, I, Q].
  auto sizes =
      [table, indices,
       axis](const ir::DimBindings &dims) -> Expected<std::tuple<Shape, Shape, int64_t, int64_t>> {
    auto st = table.evaluateShape(dims);
    WEFT_TRY(st.status());
    auto si = indices.evaluateShape(dims);
    WEFT_TRY(si.status());
    int64_t outer = numel(Shape(st->begin(), st->begin() + static_cast<int64_t>(axis)));
    int64_t inner = numel(Shape(st->begin() + static_cast<int64_t>(axis) + 1, st->end()));
    return std::tuple{*st, *si, outer, inner};
  };
  const int indicesSlot = l.slot(op.operand(1));
  if (scatter) // threads over the result [P, axis, Q], each reading every index
    steps.push_back(l.kernelStep(
        op, name,
        {l.slot(op.result()), l.slot(op.operand(0)), indicesSlot, l.slot(op.operand(2)), status},
        [sizes, axis](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
          auto s = sizes(dims);
          WEFT_TRY(s.status());
          auto &[st, si, outer, inner] = *s;
          const int64_t n = numel(st);
          return Launch{{n, numel(si), inner, st[axis], outer}, strided(d, std::max(n, numel(si)))};
        }));
  else
    steps.push_back(l.kernelStep(
        op, name, {l.slot(op.result()), l.slot(op.operand(0)), indicesSlot, status},
        [sizes, axis](const ir::DimBindings &dims, const Device &d) -> Expected<Launch> {
          auto s = sizes(dims);
          WEFT_TRY(s.status());
          auto &[st, si, outer, inner] = *s;
          const int64_t count = numel(si), n = outer * count * inner;
          return Launch{{n, count, inner, st[axis]}, strided(d, n)};
        }));
  Step check = l.step(op, Step::Kind::Check);
  check.statusSlot = status;
  const DType indexType = indices.dtype(), tableType = table.dtype();
  check.check = [sizes, axis, status, indicesSlot, indexType,
                 tableType](Device &d, const std::function<DeviceAddress(int)> &address,
                            const ir::DimBindings &dims) -> Status {
    int64_t bad = 0;
    WEFT_TRY(d.download(&bad, address(status), sizeof bad));
    WEFT_TRY(d.synchronize());
    if (bad == std::numeric_limits<int64_t>::max())
      return Status::ok();
    auto s = sizes(dims);
    WEFT_TRY(s.status());
    auto &[st, si, outer, inner] = *s;
    const int64_t i = faultingIndexPosition(bad, inner, numel(si));
    const auto width = static_cast<size_t>(dtypeBytes(indexType));
    Array k(indexType, {1});
    WEFT_TRY(d.download(k.data(), address(indicesSlot) + static_cast<size_t>(i) * width, width));
    WEFT_TRY(d.synchronize());
    return err(indexOutOfRangeMessage(k.getInt(0), i, si, st[axis], static_cast<int64_t>(axis),
                                      typeStr(tableType, st)));
  };
  check.indexed = Step::Indexed{indicesSlot, indices, table, static_cast<int64_t>(axis)};
  steps.push_back(std::move(check));
  return steps;
}

} // namespace weft::cuda::detail
