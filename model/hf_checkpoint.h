// Pretrained models in the Hugging Face folder format: config.json plus
// model.safetensors (or shards listed in model.safetensors.index.json).
//
//   absl::StatusOr<TransformerConfig> config = ReadHfConfig("gpt2/");
//   LanguageModel policy(*config);
//   METARM_RETURN_IF_ERROR(LoadHfWeights(*policy, *config, "gpt2/"));
//   ...
//   METARM_RETURN_IF_ERROR(ExportHf(*policy, *config, "out/policy_hf"));
//
// Architectures, chosen by config.json's "model_type":
//   gpt2   learned positions, LayerNorm, GELU (tanh), biases, tied LM head;
//          its Conv1D weights are stored [in, out] and transposed here
//   llama  rotary positions (rope_theta; Llama 3's rope_scaling), RMSNorm,
//          SwiGLU, no biases, grouped-query attention (num_key_value_heads)
//   qwen2  llama with biases on the q, k and v projections
// metarm's own models (learned positions, exact GELU, untied head) export as
// gpt2 with "activation_function": "gelu" and "tie_word_embeddings": false.
//
// A LanguageModel takes every trunk tensor and the LM head. A ScalarModel
// (reward model, critic) takes the trunk; its head is "score.weight"
// ([1, d_model], as in ...ForSequenceClassification) and "score.bias" when
// the folder has them, and keeps its fresh initialisation otherwise: a new
// scalar head on a pretrained trunk.
#ifndef METARM_MODEL_HF_CHECKPOINT_H_
#define METARM_MODEL_HF_CHECKPOINT_H_

#include <torch/torch.h>

#include <string>

#include "absl/status/statusor.h"
#include "model/transformer_config.h"

namespace metarm {

// The model config.json describes. Errors name the file and the field.
absl::StatusOr<TransformerConfig> ReadHfConfig(const std::string& folder);

// OK when ExportHf can write a model of `config` (a gpt2 or llama shape);
// otherwise InvalidArgument saying why.
absl::Status CheckHfExportable(const TransformerConfig& config);

// Copies the folder's tensors into `model` (a LanguageModel or ScalarModel
// built from `config`), converting F16/BF16 to the model's dtype. Checks
// every tensor's shape first and leaves the model unchanged on any error.
absl::Status LoadHfWeights(torch::nn::Module& model,
                           const TransformerConfig& config,
                           const std::string& folder);

// Writes config.json and model.safetensors (F32) into `folder` (created),
// through a temporary folder renamed into place.
absl::Status ExportHf(torch::nn::Module& model, const TransformerConfig& config,
                      const std::string& folder);

}  // namespace metarm

#endif  // METARM_MODEL_HF_CHECKPOINT_H_
