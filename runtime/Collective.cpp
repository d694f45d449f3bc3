//===- runtime/Collective.cpp - all_reduce over MPI, or over one process ---===//
#include "runtime/Collective.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#ifdef WEFT_HAVE_MPI
// The C API only: OpenMPI's and MPICH's mpi.h otherwise pull in their C++ bindings, which
// need a library weft does not link.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace weft::collective {
namespace {

thread_local std::string lastError_;

/// Where the launcher put this process: mpirun's environment, or a world of one.
struct Launch {
  int rank = 0, size = 1;
};

int envInt(const char *name, int fallback) {
  const char *v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

const Launch &launch() {
  static const Launch l = [] {
    Launch w;
    for (auto [r, s] : {std::pair{"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"},
                        std::pair{"PMI_RANK", "PMI_SIZE"}})
      if (std::getenv(s)) {
        w.rank = envInt(r, 0);
        w.size = std::max(1, envInt(s, 1));
        break;
      }
    return w;
  }();
  return l;
}

std::atomic<Reduction> &reduction() {
  static std::atomic<Reduction> r{[] {
    const char *v = std::getenv("WEFT_ALLREDUCE");
    return v && std::strcmp(v, "rank_order") == 0 ? Reduction::RankOrder : Reduction::Fast;
  }()};
  return r;
}

template <typename T> void divide(void *data, int64_t n, int by) {
  T *p = static_cast<T *>(data);
  for (int64_t i = 0; i < n; ++i)
    p[i] /= static_cast<T>(by);
}

#ifdef WEFT_HAVE_MPI

std::string mpiError(int code) {
  char s[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, s, &len);
  return std::string(s, static_cast<size_t>(len));
}

void finalizeMpi() {
  int done = 0;
  MPI_Finalized(&done);
  if (!done)
    MPI_Finalize();
}

/// Starts MPI once (a launched process only) and makes its errors return instead of abort.
Status startMpi() {
  static const Status started = []() -> Status {
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
      int provided = 0;
      int rc = MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided);
      if (rc != MPI_SUCCESS)
        return err(fmt::format("cannot start MPI: {}", mpiError(rc)));
      std::atexit(finalizeMpi);
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int size = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (size != launch().size)
      return err(fmt::format("MPI's world has {} processes but the launcher said {}", size,
                             launch().size));
    return {};
  }();
  return started;
}

/// Runs `call(offset, count)` over pieces of [0, n) that fit MPI's int counts.
template <typename Call> Status inPieces(int64_t n, const char *what, Call call) {
  for (int64_t off = 0; off < n; off += INT_MAX) {
    int rc = call(off, static_cast<int>(std::min<int64_t>(INT_MAX, n - off)));
    if (rc != MPI_SUCCESS)
      return err(fmt::format("{} failed on rank {} of {}: {}", what, launch().rank, launch().size,
                             mpiError(rc)));
  }
  return {};
}

/// Gathers every process's values and adds them in rank order.
template <typename T> Status rankOrderSum(T *data, int64_t n, MPI_Datatype type) {
  const int size = launch().size;
  std::vector<T> all(static_cast<size_t>(n) * static_cast<size_t>(size));
  std::vector<T> piece;
  return inPieces(n, "MPI_Allgather", [&](int64_t off, int count) {
    piece.resize(static_cast<size_t>(count) * static_cast<size_t>(size));
    int rc = MPI_Allgather(data + off, count, type, piece.data(), count, type, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS)
      return rc;
    for (int64_t i = 0; i < count; ++i) {
      T acc = piece[static_cast<size_t>(i)];
      for (int r = 1; r < size; ++r)
        acc += piece[static_cast<size_t>(r) * static_cast<size_t>(count) + static_cast<size_t>(i)];
      data[off + i] = acc;
    }
    return MPI_SUCCESS;
  });
}

Status mpiAllReduce(void *data, int64_t n, DType dtype) {
  WEFT_TRY(startMpi());
  MPI_Datatype type = dtype == DType::F32 ? MPI_FLOAT : MPI_DOUBLE;
  if (reduction().load() == Reduction::RankOrder)
    return dtype == DType::F32 ? rankOrderSum(static_cast<float *>(data), n, type)
                               : rankOrderSum(static_cast<double *>(data), n, type);
  int64_t bytes = dtypeBytes(dtype);
  return inPieces(n, "MPI_Allreduce", [&](int64_t off, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, static_cast<char *>(data) + off * bytes, count, type,
                         MPI_SUM, MPI_COMM_WORLD);
  });
}

#endif // WEFT_HAVE_MPI

#ifndef WEFT_HAVE_MPI
/// The error for a world of several processes in a build without MPI.
Diag noMpi(const char *what) {
  return err(fmt::format("{}: this process is rank {} of {} (started by mpirun), but weft was "
                         "built without MPI and cannot reach the others; install libopenmpi-dev "
                         "and rebuild weft with -DWEFT_MPI=ON",
                         what, launch().rank, launch().size));
}
#endif

} // namespace

bool haveMpi() {
#ifdef WEFT_HAVE_MPI
  return true;
#else
  return false;
#endif
}

int rank() { return launch().rank; }
int worldSize() { return launch().size; }

void setReduction(Reduction r) { reduction().store(r); }

Status allReduce(void *data, int64_t n, DType dtype, int64_t group, bool mean) {
  if (dtype != DType::F32 && dtype != DType::F64)
    return err(fmt::format("all_reduce: dtype {} is not f32 or f64", dtypeName(dtype)));
  if (group < 0)
    return err(fmt::format("all_reduce: group {} is negative", group));
  // A world of one: every group is this process alone, and its sum and mean are the data.
  if (worldSize() == 1)
    return {};
  if (group != 0)
    return err(
        fmt::format("all_reduce over group {}: only group 0 (every process) is defined", group));
#ifdef WEFT_HAVE_MPI
  WEFT_TRY(mpiAllReduce(data, n, dtype));
  if (mean) {
    if (dtype == DType::F32)
      divide<float>(data, n, worldSize());
    else
      divide<double>(data, n, worldSize());
  }
  return {};
#else
  return noMpi("all_reduce");
#endif
}

Status broadcast(void *data, int64_t bytes, int root) {
  if (root < 0 || root >= worldSize())
    return err(
        fmt::format("broadcast from rank {}: the world has {} processes", root, worldSize()));
  if (worldSize() == 1)
    return {};
#ifdef WEFT_HAVE_MPI
  WEFT_TRY(startMpi());
  return inPieces(bytes, "MPI_Bcast", [&](int64_t off, int count) {
    return MPI_Bcast(static_cast<char *>(data) + off, count, MPI_BYTE, root, MPI_COMM_WORLD);
  });
#else
  return noMpi("broadcast");
#endif
}

std::string lastError() { return lastError_; }

} // namespace weft::collective

extern "C" int32_t weft_all_reduce(void *data, int64_t n, int32_t dtype, int64_t group,
                                   int32_t mean) {
  try {
    weft::Status s =
        weft::collective::allReduce(data, n, static_cast<weft::DType>(dtype), group, mean != 0);
    if (s.isOk())
      return 0;
    weft::collective::lastError_ = s.diag().message;
  } catch (const std::bad_alloc &) {
    weft::collective::lastError_ = "all_reduce: out of memory";
  }
  return 1;
}
