#include "model/hf_checkpoint.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "model/safetensors.h"
#include "nlohmann/json.hpp"
#include "util/file.h"
#include "util/json_file.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

using Json = nlohmann::json;

enum class Family { kGpt2, kLlama, kQwen2 };

// A required integer field of config.json (one of `names`, the first
// present), > 0.
absl::StatusOr<int64_t> PositiveField(const Json& json, const std::string& file,
                                      std::vector<std::string> names) {
  for (const std::string& name : names) {
    if (!json.contains(name) || json[name].is_null()) continue;
    if (!json[name].is_number_integer() || json[name].get<int64_t>() <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": field ", name,
                       " must be a positive integer, got ", json[name].dump()));
    }
    return json[name].get<int64_t>();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(file, ": missing field ", absl::StrJoin(names, " or ")));
}

double NumberOr(const Json& json, const std::string& name, double fallback) {
  return json.contains(name) && json[name].is_number()
             ? json[name].get<double>()
             : fallback;
}

absl::StatusOr<TransformerConfig> Gpt2Config(const Json& json,
                                             const std::string& file) {
  TransformerConfig config;
  absl::StatusOr<int64_t> vocab = PositiveField(json, file, {"vocab_size"});
  absl::StatusOr<int64_t> d = PositiveField(json, file, {"n_embd"});
  absl::StatusOr<int64_t> layers = PositiveField(json, file, {"n_layer"});
  absl::StatusOr<int64_t> heads = PositiveField(json, file, {"n_head"});
  absl::StatusOr<int64_t> positions =
      PositiveField(json, file, {"n_positions", "n_ctx"});
  for (const auto* field : {&vocab, &d, &layers, &heads, &positions}) {
    if (!field->ok()) return field->status();
  }
  config.vocab_size = *vocab;
  config.d_model = *d;
  config.n_layers = *layers;
  config.n_heads = *heads;
  config.max_seq_len = *positions;
  config.d_ff = 4 * config.d_model;
  if (json.contains("n_inner") && !json["n_inner"].is_null()) {
    METARM_ASSIGN_OR_RETURN(config.d_ff,
                            PositiveField(json, file, {"n_inner"}));
  }
  config.norm_eps = NumberOr(json, "layer_norm_epsilon", 1e-5);
  const std::string activation =
      json.value("activation_function", std::string("gelu_new"));
  if (activation == "gelu_new" || activation == "gelu_pytorch_tanh") {
    config.mlp = MlpKind::kGeluTanh;
  } else if (activation == "gelu") {
    config.mlp = MlpKind::kGelu;
  } else {
    return absl::InvalidArgumentError(absl::StrCat(
        file, ": activation_function \"", activation,
        "\" is not supported (gelu_new, gelu_pytorch_tanh, gelu)"));
  }
  config.tie_embeddings = json.value("tie_word_embeddings", true);
  return config;
}

// Llama 3's rope_scaling; another kind (linear, dynamic, yarn) is refused.
absl::StatusOr<TransformerConfig::RopeScaling> RopeScalingOf(
    const Json& scaling, const std::string& file) {
  const std::string type =
      scaling.is_object()
          ? scaling.value("rope_type", scaling.value("type", std::string()))
          : std::string();
  if (type != "llama3") {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": rope_scaling of type \"", type,
                     "\" is not supported (llama3)"));
  }
  TransformerConfig::RopeScaling s;
  s.factor = NumberOr(scaling, "factor", 0);
  s.low_freq_factor = NumberOr(scaling, "low_freq_factor", 1);
  s.high_freq_factor = NumberOr(scaling, "high_freq_factor", 4);
  s.original_max_positions =
      NumberOr(scaling, "original_max_position_embeddings", 8192);
  if (!(s.factor > 0) || !(s.high_freq_factor > s.low_freq_factor) ||
      !(s.low_freq_factor > 0) || !(s.original_max_positions > 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        file,
        ": rope_scaling needs factor > 0, high_freq_factor > "
        "low_freq_factor > 0 and original_max_position_embeddings > 0"));
  }
  return s;
}

absl::StatusOr<TransformerConfig> LlamaConfig(const Json& json,
                                              const std::string& file) {
  TransformerConfig config;
  absl::StatusOr<int64_t> vocab = PositiveField(json, file, {"vocab_size"});
  absl::StatusOr<int64_t> d = PositiveField(json, file, {"hidden_size"});
  absl::StatusOr<int64_t> ff = PositiveField(json, file, {"intermediate_size"});
  absl::StatusOr<int64_t> layers =
      PositiveField(json, file, {"num_hidden_layers"});
  absl::StatusOr<int64_t> heads =
      PositiveField(json, file, {"num_attention_heads"});
  absl::StatusOr<int64_t> positions =
      PositiveField(json, file, {"max_position_embeddings"});
  for (const auto* field : {&vocab, &d, &ff, &layers, &heads, &positions}) {
    if (!field->ok()) return field->status();
  }
  config.vocab_size = *vocab;
  config.d_model = *d;
  config.d_ff = *ff;
  config.n_layers = *layers;
  config.n_heads = *heads;
  config.max_seq_len = *positions;
  config.n_kv_heads = config.n_heads;
  if (json.contains("num_key_value_heads") &&
      !json["num_key_value_heads"].is_null()) {
    METARM_ASSIGN_OR_RETURN(config.n_kv_heads,
                            PositiveField(json, file, {"num_key_value_heads"}));
  }
  if (config.n_heads % config.n_kv_heads != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": num_attention_heads (", config.n_heads,
                     ") must be a multiple of num_key_value_heads (",
                     config.n_kv_heads, ")"));
  }
  const std::string activation = json.value("hidden_act", std::string("silu"));
  if (activation != "silu") {
    return absl::InvalidArgumentError(absl::StrCat(
        file, ": hidden_act \"", activation, "\" is not supported (silu)"));
  }
  if (json.contains("rope_scaling") && !json["rope_scaling"].is_null()) {
    METARM_ASSIGN_OR_RETURN(config.rope_scaling,
                            RopeScalingOf(json["rope_scaling"], file));
  }
  if (json.value("attention_bias", false) || json.value("mlp_bias", false)) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": attention_bias / mlp_bias are not supported"));
  }
  config.rotary = true;
  config.norm = NormKind::kRmsNorm;
  config.norm_eps = NumberOr(json, "rms_norm_eps", 1e-6);
  config.mlp = MlpKind::kSwiGlu;
  config.bias = false;
  config.rope_theta = NumberOr(json, "rope_theta", 10000.0);
  config.tie_embeddings = json.value("tie_word_embeddings", false);
  return config;
}

// Qwen2: Llama's architecture with biases on the q, k and v projections.
absl::StatusOr<TransformerConfig> Qwen2Config(Json json,
                                              const std::string& file) {
  if (json.value("use_sliding_window", false)) {
    return absl::InvalidArgumentError(
        absl::StrCat(file,
                     ": use_sliding_window (sliding-window attention) is not "
                     "supported"));
  }
  json.erase("attention_bias");  // implied, and not Llama's
  METARM_ASSIGN_OR_RETURN(TransformerConfig config, LlamaConfig(json, file));
  config.qkv_bias = true;
  return config;
}

// Which Hugging Face architecture a config is, if any.
absl::StatusOr<Family> FamilyOf(const TransformerConfig& config) {
  if (config.norm == NormKind::kLayerNorm && !config.rotary &&
      config.mlp != MlpKind::kSwiGlu && config.bias &&
      config.kv_heads() == config.n_heads) {
    return Family::kGpt2;
  }
  if (config.norm == NormKind::kRmsNorm && config.rotary &&
      config.mlp == MlpKind::kSwiGlu && !config.bias) {
    return config.qkv_bias ? Family::kQwen2 : Family::kLlama;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("no Hugging Face architecture (gpt2, llama) matches a "
                   "model of ",
                   DescribeConfig(config)));
}

// One of our tensors and the Hugging Face tensors it is made of: stacked
// along dim 0 (q, k, v into qkv; gate, up into mlp_in), each transposed
// first when stored as GPT-2's Conv1D ([in, out]).
struct TensorMapping {
  std::string ours;
  std::vector<std::string> theirs;
  bool conv1d = false;
  bool optional = false;  // a ScalarModel's head: kept fresh when absent
};

std::vector<TensorMapping> Gpt2Mappings(const TransformerConfig& config) {
  std::vector<TensorMapping> m = {
      {"trunk.token_embedding.weight", {"wte.weight"}},
      {"trunk.position_embedding.weight", {"wpe.weight"}},
      {"trunk.ln_final.weight", {"ln_f.weight"}},
      {"trunk.ln_final.bias", {"ln_f.bias"}}};
  for (int64_t i = 0; i < config.n_layers; ++i) {
    const std::string ours = absl::StrCat("trunk.blocks.", i, ".");
    const std::string theirs = absl::StrCat("h.", i, ".");
    auto add = [&](const std::string& a, const std::string& b, bool conv1d) {
      m.push_back({ours + a, {theirs + b}, conv1d});
    };
    add("ln_attention.weight", "ln_1.weight", false);
    add("ln_attention.bias", "ln_1.bias", false);
    add("attention.qkv.weight", "attn.c_attn.weight", true);
    add("attention.qkv.bias", "attn.c_attn.bias", false);
    add("attention.out.weight", "attn.c_proj.weight", true);
    add("attention.out.bias", "attn.c_proj.bias", false);
    add("ln_mlp.weight", "ln_2.weight", false);
    add("ln_mlp.bias", "ln_2.bias", false);
    add("mlp_in.weight", "mlp.c_fc.weight", true);
    add("mlp_in.bias", "mlp.c_fc.bias", false);
    add("mlp_out.weight", "mlp.c_proj.weight", true);
    add("mlp_out.bias", "mlp.c_proj.bias", false);
  }
  return m;
}

std::vector<TensorMapping> LlamaMappings(const TransformerConfig& config) {
  std::vector<TensorMapping> m = {
      {"trunk.token_embedding.weight", {"model.embed_tokens.weight"}},
      {"trunk.ln_final.weight", {"model.norm.weight"}}};
  for (int64_t i = 0; i < config.n_layers; ++i) {
    const std::string ours = absl::StrCat("trunk.blocks.", i, ".");
    const std::string theirs = absl::StrCat("model.layers.", i, ".");
    m.push_back(
        {ours + "ln_attention.weight", {theirs + "input_layernorm.weight"}});
    m.push_back({ours + "attention.qkv.weight",
                 {theirs + "self_attn.q_proj.weight",
                  theirs + "self_attn.k_proj.weight",
                  theirs + "self_attn.v_proj.weight"}});
    m.push_back(
        {ours + "attention.out.weight", {theirs + "self_attn.o_proj.weight"}});
    m.push_back(
        {ours + "ln_mlp.weight", {theirs + "post_attention_layernorm.weight"}});
    m.push_back(
        {ours + "mlp_in.weight",
         {theirs + "mlp.gate_proj.weight", theirs + "mlp.up_proj.weight"}});
    m.push_back({ours + "mlp_out.weight", {theirs + "mlp.down_proj.weight"}});
    if (config.qkv_bias) {
      m.push_back(
          {ours + "attention.qkv.bias",
           {theirs + "self_attn.q_proj.bias", theirs + "self_attn.k_proj.bias",
            theirs + "self_attn.v_proj.bias"}});
    }
  }
  return m;
}

// The mappings for `model`'s own parameters: the trunk, plus the LM head
// (untied) or the scalar head.
std::vector<TensorMapping> MappingsFor(
    Family family, const TransformerConfig& config,
    const std::map<std::string, torch::Tensor>& parameters) {
  std::vector<TensorMapping> m =
      family == Family::kGpt2 ? Gpt2Mappings(config) : LlamaMappings(config);
  if (parameters.count("lm_head.weight") > 0) {
    m.push_back({"lm_head.weight", {"lm_head.weight"}});
  }
  if (parameters.count("head.weight") > 0) {
    m.push_back({"head.weight", {"score.weight"}, false, true});
    m.push_back({"head.bias", {"score.bias"}, false, true});
  }
  return m;
}

std::map<std::string, torch::Tensor> NamedParameters(torch::nn::Module& model) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : model.named_parameters())
    out[item.key()] = item.value();
  return out;
}

std::string ShapeText(const torch::Tensor& t) {
  return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]");
}

absl::StatusOr<TensorMap> ReadFolderTensors(const std::string& folder) {
  const std::string single = folder + "/model.safetensors";
  const std::string index = folder + "/model.safetensors.index.json";
  if (PathExists(single)) return ReadSafetensors(single);
  if (PathExists(index)) return ReadShardedSafetensors(index);
  return absl::NotFoundError(absl::StrCat(
      folder, ": no model.safetensors or model.safetensors.index.json"));
}

// GPT-2 folders name their tensors with or without "transformer.".
const torch::Tensor* Find(const TensorMap& tensors, const std::string& name,
                          Family family) {
  auto it = tensors.find(name);
  if (it != tensors.end()) return &it->second;
  if (family == Family::kGpt2) {
    it = tensors.find("transformer." + name);
    if (it != tensors.end()) return &it->second;
  }
  return nullptr;
}

Json ExportConfigJson(Family family, const TransformerConfig& c) {
  if (family == Family::kGpt2) {
    return {{"model_type", "gpt2"},
            {"architectures", {"GPT2LMHeadModel"}},
            {"vocab_size", c.vocab_size},
            {"n_embd", c.d_model},
            {"n_layer", c.n_layers},
            {"n_head", c.n_heads},
            {"n_positions", c.max_seq_len},
            {"n_inner", c.d_ff},
            {"layer_norm_epsilon", c.norm_eps},
            {"activation_function",
             c.mlp == MlpKind::kGeluTanh ? "gelu_new" : "gelu"},
            {"tie_word_embeddings", c.tie_embeddings},
            {"torch_dtype", "float32"}};
  }
  const bool qwen2 = family == Family::kQwen2;
  Json json = {
      {"model_type", qwen2 ? "qwen2" : "llama"},
      {"architectures", {qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM"}},
      {"vocab_size", c.vocab_size},
      {"hidden_size", c.d_model},
      {"intermediate_size", c.d_ff},
      {"num_hidden_layers", c.n_layers},
      {"num_attention_heads", c.n_heads},
      {"num_key_value_heads", c.kv_heads()},
      {"max_position_embeddings", c.max_seq_len},
      {"rms_norm_eps", c.norm_eps},
      {"rope_theta", c.rope_theta},
      {"hidden_act", "silu"},
      {"tie_word_embeddings", c.tie_embeddings},
      {"torch_dtype", "float32"}};
  if (c.rope_scaling.factor > 0) {
    json["rope_scaling"] = {
        {"rope_type", "llama3"},
        {"factor", c.rope_scaling.factor},
        {"low_freq_factor", c.rope_scaling.low_freq_factor},
        {"high_freq_factor", c.rope_scaling.high_freq_factor},
        {"original_max_position_embeddings",
         c.rope_scaling.original_max_positions}};
  }
  return json;
}

}  // namespace

absl::Status CheckHfExportable(const TransformerConfig& config) {
  return FamilyOf(config).status();
}

absl::StatusOr<TransformerConfig> ReadHfConfig(const std::string& folder) {
  const std::string file = folder + "/config.json";
  METARM_ASSIGN_OR_RETURN(Json json, ReadJsonFile(file));
  if (!json.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": not a JSON object"));
  }
  const std::string type = json.value("model_type", std::string());
  if (type == "gpt2") return Gpt2Config(json, file);
  if (type == "llama") return LlamaConfig(json, file);
  if (type == "qwen2") return Qwen2Config(json, file);
  return absl::InvalidArgumentError(
      absl::StrCat(file, ": model_type \"", type,
                   "\" is not supported (gpt2, llama, qwen2)"));
}

absl::Status LoadHfWeights(torch::nn::Module& model,
                           const TransformerConfig& config,
                           const std::string& folder) {
  METARM_ASSIGN_OR_RETURN(Family family, FamilyOf(config));
  METARM_ASSIGN_OR_RETURN(TensorMap tensors, ReadFolderTensors(folder));
  std::map<std::string, torch::Tensor> parameters = NamedParameters(model);
  // Everything is read and checked before anything is copied.
  std::map<std::string, torch::Tensor> loaded;
  for (const TensorMapping& m : MappingsFor(family, config, parameters)) {
    std::vector<torch::Tensor> parts;
    for (const std::string& name : m.theirs) {
      const torch::Tensor* t = Find(tensors, name, family);
      if (t == nullptr) break;
      parts.push_back(m.conv1d ? t->t() : *t);
    }
    if (parts.size() != m.theirs.size()) {
      if (m.optional) continue;
      return absl::InvalidArgumentError(
          absl::StrCat(folder, ": has no tensor ",
                       absl::StrJoin(m.theirs, " / "), " (for ", m.ours, ")"));
    }
    torch::Tensor value = torch::cat(parts, 0);
    const torch::Tensor& target = parameters.at(m.ours);
    if (!value.sizes().equals(target.sizes())) {
      return absl::InvalidArgumentError(absl::StrCat(
          folder, ": ", absl::StrJoin(m.theirs, " + "), " has shape ",
          ShapeText(value), " but the model described by config.json needs ",
          ShapeText(target), " for ", m.ours));
    }
    loaded[m.ours] = value;
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, value] : loaded) parameters.at(name).copy_(value);
  return absl::OkStatus();
}

absl::Status ExportHf(torch::nn::Module& model, const TransformerConfig& config,
                      const std::string& folder) {
  METARM_ASSIGN_OR_RETURN(Family family, FamilyOf(config));
  std::map<std::string, torch::Tensor> parameters = NamedParameters(model);
  TensorMap out;
  const std::string prefix = family == Family::kGpt2 ? "transformer." : "";
  for (const TensorMapping& m : MappingsFor(family, config, parameters)) {
    torch::Tensor value =
        parameters.at(m.ours).detach().to(torch::kCPU, torch::kFloat32);
    // Split the stacked rows back into their Hugging Face tensors.
    std::vector<int64_t> rows;
    if (m.theirs.size() == 3) {
      rows = {config.n_heads * config.head_dim(),
              config.kv_heads() * config.head_dim(),
              config.kv_heads() * config.head_dim()};
    } else if (m.theirs.size() == 2) {
      rows = {config.d_ff, config.d_ff};
    } else {
      rows = {value.size(0)};
    }
    std::vector<torch::Tensor> parts = value.split_with_sizes(rows, 0);
    for (size_t i = 0; i < parts.size(); ++i) {
      const bool head = m.theirs[i] == "lm_head.weight" ||
                        m.theirs[i].rfind("score.", 0) == 0;
      torch::Tensor part = m.conv1d ? parts[i].t() : parts[i];
      out[(head ? "" : prefix) + m.theirs[i]] = part.contiguous().clone();
    }
  }
  const std::string temporary = absl::StrCat(folder, ".tmp.", ::getpid());
  absl::Status status = MakeDirectories(temporary);
  if (status.ok()) {
    status = WriteSafetensors(temporary + "/model.safetensors", out,
                              {{"format", "pt"}});
  }
  if (status.ok()) {
    status =
        WriteFileAtomically(temporary + "/config.json",
                            ExportConfigJson(family, config).dump(2) + "\n");
  }
  if (status.ok() && PathExists(folder)) {
    // Replace an earlier export: its files first, then the folder.
    for (const char* name : {"/config.json", "/model.safetensors"}) {
      std::remove((folder + name).c_str());
    }
    if (::rmdir(folder.c_str()) != 0) {
      status = absl::FailedPreconditionError(absl::StrCat(
          folder, ": exists and holds other files; export elsewhere"));
    }
  }
  if (status.ok() && std::rename(temporary.c_str(), folder.c_str()) != 0) {
    status = absl::InternalError(
        absl::StrCat(folder, ": cannot rename the export into place"));
  }
  if (!status.ok()) {
    std::remove((temporary + "/config.json").c_str());
    std::remove((temporary + "/model.safetensors").c_str());
    ::rmdir(temporary.c_str());
  }
  return status;
}

}  // namespace metarm
