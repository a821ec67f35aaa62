// metarm_train: the distributed RLHF trainer. Started under mpirun or srun:
//
//   mpirun -np 3 bazel-bin/trainer/metarm_train --job=jobs/quickstart.pbtxt
//
// Exit codes: 0 done, 1 run-time failure, 2 bad job, data or flags, 3
// stopped by SIGTERM or SIGUSR1 after writing a checkpoint (run it again to
// continue). docs/operations.md has the table.
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "comm/mpi_environment.h"
#include "metrics/progress.h"
#include "trainer/command_line.h"
#include "trainer/trainer.h"

ABSL_FLAG(std::string, job, "", "The job file (protobuf text format).");
ABSL_FLAG(std::string, output_dir, "",
          "Where outputs go; overrides the job's output_dir.");
ABSL_FLAG(bool, validate_only, false,
          "Validate the job and exit: 0 if valid, 2 if not.");
ABSL_FLAG(bool, print_world_size, false,
          "Print the number of ranks the job needs and exit (no mpirun).");
ABSL_FLAG(bool, print_output_dir, false,
          "Print the folder the job writes to (after --output_dir) and exit "
          "(no mpirun).");
ABSL_FLAG(std::string, progress, "auto",
          "Progress line: 'updating' (one line rewritten in place), 'plain' "
          "(one line per PPO iteration) or 'auto' (updating on a terminal, "
          "plain under mpirun or srun, whose output is not the user's "
          "terminal).");
ABSL_FLAG(bool, resume, false,
          "Require a checkpoint to resume from (exit 2 when the output folder "
          "has none). Without the flag a run resumes from the newest "
          "checkpoint in <output_dir>/checkpoints all the same, saying so.");
ABSL_FLAG(std::string, device, "",
          "Where each rank computes: auto, cpu, cuda (cuda:<local rank>) or "
          "cuda:N; overrides topology.device.");
ABSL_FLAG(std::string, comm_backend, "",
          "Which backend moves tensors: auto (NCCL for CUDA tensors, MPI for "
          "CPU ones), mpi or nccl; overrides topology.backend.");
ABSL_FLAG(double, memory_limit_gib, 0,
          "The memory one rank may use, in GiB: a job whose memory plan "
          "needs more is refused (exit 2). 0: this machine's memory divided "
          "by the ranks on it.");
ABSL_FLAG(double, device_memory_gib, 0,
          "The memory of the GPU each CUDA rank computes on, in GiB, shared "
          "by the ranks on that GPU: a job whose memory plan needs more than "
          "its share is refused (exit 2). 0: what the CUDA driver reports.");
ABSL_FLAG(int, threads_per_rank, 0,
          "LibTorch threads per rank; 0 sizes them from the node's cores.");

namespace {

// False, with rank 0 saying why, unless `value` is 0 (which means
// `zero_means`) or positive (NaN is neither).
template <typename Number>
bool FlagIsZeroOrPositive(const char* name, Number value,
                          const char* zero_means, int rank) {
  if (value >= 0) return true;
  if (rank == 0) {
    std::cerr << "metarm_train: --" << name << " must be 0 (" << zero_means
              << ") or positive, got " << value << "\n";
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  metarm::MpiEnvironment mpi(&argc, &argv);
  const int rank = metarm::MpiEnvironment::WorldRank();
  absl::SetProgramUsageMessage(
      "metarm_train --job=FILE [--output_dir=DIR] [--resume] "
      "[--validate_only]");
  std::vector<std::string> problems = metarm::CheckCommandLine(argc, argv);
  if (!problems.empty()) {
    if (rank == 0) {
      for (const std::string& problem : problems) {
        std::cerr << "metarm_train: " << problem << "\n";
      }
      std::cerr << "usage: " << absl::ProgramUsageMessage() << "\n";
    }
    return metarm::kExitBadInput;
  }
  absl::ParseCommandLine(argc, argv);
  metarm::TrainerOptions options;
  options.job_path = absl::GetFlag(FLAGS_job);
  options.output_dir = absl::GetFlag(FLAGS_output_dir);
  options.validate_only = absl::GetFlag(FLAGS_validate_only);
  options.print_world_size = absl::GetFlag(FLAGS_print_world_size);
  options.print_output_dir = absl::GetFlag(FLAGS_print_output_dir);
  options.threads_per_rank = absl::GetFlag(FLAGS_threads_per_rank);
  options.memory_limit_gib = absl::GetFlag(FLAGS_memory_limit_gib);
  options.device_memory_gib = absl::GetFlag(FLAGS_device_memory_gib);
  if (!FlagIsZeroOrPositive("threads_per_rank", options.threads_per_rank,
                            "sized from the node's cores", rank) ||
      !FlagIsZeroOrPositive("memory_limit_gib", options.memory_limit_gib,
                            "this machine's memory / its ranks", rank) ||
      !FlagIsZeroOrPositive("device_memory_gib", options.device_memory_gib,
                            "what the CUDA driver reports", rank)) {
    return metarm::kExitBadInput;
  }
  options.resume = absl::GetFlag(FLAGS_resume);
  absl::StatusOr<metarm::ProgressStyle> progress =
      metarm::ParseProgressStyle(absl::GetFlag(FLAGS_progress));
  if (!progress.ok()) {
    if (rank == 0)
      std::cerr << "metarm_train: " << progress.status().message() << "\n";
    return metarm::kExitBadInput;
  }
  options.progress = *progress;
  options.device = absl::GetFlag(FLAGS_device);
  options.comm_backend = absl::GetFlag(FLAGS_comm_backend);
  absl::Status placement = metarm::CheckPlacementFlags(options);
  if (!placement.ok()) {
    if (rank == 0) std::cerr << "metarm_train: " << placement.message() << "\n";
    return metarm::kExitBadInput;
  }
  if (options.job_path.empty()) {
    if (rank == 0) {
      std::cerr << "metarm_train: flag --job: required\n"
                << "usage: " << absl::ProgramUsageMessage() << "\n";
    }
    return metarm::kExitBadInput;
  }
  return metarm::RunTrainer(options);
}
