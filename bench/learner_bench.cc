// metarm_learner_bench: the learner's steps and generation against this
// machine's limit, on one process (bench/run.sh runs it; docs/PERFORMANCE.md
// defines every figure).
//
//   metarm_learner_bench --sizes=128,512 --layers=4 --seq=128 --repeats=5
//
// Prints one JSON object per line (bench/figure.h: the median of the
// repeats with min, max and every sample; "check" is the benchmark's own
// correctness check, "ok" or what failed). Ratios are per-pair: the MFU
// against a GEMM peak measured right after each step, the KV-cache speedup
// from cache and recompute runs back to back. Threads: LibTorch's intra-op
// pool, --threads (default: all cores), the same for the GEMM peak.
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
ABSL_FLAG(int, new_tokens, 128, "Generated tokens in the tokens/s figures.");
ABSL_FLAG(int, speedup_tokens, 32,
          "Generated tokens in the cache-against-recompute pairs.");
ABSL_FLAG(int, repeats, 5,
          "Timed repetitions, or pairs for the ratios (after one warm-up).");
ABSL_FLAG(int, threads, 0, "LibTorch threads; 0: all cores.");
ABSL_FLAG(int, gemm, 2048, "Side of the square matrices of the GEMM peak.");
ABSL_FLAG(std::string, profile, "",
          "Write a LibTorch profiler trace (Chrome JSON) of one METARM step at "
          "the first size to this file, and run nothing else.");

namespace metarm {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

void Emit(const std::string& name, const Samples& samples,
          const std::string& unit, const Json& shapes,
          const std::string& check = "ok") {
  PrintFigure(name, samples, unit, shapes, check);
}

// torch::mm on n x n float32 matrices: the FLOP/s this process can reach.
// Each call is the best of five products, so that one pair's peak is the
// machine's reach at that moment, not a disturbed product. Every timing is
// kept: gemm_peak is printed from all of them at the end.
class GemmPeak {
 public:
  explicit GemmPeak(int n)
      : n_(n), a_(torch::randn({n, n})), b_(torch::randn({n, n})) {}

  double flops() const { return 2.0 * n_ * n_ * n_; }

  // Records the seconds of the best of five products.
  void operator()() {
    double best = 1e30;
    for (int i = 0; i < 5; ++i) {
      best = std::min(best, Stopwatch()([&] { c_ = torch::mm(a_, b_); }));
    }
    seconds_.push_back(best);
  }

  // The seconds the last `count` calls recorded.
  Samples Last(size_t count) const {
    return Samples(seconds_.end() - std::min(count, seconds_.size()),
                   seconds_.end());
  }

  void Print() const {
    // Check: one entry against a dot product computed apart.
    const double want = (a_[3] * b_.select(1, 5)).sum().item<double>();
    const double got = c_[3][5].item<double>();
    const bool ok = std::abs(want - got) < 1e-3 * std::max(1.0, std::abs(want));
    Emit("gemm_peak", Rates(seconds_, flops() / 1e9), "GFLOP/s",
         {{"n", n_}, {"dtype", "float32"}}, ok ? "ok" : "mm entry mismatch");
  }

 private:
  int n_;
  torch::Tensor a_, b_, c_;
  Samples seconds_;
};

// A step timed in pairs with the GEMM peak: its seconds and its MFU per pair
// (model FLOPs / step time over the peak's FLOP/s in the same pair).
struct StepAgainstPeak {
  Samples seconds;
  Samples mfu;
};

// Each step sits between two peak measurements, and its pair's peak is the
// faster of the two: on a shared machine a step timed in a fast moment
// between two slow products would otherwise score above 1.
StepAgainstPeak TimeAgainstPeak(const std::function<void()>& step,
                                double step_flops, GemmPeak& peak,
                                int repeats) {
  StepAgainstPeak out;
  step();  // warm-up
  peak();
  for (int i = 0; i < repeats; ++i) {
    out.seconds.push_back(Stopwatch()(step));
    peak();
    const Samples around = peak.Last(2);
    const double gemm = std::min(around[0], around[1]);
    out.mfu.push_back(step_flops / out.seconds.back() / (peak.flops() / gemm));
  }
  return out;
}

// The MFU's physical bound: above 1 means the FLOP count or the peak is wrong.
std::string MfuCheck(const std::string& check, const Samples& mfu) {
  if (check != "ok") return check;
  const double median = Median(mfu);
  if (!(median > 0 && median <= 1)) {
    return "MFU " + std::to_string(median) +
           " outside (0, 1]: the FLOP count or the peak is wrong";
  }
  return check;
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
                 int repeats, GemmPeak& peak) {
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
    const double flops =
        mode == RewardObjective::kMetaRm
            ? MetaRmStepFlops(shape, 2 * batch, meta.responses.size(), seq)
            : RewardStepFlops(shape, 2 * batch, seq);
    const StepAgainstPeak timed = TimeAgainstPeak(
        [&] {
          absl::StatusOr<RewardStepStats> stats = trainer.Step(
              pairs, mode == RewardObjective::kMetaRm ? &meta : nullptr);
          if (!stats.ok()) check = std::string(stats.status().message());
        },
        flops, peak, repeats);
    if (check == "ok" && !AllFinite(*model)) check = "non-finite weights";
    const std::string name =
        mode == RewardObjective::kMetaRm ? "metarm_step" : "vanilla_rm_step";
    Json shapes = Shapes(config, seq, batch);
    if (mode == RewardObjective::kMetaRm)
      shapes["meta_sequences"] = meta.responses.size();
    Emit(name + "_seconds", timed.seconds, "s (this machine)", shapes, check);
    Emit(name + "_samples_per_second", Rates(timed.seconds, batch), "pairs/s",
         shapes, check);
    Emit(name + "_mfu", timed.mfu, "fraction of gemm_peak (same pair)", shapes,
         MfuCheck(check, timed.mfu));
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
             int repeats, GemmPeak& peak) {
  torch::manual_seed(9);
  SoloCommunicator learners;
  LanguageModel policy(config);
  ScalarModel critic(config);
  Experience experience = MakeExperience(policy, critic, batch, seq);
  PpoLearner learner(policy, critic, BenchPpoSpec(batch), learners);
  std::string check = "ok";
  uint64_t seed = 0;
  const double flops =
      PpoUpdateFlops(ShapeOf(config, true), ShapeOf(config, false), batch, seq);
  const StepAgainstPeak timed = TimeAgainstPeak(
      [&] {
        absl::StatusOr<PpoStats> stats = learner.Update(experience, ++seed);
        if (!stats.ok()) check = std::string(stats.status().message());
        if (stats.ok() && stats->skipped_steps > 0) check = "skipped steps";
      },
      flops, peak, repeats);
  if (check == "ok" && !AllFinite(*policy)) check = "non-finite weights";
  Json shapes = Shapes(config, seq, batch);
  shapes["minibatch"] = batch / 2;
  Emit("ppo_update_seconds", timed.seconds, "s (this machine)", shapes, check);
  Emit("ppo_update_samples_per_second", Rates(timed.seconds, batch),
       "sequences/s", shapes, check);
  Emit("ppo_update_mfu", timed.mfu, "fraction of gemm_peak (same pair)", shapes,
       MfuCheck(check, timed.mfu));
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

// Tokens/s with the cache at `new_tokens`; the speedup over recomputing in
// interleaved pairs at `speedup_tokens` (recomputing 128 tokens at d_model
// 512 takes minutes on 2 cores; the speedup grows with the length, so the
// shorter pair understates it).
void Generation(const TransformerConfig& config, int64_t batch,
                int64_t new_tokens, int64_t speedup_tokens, int repeats) {
  torch::manual_seed(13);
  LanguageModel policy(config);
  policy->eval();
  const TokenBatch prompts = Tokens(batch, 16, 17);
  torch::Tensor cached, recomputed;
  int64_t cache_bytes = 0;
  const Samples long_run = TimeRepeats(
      Stopwatch(),
      [&] {
        cached = GenerateWithCache(policy, prompts, new_tokens, &cache_bytes);
      },
      repeats);
  const int64_t bytes_per_sequence = cache_bytes / batch;
  Samples with_cache, without;
  TimePairs(
      Stopwatch(),
      [&] {
        cached =
            GenerateWithCache(policy, prompts, speedup_tokens, &cache_bytes);
      },
      [&] {
        recomputed = GenerateByRecompute(policy, prompts, speedup_tokens);
      },
      repeats, &with_cache, &without);
  // Check: greedy decoding gives the same tokens both ways.
  const std::string check =
      torch::equal(cached, recomputed) ? "ok" : "cache and recompute differ";
  Json shapes = Shapes(config, 16 + new_tokens, batch);
  shapes["prompt_tokens"] = 16;
  shapes["new_tokens"] = new_tokens;
  Json short_shapes = Shapes(config, 16 + speedup_tokens, batch);
  short_shapes["prompt_tokens"] = 16;
  short_shapes["new_tokens"] = speedup_tokens;
  Emit("generation_kv_cache_tokens_per_second",
       Rates(long_run, static_cast<double>(batch * new_tokens)), "tokens/s",
       shapes, check);
  Emit("generation_recompute_tokens_per_second",
       Rates(without, static_cast<double>(batch * speedup_tokens)), "tokens/s",
       short_shapes, check);
  Emit("generation_kv_cache_speedup", Ratios(without, with_cache),
       "x (recompute time / cache time, same pair)", short_shapes, check);
  PrintExact("kv_cache_bytes_per_sequence",
             static_cast<double>(bytes_per_sequence), "bytes", shapes, check);
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
  GemmPeak peak(absl::GetFlag(FLAGS_gemm));
  for (int64_t d_model : sizes) {
    const TransformerConfig config = Config(d_model, layers, seq);
    RewardSteps(config, seq, batch, repeats, peak);
    PpoStep(config, seq, batch, repeats, peak);
    Generation(config, batch, absl::GetFlag(FLAGS_new_tokens),
               absl::GetFlag(FLAGS_speedup_tokens), repeats);
  }
  peak.Print();
  return 0;
}

}  // namespace
}  // namespace metarm

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return metarm::Run();
}
