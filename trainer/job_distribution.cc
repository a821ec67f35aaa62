#include "trainer/job_distribution.h"

#include <climits>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "comm/messages.h"
#include "proto/job_loader.h"
#include "trainer/job_verdict.pb.h"
#include "util/file.h"
#include "util/status_macros.h"

namespace metarm {

namespace {

// The folder of the file `path` points to, following symbolic links.
std::string RealFolderOf(const std::string& path) {
  char real[PATH_MAX];
  std::string resolved = ::realpath(path.c_str(), real) ? real : path;
  const size_t slash = resolved.rfind('/');
  return slash == std::string::npos ? "." : resolved.substr(0, slash);
}

}  // namespace

absl::StatusOr<Job> LoadJobFile(const std::string& path, int world_size,
                                const ValidationContext& context) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("job error: ", text.status().message()));
  }
  absl::StatusOr<Job> job =
      JobFromText(*text, path, context, RealFolderOf(path));
  if (!job.ok() || world_size == 0) return job;
  absl::Status world = CheckWorldSize(*job, world_size);
  if (!world.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("job error: ", world.message()));
  }
  return job;
}

absl::StatusOr<Job> LoadJobEverywhere(const std::string& path,
                                      Communicator& world,
                                      const ValidationContext& context) {
  JobVerdict verdict;
  if (world.rank() == 0) {
    absl::StatusOr<Job> job = LoadJobFile(path, world.size(), context);
    if (job.ok()) {
      *verdict.mutable_job() = *std::move(job);
    } else {
      verdict.set_error_code(static_cast<int>(job.status().code()));
      verdict.set_error_message(std::string(job.status().message()));
    }
  }
  METARM_RETURN_IF_ERROR(BroadcastMessage(world, &verdict, 0));
  if (verdict.error_code() != 0) {
    return absl::Status(static_cast<absl::StatusCode>(verdict.error_code()),
                        verdict.error_message());
  }
  return verdict.job();
}

}  // namespace metarm
