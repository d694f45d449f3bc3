//===- tests/diff/DiffMain.cpp - weft-difftest: run any number of seeds ---===//
//
// weft-difftest [--seeds N] [--first S] [--corpus-dir DIR] [--print SEED]
//               [--minimize FILE]
// Generates the programs of seeds S .. S+N-1, runs each differentially
// (DiffRunner.h), minimizes every failure and prints it; with --corpus-dir
// also writes it to DIR/seed-<S>.wir. --minimize reduces a corpus file again
// (after the minimizer learned new tricks) and prints it. Exits 1 when
// anything failed.
// scripts/difftest.sh wraps it (and survives a crashing seed).
//
//===----------------------------------------------------------------------===//
#include "ir/Printer.h"
#include "tests/diff/Corpus.h"
#include "tests/diff/DiffRunner.h"
#include "tests/diff/Minimizer.h"
#include "tests/diff/ProgramGenerator.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>

using namespace weft;
using namespace weft::difftest;

namespace {

struct Args {
  uint64_t seeds = 100, first = 1;
  std::string corpusDir;
  std::optional<uint64_t> printSeed;
  std::string minimizeFile;
};

[[noreturn]] void usage(const char *why) {
  std::fprintf(stderr,
               "weft-difftest: %s\nusage: weft-difftest [--seeds N] [--first S] "
               "[--corpus-dir DIR] [--print SEED] [--minimize FILE]\n",
               why);
  std::exit(2);
}

uint64_t number(const char *flag, const char *text) {
  if (!text)
    usage(fmt::format("{} needs a number", flag).c_str());
  char *end = nullptr;
  uint64_t v = std::strtoull(text, &end, 10);
  if (*text == '\0' || *end != '\0')
    usage(fmt::format("{}: '{}' is not a number", flag, text).c_str());
  return v;
}

Args parseArgs(int argc, char **argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    const char *next = i + 1 < argc ? argv[i + 1] : nullptr;
    if (s == "--seeds")
      a.seeds = number("--seeds", next), ++i;
    else if (s == "--first")
      a.first = number("--first", next), ++i;
    else if (s == "--print")
      a.printSeed = number("--print", next), ++i;
    else if (s == "--corpus-dir" && next)
      a.corpusDir = next, ++i;
    else if (s == "--minimize" && next)
      a.minimizeFile = next, ++i;
    else
      usage(fmt::format("unknown argument '{}'", s).c_str());
  }
  return a;
}

/// Minimizes the failing program `m` (inputs of `seed`) and reports it; writes it to the corpus
/// when asked.
void reportFailure(const Args &a, uint64_t seed, const ir::Module &m, const ir::DimBindings &dims,
                   const Failure &failure) {
  std::printf("seed %llu: FAIL %s\n", static_cast<unsigned long long>(seed), failure.str().c_str());
  std::fflush(stdout);
  std::vector<Variant> only;
  for (const Variant &v : defaultVariants())
    if (v.name == failure.variant)
      only.push_back(v);
  auto stillFails = [&](const ir::Module &m, const ir::DimBindings &dims) {
    auto f = runDifferential(m, dims, seed, only);
    return f && f->variant == failure.variant && f->kind == failure.kind;
  };
  Reduced r = minimize(m, dims, stillFails);
  auto last = runDifferential(*r.module, r.dims, seed, only);
  CorpusCase c{std::move(r.module), r.dims, seed, seed, last ? last->str() : failure.str(), {}};
  std::string text = formatCorpusCase(c);
  std::printf("minimized in %zu tries:\n%s\n", r.tries, text.c_str());
  if (!a.corpusDir.empty()) {
    std::string path = fmt::format("{}/seed-{}.wir", a.corpusDir, seed);
    std::ofstream(path) << text;
    std::printf("wrote %s\n", path.c_str());
  }
  std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv) {
  Args a = parseArgs(argc, argv);
  if (a.printSeed) {
    Program p = generateProgram(*a.printSeed);
    std::string dims;
    for (const auto &[sym, n] : p.dims)
      dims += fmt::format(" {}={}", sym, n);
    std::printf("// dims:%s\n%s", dims.c_str(), ir::print(*p.module).c_str());
    return 0;
  }
  std::vector<Variant> variants = defaultVariants();
  if (!a.minimizeFile.empty()) {
    std::ifstream in(a.minimizeFile);
    std::stringstream text;
    text << in.rdbuf();
    auto c = parseCorpusCase(text.str(), a.minimizeFile);
    if (!c) {
      std::fprintf(stderr, "weft-difftest: %s\n", c.diag().str().c_str());
      return 2;
    }
    auto failure = runDifferential(*c->module, c->dims, c->inputSeed, variants);
    if (!failure) {
      std::printf("%s: passes\n", a.minimizeFile.c_str());
      return 0;
    }
    reportFailure(a, c->inputSeed, *c->module, c->dims, *failure);
    return 1;
  }
  uint64_t failed = 0;
  for (uint64_t seed = a.first; seed < a.first + a.seeds; ++seed) {
    // A crash (a bug, too) loses the process: say which seed was running.
    std::fprintf(stderr, "running seed %llu\n", static_cast<unsigned long long>(seed));
    Program p = generateProgram(seed);
    if (auto failure = runDifferential(*p.module, p.dims, seed, variants)) {
      ++failed;
      reportFailure(a, seed, *p.module, p.dims, *failure);
    }
  }
  std::printf("%llu seeds from %llu: %llu failed\n", static_cast<unsigned long long>(a.seeds),
              static_cast<unsigned long long>(a.first), static_cast<unsigned long long>(failed));
  return failed ? 1 : 0;
}
