//===- backends/cpu/PerfMap.cpp -------------------------------------------===//
#include "backends/cpu/PerfMap.h"

#include <fmt/format.h>
#include <llvm/ExecutionEngine/JITLink/JITLink.h>
#include <llvm/ExecutionEngine/Orc/ObjectLinkingLayer.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <unistd.h>

namespace weft::cpu {

namespace {

using llvm::Error;
using llvm::orc::JITDylib;
using llvm::orc::MaterializationResponsibility;
using llvm::orc::ResourceKey;

/// Writes "<start hex> <size hex> <name>" per callable symbol of `g`, once it is at its final
/// addresses. One graph's lines are written under a lock so that concurrent links do not
/// interleave; the file is only appended to, as perf expects. A map that cannot be written
/// only costs the names.
Error writePerfMap(llvm::jitlink::LinkGraph &g) {
  std::string lines;
  for (llvm::jitlink::Symbol *sym : g.defined_symbols())
    if (sym->isCallable() && sym->hasName() && sym->getSize() > 0)
      lines += fmt::format("{:x} {:x} {}\n", sym->getAddress().getValue(), sym->getSize(),
                           std::string_view(sym->getName().data(), sym->getName().size()));
  static std::mutex lock;
  std::lock_guard<std::mutex> guard(lock);
  if (std::FILE *f = std::fopen(perfMapPath().c_str(), "a")) {
    std::fwrite(lines.data(), 1, lines.size(), f);
    std::fclose(f);
  }
  return Error::success();
}

/// JITLink's pruning drops the symbols of local functions (their code stays, reached through
/// the entry point); marking them live before it keeps their names for the map.
Error keepFunctionNames(llvm::jitlink::LinkGraph &g) {
  for (llvm::jitlink::Symbol *sym : g.defined_symbols())
    if (sym->isCallable() && sym->hasName())
      sym->setLive(true);
  return Error::success();
}

class PerfMapPlugin : public llvm::orc::ObjectLinkingLayer::Plugin {
public:
  void modifyPassConfig(MaterializationResponsibility &, llvm::jitlink::LinkGraph &,
                        llvm::jitlink::PassConfiguration &config) override {
    config.PostFixupPasses.push_back(writePerfMap);
    config.PrePrunePasses.push_back(keepFunctionNames);
  }
  Error notifyFailed(MaterializationResponsibility &) override { return Error::success(); }
  Error notifyRemovingResources(JITDylib &, ResourceKey) override { return Error::success(); }
  void notifyTransferringResources(JITDylib &, ResourceKey, ResourceKey) override {}
};

} // namespace

bool perfMapRequested() {
  const char *v = std::getenv("WEFT_PERF_MAP");
  return v && *v && std::strcmp(v, "0") != 0;
}

std::string perfMapPath() { return fmt::format("/tmp/perf-{}.map", ::getpid()); }

void addPerfMapPlugin(llvm::orc::ObjectLinkingLayer &layer) {
  layer.addPlugin(std::make_shared<PerfMapPlugin>());
}

} // namespace weft::cpu
