// The communicator conformance suite on the MPI backend (run under mpirun).
#include <memory>

#include "comm/conformance_suite.h"
#include "comm/mpi_communicator.h"

namespace metarm {

Communicator& ConformanceCommunicator(const std::string& backend) {
  static std::unique_ptr<MpiCommunicator>* world =
      new std::unique_ptr<MpiCommunicator>(MpiCommunicator::World());
  EXPECT_EQ(backend, "mpi");
  return **world;
}

INSTANTIATE_TEST_SUITE_P(Mpi, CommunicatorConformanceTest,
                         ::testing::Values("mpi"));

}  // namespace metarm
