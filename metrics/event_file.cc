#include "metrics/event_file.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "metrics/tensorboard.pb.h"
#include "metrics/tfrecord.h"
#include "util/file.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

double WallTime() {
  return std::chrono::duration<double>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventFile>> EventFile::Create(
    const std::string& directory) {
  METARM_RETURN_IF_ERROR(MakeDirectories(directory));
  const std::string path = absl::StrCat(directory, "/events.out.tfevents.",
                                        static_cast<int64_t>(WallTime()), ".",
                                        HostName(), ".", ::getpid());
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": cannot create: ", std::strerror(errno)));
  }
  std::unique_ptr<EventFile> events(new EventFile(path, file));
  tensorboard::Event first;
  first.set_wall_time(WallTime());
  first.set_file_version("brain.Event:2");
  METARM_RETURN_IF_ERROR(events->WriteRecord(first.SerializeAsString()));
  return events;
}

EventFile::~EventFile() { std::fclose(file_); }

absl::Status EventFile::AddScalars(
    int64_t step, const std::vector<std::pair<std::string, double>>& values) {
  tensorboard::Event event;
  event.set_wall_time(WallTime());
  event.set_step(step);
  for (const auto& [tag, value] : values) {
    tensorboard::SummaryValue* entry = event.mutable_summary()->add_value();
    entry->set_tag(tag);
    entry->set_simple_value(static_cast<float>(value));
  }
  return WriteRecord(event.SerializeAsString());
}

absl::Status EventFile::WriteRecord(absl::string_view event) {
  const std::string framed = FrameRecord(event);
  if (std::fwrite(framed.data(), 1, framed.size(), file_) != framed.size() ||
      std::fflush(file_) != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path_, ": cannot write: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace metarm
