//===- passes/MemoryEstimate.cpp ------------------------------------------===//
#include "passes/MemoryEstimate.h"

#include "ir/Walk.h"

#include <unordered_map>

namespace weft::passes {
namespace {

class Estimator {
public:
  Estimator(const ir::DimBindings &dims, MemoryEstimate &out) : dims_(dims), out_(out) {}

  /// The peak bytes live while `block` runs once, counting only values it defines.
  Expected<int64_t> peak(ir::Block &block) {
    std::unordered_map<const ir::Value *, size_t> lastUse;
    size_t index = 0;
    for (auto &op : block.ops()) {
      auto use = [&](ir::Op &o) {
        for (ir::Value *v : o.operands())
          lastUse[v] = index;
      };
      use(*op);
      for (size_t r = 0; r < op->numRegions(); ++r)
        ir::walk(op->region(r), use);
      ++index;
    }
    int64_t live = 0, peakBytes = 0;
    std::vector<std::pair<size_t, int64_t>> frees; // (last use, bytes)
    index = 0;
    for (auto &op : block.ops()) {
      for (ir::Value *r : op->results()) {
        auto bytes = sizeOf(r);
        if (!bytes)
          return bytes.diag();
        live += *bytes;
        auto it = lastUse.find(r);
        frees.push_back({it == lastUse.end() ? index : it->second, *bytes});
      }
      int64_t inner = 0;
      for (size_t r = 0; r < op->numRegions() && ir::isLoop(op->kind()); ++r) {
        auto p = peak(op->region(r)); // a fusion body is one loop nest: it holds no buffers
        if (!p)
          return p.diag();
        inner = std::max(inner, *p);
      }
      peakBytes = std::max(peakBytes, live + inner);
      for (auto &[last, bytes] : frees)
        if (last == index) {
          live -= bytes;
          bytes = 0;
        }
      ++index;
    }
    return peakBytes;
  }

private:
  Expected<int64_t> sizeOf(const ir::Value *v) {
    auto shape = v->type().evaluateShape(dims_);
    if (!shape)
      return shape.diag();
    int64_t n = ir::dtypeBytes(v->type().dtype());
    for (int64_t d : *shape)
      n *= d;
    if (n > out_.largestBytes) {
      out_.largestBytes = n;
      out_.largestName = v->name();
    }
    return n;
  }

  const ir::DimBindings &dims_;
  MemoryEstimate &out_;
};

} // namespace

Expected<MemoryEstimate> estimateMemory(const ir::Function &f, const ir::DimBindings &dims) {
  MemoryEstimate est;
  auto p = Estimator(dims, est).peak(const_cast<ir::Block &>(f.body()));
  if (!p)
    return p.diag();
  est.peakBytes = *p;
  return est;
}

} // namespace weft::passes
