// The job's layout: every rank's host, local rank, roles and threads,
// gathered on rank 0 and printed as a table.
//
//   RankInfo me = DescribeThisRank(groups, threads);
//   absl::StatusOr<std::vector<RankInfo>> all = GatherMessages(world, me, 0);
//   std::cout << FormatLayout(job, *all);
#ifndef METARM_TRAINER_LAYOUT_H_
#define METARM_TRAINER_LAYOUT_H_

#include <string>
#include <vector>

#include "cluster/rank_info.pb.h"
#include "cluster/roles.h"
#include "proto/job.pb.h"

namespace metarm {

RankInfo DescribeThisRank(const ProcessGroups& groups, int torch_threads);

// A header line naming the job and the split, then one row per rank.
std::string FormatLayout(const Job& job, const std::vector<RankInfo>& ranks);

}  // namespace metarm

#endif  // METARM_TRAINER_LAYOUT_H_
