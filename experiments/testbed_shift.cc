// The testbed's essential property, measured: a VANILLA reward model trained
// on pairs sampled from the SFT policy is less accurate on pairs from a policy
// optimised against it, and optimising hard against it over-optimises (proxy
// reward keeps rising while the gold reward peaks and falls).
//
// The optimiser is best-of-n sampling against the proxy (Gao et al. 2022):
// sample n responses from the SFT policy, keep the one the proxy scores
// highest. Larger n optimises harder. One process:
//
//   bazel run -c opt //experiments:testbed_shift -- --task=sort --seed=1
//
// Prints a table and writes the same numbers as JSON to --out.
#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_format.h"
#include "cluster/threads.h"
#include "comm/mpi_communicator.h"
#include "comm/mpi_environment.h"
#include "nlohmann/json.hpp"
#include "optim/data_parallel_optimizer.h"
#include "reward/reward_data.h"
#include "reward/reward_trainer.h"
#include "rlhf/sft.h"
#include "rollout/preference_generator.h"
#include "tasks/task.h"
#include "util/file.h"
#include "util/random_streams.h"
#include "util/status_macros.h"

ABSL_FLAG(std::string, task, "sort", "Testbed task.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of every random stream.");
ABSL_FLAG(int, sft_steps, 800, "SFT optimizer steps (batch 64).");
ABSL_FLAG(int, pairs, 2000, "Preference pairs sampled from the SFT policy.");
ABSL_FLAG(int, rm_epochs, 2, "Reward-model epochs.");
ABSL_FLAG(int, eval_prompts, 256, "Held-out prompts for best-of-n.");
ABSL_FLAG(int, max_n, 64, "Largest best-of-n.");
ABSL_FLAG(double, label_temperature, 0.1,
          "Bradley-Terry temperature of the gold labels.");
ABSL_FLAG(std::string, out, "", "Write the results here as JSON.");
ABSL_FLAG(std::string, data_dir, "",
          "Also write the data as JSON lines here: train_pairs, eval_pairs "
          "(SFT samples), shifted_pairs (best-of-max_n samples), meta and "
          "eval_responses (k = 4 best-of-max_n/2 picks per prompt).");

namespace metarm {
namespace {

constexpr int64_t kMaxNewTokens = 12;

TransformerConfig ModelConfig() {
  TransformerConfig config;
  config.vocab_size = ByteTokenizer().vocab_size();
  config.d_model = 64;
  config.n_layers = 2;
  config.n_heads = 4;
  config.d_ff = 256;
  config.max_seq_len = 32;
  return config;
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

LanguageModel TrainSft(const Task& task, const Tokenizer& tokenizer,
                       Communicator& self, uint64_t seed, int steps) {
  torch::manual_seed(StreamSeed(seed, Stream::kPolicyInit));
  LanguageModel policy(ModelConfig());
  std::unique_ptr<DataParallelOptimizer> optimizer =
      MakeModelAdamW(policy->parameters(), torch::optim::AdamWOptions(1e-3),
                     self, /*shard_state=*/false);
  // Longer than any testbed prompt or demonstration: nothing is cut.
  const SequenceLimits kUncut{64, 64};
  Rng rng(StreamSeed(seed, Stream::kTestbedSftData));
  for (int step = 0; step < steps; ++step) {
    std::vector<std::string> prompts, demonstrations;
    for (int i = 0; i < 64; ++i) {
      prompts.push_back(task.SamplePrompt(rng));
      demonstrations.push_back(task.Demonstration(prompts.back(), rng));
    }
    absl::StatusOr<SftStepResult> result =
        SftStep(policy, *optimizer,
                MakeSftBatch(prompts, demonstrations, kUncut, tokenizer), self,
                SftOptions{LrSchedule{1e-3}}, step);
    if ((step + 1) % 200 == 0) {
      std::cout << absl::StrFormat("  sft step %d: loss %.3f\n", step + 1,
                                   result->loss);
    }
  }
  return policy;
}

// Fraction of pairs the reward model orders as the gold reward does (pairs
// whose gold rewards tie are left out): accuracy without label noise.
double GoldAgreement(ScalarModel& rm, const Task& task,
                     const std::vector<std::string>& prompts,
                     const std::vector<std::vector<std::string>>& responses,
                     const Tokenizer& tokenizer) {
  std::vector<PreferencePair> ordered;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const std::string& a = responses[i][0];
    const std::string& b = responses[i][1];
    if (a.empty() || b.empty()) continue;
    const double gap =
        task.GoldReward(prompts[i], a) - task.GoldReward(prompts[i], b);
    if (gap == 0) continue;
    ordered.push_back({tokenizer.Encode(prompts[i]),
                       tokenizer.Encode(gap > 0 ? a : b),
                       tokenizer.Encode(gap > 0 ? b : a)});
  }
  return EvaluateAccuracy(rm, ordered, {16, kMaxNewTokens}, tokenizer);
}

ScalarModel TrainProxy(const std::vector<PreferencePair>& pairs,
                       const Tokenizer& tokenizer, Communicator& self,
                       uint64_t seed, int epochs) {
  torch::manual_seed(StreamSeed(seed, Stream::kTestbedProxyInit));
  ScalarModel rm(ModelConfig());
  RewardTrainerOptions options;
  options.mode = RewardObjective::kVanilla;
  options.learning_rate = 1e-3;
  RewardTrainer trainer(rm, options, self);
  Rng rng(StreamSeed(seed, Stream::kTestbedProxyOrder));
  const SequenceLimits limits{16, kMaxNewTokens};
  std::vector<int64_t> order(pairs.size());
  for (int epoch = 0; epoch < epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    for (size_t i = order.size(); i > 1; --i) {
      std::swap(order[i - 1], order[rng.Below(i)]);
    }
    for (size_t begin = 0; begin + 32 <= order.size(); begin += 32) {
      std::vector<int64_t> batch(order.begin() + begin,
                                 order.begin() + begin + 32);
      (void)trainer.Step(MakePreferenceBatch(pairs, batch, limits, tokenizer),
                         nullptr);
    }
  }
  rm->eval();
  return rm;
}

// Proxy scores [prompts, n] of every sampled response.
torch::Tensor ProxyScores(ScalarModel& rm,
                          const std::vector<std::string>& prompts,
                          const std::vector<std::vector<std::string>>& samples,
                          const Tokenizer& tokenizer) {
  return ScoreResponseSets(rm, MakeResponseSets(prompts, samples, tokenizer),
                           {16, kMaxNewTokens}, tokenizer, 32);
}

absl::Status WriteLines(const std::string& path,
                        const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += line;
  return WriteFileAtomically(path, text);
}

// The files a REWARD_MODEL_ONLY job reads (docs/testbed.md): the proxy's
// training pairs, held-out SFT pairs, pairs from the optimised policy, and
// its samples as the meta set and held-out response sets.
absl::Status WriteDataFiles(
    const std::string& dir, const Task& task, const Tokenizer& tokenizer,
    const std::vector<PreferencePair>& train,
    const std::vector<std::string>& heldout_prompts,
    const std::vector<std::vector<std::string>>& heldout_samples,
    const std::vector<std::string>& eval_prompts,
    const std::vector<std::vector<std::string>>& samples,
    const torch::Tensor& scores, int max_n, uint64_t seed) {
  METARM_RETURN_IF_ERROR(MakeDirectories(dir));
  const double temperature = absl::GetFlag(FLAGS_label_temperature);
  Rng rng(StreamSeed(seed, Stream::kTestbedFileLabels));
  auto pair_lines = [](const std::vector<PreferencePair>& pairs) {
    std::vector<std::string> lines;
    for (const PreferencePair& pair : pairs) {
      lines.push_back(PreferencePairToJsonLine(pair));
    }
    return lines;
  };
  // Best-of-(max_n/2) picks: the 2 * max_n samples of a prompt make 4.
  const int64_t group = max_n / 2;
  std::vector<std::vector<std::string>> picks(eval_prompts.size());
  for (size_t p = 0; p < eval_prompts.size(); ++p) {
    for (int g = 0; g < 4; ++g) {
      const int64_t best =
          g * group +
          scores[p].narrow(0, g * group, group).argmax().item<int64_t>();
      picks[p].push_back(samples[p][best]);
    }
  }
  const size_t half = eval_prompts.size() / 2;
  const std::vector<std::string> meta_prompts(eval_prompts.begin(),
                                              eval_prompts.begin() + half);
  const std::vector<std::string> rest_prompts(eval_prompts.begin() + half,
                                              eval_prompts.end());
  const std::vector<std::vector<std::string>> meta_picks(picks.begin(),
                                                         picks.begin() + half);
  const std::vector<std::vector<std::string>> rest_picks(picks.begin() + half,
                                                         picks.end());
  std::vector<std::string> meta_lines, eval_lines;
  for (const ResponseSet& set :
       MakeResponseSets(meta_prompts, meta_picks, tokenizer)) {
    meta_lines.push_back(ResponseSetToJsonLine(set));
  }
  for (const ResponseSet& set :
       MakeResponseSets(rest_prompts, rest_picks, tokenizer)) {
    eval_lines.push_back(ResponseSetToJsonLine(set));
  }
  for (const auto& [name, lines] :
       std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"train_pairs", pair_lines(train)},
           {"eval_pairs",
            pair_lines(LabelPairs(task, heldout_prompts, heldout_samples,
                                  temperature, rng, tokenizer))},
           {"shifted_pairs",
            pair_lines(LabelPairs(task, eval_prompts, picks, temperature, rng,
                                  tokenizer))},
           {"meta", meta_lines},
           {"eval_responses", eval_lines}}) {
    METARM_RETURN_IF_ERROR(WriteLines(dir + "/" + name + ".jsonl", lines));
  }
  return absl::OkStatus();
}

int Run() {
  const uint64_t seed = absl::GetFlag(FLAGS_seed);
  absl::StatusOr<std::unique_ptr<Task>> task =
      MakeTask(absl::GetFlag(FLAGS_task));
  if (!task.ok()) {
    std::cerr << task.status().message() << "\n";
    return 2;
  }
  ByteTokenizer tokenizer;
  std::unique_ptr<MpiCommunicator> self = MpiCommunicator::World();
  const auto start = std::chrono::steady_clock::now();
  nlohmann::json result = {{"task", (*task)->name()}, {"seed", seed}};

  std::cout << "SFT on demonstrations\n";
  LanguageModel policy =
      TrainSft(**task, tokenizer, *self, seed, absl::GetFlag(FLAGS_sft_steps));
  GenerationSettings sampling;
  sampling.sampling.max_new_tokens = kMaxNewTokens;
  // Position 0: the training pairs' samples, 1: the held-out ones', 2: the
  // best-of-n candidates.
  auto samples_of = [&](const std::vector<std::string>& prompts, int k,
                        uint64_t position) {
    GenerationSettings settings = sampling;  // slots for every response
    settings.engine.max_sequences =
        std::max<int64_t>(settings.engine.max_sequences, k);
    absl::StatusOr<std::vector<std::vector<std::string>>> samples =
        SampleResponses(policy, prompts, k, settings,
                        StreamSeed(seed, Stream::kTestbedSamples, position),
                        tokenizer);
    if (!samples.ok()) {
      std::cerr << "testbed_shift: " << samples.status().message() << "\n";
      std::exit(2);
    }
    return *std::move(samples);
  };

  std::cout << "preference pairs from the SFT policy\n";
  const int n_pairs = absl::GetFlag(FLAGS_pairs);
  std::vector<std::string> train_prompts = SamplePrompts(
      **task, n_pairs, StreamSeed(seed, Stream::kTestbedPairPrompts, 0));
  auto train_samples = samples_of(train_prompts, 2, 0);
  Rng label_rng(StreamSeed(seed, Stream::kTestbedPairLabels));
  std::vector<PreferencePair> pairs =
      LabelPairs(**task, train_prompts, train_samples,
                 absl::GetFlag(FLAGS_label_temperature), label_rng, tokenizer);
  std::vector<std::string> heldout_prompts = SamplePrompts(
      **task, 400, StreamSeed(seed, Stream::kTestbedPairPrompts, 1));
  auto heldout_samples = samples_of(heldout_prompts, 2, 1);

  std::cout << "proxy reward model (VANILLA)\n";
  ScalarModel proxy =
      TrainProxy(pairs, tokenizer, *self, seed, absl::GetFlag(FLAGS_rm_epochs));
  const double acc_sft =
      GoldAgreement(proxy, **task, heldout_prompts, heldout_samples, tokenizer);

  std::cout << "best-of-n against the proxy\n";
  const int max_n = absl::GetFlag(FLAGS_max_n);
  std::vector<std::string> eval_prompts =
      SamplePrompts(**task, absl::GetFlag(FLAGS_eval_prompts),
                    StreamSeed(seed, Stream::kTestbedPairPrompts, 2));
  // 2 * max_n samples per prompt: two independent best-of-max_n picks make
  // the shifted pairs.
  auto samples = samples_of(eval_prompts, 2 * max_n, 2);
  torch::Tensor scores = ProxyScores(proxy, eval_prompts, samples, tokenizer);
  nlohmann::json curve = nlohmann::json::array();
  std::vector<std::vector<std::string>> shifted(eval_prompts.size());
  std::cout << absl::StrFormat("  %5s %12s %12s\n", "n", "proxy", "gold");
  for (int n = 1; n <= max_n; n *= 2) {
    double proxy_sum = 0, gold_sum = 0;
    for (size_t p = 0; p < eval_prompts.size(); ++p) {
      for (int half = 0; half < 2; ++half) {
        torch::Tensor block = scores[p].narrow(0, half * max_n, n);
        const int64_t best = half * max_n + block.argmax().item<int64_t>();
        proxy_sum += scores[p][best].item<double>();
        gold_sum += (*task)->GoldReward(eval_prompts[p], samples[p][best]);
        if (n == max_n) shifted[p].push_back(samples[p][best]);
      }
    }
    const double count = 2.0 * eval_prompts.size();
    curve.push_back({{"n", n},
                     {"kl_bound", std::log(n) - (n - 1.0) / n},
                     {"proxy", proxy_sum / count},
                     {"gold", gold_sum / count}});
    std::cout << absl::StrFormat("  %5d %12.4f %12.4f\n", n, proxy_sum / count,
                                 gold_sum / count);
  }
  const double acc_shifted =
      GoldAgreement(proxy, **task, eval_prompts, shifted, tokenizer);
  std::cout << absl::StrFormat(
      "proxy agreement with gold: %.3f on held-out SFT pairs, %.3f on pairs "
      "from best-of-%d (%.0f s)\n",
      acc_sft, acc_shifted, max_n, Seconds(start));
  if (!absl::GetFlag(FLAGS_data_dir).empty()) {
    absl::Status written =
        WriteDataFiles(absl::GetFlag(FLAGS_data_dir), **task, tokenizer, pairs,
                       heldout_prompts, heldout_samples, eval_prompts, samples,
                       scores, max_n, seed);
    if (!written.ok()) {
      std::cerr << written.message() << "\n";
      return 1;
    }
  }
  result["sft_gold"] = curve[0]["gold"];
  result["best_of_n"] = curve;
  result["accuracy_sft_pairs"] = acc_sft;
  result["accuracy_shifted_pairs"] = acc_shifted;
  result["seconds"] = Seconds(start);
  if (!absl::GetFlag(FLAGS_out).empty()) {
    absl::Status written =
        WriteFileAtomically(absl::GetFlag(FLAGS_out), result.dump(1) + "\n");
    if (!written.ok()) {
      std::cerr << written.message() << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace
}  // namespace metarm

int main(int argc, char** argv) {
  metarm::MpiEnvironment mpi(&argc, &argv);
  absl::ParseCommandLine(argc, argv);
  metarm::SetTorchThreads(metarm::MachineCores());
  return metarm::Run();
}
