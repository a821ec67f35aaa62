// The Hugging Face loader against tiny checkpoints and reference logits made
// by an independent PyTorch implementation
// (model/testdata/make_tiny_models.py).
#include "model/hf_checkpoint.h"

#include <cstdlib>
#include <fstream>
#include <iostream>

#include "gtest/gtest.h"
#include "model/safetensors.h"
#include "model/transformer.h"
#include "nlohmann/json.hpp"
#include "util/file.h"

namespace metarm {
namespace {

std::string Fixtures() {
  static const std::string* dir = [] {
    const char* tmp = std::getenv("TEST_TMPDIR");
    auto* path = new std::string(std::string(tmp ? tmp : "/tmp") + "/hf");
    const std::string command =
        "/usr/bin/python3 model/testdata/make_tiny_models.py " + *path;
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
    return path;
  }();
  return *dir;
}

torch::Tensor Reference(const std::string& name) {
  absl::StatusOr<TensorMap> reference =
      ReadSafetensors(Fixtures() + "/reference.safetensors");
  EXPECT_TRUE(reference.ok()) << reference.status();
  return reference->at(name);
}

torch::Tensor Tokens() { return Reference("tokens").to(torch::kInt64); }

torch::Tensor Logits(LanguageModel& model) {
  torch::NoGradGuard no_grad;
  model->eval();
  torch::Tensor tokens = Tokens();
  return model->forward(tokens, torch::ones_like(tokens));
}

LanguageModel Load(const std::string& folder) {
  absl::StatusOr<TransformerConfig> config = ReadHfConfig(folder);
  EXPECT_TRUE(config.ok()) << config.status();
  LanguageModel model(*config);
  absl::Status loaded = LoadHfWeights(*model, *config, folder);
  EXPECT_TRUE(loaded.ok()) << loaded;
  return model;
}

double MaxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

TEST(HfCheckpointTest, Gpt2LogitsMatchTheReference) {
  LanguageModel model = Load(Fixtures() + "/gpt2");
  const TransformerConfig& c = model->config();
  EXPECT_EQ(c.mlp, MlpKind::kGeluTanh);
  EXPECT_TRUE(c.tie_embeddings);
  EXPECT_EQ(c.d_ff, 48);
  const double difference = MaxAbsDiff(Logits(model), Reference("gpt2_logits"));
  std::cout << "gpt2: max |logit - reference| = " << difference << "\n";
  EXPECT_LT(difference, 1e-4);
}

TEST(HfCheckpointTest, ShardedBf16LlamaWithGroupedQueriesMatchesTheReference) {
  LanguageModel model = Load(Fixtures() + "/llama");
  const TransformerConfig& c = model->config();
  EXPECT_EQ(c.kv_heads(), 2);
  EXPECT_EQ(c.norm, NormKind::kRmsNorm);
  EXPECT_EQ(c.rope_theta, 500000.0);
  EXPECT_FALSE(c.tie_embeddings);
  const double difference =
      MaxAbsDiff(Logits(model), Reference("llama_logits"));
  std::cout << "llama: max |logit - reference| = " << difference << "\n";
  EXPECT_LT(difference, 1e-4);
}

TEST(HfCheckpointTest, Qwen2WithQkvBiasesAndTiedHeadMatchesTheReference) {
  LanguageModel model = Load(Fixtures() + "/qwen2");
  const TransformerConfig& c = model->config();
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.bias);
  EXPECT_TRUE(c.tie_embeddings);
  const double difference =
      MaxAbsDiff(Logits(model), Reference("qwen2_logits"));
  std::cout << "qwen2: max |logit - reference| = " << difference << "\n";
  EXPECT_LT(difference, 1e-4);
}

TEST(HfCheckpointTest, Llama3RopeScalingMatchesTheReference) {
  LanguageModel model = Load(Fixtures() + "/llama3");
  const TransformerConfig& c = model->config();
  EXPECT_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_EQ(c.rope_scaling.original_max_positions, 64.0);
  const double difference =
      MaxAbsDiff(Logits(model), Reference("llama3_logits"));
  std::cout << "llama3: max |logit - reference| = " << difference << "\n";
  EXPECT_LT(difference, 1e-4);
  // Without the scaling the logits are not the reference's: the test can
  // tell.
  TransformerConfig unscaled = c;
  unscaled.rope_scaling = {};
  LanguageModel plain(unscaled);
  ASSERT_TRUE(LoadHfWeights(*plain, unscaled, Fixtures() + "/llama3").ok());
  EXPECT_GT(MaxAbsDiff(Logits(plain), Reference("llama3_logits")), 1e-3);
}

TEST(HfCheckpointTest, UnsupportedRopeScalingAndSlidingWindowAreRefused) {
  const std::string base = Fixtures() + "/refused";
  nlohmann::json config =
      nlohmann::json::parse(*ReadFile(Fixtures() + "/llama3/config.json"));
  config["rope_scaling"]["rope_type"] = "yarn";
  ASSERT_TRUE(MakeDirectories(base + "/yarn").ok());
  ASSERT_TRUE(
      WriteFileAtomically(base + "/yarn/config.json", config.dump()).ok());
  absl::StatusOr<TransformerConfig> yarn = ReadHfConfig(base + "/yarn");
  ASSERT_FALSE(yarn.ok());
  EXPECT_NE(yarn.status().message().find(
                "rope_scaling of type \"yarn\" is not supported (llama3)"),
            std::string::npos);
  nlohmann::json qwen2 =
      nlohmann::json::parse(*ReadFile(Fixtures() + "/qwen2/config.json"));
  qwen2["use_sliding_window"] = true;
  ASSERT_TRUE(MakeDirectories(base + "/sliding").ok());
  ASSERT_TRUE(
      WriteFileAtomically(base + "/sliding/config.json", qwen2.dump()).ok());
  absl::StatusOr<TransformerConfig> sliding = ReadHfConfig(base + "/sliding");
  ASSERT_FALSE(sliding.ok());
  EXPECT_NE(sliding.status().message().find("use_sliding_window"),
            std::string::npos);
}

TEST(HfCheckpointTest, IncrementalDecodingWithGroupedQueriesMatchesFullPass) {
  LanguageModel model = Load(Fixtures() + "/llama");
  torch::NoGradGuard no_grad;
  model->eval();
  torch::Tensor tokens = Tokens();
  torch::Tensor ones = torch::ones_like(tokens);
  KvCache cache;
  model->forward(tokens.narrow(1, 0, 7), ones.narrow(1, 0, 7), &cache);
  torch::Tensor last =
      model->forward(tokens.narrow(1, 7, 5), ones.narrow(1, 7, 5), &cache);
  EXPECT_LT(MaxAbsDiff(last, Reference("llama_logits").narrow(1, 7, 5)), 1e-4);
  // The cache holds the key/value heads only: 2 of 4.
  EXPECT_EQ(cache.keys[0].size(1), 2);
}

TEST(HfCheckpointTest, ExportThenLoadGivesIdenticalLogits) {
  for (const char* name : {"gpt2", "llama", "qwen2", "llama3"}) {
    LanguageModel model = Load(Fixtures() + "/" + name);
    const std::string out = Fixtures() + "/export_" + name;
    ASSERT_TRUE(ExportHf(*model, model->config(), out).ok());
    LanguageModel again = Load(out);
    EXPECT_TRUE(again->config() == model->config()) << name;
    EXPECT_TRUE(torch::equal(Logits(again), Logits(model))) << name;
    // A second export replaces the first.
    ASSERT_TRUE(ExportHf(*again, again->config(), out).ok());
  }
}

TEST(HfCheckpointTest, ExportUsesTheHuggingFaceNamesAndLayout) {
  LanguageModel model = Load(Fixtures() + "/gpt2");
  const std::string out = Fixtures() + "/export_names";
  ASSERT_TRUE(ExportHf(*model, model->config(), out).ok());
  absl::StatusOr<TensorMap> tensors =
      ReadSafetensors(out + "/model.safetensors");
  ASSERT_TRUE(tensors.ok());
  // save_pretrained's prefix, Conv1D's [in, out] layout, the head tied.
  ASSERT_EQ(tensors->count("transformer.h.0.attn.c_attn.weight"), 1u);
  EXPECT_EQ(tensors->at("transformer.h.0.attn.c_attn.weight").sizes(),
            torch::IntArrayRef({32, 96}));
  EXPECT_EQ(tensors->count("lm_head.weight"), 0u);
  nlohmann::json config =
      nlohmann::json::parse(*ReadFile(out + "/config.json"));
  EXPECT_EQ(config["model_type"], "gpt2");
  EXPECT_EQ(config["activation_function"], "gelu_new");
}

TEST(HfCheckpointTest, RewardModelGetsAPretrainedTrunkAndAFreshHead) {
  const std::string folder = Fixtures() + "/gpt2";
  absl::StatusOr<TransformerConfig> config = ReadHfConfig(folder);
  ASSERT_TRUE(config.ok());
  torch::manual_seed(3);
  ScalarModel reward(*config);
  torch::Tensor fresh_head = reward->named_parameters()["head.weight"].clone();
  ASSERT_TRUE(LoadHfWeights(*reward, *config, folder).ok());
  LanguageModel policy = Load(folder);
  EXPECT_TRUE(
      torch::equal(reward->named_parameters()["trunk.token_embedding.weight"],
                   policy->named_parameters()["trunk.token_embedding.weight"]));
  EXPECT_TRUE(
      torch::equal(reward->named_parameters()["head.weight"], fresh_head));
  // Exported with a "score" head, and read back with it.
  const std::string out = Fixtures() + "/export_reward";
  ASSERT_TRUE(ExportHf(*reward, *config, out).ok());
  ScalarModel again(*config);
  ASSERT_TRUE(LoadHfWeights(*again, *config, out).ok());
  torch::Tensor tokens = Tokens();
  EXPECT_TRUE(torch::equal(again->Score(tokens, torch::ones_like(tokens)),
                           reward->Score(tokens, torch::ones_like(tokens))));
}

TEST(HfCheckpointTest, MetarmsOwnModelExportsAsGpt2WithExactGelu) {
  TransformerConfig config;  // learned positions, exact GELU, untied head
  config.vocab_size = 40;
  config.d_model = 16;
  config.n_heads = 2;
  config.d_ff = 24;
  torch::manual_seed(5);
  LanguageModel model(config);
  const std::string out = Fixtures() + "/export_native";
  ASSERT_TRUE(ExportHf(*model, config, out).ok());
  LanguageModel again = Load(out);
  EXPECT_TRUE(again->config() == config);
  torch::Tensor tokens = torch::randint(0, 40, {2, 9});
  EXPECT_TRUE(torch::equal(again->forward(tokens, torch::ones_like(tokens)),
                           model->forward(tokens, torch::ones_like(tokens))));
  TransformerConfig rotary = config;
  rotary.rotary = true;  // LayerNorm with rotary positions: no HF family
  LanguageModel unmatched(rotary);
  absl::Status refused = ExportHf(*unmatched, rotary, out + "_rotary");
  EXPECT_NE(refused.message().find("no Hugging Face architecture"),
            std::string::npos)
      << refused;
}

void WriteConfig(const std::string& folder, const nlohmann::json& json) {
  ASSERT_TRUE(MakeDirectories(folder).ok());
  ASSERT_TRUE(WriteFileAtomically(folder + "/config.json", json.dump()).ok());
}

std::string LoadError(const std::string& folder) {
  absl::StatusOr<TransformerConfig> config = ReadHfConfig(folder);
  if (!config.ok()) return std::string(config.status().message());
  LanguageModel model(*config);
  torch::Tensor before = model->parameters()[0].clone();
  absl::Status status = LoadHfWeights(*model, *config, folder);
  EXPECT_TRUE(torch::equal(model->parameters()[0], before))
      << "a failed load changed the model";
  return status.ok() ? "ok" : std::string(status.message());
}

TEST(HfCheckpointTest, BadFoldersAreRefusedNamingFileAndField) {
  const std::string base = Fixtures() + "/bad";
  nlohmann::json gpt2 =
      nlohmann::json::parse(*ReadFile(Fixtures() + "/gpt2/config.json"));
  auto with_weights = [&](const std::string& name, nlohmann::json config) {
    const std::string folder = base + "/" + name;
    WriteConfig(folder, config);
    std::ifstream in(Fixtures() + "/gpt2/model.safetensors", std::ios::binary);
    std::ofstream(folder + "/model.safetensors", std::ios::binary)
        << in.rdbuf();
    return folder;
  };
  nlohmann::json deeper = gpt2;
  deeper["n_layer"] = 3;
  EXPECT_NE(LoadError(with_weights("deeper", deeper))
                .find("has no tensor h.2.ln_1.weight"),
            std::string::npos);
  nlohmann::json wider = gpt2;
  wider["n_inner"] = 50;
  EXPECT_NE(LoadError(with_weights("wider", wider))
                .find("h.0.mlp.c_fc.weight has shape [48, 32] but the model "
                      "described by config.json needs [50, 32] for "
                      "trunk.blocks.0.mlp_in.weight"),
            std::string::npos);
  nlohmann::json bert = gpt2;
  bert["model_type"] = "bert";
  EXPECT_NE(LoadError(with_weights("bert", bert))
                .find("model_type \"bert\" is not supported (gpt2, llama, "
                      "qwen2)"),
            std::string::npos);
  nlohmann::json headless = gpt2;
  headless.erase("n_head");
  EXPECT_NE(LoadError(with_weights("headless", headless))
                .find("config.json: missing field n_head"),
            std::string::npos);
  nlohmann::json negative = gpt2;
  negative["n_embd"] = -4;
  EXPECT_NE(LoadError(with_weights("negative", negative))
                .find("field n_embd must be a positive integer, got -4"),
            std::string::npos);
  WriteConfig(base + "/no_weights", gpt2);
  EXPECT_NE(LoadError(base + "/no_weights")
                .find("no model.safetensors or model.safetensors.index.json"),
            std::string::npos);
  ASSERT_TRUE(MakeDirectories(base + "/not_json").ok());
  ASSERT_TRUE(
      WriteFileAtomically(base + "/not_json/config.json", "{model_type:").ok());
  EXPECT_NE(LoadError(base + "/not_json").find("config.json: not valid JSON"),
            std::string::npos);
}

}  // namespace
}  // namespace metarm
