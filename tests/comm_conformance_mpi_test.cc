// The communicator conformance suite on the MPI backend, bare and behind the
// routing layer the trainer uses (run under mpirun).
#include <memory>

#include "comm/conformance_suite.h"
#include "comm/mpi_communicator.h"
#include "comm/routing_communicator.h"

namespace metarm {

Communicator& ConformanceCommunicator(const std::string& backend) {
  static std::unique_ptr<MpiCommunicator>* world =
      new std::unique_ptr<MpiCommunicator>(MpiCommunicator::World());
  if (backend == "mpi") return **world;
  // MPI_COMM_WORLD is not freed by its communicator: a second one is safe.
  static RoutingCommunicator* routed = new RoutingCommunicator(
      MpiCommunicator::World(), {TensorBackend::kAuto, torch::kCPU});
  EXPECT_EQ(backend, "routed");
  return *routed;
}

INSTANTIATE_TEST_SUITE_P(Mpi, CommunicatorConformanceTest,
                         ::testing::Values("mpi", "routed"));

}  // namespace metarm
