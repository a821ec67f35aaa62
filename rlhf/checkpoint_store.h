// Checkpoint folders: written atomically, checked on load, the last N kept.
//
//   // Writing (one rank):
//   absl::StatusOr<CheckpointWriter> w = CheckpointWriter::Begin(root, seq);
//   torch::save(..., w->PathOf("policy_optimizer.pt"));
//   METARM_RETURN_IF_ERROR(w->Commit(state));   // state: a JSON object
//   METARM_RETURN_IF_ERROR(PruneCheckpoints(root, keep_last));
//
//   // Reading (any rank):
//   absl::StatusOr<std::optional<Checkpoint>> latest =
//   FindLatestCheckpoint(root);
//
// A checkpoint is the folder <root>/ckpt-<sequence>. Its files are first
// written into <root>/ckpt-<sequence>.tmp, each flushed to disk; then
// manifest.json (every file's size and CRC-32C, and the caller's state) is
// written and flushed, and the folder is renamed to its final name and the
// root flushed. A crash at any moment leaves either the complete checkpoint or
// a .tmp folder that readers ignore and the next prune removes.
#ifndef METARM_RLHF_CHECKPOINT_STORE_H_
#define METARM_RLHF_CHECKPOINT_STORE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace metarm {

class CheckpointWriter {
 public:
  // Starts checkpoint number `sequence` under `root` (created if needed),
  // replacing any leftover temporary folder of that number.
  static absl::StatusOr<CheckpointWriter> Begin(const std::string& root,
                                                int64_t sequence);

  // Where to write the file `name` (a plain name, no folders).
  std::string PathOf(const std::string& name) const;

  // Checksums every file written, writes the manifest with `state`, flushes
  // and renames the folder into place.
  absl::Status Commit(const nlohmann::json& state);

 private:
  CheckpointWriter(std::string root, std::string temporary, std::string final,
                   int64_t sequence)
      : root_(std::move(root)),
        temporary_(std::move(temporary)),
        final_(std::move(final)),
        sequence_(sequence) {}

  std::string root_, temporary_, final_;
  int64_t sequence_;
};

struct Checkpoint {
  std::string path;  // the folder
  int64_t sequence = 0;
  nlohmann::json state;  // what the writer passed to Commit
  std::string PathOf(const std::string& name) const {
    return path + "/" + name;
  }
};

// The newest complete checkpoint under `root` (nullopt when there is none or
// `root` does not exist), with every file verified against the manifest: a
// missing, truncated or altered file is DataLoss naming the file and what
// differs. Only the newest is considered; an older one is never used
// silently in its place.
absl::StatusOr<std::optional<Checkpoint>> FindLatestCheckpoint(
    const std::string& root);

// Removes all but the `keep_last` newest checkpoints and any leftover
// temporary folders.
absl::Status PruneCheckpoints(const std::string& root, int keep_last);

}  // namespace metarm

#endif  // METARM_RLHF_CHECKPOINT_STORE_H_
