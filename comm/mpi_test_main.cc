// main() for GoogleTest binaries that run under mpirun: MPI is initialised
// before the tests and finalised after them, and each rank prints its own
// results (mpirun --tag-output prefixes them with the rank). The exit code is
// non-zero on every rank whose tests failed, so mpirun fails too.
#include "ATen/Parallel.h"
#include "comm/mpi_environment.h"
#include "gtest/gtest.h"

int main(int argc, char** argv) {
  metarm::MpiEnvironment mpi(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  // One LibTorch thread a rank: the ranks of a test share the machine.
  at::set_num_threads(1);
  at::set_num_interop_threads(1);
  return RUN_ALL_TESTS();
}
