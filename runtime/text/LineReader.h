//===- runtime/text/LineReader.h - lines of any bytes from a file descriptor ===//
//
// The native binaries answer one line of stdin at a time, and stdin may hold anything: NUL
// bytes, invalid UTF-8, a line of megabytes, no newline at the end. LineReader reads a file
// descriptor in chunks and hands out the complete lines of each chunk as soon as it has read
// them (so a person typing at a terminal gets each answer at once, and a pipe is read in
// batches). A line ends at "\n"; a "\r" before it is dropped (Windows line ends); the bytes
// after the last "\n" make a last line at the end of input. Memory stays bounded: of each line
// only the first `keepBytes` bytes are kept, and its full length is counted.
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/Support.h"

#include <cstddef>
#include <string>
#include <vector>

namespace weft::text {

/// One line, without its "\n" (or "\r\n").
struct Line {
  /// The line's first bytes: all of them unless it is longer than the reader keeps.
  std::string bytes;
  /// The line's length in bytes.
  size_t length = 0;
  /// Whether bytes were dropped from the end of the line.
  bool cut() const { return length > bytes.size(); }
};

class LineReader {
public:
  /// Reads from `fd` (not owned; left open), keeping at most `keepBytes` bytes of each line.
  LineReader(int fd, size_t keepBytes);

  /// The lines that the next reads complete: at least one, or none at the end of input. Reads
  /// interrupted by a signal are retried; another read error is an error naming it.
  Expected<std::vector<Line>> next();
  bool atEnd() const { return atEnd_; }

private:
  void addByte(char c);
  void endLine(std::vector<Line> &lines);

  int fd_;
  size_t keepBytes_;
  Line current_;
  bool atEnd_ = false;
  bool lastWasCr_ = false;
};

} // namespace weft::text
