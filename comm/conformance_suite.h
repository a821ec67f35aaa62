// The conformance tests every Communicator backend must pass, run under
// mpirun with several ranks (tests/comm_conformance_*).
//
// A backend's test binary defines ConformanceCommunicator() and instantiates
// the suite:
//
//   Communicator& ConformanceCommunicator(const std::string& backend) {...}
//   INSTANTIATE_TEST_SUITE_P(Mpi, CommunicatorConformanceTest,
//                            ::testing::Values("mpi"));
//
// Failures name the rank, the element index and both values.
#ifndef METARM_COMM_CONFORMANCE_SUITE_H_
#define METARM_COMM_CONFORMANCE_SUITE_H_

#include <string>

#include "comm/communicator.h"
#include "gtest/gtest.h"

namespace metarm {

// The world communicator of `backend` (the test parameter); defined by the
// binary that instantiates the suite.
Communicator& ConformanceCommunicator(const std::string& backend);

class CommunicatorConformanceTest
    : public ::testing::TestWithParam<std::string> {
 protected:
  Communicator& comm() { return ConformanceCommunicator(GetParam()); }
};

}  // namespace metarm

#endif  // METARM_COMM_CONFORMANCE_SUITE_H_
