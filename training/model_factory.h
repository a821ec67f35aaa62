// The models a job describes: metarm's own architecture from a ModelSpec's
// size fields, or a pretrained Hugging Face folder (ModelSpec.checkpoint).
//
//   METARM_ASSIGN_OR_RETURN(TransformerConfig config,
//       ModelConfig(job.policy(), "policy", tokenizer, limits));
//   torch::manual_seed(seed);
//   LanguageModel policy(config);
//   METARM_RETURN_IF_ERROR(LoadPretrained(*policy, config, job.policy()));
#ifndef METARM_TRAINING_MODEL_FACTORY_H_
#define METARM_TRAINING_MODEL_FACTORY_H_

#include <torch/torch.h>

#include <string>

#include "absl/status/statusor.h"
#include "model/transformer_config.h"
#include "proto/job.pb.h"
#include "reward/reward_data.h"
#include "tasks/tokenizer.h"

namespace metarm {

// The architecture of the model at job field `field` ("policy",
// "reward_model"). With a checkpoint, its config.json, which must fit the
// tokenizer's vocabulary and the task's longest sequence; and a model to be
// exported (export_hf) must have a Hugging Face shape. Errors name the
// field and the file.
absl::StatusOr<TransformerConfig> ModelConfig(const ModelSpec& spec,
                                              const std::string& field,
                                              const Tokenizer& tokenizer,
                                              const SequenceLimits& limits);

// Copies the checkpoint's weights into `model` when `spec` names one.
absl::Status LoadPretrained(torch::nn::Module& model,
                            const TransformerConfig& config,
                            const ModelSpec& spec, const std::string& field);

// Writes `model` to <output_dir>/<field>_hf when spec.export_hf is set.
absl::Status ExportIfAsked(torch::nn::Module& model,
                           const TransformerConfig& config,
                           const ModelSpec& spec, const std::string& field,
                           const std::string& output_dir);

}  // namespace metarm

#endif  // METARM_TRAINING_MODEL_FACTORY_H_
