// The tasks a job may name in task.name.
//
//   ValidationContext context{KnownTaskNames()};
#ifndef METARM_TASKS_TASK_REGISTRY_H_
#define METARM_TASKS_TASK_REGISTRY_H_

#include <string>
#include <vector>

namespace metarm {

// "preference_file": reward-model training on the pairs in task.train_pairs
// (JSON lines); then the gold-reward testbed tasks (tasks/task.h).
std::vector<std::string> KnownTaskNames();

}  // namespace metarm

#endif  // METARM_TASKS_TASK_REGISTRY_H_
