#include "tasks/task_registry.h"

namespace metarm {

std::vector<std::string> KnownTaskNames() { return {"preference_file"}; }

}  // namespace metarm
