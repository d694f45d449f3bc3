//===- runtime/train/Metrics.cpp ------------------------------------------===//
#include "runtime/train/Metrics.h"

#include "runtime/AtomicFile.h"

#include <fmt/format.h>

namespace weft::train {

void MetricsLog::add(int64_t step, int64_t epoch, std::string_view split, std::string_view metric,
                     double value) {
  // 17 significant digits: a value read back from the CSV is the double that was written.
  csv_ += fmt::format("{},{},{},{},{:.17g}\n", step, epoch, split, metric, value);
}

Status MetricsLog::write(const std::string &path) const { return writeFileAtomically(path, csv_); }

} // namespace weft::train
