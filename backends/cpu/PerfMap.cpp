//===- backends/cpu/PerfMap.cpp - name JIT-compiled kernels for perf -------===//
//
// With WEFT_PERF_MAP set, the JIT links through JITLink with a plugin that appends every
// function it places in memory (the entry points and their outlined kernels) to
// /tmp/perf-<pid>.map, the file `perf report` reads to name addresses in anonymous memory.
// Without it, a profile of a compiled model shows its hot kernels as bare hex addresses.
//
//===----------------------------------------------------------------------===//
#include "backends/cpu/PerfMap.h"

#include <fmt/format.h>
#include <llvm/ExecutionEngine/JITLink/JITLink.h>
#include <llvm/ExecutionEngine/Orc/ObjectLinkingLayer.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <unistd.h>

namespace weft::cpu {
namespace {

/// Appends `g`'s functions, now at their final addresses, to the process's perf map.
llvm::Error appendToPerfMap(llvm::jitlink::LinkGraph &g) {
  static std::mutex fileLock;
  std::lock_guard<std::mutex> lock(fileLock);
  std::FILE *f = std::fopen(fmt::format("/tmp/perf-{}.map", getpid()).c_str(), "a");
  if (!f)
    return llvm::Error::success(); // profiling help only: never fail a compile for it
  for (llvm::jitlink::Symbol *s : g.defined_symbols())
    if (s->hasName() && s->isCallable() && s->getSize() > 0)
      std::fprintf(f, "%llx %llx %s\n", (unsigned long long)s->getAddress().getValue(),
                   (unsigned long long)s->getSize(), s->getName().str().c_str());
  std::fclose(f);
  return llvm::Error::success();
}

class PerfMapPlugin final : public llvm::orc::ObjectLinkingLayer::Plugin {
public:
  void modifyPassConfig(llvm::orc::MaterializationResponsibility &, llvm::jitlink::LinkGraph &,
                        llvm::jitlink::PassConfiguration &config) override {
// GCC 12 sees unique_function's inline storage as maybe-uninitialized when moved (a false
// positive inside LLVM's header).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
    config.PostFixupPasses.push_back(appendToPerfMap);
#pragma GCC diagnostic pop
  }
  llvm::Error notifyFailed(llvm::orc::MaterializationResponsibility &) override {
    return llvm::Error::success();
  }
  llvm::Error notifyRemovingResources(llvm::orc::JITDylib &, llvm::orc::ResourceKey) override {
    return llvm::Error::success();
  }
  void notifyTransferringResources(llvm::orc::JITDylib &, llvm::orc::ResourceKey,
                                   llvm::orc::ResourceKey) override {}
};

} // namespace

void addPerfMapIfRequested(llvm::orc::LLJITBuilder &builder) {
  if (!std::getenv("WEFT_PERF_MAP"))
    return;
  builder.setObjectLinkingLayerCreator(
      [](llvm::orc::ExecutionSession &es,
         const llvm::Triple &) -> llvm::Expected<std::unique_ptr<llvm::orc::ObjectLayer>> {
        auto layer = std::make_unique<llvm::orc::ObjectLinkingLayer>(es);
        layer->addPlugin(std::make_shared<PerfMapPlugin>());
        return layer;
      });
}

} // namespace weft::cpu
