//===- tests/unit/runtime/text/PipeInput.h - bytes readable from a file descriptor ===//
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>

namespace weft::test {

/// A pipe whose read end yields `bytes` then the end of input; a thread writes them, so any
/// amount fits. The read end closes with the object.
class PipeInput {
public:
  explicit PipeInput(std::string bytes) : bytes_(std::move(bytes)) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    readFd_ = fds[0];
    writer_ = std::thread([this, w = fds[1]] {
      std::string_view rest = bytes_;
      while (!rest.empty()) {
        ssize_t n = ::write(w, rest.data(), rest.size());
        if (n <= 0)
          break;
        rest.remove_prefix(static_cast<size_t>(n));
      }
      ::close(w);
    });
  }
  PipeInput(const PipeInput &) = delete;
  PipeInput &operator=(const PipeInput &) = delete;
  ~PipeInput() {
    ::close(readFd_); // tests read to the end, so the writer has finished
    writer_.join();
  }
  int fd() const { return readFd_; }

private:
  std::string bytes_;
  int readFd_ = -1;
  std::thread writer_;
};

} // namespace weft::test
