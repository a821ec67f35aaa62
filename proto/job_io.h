// Reading a job from protobuf text format.
//
//   absl::StatusOr<Job> job = ParseJobText(text, "jobs/quickstart.pbtxt");
//   if (!job.ok()) { std::cerr << job.status().message(); }
//
// Syntax errors and unknown fields are reported as
// "<source>:<line>:<column>: <message>", one a line, all of them.
#ifndef METARM_PROTO_JOB_IO_H_
#define METARM_PROTO_JOB_IO_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "proto/job.pb.h"

namespace metarm {

// Parses `text` (protobuf text format) into `message` (any message type),
// with the errors reported as below. InvalidArgument on any problem.
absl::Status ParseTextInto(absl::string_view text,
                           absl::string_view source_name,
                           google::protobuf::Message* message);

// Parses `text` (protobuf text format) as a Job. `source_name` (usually the
// file path) prefixes every error. InvalidArgument on any problem.
absl::StatusOr<Job> ParseJobText(absl::string_view text,
                                 absl::string_view source_name);

// The job as text format, for logs and checkpoints.
std::string JobToText(const Job& job);

}  // namespace metarm

#endif  // METARM_PROTO_JOB_IO_H_
