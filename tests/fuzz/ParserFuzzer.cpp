// libFuzzer target for the IR parser: no input may crash it, and anything it accepts
// must print to text that parses back to the same print.
#include "ir/Parser.h"
#include "ir/Printer.h"
#include "ir/Verifier.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto m = weft::ir::parseModule(text, "fuzz.wir");
  if (!m)
    return 0;
  // Verification may reject what the parser accepts (e.g. duplicate function names);
  // printing must still be stable.
  (void)weft::ir::verify(**m);
  std::string printed = weft::ir::print(**m);
  auto again = weft::ir::parseModule(printed, "printed.wir");
  if (!again) {
    std::fprintf(stderr, "printed IR does not parse: %s\n--- printed ---\n%s\n",
                 again.diag().str().c_str(), printed.c_str());
    std::abort();
  }
  std::string reprinted = weft::ir::print(**again);
  if (reprinted != printed) {
    std::fprintf(stderr,
                 "print(parse(print(m))) != print(m)\n--- first ---\n%s\n--- second ---\n%s\n",
                 printed.c_str(), reprinted.c_str());
    std::abort();
  }
  return 0;
}
