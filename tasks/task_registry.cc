#include "tasks/task_registry.h"

#include "tasks/task.h"

namespace metarm {

std::vector<std::string> KnownTaskNames() {
  std::vector<std::string> names = {kPreferenceFileTask};
  for (const std::string& name : TestbedTaskNames()) names.push_back(name);
  return names;
}

}  // namespace metarm
