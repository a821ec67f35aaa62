// The tasks a job may name in task.name.
//
//   ValidationContext context{KnownTaskNames()};
#ifndef METARM_TASKS_TASK_REGISTRY_H_
#define METARM_TASKS_TASK_REGISTRY_H_

#include <string>
#include <vector>

namespace metarm {

// The task of the user's own data files (task.train_pairs and the files
// beside it, docs/datasets.md).
inline constexpr char kPreferenceFileTask[] = "preference_file";

// "preference_file", then the gold-reward testbed tasks (tasks/task.h).
std::vector<std::string> KnownTaskNames();

}  // namespace metarm

#endif  // METARM_TASKS_TASK_REGISTRY_H_
