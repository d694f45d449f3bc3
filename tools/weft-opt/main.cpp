//===- tools/weft-opt/main.cpp - run passes on textual IR -----------------===//
//
// weft-opt reads a module (a file or stdin), verifies it, runs a pipeline of
// passes and prints the result: the mlir-opt of weft. Errors are printed as
// `weft-opt: <message>` and exit with status 1.
//
//===----------------------------------------------------------------------===//
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"
#include "passes/MemoryEstimate.h"
#include "passes/PassManager.h"
#include "passes/Passes.h"
#include "runtime/AtomicFile.h"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

namespace {

using namespace weft;

constexpr const char *kUsage = R"usage(usage: weft-opt [FILE|-] [options]

Reads weft IR (docs/IR.md) from FILE or stdin, verifies it, runs the passes and
prints the resulting IR.

options:
  --pipeline=P1,P2,...     passes to run, in order (alias: --pass-pipeline=)
  -o FILE                  write the result to FILE instead of stdout
  --print-after-all        print the IR after every pass
  --print-after=P1,P2      print the IR after the named passes
  --print-after-change     print only after passes that changed the IR
                           ("(unchanged)" otherwise)
  --print-after-failure    print the IR after a pass that failed
  --time-passes            print a pass timing table to stderr
  --verify-each=0|1        verify the IR after every pass (default 1)
  --stop-after-pass-num=N  run only the first N passes of the pipeline
  --verify-roundtrip       check that print(parse(print(result))) == print(result)
  --report-memory[=S=N,..] after the passes, print each function's peak memory by
                           liveness to stderr, with symbolic dims bound as given
  --list-passes            list the passes and pipeline aliases, then exit
  -h, --help               show this help

IR dumps (--print-after*) go to stdout, before the result, each headed
"// -----// IR after <pass> //----- //".
)usage";

struct Options {
  std::string input = "-";
  std::string output;
  std::string pipeline;
  bool verifyRoundtrip = false;
  bool listPasses = false;
  std::optional<ir::DimBindings> reportMemory;
  bool help = false;
  passes::PassManagerOptions pm;
};

std::vector<std::string> splitList(std::string_view s) {
  std::vector<std::string> out;
  while (!s.empty()) {
    size_t comma = s.find(',');
    out.emplace_back(s.substr(0, comma));
    if (comma == std::string_view::npos)
      break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

Expected<size_t> parseCount(std::string_view flag, std::string_view s) {
  size_t n = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc() || ptr != s.data() + s.size())
    return err(fmt::format("{} needs a non-negative integer, got '{}'", flag, s));
  return n;
}

Expected<Options> parseArgs(int argc, char **argv) {
  Options o;
  bool haveInput = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string_view prefix) -> std::optional<std::string_view> {
      if (a.substr(0, prefix.size()) != prefix)
        return std::nullopt;
      return a.substr(prefix.size());
    };
    if (a == "-h" || a == "--help") {
      o.help = true;
    } else if (auto v = value("--pipeline="); v) {
      o.pipeline = *v;
    } else if (auto v = value("--pass-pipeline="); v) {
      o.pipeline = *v;
    } else if (a == "-o") {
      if (++i == argc)
        return err("-o needs a file name");
      o.output = argv[i];
    } else if (a == "--print-after-all") {
      o.pm.printAfterAll = true;
    } else if (auto v = value("--print-after="); v) {
      o.pm.printAfter = splitList(*v);
    } else if (a == "--print-after-change") {
      o.pm.printAfterChange = true;
    } else if (a == "--print-after-failure") {
      o.pm.printAfterFailure = true;
    } else if (a == "--time-passes") {
      o.pm.timePasses = true;
    } else if (auto v = value("--verify-each="); v) {
      if (*v != "0" && *v != "1")
        return err(fmt::format("--verify-each needs 0 or 1, got '{}'", *v));
      o.pm.verifyEach = *v == "1";
    } else if (auto v = value("--stop-after-pass-num="); v) {
      auto n = parseCount("--stop-after-pass-num", *v);
      if (!n)
        return n.diag();
      o.pm.stopAfterPassNum = *n;
    } else if (a == "--verify-roundtrip") {
      o.verifyRoundtrip = true;
    } else if (a == "--report-memory") {
      o.reportMemory = ir::DimBindings{};
    } else if (auto v = value("--report-memory="); v) {
      o.reportMemory = ir::DimBindings{};
      for (const std::string &kv : splitList(*v)) {
        size_t eq = kv.find('=');
        if (eq == std::string::npos || eq == 0)
          return err(fmt::format("--report-memory needs SYM=N pairs, got '{}'", kv));
        auto n = parseCount("--report-memory", std::string_view(kv).substr(eq + 1));
        if (!n)
          return n.diag();
        (*o.reportMemory)[kv.substr(0, eq)] = static_cast<int64_t>(*n);
      }
    } else if (a == "--list-passes") {
      o.listPasses = true;
    } else if (a.size() > 1 && a[0] == '-') {
      return err(fmt::format("unknown option '{}' (see --help)", a));
    } else {
      if (haveInput)
        return err(fmt::format("more than one input file ('{}' and '{}')", o.input, a));
      o.input = a;
      haveInput = true;
    }
  }
  return o;
}

Expected<std::string> readInput(const std::string &path) {
  std::ostringstream ss;
  if (path == "-") {
    ss << std::cin.rdbuf();
    return ss.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return err(fmt::format("cannot open '{}'", path));
  ss << in.rdbuf();
  return ss.str();
}

/// Says where two texts first differ, line by line.
std::string firstDifference(const std::string &a, const std::string &b) {
  std::istringstream sa(a), sb(b);
  std::string la, lb;
  for (int line = 1;; ++line) {
    bool ha = static_cast<bool>(std::getline(sa, la));
    bool hb = static_cast<bool>(std::getline(sb, lb));
    if (!ha && !hb)
      return "texts differ only in line endings";
    if (!ha || !hb || la != lb)
      return fmt::format("first difference at line {}:\n- {}\n+ {}", line,
                         ha ? la : "<end of text>", hb ? lb : "<end of text>");
  }
}

Status checkRoundtrip(const std::string &printed) {
  auto reparsed = ir::parseModule(printed, "<printed>");
  if (!reparsed)
    return err(
        fmt::format("round-trip failed: printed IR does not parse: {}", reparsed.diag().str()));
  std::string again = ir::print(**reparsed);
  if (again != printed)
    return err(fmt::format("round-trip failed: print(parse(print(m))) != print(m); {}",
                           firstDifference(printed, again)));
  return {};
}

void listPasses() {
  std::cout << "passes:\n";
  for (std::string_view n : passes::passNames())
    std::cout << "  " << n << "\n";
  std::cout << "pipeline aliases:\n";
  for (const auto &[alias, expansion] : passes::pipelineAliases())
    std::cout << "  " << alias << " = " << expansion << "\n";
}

Status run(const Options &o) {
  passes::PassManager pm(std::cout, o.pm);
  WEFT_TRY(pm.addPipeline(o.pipeline));
  auto text = readInput(o.input);
  WEFT_TRY(text.status());
  auto m = ir::parseModule(*text, o.input == "-" ? "<stdin>" : o.input);
  if (!m)
    return m.diag();
  WEFT_TRY(ir::verify(**m));
  Status ran = pm.run(**m);
  std::cout.flush();
  pm.printTimingReport(std::cerr);
  WEFT_TRY(ran);
  if (o.reportMemory)
    for (const auto &f : (*m)->functions()) {
      auto est = passes::estimateMemory(*f, *o.reportMemory);
      if (!est)
        return Diag{fmt::format("--report-memory: @{}: {}", f->name(), est.diag().message), {}};
      std::cerr << fmt::format("// peak memory of @{}: {} bytes (largest buffer: %{}, {} bytes)\n",
                               f->name(), est->peakBytes, est->largestName, est->largestBytes);
    }
  std::string result = ir::print(**m);
  if (o.verifyRoundtrip)
    WEFT_TRY(checkRoundtrip(result));
  if (o.output.empty()) {
    std::cout << result;
    std::cout.flush();
    return {};
  }
  return writeFileAtomically(o.output, result);
}

} // namespace

int main(int argc, char **argv) {
  try {
    auto opts = parseArgs(argc, argv);
    if (!opts) {
      std::cerr << "weft-opt: " << opts.diag().str() << "\n";
      return 1;
    }
    if (opts->help) {
      std::cout << kUsage;
      return 0;
    }
    if (opts->listPasses) {
      listPasses();
      return 0;
    }
    Status s = run(*opts);
    if (!s) {
      std::cerr << "weft-opt: " << s.diag().str() << "\n";
      return 1;
    }
    return 0;
  } catch (const std::exception &e) {
    std::cerr << "weft-opt: " << e.what() << "\n";
    return 1;
  }
}
