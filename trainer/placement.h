// Puts this rank on its device and connects its groups' tensor backends.
//
//   METARM_RETURN_IF_ERROR(PlaceRank(job.topology(), groups));
//   // groups.routing.device: where this rank's models live
//
// Collective over the world. Every rank gets the same verdict: an error on
// one rank (no GPU for its local rank, say) stops them all with its message.
#ifndef METARM_TRAINER_PLACEMENT_H_
#define METARM_TRAINER_PLACEMENT_H_

#include "absl/status/status.h"
#include "cluster/roles.h"
#include "proto/job.pb.h"

namespace metarm {

// Resolves topology.device for this rank (util/device_spec.h) with the CUDA
// devices LibTorch sees, checks that every rank got the same kind of device
// (tensors of one collective must be routed alike), and connects the NCCL
// backends that topology.backend asks for (ConnectDeviceBackends).
absl::Status PlaceRank(const Topology& topology, ProcessGroups& groups);

}  // namespace metarm

#endif  // METARM_TRAINER_PLACEMENT_H_
