//===- runtime/Collective.h - all_reduce and friends across processes ------===//
//
// Data-parallel training runs one process per replica (mpirun -np N); what
// crosses between them is all_reduce (docs/IR.md) and the trainer's start-up
// broadcast. This is weft's only door to MPI, and MPI is optional: a build
// without it (WEFT_MPI=OFF, or no libopenmpi-dev) still runs every program on
// one process, where every group is a group of one and all_reduce is the
// identity.
//
// The world: a process started by a launcher (mpirun sets OMPI_COMM_WORLD_SIZE,
// MPICH's PMI_SIZE) is one of that many; any other process is a world of one.
// MPI is started on first use (MPI_Init_thread, finalized at exit) only in a
// launched process, so ordinary programs and tests never touch it. Calls come
// from one thread at a time.
//
// Groups: 0 is every process of the world. No other group can be defined yet:
// in a world of more than one, an all_reduce over another group is an error.
//
// Overlap: generated code starts a bucket's reduction (weft_all_reduce_start,
// MPI_Iallreduce) as soon as its gradients exist, lets MPI progress between the
// kernels that follow (weft_all_reduce_progress), and waits right before the
// first use of the result (weft_all_reduce_wait). Waiting never blocks forever:
// after WEFT_COLLECTIVE_TIMEOUT seconds (default 300) without an answer it fails
// with a message naming the ranks on this host that are gone, and every later
// collective of the process fails at once (MPI is then not finalized at exit,
// which would wait for the lost process too).
//
//===----------------------------------------------------------------------===//
#pragma once

#include "runtime/DType.h"
#include "runtime/Support.h"

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

/// Replaces the `n` elements at `data` (dtype: a weft::DType, f32 or f64) by their sum over
/// the processes of `group`, or by their mean when `mean` is 1; every process of the group
/// must call it with the same n, dtype, group and mean. Generated code calls it for
/// all_reduce. Returns 0, or nonzero when it could not (weft::collective::lastError() says
/// why; the data is then unspecified).
extern "C" int32_t weft_all_reduce(void *data, int64_t n, int32_t dtype, int64_t group,
                                   int32_t mean);

/// Starts replacing the `n` elements at `data` as weft_all_reduce does, without waiting: until
/// weft_all_reduce_wait(data) returns, MPI may write `data` and nothing else may touch it.
/// Returns 0, or nonzero when it could not start (lastError() says why; the wait then
/// returns nonzero too, without changing lastError()).
extern "C" int32_t weft_all_reduce_start(void *data, int64_t n, int32_t dtype, int64_t group,
                                         int32_t mean);
/// Waits for the reduction started on `data`; 0 when `data` holds its result.
extern "C" int32_t weft_all_reduce_wait(void *data);
/// Lets MPI move the reductions in flight forward (OpenMPI's non-blocking collectives advance
/// only inside MPI calls); cheap when none is in flight.
extern "C" void weft_all_reduce_progress(void);

namespace weft::collective {

/// Whether this build of weft has MPI.
bool haveMpi();
/// This process's rank in the world (0 in a world of one).
int rank();
/// The number of processes in the world (1 when not launched by mpirun).
int worldSize();

/// How all_reduce adds: Fast lets MPI choose its order (it may differ between runs and rank
/// counts); RankOrder gathers every process's values and adds them in rank order, so a run is
/// bit-identical to itself for any network timing, at N times the memory and traffic.
enum class Reduction { Fast, RankOrder };
/// The order from now on; the default is Fast, or RankOrder when the environment has
/// WEFT_ALLREDUCE=rank_order.
void setReduction(Reduction r);

/// How long a collective waits for the other processes before it fails; the default is 300
/// seconds, or WEFT_COLLECTIVE_TIMEOUT's when the environment has it.
void setTimeout(double seconds);

/// Runs body(0), ..., body(k - 1) at once on k threads (body(0) on this one), each computing
/// one of this process's k shards of a deterministic data-parallel step (train::TrainOptions::
/// shards). The all_reduces they make meet: each gets the sum over every shard of every
/// process, added one shard after the other in shard order (this process's shards are numbers
/// rank k ... rank k + k - 1), and a mean divides by the number of shards, k times the world's
/// size. The sums then depend only on the shards, not on how they are spread over processes:
/// one process with k = 2 and two with k = 1 add the same numbers in the same order. Returns
/// the first failure of a body.
Status runShards(int k, const std::function<Status(int)> &body);

/// weft_all_reduce as a Status (the message names the group and the reason).
Status allReduce(void *data, int64_t n, DType dtype, int64_t group, bool mean);
/// weft_all_reduce_start and weft_all_reduce_wait as Statuses.
Status allReduceStart(void *data, int64_t n, DType dtype, int64_t group, bool mean);
Status allReduceWait(void *data);
/// Copies `bytes` bytes at `data` from process `root` to every process of the world.
Status broadcast(void *data, int64_t bytes, int root);

/// Why the last weft_all_reduce of this thread returned nonzero.
std::string lastError();
/// lastError() without a leading "<op>: ", for a fault report that names the op itself.
std::string lastErrorOf(std::string_view op);

} // namespace weft::collective
