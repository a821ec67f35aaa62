#include "comm/host_name.h"

#include <unistd.h>

namespace metarm {

std::string LocalHostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "unknown";
  return name;
}

}  // namespace metarm
