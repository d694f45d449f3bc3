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
#include "passes/PassManager.h"
#include "passes/Passes.h"
#include "runtime/AtomicFile.h"
#include "tools/common/CommandLine.h"
#include "tools/common/MemoryReport.h"

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
  --report-memory          after the passes, print each function's peak memory by its
                           buffer plan (as weftc --report-memory does) to stderr
  --bind NAME=N            the value of symbolic dim NAME for --report-memory
                           (repeatable)
  --list-passes            list the passes and pipeline aliases, then exit
  -h, --help               show this help

IR dumps (--print-after*) go to stdout, before the result, each headed
"// -----// IR after <pass> //----- //".
)usage";

struct Options {
  std::vector<std::string> inputs;
  std::string input = "-";
  std::string output;
  std::string pipeline;
  bool verifyRoundtrip = false;
  bool listPasses = false;
  bool reportMemory = false;
  ir::DimBindings binds;
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
  std::string printAfter, verifyEach, stopAfter;
  std::vector<std::string> binds;
  CLI::App app("weft-opt", "weft-opt");
  app.set_help_flag(); // kUsage is the help text
  app.allow_extras();
  app.add_flag("-h,--help", o.help);
  app.add_option("--pipeline,--pass-pipeline", o.pipeline);
  app.add_option("-o", o.output);
  app.add_flag("--print-after-all", o.pm.printAfterAll);
  app.add_option("--print-after", printAfter);
  app.add_flag("--print-after-change", o.pm.printAfterChange);
  app.add_flag("--print-after-failure", o.pm.printAfterFailure);
  app.add_flag("--time-passes", o.pm.timePasses);
  app.add_option("--verify-each", verifyEach);
  app.add_option("--stop-after-pass-num", stopAfter);
  app.add_flag("--verify-roundtrip", o.verifyRoundtrip);
  app.add_flag("--report-memory", o.reportMemory);
  tool::addBindOption(app, binds, "the value of symbolic dim NAME");
  app.add_flag("--list-passes", o.listPasses);
  app.add_option("input", o.inputs);
  WEFT_TRY(tool::parseCommandLine(app, tool::argumentsOf(argc, argv)));
  if (o.inputs.size() > 1)
    return err(fmt::format("more than one input file ('{}' and '{}')", o.inputs[0], o.inputs[1]));
  if (!o.inputs.empty())
    o.input = o.inputs.front();
  if (!printAfter.empty())
    o.pm.printAfter = splitList(printAfter);
  if (!verifyEach.empty()) {
    if (verifyEach != "0" && verifyEach != "1")
      return err(fmt::format("--verify-each needs 0 or 1, got '{}'", verifyEach));
    o.pm.verifyEach = verifyEach == "1";
  }
  if (!stopAfter.empty()) {
    auto n = parseCount("--stop-after-pass-num", stopAfter);
    WEFT_TRY(n.status());
    o.pm.stopAfterPassNum = *n;
  }
  auto bound = tool::parseBinds(binds);
  WEFT_TRY(bound.status());
  o.binds = std::move(*bound);
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
  if (o.reportMemory) {
    Status reported = tool::printMemoryReport(**m, o.binds, "native", "", std::cerr);
    if (!reported)
      return err(fmt::format("--report-memory: {}", reported.diag().message));
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
