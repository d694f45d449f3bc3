//===- runtime/AtomicFile.cpp ---------------------------------------------===//
#include "runtime/AtomicFile.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

namespace weft {

Status writeFileAtomically(const std::string &path, std::string_view bytes,
                           const AtomicWriteObserver &observer) {
  auto reached = [&](AtomicWriteStep step, const std::string &tmp) {
    if (observer)
      observer(step, tmp);
  };
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
  reached(AtomicWriteStep::TempWritten, tmp);
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0)
    return fail("flush");
  if (::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return err(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  }
  reached(AtomicWriteStep::TempSynced, tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Diag d = err(
        fmt::format("cannot rename the temporary file to '{}': {}", path, std::strerror(errno)));
    ::unlink(tmp.c_str());
    return d;
  }
  reached(AtomicWriteStep::Renamed, tmp);
  // The rename lives in the folder: until the folder is flushed too, a power loss can bring
  // back the old file (or none) after the caller was told the write is done.
  std::string folder = std::filesystem::path(path).parent_path().string();
  if (folder.empty())
    folder = ".";
  int dirFd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirFd < 0 || ::fsync(dirFd) != 0) {
    Diag d = err(fmt::format("cannot flush the folder of '{}': {}", path, std::strerror(errno)));
    if (dirFd >= 0)
      ::close(dirFd);
    return d;
  }
  ::close(dirFd);
  reached(AtomicWriteStep::FolderSynced, tmp);
  return {};
}

} // namespace weft
