//===- runtime/text/LineReader.cpp ----------------------------------------===//
#include "runtime/text/LineReader.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <unistd.h>

namespace weft::text {

LineReader::LineReader(int fd, size_t keepBytes) : fd_(fd), keepBytes_(keepBytes) {}

void LineReader::addByte(char c) {
  if (current_.bytes.size() < keepBytes_)
    current_.bytes.push_back(c);
  ++current_.length;
  lastWasCr_ = c == '\r';
}

void LineReader::endLine(std::vector<Line> &lines) {
  // A "\r" right before the "\n" is part of the line end, not of the line.
  if (lastWasCr_) {
    if (current_.length == current_.bytes.size())
      current_.bytes.pop_back();
    --current_.length;
  }
  lines.push_back(std::move(current_));
  current_ = Line{};
  lastWasCr_ = false;
}

Expected<std::vector<Line>> LineReader::next() {
  std::vector<Line> lines;
  char buffer[1 << 16];
  while (lines.empty() && !atEnd_) {
    ssize_t n = ::read(fd_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return err(fmt::format("cannot read the input: {}", std::strerror(errno)));
    if (n == 0) {
      atEnd_ = true;
      if (current_.length > 0)
        endLine(lines);
      break;
    }
    for (ssize_t i = 0; i < n; ++i) {
      if (buffer[i] == '\n')
        endLine(lines);
      else
        addByte(buffer[i]);
    }
  }
  return lines;
}

} // namespace weft::text
