#include "model/weights_io.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "util/archive_file.h"

namespace metarm {
namespace {

constexpr char kConfigKey[] = "metarm.config";
// The architecture fields added for pretrained models; files without them
// hold metarm's own architecture (the TransformerConfig defaults).
constexpr char kArchitectureKey[] = "metarm.architecture";
constexpr char kArchitectureRealsKey[] = "metarm.architecture_reals";

// Files written before Qwen2 and rope scaling hold the first 5 ints and 2
// reals; they read as qkv_bias false and no scaling.
torch::Tensor EncodeArchitecture(const TransformerConfig& config) {
  return torch::tensor(std::vector<int64_t>{
      config.kv_heads(), static_cast<int64_t>(config.norm),
      static_cast<int64_t>(config.mlp), config.bias ? 1 : 0,
      config.tie_embeddings ? 1 : 0, config.qkv_bias ? 1 : 0});
}

torch::Tensor EncodeArchitectureReals(const TransformerConfig& config) {
  const TransformerConfig::RopeScaling& s = config.rope_scaling;
  return torch::tensor(
      std::vector<double>{config.norm_eps, config.rope_theta, s.factor,
                          s.low_freq_factor, s.high_freq_factor,
                          s.original_max_positions},
      torch::kFloat64);
}

// Reads the architecture fields into `config`; false when malformed.
bool DecodeArchitecture(torch::serialize::InputArchive& archive,
                        TransformerConfig& config) {
  torch::Tensor ints, reals;
  const bool has_ints = archive.try_read(kArchitectureKey, ints);
  const bool has_reals = archive.try_read(kArchitectureRealsKey, reals);
  if (!has_ints && !has_reals) {
    config.n_kv_heads = config.n_heads;
    return true;
  }
  const bool old_layout = ints.defined() && reals.defined() &&
                          ints.numel() == 5 && reals.numel() == 2;
  const bool new_layout = ints.defined() && reals.defined() &&
                          ints.numel() == 6 && reals.numel() == 6;
  if (!has_ints || !has_reals || !(old_layout || new_layout) ||
      ints.scalar_type() != torch::kInt64 ||
      reals.scalar_type() != torch::kFloat64) {
    return false;
  }
  auto i = ints.accessor<int64_t, 1>();
  auto r = reals.accessor<double, 1>();
  if (i[1] < 0 || i[1] > 1 || i[2] < 0 || i[2] > 2) return false;
  config.n_kv_heads = i[0];
  config.norm = static_cast<NormKind>(i[1]);
  config.mlp = static_cast<MlpKind>(i[2]);
  config.bias = i[3] != 0;
  config.tie_embeddings = i[4] != 0;
  config.norm_eps = r[0];
  config.rope_theta = r[1];
  if (new_layout) {
    config.qkv_bias = i[5] != 0;
    config.rope_scaling = {r[2], r[3], r[4], r[5]};
  }
  return true;
}

torch::Tensor EncodeConfig(const TransformerConfig& config) {
  return torch::tensor(std::vector<int64_t>{
      config.vocab_size, config.d_model, config.n_layers, config.n_heads,
      config.d_ff, config.max_seq_len, config.rotary ? 1 : 0});
}

TransformerConfig DecodeConfig(const torch::Tensor& encoded) {
  TransformerConfig config;
  auto v = encoded.accessor<int64_t, 1>();
  config.vocab_size = v[0];
  config.d_model = v[1];
  config.n_layers = v[2];
  config.n_heads = v[3];
  config.d_ff = v[4];
  config.max_seq_len = v[5];
  config.rotary = v[6] != 0;
  return config;
}

std::string ShapeText(const torch::Tensor& t) {
  return absl::StrCat("[", absl::StrJoin(t.sizes(), ", "), "]");
}

// Every parameter and buffer by its dotted name.
std::map<std::string, torch::Tensor> NamedState(torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> state;
  for (const auto& item : module.named_parameters()) {
    state[item.key()] = item.value();
  }
  for (const auto& item : module.named_buffers()) {
    state[item.key()] = item.value();
  }
  return state;
}

}  // namespace

absl::Status SaveWeights(torch::nn::Module& module,
                         const TransformerConfig& config,
                         const std::string& path) {
  torch::serialize::OutputArchive archive;
  try {
    archive.write(kConfigKey, EncodeConfig(config));
    archive.write(kArchitectureKey, EncodeArchitecture(config));
    archive.write(kArchitectureRealsKey, EncodeArchitectureReals(config));
    for (const auto& [name, tensor] : NamedState(module)) {
      archive.write(name, tensor.detach().cpu());
    }
  } catch (const c10::Error& error) {
    return absl::InternalError(absl::StrCat(
        path, ": cannot write weights: ", error.what_without_backtrace()));
  }
  return WriteArchiveAtomically(archive, path);
}

namespace {

// Opens `path` and reads the architecture it was written for.
absl::StatusOr<TransformerConfig> OpenWeights(
    const std::string& path, torch::serialize::InputArchive& archive) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    return absl::NotFoundError(absl::StrCat(path, ": no such weights file"));
  }
  torch::Tensor encoded;
  try {
    archive.load_from(path);
    if (!archive.try_read(kConfigKey, encoded)) {
      return absl::DataLossError(absl::StrCat(
          path, ": not a metarm weights file (no ", kConfigKey, " entry)"));
    }
  } catch (const c10::Error& error) {
    return absl::DataLossError(absl::StrCat(
        path, ": not a readable weights file (truncated or corrupt): ",
        error.msg().substr(0, error.msg().find('\n'))));
  }
  if (encoded.dim() != 1 || encoded.numel() != 7 ||
      encoded.scalar_type() != torch::kInt64) {
    return absl::DataLossError(absl::StrCat(path, ": malformed ", kConfigKey));
  }
  TransformerConfig stored = DecodeConfig(encoded);
  if (!DecodeArchitecture(archive, stored)) {
    return absl::DataLossError(
        absl::StrCat(path, ": malformed ", kArchitectureKey));
  }
  return stored;
}

}  // namespace

absl::StatusOr<TransformerConfig> ReadWeightsConfig(const std::string& path) {
  torch::serialize::InputArchive archive;
  return OpenWeights(path, archive);
}

absl::Status LoadWeights(torch::nn::Module& module,
                         const TransformerConfig& config,
                         const std::string& path) {
  torch::serialize::InputArchive archive;
  absl::StatusOr<TransformerConfig> opened = OpenWeights(path, archive);
  if (!opened.ok()) return opened.status();
  const TransformerConfig& stored = *opened;
  if (stored != config) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": weights are for a model of ", DescribeConfig(stored),
        "; this model is ", DescribeConfig(config)));
  }
  // Read and check everything first, then copy: an error leaves the module
  // as it was.
  std::map<std::string, torch::Tensor> state = NamedState(module);
  std::map<std::string, torch::Tensor> loaded;
  for (const auto& [name, tensor] : state) {
    torch::Tensor value;
    if (!archive.try_read(name, value)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": has no tensor ", name));
    }
    if (!value.sizes().equals(tensor.sizes())) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", name, " has shape ", ShapeText(value),
                       " in the file, ", ShapeText(tensor), " in the model"));
    }
    loaded[name] = value;
  }
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : state) tensor.copy_(loaded[name]);
  return absl::OkStatus();
}

}  // namespace metarm
