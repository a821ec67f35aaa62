// The defaults of a job's optional settings, as documented in job.proto.
//
//   Job job = *ParseJobText(text, path);
//   ApplyJobDefaults(&job);  // every optional field now has a value
#ifndef METARM_PROTO_JOB_DEFAULTS_H_
#define METARM_PROTO_JOB_DEFAULTS_H_

#include "proto/job.pb.h"

namespace metarm {

// Fills every field the job left unset with its default; fields that were set
// are kept as they are (so validation sees exactly what the user wrote).
void ApplyJobDefaults(Job* job);

}  // namespace metarm

#endif  // METARM_PROTO_JOB_DEFAULTS_H_
