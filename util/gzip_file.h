// Reading a file that may be gzip-compressed (the data files; HH-RLHF ships
// as .jsonl.gz). Apart from util/file.h so that what only writes files (the
// weights, the GPU smoke check) does not need zlib.
//
//   absl::StatusOr<std::string> text = ReadMaybeGzipped("pairs.jsonl.gz");
#ifndef METARM_UTIL_GZIP_FILE_H_
#define METARM_UTIL_GZIP_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace metarm {

// Reads the whole file, decompressing it when it is gzip (by its magic bytes,
// whatever its name). A truncated or corrupt gzip stream is DataLoss naming
// the path.
absl::StatusOr<std::string> ReadMaybeGzipped(const std::string& path);

}  // namespace metarm

#endif  // METARM_UTIL_GZIP_FILE_H_
