// The safetensors format (Hugging Face's weight files): an 8-byte
// little-endian header length N, N bytes of JSON naming each tensor's dtype,
// shape and [begin, end) byte range in the data that follows, then the data.
//
//   absl::StatusOr<TensorMap> weights = ReadSafetensors("model.safetensors");
//   absl::StatusOr<TensorMap> sharded =
//       ReadShardedSafetensors("ckpt/model.safetensors.index.json");
//   METARM_RETURN_IF_ERROR(WriteSafetensors("out.safetensors", weights));
//
// Dtypes F32, F16 and BF16. Every malformed file is refused with an error
// that names the file and, where there is one, the tensor: a truncated file,
// a header that is not a JSON object, offsets out of range or overlapping,
// an unknown dtype, a shape that does not match its bytes.
#ifndef METARM_MODEL_SAFETENSORS_H_
#define METARM_MODEL_SAFETENSORS_H_

#include <torch/torch.h>

#include <map>
#include <string>

#include "absl/status/statusor.h"

namespace metarm {

using TensorMap = std::map<std::string, torch::Tensor>;

// Tensors come back in their stored dtype, on the CPU.
absl::StatusOr<TensorMap> ReadSafetensors(const std::string& path);

// A sharded checkpoint: the index's weight_map says which file (beside the
// index) holds each tensor; every one must be there, and no shard may hold a
// tensor the index does not name.
absl::StatusOr<TensorMap> ReadShardedSafetensors(const std::string& index_path);

// Writes atomically. Float32, float16 and bfloat16 tensors only; `metadata`
// goes to the header's "__metadata__".
absl::Status WriteSafetensors(
    const std::string& path, const TensorMap& tensors,
    const std::map<std::string, std::string>& metadata = {});

}  // namespace metarm

#endif  // METARM_MODEL_SAFETENSORS_H_
