// RAII for the MPI library: MPI_Init_thread in the constructor, MPI_Finalize
// in the destructor. One per process, created first in main.
//
//   int main(int argc, char** argv) {
//     MpiEnvironment mpi(&argc, &argv);
//     MpiCommunicator world = MpiCommunicator::World();
//     ...
//   }
#ifndef METARM_COMM_MPI_ENVIRONMENT_H_
#define METARM_COMM_MPI_ENVIRONMENT_H_

#include <string>

namespace metarm {

class MpiEnvironment {
 public:
  // Initialises MPI asking for MPI_THREAD_SERIALIZED (calls may come from
  // more than one thread, never at once) and makes MPI_COMM_WORLD return
  // errors instead of aborting, so they become statuses with context.
  MpiEnvironment(int* argc, char*** argv);
  ~MpiEnvironment();

  MpiEnvironment(const MpiEnvironment&) = delete;
  MpiEnvironment& operator=(const MpiEnvironment&) = delete;

  // Ends every rank of the job now with `exit_code` (MPI_Abort): for a rank
  // that failed while others may be waiting for it in a collective.
  [[noreturn]] static void AbortJob(int exit_code);

  // AbortJob after printing "metarm: rank R (host H) failed: <what>" to
  // stderr: a failing rank names itself before it ends the others.
  [[noreturn]] static void FailJob(const std::string& what, int exit_code);

  // This process's rank in MPI_COMM_WORLD.
  static int WorldRank();

  // This host's name, for messages.
  static std::string HostName();
};

}  // namespace metarm

#endif  // METARM_COMM_MPI_ENVIRONMENT_H_
