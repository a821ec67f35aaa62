// Keeps docs/job_spec.md complete: every field of job.proto, by its full
// path, has a row in the reference.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/job.pb.h"
#include "util/file.h"

namespace metarm {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

// Appends "prefix.field" for every leaf field under `message`. ModelSpec is
// documented once, under the placeholder "X".
void CollectPaths(const Descriptor* message, const std::string& prefix,
                  std::vector<std::string>& paths) {
  for (int i = 0; i < message->field_count(); ++i) {
    const FieldDescriptor* field = message->field(i);
    const std::string path =
        prefix.empty() ? field->name() : prefix + "." + field->name();
    if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      const Descriptor* type = field->message_type();
      CollectPaths(type, type->name() == "ModelSpec" ? "X" : path, paths);
    } else {
      paths.push_back(path);
    }
  }
}

TEST(JobSpecDocTest, EveryFieldHasARow) {
  absl::StatusOr<std::string> doc = ReadFile("docs/job_spec.md");
  ASSERT_TRUE(doc.ok()) << doc.status();
  std::vector<std::string> paths;
  CollectPaths(Job::descriptor(), "", paths);
  ASSERT_GT(paths.size(), 50u);
  for (const std::string& path : paths) {
    EXPECT_NE(doc->find("| `" + path + "` |"), std::string::npos)
        << "docs/job_spec.md has no row for " << path;
  }
}

}  // namespace
}  // namespace metarm
