#include "training/model_factory.h"

#include "absl/strings/str_cat.h"
#include "model/hf_checkpoint.h"
#include "training/job_options.h"

namespace metarm {

absl::StatusOr<TransformerConfig> ModelConfig(const ModelSpec& spec,
                                              const std::string& field,
                                              const Tokenizer& tokenizer,
                                              const SequenceLimits& limits) {
  if (spec.checkpoint().empty()) {
    TransformerConfig config = ConfigFromSpec(spec, tokenizer.vocab_size());
    if (spec.export_hf()) {
      absl::Status exportable = CheckHfExportable(config);
      if (!exportable.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".export_hf: ", exportable.message()));
      }
    }
    return config;
  }
  absl::StatusOr<TransformerConfig> config = ReadHfConfig(spec.checkpoint());
  if (!config.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".checkpoint: ", config.status().message()));
  }
  if (config->vocab_size < tokenizer.vocab_size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".checkpoint: ", spec.checkpoint(), "/config.json: vocab_size ",
        config->vocab_size, " is smaller than the tokenizer's ",
        tokenizer.vocab_size(), " (task.tokenizer)"));
  }
  // [BOS] prompt response [EOS].
  const int64_t longest =
      limits.max_prompt_tokens + limits.max_response_tokens + 2;
  if (config->max_seq_len < longest) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".checkpoint: ", spec.checkpoint(),
        "/config.json: the model takes ", config->max_seq_len,
        " positions, and the task's longest sequence is ", longest,
        " (task.max_prompt_tokens + task.max_response_tokens + 2)"));
  }
  config->dropout = spec.dropout();
  config->activation_checkpointing = spec.activation_checkpointing();
  config->bf16 = spec.precision() == BF16;
  return config;
}

absl::Status LoadPretrained(torch::nn::Module& model,
                            const TransformerConfig& config,
                            const ModelSpec& spec, const std::string& field) {
  if (spec.checkpoint().empty()) return absl::OkStatus();
  absl::Status loaded = LoadHfWeights(model, config, spec.checkpoint());
  if (loaded.ok()) return loaded;
  return absl::Status(loaded.code(),
                      absl::StrCat(field, ".checkpoint: ", loaded.message()));
}

absl::Status ExportIfAsked(torch::nn::Module& model,
                           const TransformerConfig& config,
                           const ModelSpec& spec, const std::string& field,
                           const std::string& output_dir) {
  if (!spec.export_hf()) return absl::OkStatus();
  return ExportHf(model, config, absl::StrCat(output_dir, "/", field, "_hf"));
}

}  // namespace metarm
