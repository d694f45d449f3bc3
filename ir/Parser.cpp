// Placeholder until the parser lands.
#include "ir/Parser.h"

namespace weft::ir {
Expected<std::unique_ptr<Module>> parseModule(std::string_view, std::string_view) {
  return err("parser not implemented yet");
}
} // namespace weft::ir
