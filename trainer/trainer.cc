#include "trainer/trainer.h"

#include <exception>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "cluster/roles.h"
#include "cluster/threads.h"
#include "comm/call_watchdog.h"
#include "comm/messages.h"
#include "comm/mpi_communicator.h"
#include "comm/mpi_environment.h"
#include "comm/status_consensus.h"
#include "rlhf/rlhf_job.h"
#include "rlhf/run_data.h"
#include "tasks/task_registry.h"
#include "trainer/job_distribution.h"
#include "trainer/layout.h"
#include "trainer/placement.h"
#include "trainer/reward_model_job.h"
#include "training/job_options.h"
#include "training/memory_plan.h"
#include "util/cuda_device_memory.h"
#include "util/device_spec.h"
#include "util/status_macros.h"
#include "util/stop_signals.h"

namespace metarm {
namespace {

// Statuses that mean the input (data files, checkpoints) was bad: exit 2.
bool IsBadInput(const absl::Status& status) {
  return absl::IsInvalidArgument(status) || absl::IsNotFound(status) ||
         absl::IsDataLoss(status) || absl::IsFailedPrecondition(status);
}

// --device and --comm_backend (checked by main) over the job's topology.
void ApplyPlacementFlags(const TrainerOptions& options, Job& job) {
  Topology& topology = *job.mutable_topology();
  if (!options.device.empty()) topology.set_device(options.device);
  if (options.comm_backend == "auto") topology.set_backend(AUTO);
  if (options.comm_backend == "mpi") topology.set_backend(MPI);
  if (options.comm_backend == "nccl") topology.set_backend(NCCL);
}

// --print_world_size or --print_output_dir: one fact about the job, one
// process, no MPI traffic.
int PrintJobFact(const TrainerOptions& options,
                 const ValidationContext& context) {
  absl::StatusOr<Job> job =
      LoadJobFile(options.job_path, /*world_size=*/0, context);
  if (!job.ok()) {
    std::cerr << job.status().message() << "\n";
    return kExitBadInput;
  }
  if (options.print_world_size) {
    std::cout << RequiredWorldSize(job->topology()) << "\n";
  } else {
    std::cout << (options.output_dir.empty() ? job->output_dir()
                                             : options.output_dir)
              << "\n";
  }
  return kExitOk;
}

// A preference_file job's data files, read as the run would read them, every
// file's problem reported (for --validate_only; a run reads them itself).
absl::Status CheckJobData(const Job& job) {
  if (job.task().name() != kPreferenceFileTask) return absl::OkStatus();
  METARM_ASSIGN_OR_RETURN(std::unique_ptr<ChatTokenizer> tokenizer,
                          MakeJobTokenizer(job.task()), "task.tokenizer");
  return LoadFileData(job, *tokenizer).status();
}

// What one rank may use, and where that figure comes from (for messages).
struct RankLimit {
  double bytes = 0;
  std::string source;
};

// What a rank computing on the CPU may use: a share of this machine's
// memory among `ranks_here` ranks (`ranks_are` says whose, for the message).
RankLimit HostLimit(const TrainerOptions& options, int ranks_here,
                    const std::string& ranks_are) {
  return {RankMemoryLimit(options.memory_limit_gib, ranks_here),
          options.memory_limit_gib > 0
              ? "--memory_limit_gib"
              : absl::StrCat("this machine's memory / ", ranks_are, " ",
                             ranks_here, " ranks; --memory_limit_gib sets it")};
}

// What a rank computing on CUDA device `index` may use: the device's memory
// (--device_memory_gib, else the driver's figure) shared by the `sharing`
// ranks that compute on it (at least 1).
absl::StatusOr<RankLimit> DeviceLimit(const TrainerOptions& options, int index,
                                      int sharing) {
  sharing = std::max(1, sharing);
  const std::string device = absl::StrCat("cuda:", index);
  const std::string shared = absl::StrCat(" / ", sharing, " ranks on it");
  if (options.device_memory_gib > 0) {
    return RankLimit{
        options.device_memory_gib * (1 << 30) / sharing,
        absl::StrCat("--device_memory_gib (", device, "'s memory)", shared)};
  }
  METARM_ASSIGN_OR_RETURN(const double bytes, CudaDeviceTotalBytes(index),
                          "the memory of ", device,
                          " (--device_memory_gib gives it)");
  return RankLimit{bytes / sharing,
                   absl::StrCat(device, "'s memory (", FormatBytes(bytes), ")",
                                shared, "; --device_memory_gib sets it")};
}

// How many of a node's `local_ranks` ranks compute on `device` ("cuda:N")
// under `spec` where this process sees `cuda_devices` devices.
int RanksOnDevice(const DeviceSpec& spec, int local_ranks, int cuda_devices,
                  const std::string& device) {
  int sharing = 0;
  for (int rank = 0; rank < local_ranks; ++rank) {
    absl::StatusOr<std::string> name = ResolveDevice(spec, rank, cuda_devices);
    if (name.ok() && *name == device) ++sharing;
  }
  return sharing;
}

// The job's memory plan (training/memory_plan.h), printed when `print`,
// against what one rank may use.
absl::Status CheckJobMemory(const Job& job, const RankLimit& limit,
                            bool print) {
  METARM_ASSIGN_OR_RETURN(MemoryPlan plan, PlanJobMemory(job));
  if (print) std::cout << FormatMemoryPlan(plan, limit.bytes) << std::flush;
  return CheckMemoryPlan(plan, limit.bytes, limit.source);
}

// A running rank's limit: its GPU's share when it computes on one, else its
// share of this machine's memory among the node's `node_ranks`.
absl::StatusOr<RankLimit> RunningRankLimit(const Job& job,
                                           const TrainerOptions& options,
                                           torch::Device device,
                                           int node_ranks) {
  if (!device.is_cuda()) return HostLimit(options, node_ranks, "its");
  METARM_ASSIGN_OR_RETURN(DeviceSpec spec,
                          ParseDeviceSpec(job.topology().device()));
  const std::string name = absl::StrCat("cuda:", device.index());
  return DeviceLimit(
      options, device.index(),
      RanksOnDevice(spec, node_ranks,
                    static_cast<int>(torch::cuda::device_count()), name));
}

// --validate_only's limit: as if every rank of the job ran on this machine
// (mpirun_local); on a GPU when the job asks for CUDA (or says auto where
// this process sees a GPU) and the device's memory is known (the driver, or
// --device_memory_gib on a machine without one); else this machine's memory.
RankLimit ValidationLimit(const Job& job, const TrainerOptions& options,
                          int ranks, bool print) {
  const RankLimit host = HostLimit(options, ranks, "the job's");
  absl::StatusOr<DeviceSpec> spec = ParseDeviceSpec(job.topology().device());
  const int cuda_devices = static_cast<int>(torch::cuda::device_count());
  const bool on_cuda =
      spec.ok() && (spec->kind == DeviceSpec::Kind::kCuda ||
                    (spec->kind == DeviceSpec::Kind::kAuto &&
                     (cuda_devices > 0 || options.device_memory_gib > 0)));
  if (!on_cuda) return host;
  // One rank per GPU with "cuda" or auto; every rank of the node on device
  // N with "cuda:N".
  const int index = std::max(0, spec->index);
  const int sharing = spec->index >= 0 ? ranks : 1;
  absl::StatusOr<RankLimit> device = DeviceLimit(options, index, sharing);
  if (device.ok()) return *device;
  if (print) {
    std::cout << "metarm: the job computes on CUDA, but "
              << device.status().message()
              << ": its memory plan is checked against this machine's "
                 "memory only\n";
  }
  return host;
}

// Loads the job on every rank. The world-size check is skipped only for
// --validate_only in a one-process run (validating a file on a login node).
absl::StatusOr<Job> LoadJob(const TrainerOptions& options, Communicator& world,
                            const ValidationContext& context) {
  if (options.validate_only && world.size() == 1) {
    return LoadJobFile(options.job_path, /*world_size=*/0, context);
  }
  return LoadJobEverywhere(options.job_path, world, context);
}

int RunJob(const TrainerOptions& options) {
  const ValidationContext context{KnownTaskNames()};
  if (options.print_world_size || options.print_output_dir) {
    return PrintJobFact(options, context);
  }
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  const int world_rank = world->rank();
  absl::StatusOr<Job> job = LoadJob(options, *world, context);
  if (!job.ok()) {
    // Every rank holds the same verdict; rank 0 alone prints it.
    if (world_rank == 0) std::cerr << job.status().message() << "\n";
    return kExitBadInput;
  }
  if (!options.output_dir.empty()) job->set_output_dir(options.output_dir);
  ApplyPlacementFlags(options, *job);
  if (options.validate_only) {
    // The memory plan as if every rank ran on this machine (mpirun_local),
    // unless --memory_limit_gib says what a rank gets where it will run.
    const int ranks = RequiredWorldSize(job->topology());
    absl::Status data = CheckJobData(*job);
    if (!data.ok()) {
      if (world_rank == 0) std::cerr << data.message() << "\n";
      return kExitBadInput;
    }
    absl::Status fits = CheckJobMemory(
        *job, ValidationLimit(*job, options, ranks, world_rank == 0),
        world_rank == 0);
    if (!fits.ok()) {
      if (world_rank == 0) std::cerr << "metarm: " << fits.message() << "\n";
      return kExitBadInput;
    }
    if (world_rank == 0) {
      std::cout << options.job_path << ": valid; needs " << ranks << " ranks\n";
    }
    return kExitOk;
  }

  // From here on a call that hangs ends the job (every group split from the
  // world shares the watchdog).
  world->SetWatchdog(std::make_shared<CallWatchdog>(
      absl::Seconds(job->topology().collective_timeout_seconds()),
      [world_rank](const std::string& message) {
        ExitOnHungCall(world_rank, MpiEnvironment::HostName(), message);
      }));
  absl::StatusOr<ProcessGroups> groups =
      CreateProcessGroups(job->topology(), std::move(world));
  if (!groups.ok())
    MpiEnvironment::FailJob(groups.status().ToString(), kExitFailure);
  const int threads = options.threads_per_rank > 0
                          ? options.threads_per_rank
                          : ThreadsPerRank(MachineCores(), AffinityCores(),
                                           groups->node->size());
  SetTorchThreads(threads);
  absl::Status placed = PlaceRank(job->topology(), *groups);
  if (!placed.ok()) {
    if (world_rank == 0) std::cerr << "metarm: " << placed.message() << "\n";
    return IsBadInput(placed) ? kExitBadInput : kExitFailure;
  }

  absl::StatusOr<std::vector<RankInfo>> layout = GatherMessages(
      *groups->world, DescribeThisRank(*groups, threads), /*root=*/0);
  if (!layout.ok())
    MpiEnvironment::FailJob(layout.status().ToString(), kExitFailure);
  if (world_rank == 0) std::cout << FormatLayout(*job, *layout) << std::flush;
  // Before any model is built: a job that cannot fit is bad input.
  absl::Status fits = AgreeOnStatus(*groups->world, [&]() -> absl::Status {
    METARM_ASSIGN_OR_RETURN(
        RankLimit limit, RunningRankLimit(*job, options, groups->routing.device,
                                          groups->node->size()));
    return CheckJobMemory(*job, limit, world_rank == 0);
  }());
  if (!fits.ok()) {
    if (world_rank == 0) std::cerr << "metarm: " << fits.message() << "\n";
    return IsBadInput(fits) ? kExitBadInput : kExitFailure;
  }

  absl::Status result = absl::OkStatus();
  if (job->kind() == REWARD_MODEL_ONLY && options.resume) {
    result = absl::FailedPreconditionError(
        "--resume: REWARD_MODEL_ONLY jobs have no checkpoints (they are "
        "short); run the job again");
  } else if (job->kind() == REWARD_MODEL_ONLY) {
    result = RunRewardModelJob(*job, *groups);
  } else {
    // Watched only here: the other jobs have no checkpoint to stop at, and
    // end on the signal as usual.
    StopSignals stop;
    RlhfOptions rlhf;
    rlhf.progress = options.progress;
    rlhf.require_resume = options.resume;
    rlhf.stop = &stop;
    result = RunRlhfJob(*job, *groups, rlhf);
  }
  if (result.ok()) return kExitOk;
  if (IsStoppedBySignal(result)) {
    if (world_rank == 0) std::cout << "metarm: " << result.message() << "\n";
    return kExitStopped;
  }
  // Every rank holds the same status (the jobs agree on it); rank 0 prints.
  if (world_rank == 0) std::cerr << "metarm: " << result.message() << "\n";
  return IsBadInput(result) ? kExitBadInput : kExitFailure;
}

}  // namespace

absl::Status CheckPlacementFlags(const TrainerOptions& options) {
  if (!options.device.empty()) {
    absl::StatusOr<DeviceSpec> device = ParseDeviceSpec(options.device);
    if (!device.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --device: ", device.status().message()));
    }
  }
  if (!options.comm_backend.empty()) {
    absl::StatusOr<TensorBackend> backend =
        ParseTensorBackend(options.comm_backend);
    if (!backend.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --comm_backend: ", backend.status().message()));
    }
  }
  return absl::OkStatus();
}

int RunTrainer(const TrainerOptions& options) {
  try {
    return RunJob(options);
  } catch (const std::exception& error) {
    // LibTorch's exceptions (the one place they are caught). Other ranks may
    // be waiting for this one in a collective: end them all.
    MpiEnvironment::FailJob(error.what(), kExitFailure);
  }
}

}  // namespace metarm
