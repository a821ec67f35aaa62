// Writing a LibTorch archive (weights, optimizer state) to a file through
// WriteFileAtomically, so that a full disk or any other write failure comes
// back as a Status naming the file.
//
//   torch::serialize::OutputArchive archive;
//   archive.write("weight", tensor);
//   absl::Status written = WriteArchiveAtomically(archive, "out/policy.pt");
//
// Why not archive.save_to(path): LibTorch's file writer finishes the file in
// its destructor, and when the disk is full there it throws from a destructor,
// which ends the process with SIGABRT instead of an error. The archive is
// serialized into memory first (one extra copy of the file's bytes, for the
// moment of the write), then written, flushed and renamed into place.
#ifndef METARM_UTIL_ARCHIVE_FILE_H_
#define METARM_UTIL_ARCHIVE_FILE_H_

#include <torch/torch.h>

#include <string>

#include "absl/status/statusor.h"

namespace metarm {

// The archive's bytes, as save_to(path) would write them. Internal naming
// `path` when LibTorch cannot serialize it.
absl::StatusOr<std::string> SerializeArchive(
    torch::serialize::OutputArchive& archive, const std::string& path);

// Serializes `archive` and writes it to `path` atomically: readers see the old
// file or the new one. ResourceExhausted "PATH: cannot write: No space left on
// device" when the disk fills; no temporary file is left behind.
absl::Status WriteArchiveAtomically(torch::serialize::OutputArchive& archive,
                                    const std::string& path);

}  // namespace metarm

#endif  // METARM_UTIL_ARCHIVE_FILE_H_
