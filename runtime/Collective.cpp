//===- runtime/Collective.cpp - all_reduce over MPI, or over one process ---===//
//
// Every collective is non-blocking underneath (MPI_Iallreduce, MPI_Iallgather,
// MPI_Ibcast) and is waited for by polling MPI_Testall against a deadline, so a
// lost process turns into an error instead of a hang. The blocking entry
// points are a start and a wait.
//
//===----------------------------------------------------------------------===//
#include "runtime/Collective.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <unistd.h>
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

using Clock = std::chrono::steady_clock;

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

std::atomic<double> &timeoutSeconds() {
  static std::atomic<double> t{[] {
    const char *v = std::getenv("WEFT_COLLECTIVE_TIMEOUT");
    double s = v && *v ? std::atof(v) : 0;
    return s > 0 ? s : 300.0;
  }()};
  return t;
}

/// WEFT_COLLECTIVE_TRACE=1: one line per reduction on stderr, saying whether it completed
/// before its wait began (the communication was hidden) or how long the wait blocked.
bool tracing() {
  static const bool on = [] {
    const char *v = std::getenv("WEFT_COLLECTIVE_TRACE");
    return v && *v && std::strcmp(v, "0") != 0;
  }();
  return on;
}

template <typename T> void divide(void *data, int64_t n, int by) {
  T *p = static_cast<T *>(data);
  for (int64_t i = 0; i < n; ++i)
    p[i] /= static_cast<T>(by);
}

double microseconds(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::micro>(to - from).count();
}

/// A reduction between its start and its wait.
struct InFlight {
  void *data = nullptr;
  int64_t n = 0;
  DType dtype = DType::F32;
  bool mean = false;
  /// Start failed: the wait fails too, keeping the start's message.
  bool failed = false;
  /// Reduced by its start already (the shards of runShards).
  bool finished = false;
  Clock::time_point started, completed;
#ifdef WEFT_HAVE_MPI
  std::vector<MPI_Request> requests;
  /// Rank order: every process's values per piece, gathered to be added here.
  std::vector<std::vector<char>> gathered;
#endif
};

std::mutex inFlightMutex;
std::vector<InFlight> &inFlight() {
  static std::vector<InFlight> v;
  return v;
}

/// Takes the reduction started on `data` out of the table.
std::optional<InFlight> takeInFlight(void *data) {
  std::lock_guard<std::mutex> lock(inFlightMutex);
  auto &v = inFlight();
  auto it = std::find_if(v.begin(), v.end(), [&](const InFlight &f) { return f.data == data; });
  if (it == v.end())
    return std::nullopt;
  InFlight f = std::move(*it);
  v.erase(it);
  return f;
}

#ifdef WEFT_HAVE_MPI

/// Set when a collective timed out: MPI is then unusable, every later collective fails with
/// this message, and MPI_Finalize (which would wait for the lost process) is skipped.
std::mutex brokenMutex;
std::string broken_;

std::string brokenMessage() {
  std::lock_guard<std::mutex> lock(brokenMutex);
  return broken_;
}

std::string mpiError(int code) {
  char s[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, s, &len);
  return std::string(s, static_cast<size_t>(len));
}

void finalizeMpi() {
  int done = 0;
  MPI_Finalized(&done);
  if (!done && brokenMessage().empty())
    MPI_Finalize();
}

/// Each process's pid and host, gathered when MPI starts, to tell which have gone.
struct Peer {
  int64_t pid = 0;
  uint64_t host = 0;
};
std::vector<Peer> peers;

uint64_t hostHash() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return std::hash<std::string>{}(name);
}

/// Whether process `pid` of this host has exited (it is absent, or a zombie not yet reaped).
bool processGone(int64_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  if (!stat)
    return true;
  std::string line;
  std::getline(stat, line);
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() &&
         (line[paren + 2] == 'Z' || line[paren + 2] == 'X');
}

/// "rank 1 (pid 4242) has exited" for the peers on this host that are gone, or why none is
/// named.
std::string lostRanks() {
  std::vector<std::string> gone;
  bool remote = false;
  uint64_t here = hostHash();
  for (size_t r = 0; r < peers.size(); ++r) {
    if (static_cast<int>(r) == launch().rank)
      continue;
    if (peers[r].host != here)
      remote = true;
    else if (processGone(peers[r].pid))
      gone.push_back(fmt::format("rank {} (pid {})", r, peers[r].pid));
  }
  if (!gone.empty())
    return fmt::format("lost {}: {} exited", fmt::join(gone, ", "),
                       gone.size() == 1 ? "it has" : "they have");
  return remote ? "every rank on this host is alive; a process on another host may have died "
                  "or hung"
                : "every rank is alive; one may hang";
}

/// Waits for `requests` until the deadline; `what` names the collective in the error.
Status waitAll(std::vector<MPI_Request> &requests, const char *what) {
  const double limit = timeoutSeconds().load();
  const Clock::time_point deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                        std::chrono::duration<double>(limit));
  for (int64_t polls = 0;; ++polls) {
    int done = 0;
    int rc =
        MPI_Testall(static_cast<int>(requests.size()), requests.data(), &done, MPI_STATUSES_IGNORE);
    if (rc != MPI_SUCCESS)
      return err(fmt::format("{} failed on rank {} of {}: {}", what, launch().rank, launch().size,
                             mpiError(rc)));
    if (done)
      return {};
    if (Clock::now() > deadline) {
      std::string msg =
          fmt::format("{}: no answer within {} s (WEFT_COLLECTIVE_TIMEOUT) on rank {} of {}; {}",
                      what, limit, launch().rank, launch().size, lostRanks());
      std::lock_guard<std::mutex> lock(brokenMutex);
      broken_ = msg;
      return err(msg);
    }
    // Spin briefly (the answer is usually microseconds away), then leave the core to others.
    if (polls > 1000)
      std::this_thread::yield();
  }
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
    Peer self{static_cast<int64_t>(getpid()), hostHash()};
    std::vector<Peer> all(static_cast<size_t>(size));
    std::vector<MPI_Request> req(1);
    MPI_Iallgather(&self, sizeof(Peer), MPI_BYTE, all.data(), sizeof(Peer), MPI_BYTE,
                   MPI_COMM_WORLD, req.data());
    WEFT_TRY(waitAll(req, "starting MPI"));
    peers = std::move(all);
    return {};
  }();
  if (std::string b = brokenMessage(); !b.empty())
    return err(b);
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

/// Starts the MPI side of `f`: a sum in place, or (rank order) a gather of every process's
/// values.
Status mpiStart(InFlight &f) {
  WEFT_TRY(startMpi());
  MPI_Datatype type = f.dtype == DType::F32 ? MPI_FLOAT : MPI_DOUBLE;
  const int64_t bytes = dtypeBytes(f.dtype);
  char *data = static_cast<char *>(f.data);
  if (reduction().load() == Reduction::RankOrder)
    return inPieces(f.n, "MPI_Iallgather", [&](int64_t off, int count) {
      f.gathered.emplace_back(static_cast<size_t>(count * bytes * launch().size));
      f.requests.emplace_back();
      return MPI_Iallgather(data + off * bytes, count, type, f.gathered.back().data(), count, type,
                            MPI_COMM_WORLD, &f.requests.back());
    });
  return inPieces(f.n, "MPI_Iallreduce", [&](int64_t off, int count) {
    f.requests.emplace_back();
    return MPI_Iallreduce(MPI_IN_PLACE, data + off * bytes, count, type, MPI_SUM, MPI_COMM_WORLD,
                          &f.requests.back());
  });
}

/// Rank order: adds the gathered values, rank 0's first, into the data.
template <typename T> void addInRankOrder(InFlight &f) {
  const int size = launch().size;
  T *data = static_cast<T *>(f.data);
  int64_t off = 0;
  for (const std::vector<char> &g : f.gathered) {
    const T *piece = reinterpret_cast<const T *>(g.data());
    const int64_t count = static_cast<int64_t>(g.size() / sizeof(T)) / size;
    for (int64_t i = 0; i < count; ++i) {
      T acc = piece[i];
      for (int r = 1; r < size; ++r)
        acc += piece[r * count + i];
      data[off + i] = acc;
    }
    off += count;
  }
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

/// The k threads of runShards: where their all_reduces meet.
struct ShardGroup {
  explicit ShardGroup(int k) : k(k), data(static_cast<size_t>(k)) {}
  const int k;
  std::mutex m;
  std::condition_variable cv;
  std::vector<void *> data; ///< each shard's buffer, once it has arrived
  int arrived = 0;
  uint64_t generation = 0; ///< reductions completed
  Status result;
};
thread_local ShardGroup *shardGroup = nullptr;
thread_local int shardIndex = 0;

/// Sums every shard of every process, in shard order, into each local shard's buffer.
template <typename T> Status reduceShards(ShardGroup &g, int64_t n, bool mean) {
  const int64_t k = g.k, shards = k * launch().size;
  std::vector<T> all(static_cast<size_t>(n * shards));
  T *local = all.data() + static_cast<size_t>(launch().rank * k * n);
  for (int64_t j = 0; j < k; ++j)
    std::memcpy(local + j * n, g.data[static_cast<size_t>(j)], static_cast<size_t>(n) * sizeof(T));
  if (launch().size > 1) {
#ifdef WEFT_HAVE_MPI
    if (k * n > INT_MAX)
      return err(
          fmt::format("all_reduce: {} shards of {} elements are too many for one gather", k, n));
    WEFT_TRY(startMpi());
    MPI_Datatype type = sizeof(T) == 4 ? MPI_FLOAT : MPI_DOUBLE;
    std::vector<MPI_Request> req(1);
    int rc = MPI_Iallgather(MPI_IN_PLACE, 0, type, all.data(), static_cast<int>(k * n), type,
                            MPI_COMM_WORLD, req.data());
    if (rc != MPI_SUCCESS)
      return err(fmt::format("MPI_Iallgather failed on rank {} of {}: {}", launch().rank,
                             launch().size, mpiError(rc)));
    WEFT_TRY(waitAll(req, "all_reduce"));
#else
    return noMpi("all_reduce");
#endif
  }
  for (int64_t i = 0; i < n; ++i) {
    T acc = all[static_cast<size_t>(i)];
    for (int64_t s = 1; s < shards; ++s)
      acc += all[static_cast<size_t>(s * n + i)];
    if (mean)
      acc /= static_cast<T>(shards);
    for (void *d : g.data)
      static_cast<T *>(d)[i] = acc;
  }
  return {};
}

/// This thread's shard arrives with `f`; the last to arrive reduces for all.
Status meetShards(const InFlight &f) {
  ShardGroup &g = *shardGroup;
  std::unique_lock<std::mutex> lock(g.m);
  const uint64_t generation = g.generation;
  g.data[static_cast<size_t>(shardIndex)] = f.data;
  if (++g.arrived < g.k) {
    const auto limit = std::chrono::duration<double>(timeoutSeconds().load());
    if (!g.cv.wait_for(lock, limit, [&] { return g.generation != generation; }))
      return err(fmt::format("all_reduce: shard {} of this process waited {} s "
                             "(WEFT_COLLECTIVE_TIMEOUT) for the other {}",
                             shardIndex, limit.count(), g.k - 1));
    return g.result;
  }
  g.result = f.dtype == DType::F32 ? reduceShards<float>(g, f.n, f.mean)
                                   : reduceShards<double>(g, f.n, f.mean);
  g.arrived = 0;
  ++g.generation;
  g.cv.notify_all();
  return g.result;
}

/// Checks an all_reduce's arguments; in a world of several, also that MPI can carry it.
Status checkAllReduce(DType dtype, int64_t group) {
  if (dtype != DType::F32 && dtype != DType::F64)
    return err(fmt::format("all_reduce: dtype {} is not f32 or f64", dtypeName(dtype)));
  if (group < 0)
    return err(fmt::format("all_reduce: group {} is negative", group));
  // A world of one: every group is this process alone, and its sum and mean are the data.
  if (launch().size == 1)
    return {};
  if (group != 0)
    return err(
        fmt::format("all_reduce over group {}: only group 0 (every process) is defined", group));
#ifndef WEFT_HAVE_MPI
  return noMpi("all_reduce");
#else
  return {};
#endif
}

/// Says how `f` went when tracing (a world of several, hence unused without MPI).
[[maybe_unused]] void trace(const InFlight &f, Clock::time_point waitBegan, Clock::time_point end) {
  if (!tracing())
    return;
  const double inFlightUs = microseconds(f.started, end);
  if (f.completed != Clock::time_point{} && f.completed <= waitBegan)
    std::fprintf(stderr,
                 "weft collective: rank %d: all_reduce of %lld bytes done %.0f us after its "
                 "start, before its wait (hidden)\n",
                 launch().rank, static_cast<long long>(f.n * dtypeBytes(f.dtype)),
                 microseconds(f.started, f.completed));
  else
    std::fprintf(stderr,
                 "weft collective: rank %d: all_reduce of %lld bytes took %.0f us, its wait "
                 "blocked %.0f us\n",
                 launch().rank, static_cast<long long>(f.n * dtypeBytes(f.dtype)), inFlightUs,
                 microseconds(waitBegan, end));
}

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
void setTimeout(double seconds) { timeoutSeconds().store(seconds > 0 ? seconds : 300.0); }

Status allReduceStart(void *data, int64_t n, DType dtype, int64_t group, bool mean) {
  InFlight f;
  f.data = data;
  f.n = n;
  f.dtype = dtype;
  f.mean = mean;
  f.started = Clock::now();
  Status s = checkAllReduce(dtype, group);
  if (s.isOk() && shardGroup) {
    s = meetShards(f);
    f.finished = true;
  }
#ifdef WEFT_HAVE_MPI
  else if (s.isOk() && launch().size > 1)
    s = mpiStart(f);
#endif
  f.failed = !s.isOk();
  std::lock_guard<std::mutex> lock(inFlightMutex);
  auto &v = inFlight();
  if (std::any_of(v.begin(), v.end(), [&](const InFlight &g) { return g.data == data; }))
    return err("all_reduce: started again on a buffer whose reduction is still in flight");
  v.push_back(std::move(f));
  return s;
}

Status allReduceWait(void *data) {
  std::optional<InFlight> f = takeInFlight(data);
  if (!f)
    return err("all_reduce: waited on a buffer with no reduction in flight");
  if (f->failed)
    return err(lastError_.empty() ? std::string("all_reduce: its start failed") : lastError_);
  if (launch().size == 1 || f->finished)
    return {};
#ifdef WEFT_HAVE_MPI
  const Clock::time_point waitBegan = Clock::now();
  WEFT_TRY(waitAll(f->requests, "all_reduce"));
  if (!f->gathered.empty()) {
    if (f->dtype == DType::F32)
      addInRankOrder<float>(*f);
    else
      addInRankOrder<double>(*f);
  }
  if (f->mean) {
    if (f->dtype == DType::F32)
      divide<float>(f->data, f->n, launch().size);
    else
      divide<double>(f->data, f->n, launch().size);
  }
  trace(*f, waitBegan, Clock::now());
#endif
  return {};
}

void progress() {
#ifdef WEFT_HAVE_MPI
  std::lock_guard<std::mutex> lock(inFlightMutex);
  for (InFlight &f : inFlight()) {
    if (f.failed || f.requests.empty() || f.completed != Clock::time_point{})
      continue;
    int done = 0;
    if (MPI_Testall(static_cast<int>(f.requests.size()), f.requests.data(), &done,
                    MPI_STATUSES_IGNORE) != MPI_SUCCESS)
      return; // the wait reports it
    if (done)
      f.completed = Clock::now();
  }
#endif
}

Status allReduce(void *data, int64_t n, DType dtype, int64_t group, bool mean) {
  Status s = allReduceStart(data, n, dtype, group, mean);
  Status w = allReduceWait(data);
  return s.isOk() ? w : s;
}

Status broadcast(void *data, int64_t bytes, int root) {
  if (root < 0 || root >= worldSize())
    return err(
        fmt::format("broadcast from rank {}: the world has {} processes", root, worldSize()));
  if (worldSize() == 1)
    return {};
#ifdef WEFT_HAVE_MPI
  WEFT_TRY(startMpi());
  std::vector<MPI_Request> requests;
  WEFT_TRY(inPieces(bytes, "MPI_Ibcast", [&](int64_t off, int count) {
    requests.emplace_back();
    return MPI_Ibcast(static_cast<char *>(data) + off, count, MPI_BYTE, root, MPI_COMM_WORLD,
                      &requests.back());
  }));
  return waitAll(requests, "broadcast");
#else
  return noMpi("broadcast");
#endif
}

Status runShards(int k, const std::function<Status(int)> &body) {
  if (k < 1)
    return err(fmt::format("runShards: {} shards", k));
  ShardGroup g(k);
  std::vector<Status> status(static_cast<size_t>(k));
  auto one = [&](int j) {
    shardGroup = &g;
    shardIndex = j;
    status[static_cast<size_t>(j)] = body(j);
    shardGroup = nullptr;
  };
  std::vector<std::thread> threads;
  for (int j = 1; j < k; ++j)
    threads.emplace_back(one, j);
  one(0);
  for (std::thread &t : threads)
    t.join();
  for (Status &s : status)
    if (!s.isOk())
      return s;
  return {};
}

std::string lastError() { return lastError_; }

std::string lastErrorOf(std::string_view op) {
  std::string_view msg = lastError_;
  if (msg.size() > op.size() + 1 && msg.substr(0, op.size()) == op &&
      msg.substr(op.size(), 2) == ": ")
    msg.remove_prefix(op.size() + 2);
  return std::string(msg);
}

} // namespace weft::collective

namespace {

/// Runs a collective for a C entry point: 0, or 1 with lastError() set.
template <typename Call> int32_t cCall(Call call) {
  try {
    weft::Status s = call();
    if (s.isOk())
      return 0;
    weft::collective::lastError_ = s.diag().message;
  } catch (const std::bad_alloc &) {
    weft::collective::lastError_ = "all_reduce: out of memory";
  }
  return 1;
}

} // namespace

extern "C" int32_t weft_all_reduce(void *data, int64_t n, int32_t dtype, int64_t group,
                                   int32_t mean) {
  return cCall([&] {
    return weft::collective::allReduce(data, n, static_cast<weft::DType>(dtype), group, mean != 0);
  });
}

extern "C" int32_t weft_all_reduce_start(void *data, int64_t n, int32_t dtype, int64_t group,
                                         int32_t mean) {
  return cCall([&] {
    return weft::collective::allReduceStart(data, n, static_cast<weft::DType>(dtype), group,
                                            mean != 0);
  });
}

extern "C" int32_t weft_all_reduce_wait(void *data) {
  return cCall([&] { return weft::collective::allReduceWait(data); });
}

extern "C" void weft_all_reduce_progress(void) { weft::collective::progress(); }
