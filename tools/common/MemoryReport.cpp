//===- tools/common/MemoryReport.cpp --------------------------------------===//
#include "tools/common/MemoryReport.h"

#include "analysis/MemoryReport.h"
#include "backends/cpu/Aot.h"
#include "backends/cpu/Scratch.h"

#include <fmt/format.h>

namespace weft::tool {

Status printMemoryReport(const ir::Module &m, const ir::DimBindings &dims, const std::string &cpu,
                         const std::string &features, std::ostream &os) {
  auto vectorBytes = cpu::targetVectorBytes(cpu, features);
  WEFT_TRY(vectorBytes.status());
  for (const auto &f : m.functions()) {
    analysis::BufferPlan plan(*f, cpu::scratchModel(*vectorBytes));
    auto r = analysis::reportMemory(plan, dims);
    if (!r)
      return err(fmt::format("@{}: {}", f->name(), r.diag().message));
    double saved =
        r->unplannedBytes ? 100.0 * (1.0 - double(r->arenaBytes) / double(r->unplannedBytes)) : 0;
    std::string largest = r->largestBytes == 0 ? "none"
                          : r->largestName.empty()
                              ? fmt::format("scratch, {} bytes", r->largestBytes)
                              : fmt::format("%{}, {} bytes", r->largestName, r->largestBytes);
    os << fmt::format("@{}: peak {} bytes = arena {} bytes for {} buffers (one range each: {} "
                      "bytes, {:.1f}% saved) + results {} bytes; largest buffer: {}\n",
                      f->name(), r->peakBytes, r->arenaBytes, r->buffers, r->unplannedBytes, saved,
                      r->resultBytes, largest);
  }
  return {};
}

} // namespace weft::tool
