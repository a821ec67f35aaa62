// metarm_learner_bench: the learner's steps and generation against this
// machine's limit, on one process (bench/run.sh runs it; docs/PERFORMANCE.md
// defines every figure).
//
//   metarm_learner_bench --sizes=128,512 --layers=4 --seq=128 --repeats=5
//
// Prints one JSON object per line: {"name", "value", "unit", "shapes",
// "check"} where "check" is the benchmark's own correctness check ("ok" or
// what failed). Threads: LibTorch's intra-op pool, --threads (default: all
// cores), the same for the GEMM peak.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "bench/figure.h"
#include "bench/flops.h"
#include "comm/solo_communicator.h"
#include "model/transformer.h"
#include "nlohmann/json.hpp"
#include "ppo/ppo_learner.h"
#include "proto/job_defaults.h"
#include "reward/reward_trainer.h"
#include "rollout/experience.h"
#include "rollout/sampler.h"

ABSL_FLAG(std::string, sizes, "128,512", "d_model values, comma-separated.");
ABSL_FLAG(int, layers, 4, "Transformer blocks.");
ABSL_FLAG(int, seq, 128, "Tokens per sequence in the steps.");
ABSL_FLAG(int, batch, 16, "Preference pairs / PPO sequences per step.");
ABSL_FLAG(int, new_tokens, 128, "Generated tokens in the generation figures.");
ABSL_FLAG(int, repeats, 5, "Timed repetitions (after one warm-up).");
ABSL_FLAG(int, threads, 0, "LibTorch threads; 0: all cores.");
ABSL_FLAG(int, gemm, 2048, "Side of the square matrices of the GEMM peak.");
ABSL_FLAG(std::string, profile, "",
          "Write a LibTorch profiler trace (Chrome JSON) of one METARM step at "
          "the first size to this file, and run nothing else.");

namespace metarm {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Best (lowest) seconds of `repeats` calls after one warm-up: the least
// disturbed run on a shared machine.
double BestSeconds(const std::function<void()>& call, int repeats) {
  call();
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    const Clock::time_point start = Clock::now();
    call();
    best = std::min(
        best, std::chrono::duration<double>(Clock::now() - start).count());
  }
  return best;
}

void Emit(const std::string& name, double value, const std::string& unit,
          const Json& shapes, const std::string& check = "ok") {
  PrintFigure(name, value, unit, shapes, check);
}

// torch::mm on n x n float32 matrices: the FLOP/s this process can reach.
double GemmPeak(int n, int repeats) {
  torch::Tensor a = torch::randn({n, n});
  torch::Tensor b = torch::randn({n, n});
  torch::Tensor c;
  const double seconds = BestSeconds([&] { c = torch::mm(a, b); }, repeats);
  // Check: one entry against a dot product computed apart.
  const double want = (a[3] * b.select(1, 5)).sum().item<double>();
  const double got = c[3][5].item<double>();
  const bool ok = std::abs(want - got) < 1e-3 * std::max(1.0, std::abs(want));
  Emit("gemm_peak", 2.0 * n * n * n / seconds / 1e9, "GFLOP/s",
       {{"n", n}, {"dtype", "float32"}}, ok ? "ok" : "mm entry mismatch");
  return 2.0 * n * n * n / seconds;
}

TransformerConfig Config(int64_t d_model, int layers, int64_t seq) {
  TransformerConfig config;
  config.vocab_size = 259;
  config.d_model = d_model;
  config.n_layers = layers;
  config.n_heads = std::max<int64_t>(1, d_model / 64);
  config.d_ff = 4 * d_model;
  config.max_seq_len = seq + 160;
  return config;
}

TokenBatch Tokens(int64_t rows, int64_t length, uint64_t seed) {
  at::Generator generator = at::detail::createCPUGenerator(seed);
  return {torch::randint(3, 259, {rows, length}, generator, torch::kInt64),
          torch::ones({rows, length}, torch::kInt64)};
}

Json Shapes(const TransformerConfig& c, int64_t seq, int64_t batch) {
  return {{"d_model", c.d_model}, {"layers", c.n_layers},
          {"heads", c.n_heads},   {"seq", seq},
          {"batch", batch},       {"threads", torch::get_num_threads()}};
}

bool AllFinite(torch::nn::Module& module) {
  for (const torch::Tensor& p : module.parameters()) {
    if (!torch::isfinite(p).all().item<bool>()) return false;
  }
  return true;
}

// The reward-model steps: VANILLA and METARM (first order).
void RewardSteps(const TransformerConfig& config, int64_t seq, int64_t batch,
                 int repeats, double peak) {
  SoloCommunicator learners;
  const PreferenceBatch pairs{Tokens(batch, seq, 1), Tokens(batch, seq, 2)};
  const int64_t k = 4;
  const MetaBatch meta{Tokens(batch / 2 * k, seq, 3), k};
  const ModelShape shape = ShapeOf(config, /*lm_head=*/false);
  for (RewardObjective mode :
       {RewardObjective::kVanilla, RewardObjective::kMetaRm}) {
    torch::manual_seed(7);
    ScalarModel model(config);
    RewardTrainerOptions options;
    options.mode = mode;
    RewardTrainer trainer(model, options, learners);
    std::string check = "ok";
    const double seconds = BestSeconds(
        [&] {
          absl::StatusOr<RewardStepStats> stats = trainer.Step(
              pairs, mode == RewardObjective::kMetaRm ? &meta : nullptr);
          if (!stats.ok()) check = std::string(stats.status().message());
        },
        repeats);
    if (check == "ok" && !AllFinite(*model)) check = "non-finite weights";
    const double flops =
        mode == RewardObjective::kMetaRm
            ? MetaRmStepFlops(shape, 2 * batch, meta.responses.size(), seq)
            : RewardStepFlops(shape, 2 * batch, seq);
    const std::string name =
        mode == RewardObjective::kMetaRm ? "metarm_step" : "vanilla_rm_step";
    Json shapes = Shapes(config, seq, batch);
    if (mode == RewardObjective::kMetaRm)
      shapes["meta_sequences"] = meta.responses.size();
    Emit(name + "_seconds", seconds, "s (this machine)", shapes, check);
    Emit(name + "_samples_per_second", batch / seconds, "pairs/s", shapes,
         check);
    Emit(name + "_mfu", flops / seconds / peak, "fraction of gemm_peak", shapes,
         check);
  }
}

PpoSpec BenchPpoSpec(int64_t batch) {
  Job job;
  ApplyJobDefaults(&job);
  PpoSpec spec = job.ppo();
  spec.set_minibatch_size(batch / 2);
  spec.set_epochs(1);
  return spec;
}

// An experience batch of `batch` sequences: prompt seq/2, response seq/2.
Experience MakeExperience(LanguageModel& policy, ScalarModel& reward,
                          int64_t batch, int64_t seq) {
  torch::NoGradGuard no_grad;
  Experience e;
  e.sequences = Tokens(batch, seq, 11);
  e.prompt_columns = seq / 2;
  e.response_mask = torch::ones({batch, seq - seq / 2}, torch::kInt64);
  e.old_logprobs =
      ResponseLogprobs(policy, e.sequences, e.prompt_columns).first;
  e.ref_logprobs = e.old_logprobs.clone();
  e.scores = reward->Score(e.sequences.tokens, e.sequences.mask);
  return e;
}

void PpoStep(const TransformerConfig& config, int64_t seq, int64_t batch,
             int repeats, double peak) {
  torch::manual_seed(9);
  SoloCommunicator learners;
  LanguageModel policy(config);
  ScalarModel critic(config);
  Experience experience = MakeExperience(policy, critic, batch, seq);
  PpoLearner learner(policy, critic, BenchPpoSpec(batch), learners);
  std::string check = "ok";
  uint64_t seed = 0;
  const double seconds = BestSeconds(
      [&] {
        absl::StatusOr<PpoStats> stats = learner.Update(experience, ++seed);
        if (!stats.ok()) check = std::string(stats.status().message());
        if (stats.ok() && stats->skipped_steps > 0) check = "skipped steps";
      },
      repeats);
  if (check == "ok" && !AllFinite(*policy)) check = "non-finite weights";
  const double flops =
      PpoUpdateFlops(ShapeOf(config, true), ShapeOf(config, false), batch, seq);
  Json shapes = Shapes(config, seq, batch);
  shapes["minibatch"] = batch / 2;
  Emit("ppo_update_seconds", seconds, "s (this machine)", shapes, check);
  Emit("ppo_update_samples_per_second", batch / seconds, "sequences/s", shapes,
       check);
  Emit("ppo_update_mfu", flops / seconds / peak, "fraction of gemm_peak",
       shapes, check);
}

// Greedy generation without a cache: the whole sequence again each step.
torch::Tensor GenerateByRecompute(LanguageModel& policy,
                                  const TokenBatch& prompts,
                                  int64_t new_tokens) {
  torch::NoGradGuard no_grad;
  torch::Tensor tokens = prompts.tokens;
  for (int64_t step = 0; step < new_tokens; ++step) {
    torch::Tensor logits =
        policy->forward(tokens, torch::ones_like(tokens)).select(1, -1);
    tokens = torch::cat({tokens, logits.argmax(-1, true)}, 1);
  }
  return tokens;
}

// The same, with the key/value cache.
torch::Tensor GenerateWithCache(LanguageModel& policy,
                                const TokenBatch& prompts, int64_t new_tokens,
                                int64_t* cache_bytes) {
  torch::NoGradGuard no_grad;
  KvCache cache;
  torch::Tensor logits =
      policy->forward(prompts.tokens, prompts.mask, &cache).select(1, -1);
  torch::Tensor tokens = prompts.tokens;
  for (int64_t step = 0; step < new_tokens; ++step) {
    torch::Tensor next = logits.argmax(-1, true);
    tokens = torch::cat({tokens, next}, 1);
    if (step + 1 == new_tokens) break;
    logits =
        policy->forward(next, torch::ones_like(next), &cache).select(1, -1);
  }
  *cache_bytes = cache.bytes();
  return tokens;
}

void Generation(const TransformerConfig& config, int64_t batch,
                int64_t new_tokens, int repeats) {
  torch::manual_seed(13);
  LanguageModel policy(config);
  policy->eval();
  const TokenBatch prompts = Tokens(batch, 16, 17);
  torch::Tensor cached, recomputed;
  int64_t cache_bytes = 0;
  const double with_cache = BestSeconds(
      [&] {
        cached = GenerateWithCache(policy, prompts, new_tokens, &cache_bytes);
      },
      repeats);
  const double without = BestSeconds(
      [&] { recomputed = GenerateByRecompute(policy, prompts, new_tokens); },
      std::max(1, repeats / 2));
  // Check: greedy decoding gives the same tokens both ways.
  const std::string check =
      torch::equal(cached, recomputed) ? "ok" : "cache and recompute differ";
  Json shapes = Shapes(config, 16 + new_tokens, batch);
  shapes["prompt_tokens"] = 16;
  shapes["new_tokens"] = new_tokens;
  const double tokens = static_cast<double>(batch * new_tokens);
  Emit("generation_kv_cache_tokens_per_second", tokens / with_cache, "tokens/s",
       shapes, check);
  Emit("generation_recompute_tokens_per_second", tokens / without, "tokens/s",
       shapes, check);
  Emit("generation_kv_cache_speedup", without / with_cache,
       "x (recompute time / cache time)", shapes, check);
  Emit("kv_cache_bytes_per_sequence", static_cast<double>(cache_bytes) / batch,
       "bytes", shapes, check);
}

// One METARM step (after a warm-up) under LibTorch's profiler.
int ProfileMetaRmStep(const TransformerConfig& config, int64_t seq,
                      int64_t batch, const std::string& path) {
  SoloCommunicator learners;
  const PreferenceBatch pairs{Tokens(batch, seq, 1), Tokens(batch, seq, 2)};
  const MetaBatch meta{Tokens(batch / 2 * 4, seq, 3), 4};
  torch::manual_seed(7);
  ScalarModel model(config);
  RewardTrainer trainer(model, RewardTrainerOptions(), learners);
  (void)trainer.Step(pairs, &meta);
  {
    torch::autograd::profiler::RecordProfile profile(path);
    (void)trainer.Step(pairs, &meta);
  }
  std::cerr << "metarm_learner_bench: profile of one METARM step in " << path
            << "\n";
  return 0;
}

int Run() {
  const int threads = absl::GetFlag(FLAGS_threads);
  torch::set_num_threads(
      threads > 0 ? threads
                  : static_cast<int>(std::thread::hardware_concurrency()));
  const int repeats = absl::GetFlag(FLAGS_repeats);
  const int64_t seq = absl::GetFlag(FLAGS_seq);
  const int64_t batch = absl::GetFlag(FLAGS_batch);
  std::vector<int64_t> sizes;
  for (absl::string_view text :
       absl::StrSplit(absl::GetFlag(FLAGS_sizes), ',')) {
    int64_t d_model = 0;
    if (!absl::SimpleAtoi(text, &d_model) || d_model <= 0) {
      std::cerr << "metarm_learner_bench: --sizes: \"" << text
                << "\" is not a positive integer\n";
      return 2;
    }
    sizes.push_back(d_model);
  }
  const int layers = absl::GetFlag(FLAGS_layers);
  if (!absl::GetFlag(FLAGS_profile).empty()) {
    return ProfileMetaRmStep(Config(sizes.front(), layers, seq), seq, batch,
                             absl::GetFlag(FLAGS_profile));
  }
  const double peak = GemmPeak(absl::GetFlag(FLAGS_gemm), repeats);
  for (int64_t d_model : sizes) {
    const TransformerConfig config = Config(d_model, layers, seq);
    RewardSteps(config, seq, batch, repeats, peak);
    PpoStep(config, seq, batch, repeats, peak);
    Generation(config, batch, absl::GetFlag(FLAGS_new_tokens), repeats);
  }
  return 0;
}

}  // namespace
}  // namespace metarm

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return metarm::Run();
}
