// The metarm_train program after flag parsing: loads the job on every rank,
// splits the roles, sizes the thread pools and runs the job.
//
//   TrainerOptions options{.job_path = "jobs/quickstart.pbtxt"};
//   return RunTrainer(options);  // the process exit code
#ifndef METARM_TRAINER_TRAINER_H_
#define METARM_TRAINER_TRAINER_H_

#include <string>

#include "absl/status/status.h"
#include "metrics/progress.h"

namespace metarm {

// Process exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   // a run-time failure (the job aborts)
inline constexpr int kExitBadInput = 2;  // bad job file, data or flags
// Stopped by SIGTERM or SIGUSR1 after writing a checkpoint: run the same
// command again to continue (a requeued Slurm job does).
inline constexpr int kExitStopped = 3;

struct TrainerOptions {
  std::string job_path;
  // Overrides the job's output_dir when not empty.
  std::string output_dir;
  // Validate and exit. The world size is checked too when the program was
  // started on more than one rank.
  bool validate_only = false;
  // Print the number of ranks the job needs and exit (one process, no
  // mpirun); used by deploy/run_local.sh.
  bool print_world_size = false;
  // Print the folder the job writes to (after output_dir) and exit; used by
  // deploy/run_local.sh to name the run's report.
  bool print_output_dir = false;
  // LibTorch threads per rank; 0 sizes them from the node's cores.
  int threads_per_rank = 0;
  // Require a checkpoint to resume from (RLHF jobs resume from the newest
  // one in the output folder whether or not this is set).
  bool resume = false;
  // Override topology.device / topology.backend when not empty
  // ("cuda:1"; "auto", "mpi" or "nccl").
  std::string device;
  std::string comm_backend;
  // How rank 0 shows progress.
  ProgressStyle progress = ProgressStyle::kPlain;
  // The memory one rank may use, in GiB; 0: this machine's memory (or its
  // cgroup's limit) divided by the ranks on it (training/memory_plan.h).
  double memory_limit_gib = 0;
  // The memory of the GPU a CUDA rank computes on, in GiB, shared by the
  // ranks on that GPU; 0: what the CUDA driver reports.
  double device_memory_gib = 0;
};

// InvalidArgument naming the flag when --device or --comm_backend is
// malformed.
absl::Status CheckPlacementFlags(const TrainerOptions& options);

// Runs on every rank (MPI already initialised). Returns the exit code; a
// failure after the ranks have split ends the whole job (MPI_Abort) so that
// no rank is left waiting.
int RunTrainer(const TrainerOptions& options);

}  // namespace metarm

#endif  // METARM_TRAINER_TRAINER_H_
