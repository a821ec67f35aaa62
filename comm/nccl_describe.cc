#include "absl/strings/str_cat.h"
#include "comm/nccl_communicator.h"

namespace metarm {

std::string DescribeCallFailure(int rank, absl::string_view host,
                                absl::string_view call, absl::string_view file,
                                int line, absl::string_view error) {
  return absl::StrCat("rank ", rank, " (host ", host, "): ", call,
                      " failed at ", file, ":", line, ": ", error);
}

}  // namespace metarm
