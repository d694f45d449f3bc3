//===- runtime/AtomicFile.cpp ---------------------------------------------===//
#include "runtime/AtomicFile.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <unistd.h>

namespace weft {

Status writeFileAtomically(const std::string &path, std::string_view bytes) {
  std::string tmp = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    return err(
        fmt::format("cannot create a temporary file next to '{}': {}", path, std::strerror(errno)));
  auto fail = [&](const char *what) {
    Diag d = err(fmt::format("cannot {} '{}': {}", what, path, std::strerror(errno)));
    ::close(fd);
    ::unlink(tmp.c_str());
    return d;
  };
  for (size_t done = 0; done < bytes.size();) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return fail("write");
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0)
    return fail("flush");
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return err(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Diag d = err(
        fmt::format("cannot rename the temporary file to '{}': {}", path, std::strerror(errno)));
    ::unlink(tmp.c_str());
    return d;
  }
  return {};
}

} // namespace weft
