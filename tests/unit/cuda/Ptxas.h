// Validates PTX with NVIDIA's ptxas where the CUDA toolkit is installed (these development
// machines); elsewhere the check is skipped with a message, as issue 13 asks.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <unistd.h>

namespace weft::testing {

/// ptxas from $WEFT_PTXAS, $PATH or /usr/local/cuda/bin, or nothing.
inline std::optional<std::string> findPtxas() {
  if (const char *env = std::getenv("WEFT_PTXAS"))
    return std::string(env);
  if (const char *path = std::getenv("PATH")) {
    std::string p = path;
    for (size_t begin = 0, end; begin <= p.size(); begin = end + 1) {
      end = p.find(':', begin);
      if (end == std::string::npos)
        end = p.size();
      auto candidate = std::filesystem::path(p.substr(begin, end - begin)) / "ptxas";
      if (access(candidate.c_str(), X_OK) == 0)
        return candidate.string();
    }
  }
  if (access("/usr/local/cuda/bin/ptxas", X_OK) == 0)
    return std::string("/usr/local/cuda/bin/ptxas");
  return std::nullopt;
}

/// Runs ptxas on `ptx` for `sm`; the empty string when it assembles, else its output.
inline std::string ptxasErrors(const std::string &ptxas, const std::string &ptx,
                               const std::string &sm) {
  auto dir = std::filesystem::temp_directory_path();
  std::string stem = (dir / ("weft-ptxas-" + std::to_string(getpid()))).string();
  {
    std::ofstream(stem + ".ptx") << ptx;
  }
  std::string cmd = ptxas + " --gpu-name " + sm + " " + stem + ".ptx -o " + stem + ".cubin > " +
                    stem + ".log 2>&1";
  int rc = std::system(cmd.c_str());
  std::ifstream log(stem + ".log");
  std::string out((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  for (const char *ext : {".ptx", ".cubin", ".log"})
    std::filesystem::remove(stem + ext);
  if (rc != 0 && out.empty())
    out = "ptxas exited with status " + std::to_string(rc);
  return rc == 0 ? std::string() : out;
}

} // namespace weft::testing
