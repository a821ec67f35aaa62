// Saving and loading a model's weights (LibTorch serialization), with the
// architecture checked on load.
//
//   METARM_RETURN_IF_ERROR(SaveWeights(*policy, policy->config(), path));
//   METARM_RETURN_IF_ERROR(LoadWeights(*policy, policy->config(), path));
//
// The file holds the TransformerConfig beside every parameter and buffer; a
// file written for another shape is refused with both shapes named.
#ifndef METARM_MODEL_WEIGHTS_IO_H_
#define METARM_MODEL_WEIGHTS_IO_H_

#include <torch/torch.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/transformer_config.h"

namespace metarm {

// Writes atomically (util/archive_file.h): a failed write, a full disk
// included, is an error naming `path` and leaves the old file intact.
absl::Status SaveWeights(torch::nn::Module& module,
                         const TransformerConfig& config,
                         const std::string& path);

// The architecture the file at `path` was written for; errors as LoadWeights.
absl::StatusOr<TransformerConfig> ReadWeightsConfig(const std::string& path);

// Loads into `module`, whose architecture is `config`. NotFound for a missing
// file, DataLoss for a file that is not a weights file, InvalidArgument when
// the file was written for another architecture or a parameter's shape
// differs (both named). The module is left unchanged on any error.
absl::Status LoadWeights(torch::nn::Module& module,
                         const TransformerConfig& config,
                         const std::string& path);

}  // namespace metarm

#endif  // METARM_MODEL_WEIGHTS_IO_H_
