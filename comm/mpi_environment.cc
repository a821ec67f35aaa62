#include "comm/mpi_environment.h"

#include <mpi.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "comm/host_name.h"
#include "util/stderr_line.h"

namespace metarm {

MpiEnvironment::MpiEnvironment(int* argc, char*** argv) {
  int provided = 0;
  MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided);
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

MpiEnvironment::~MpiEnvironment() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void MpiEnvironment::AbortJob(int exit_code) {
  MPI_Abort(MPI_COMM_WORLD, exit_code);
  std::_Exit(
      exit_code);  // MPI_Abort does not return; this is for the compiler.
}

void MpiEnvironment::FailJob(const std::string& what, int exit_code) {
  WriteStderrLine(absl::StrCat("metarm: rank ", WorldRank(), " (host ",
                               HostName(), ") failed: ", what));
  AbortJob(exit_code);
}

int MpiEnvironment::WorldRank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

std::string MpiEnvironment::HostName() { return LocalHostName(); }

}  // namespace metarm
