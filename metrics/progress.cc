#include "metrics/progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace metarm {
namespace {

// Set by mpirun (Open MPI, MPICH/PMI) and srun for every rank.
bool UnderLauncher() {
  for (const char* name :
       {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "SLURM_PROCID"}) {
    if (std::getenv(name) != nullptr) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<ProgressStyle> ParseProgressStyle(absl::string_view flag) {
  if (flag == "updating") return ProgressStyle::kUpdating;
  if (flag == "plain") return ProgressStyle::kPlain;
  if (flag == "auto") {
    return ::isatty(STDOUT_FILENO) && !UnderLauncher()
               ? ProgressStyle::kUpdating
               : ProgressStyle::kPlain;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "flag --progress: '", flag, "' is not one of auto, updating, plain"));
}

void ProgressLine::Show(const std::string& text) {
  if (style_ == ProgressStyle::kPlain) {
    std::printf("%s\n", text.c_str());
  } else {
    // Trailing blanks wipe the rest of a longer previous line.
    std::printf("\r%s   ", text.c_str());
    open_ = true;
  }
  std::fflush(stdout);
}

void ProgressLine::Finish() {
  if (!open_) return;
  std::printf("\n");
  std::fflush(stdout);
  open_ = false;
}

}  // namespace metarm
