// metarm_learner_bench: the learner's steps and generation against this
// machine's limit, on one process (bench/run.sh runs it; docs/PERFORMANCE.md
// defines every figure).
//
//   metarm_learner_bench --sizes=128,512 --layers=4 --seq=128 --repeats=5
//   metarm_learner_bench --device=cuda:0 --precision=bf16 --sizes=768
//     --layers=12 --vocab=50257 --seq=512 ...   (deploy/gpu_check.sh)
//
// Prints one JSON object per line (bench/figure.h: the median of the
// repeats with min, max and every sample; "check" is the benchmark's own
// correctness check, "ok" or what failed). Ratios are per-pair: the MFU
// against a GEMM peak measured right before and after each step, the
// KV-cache speedup from cache and recompute runs back to back, and with
// --python_peer the Python/C++ ratios from the same step timed in Python
// right after each C++ timing (bench/python_turns.h). Threads: LibTorch's
// intra-op pool, --threads (default: all cores), the same for the GEMM peak. On
// a CUDA device every timing waits for the device before and after; the GEMM
// peak is taken in the steps' compute precision (bf16 with --precision=bf16).
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "bench/figure.h"
#include "bench/flops.h"
#include "bench/python_turns.h"
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
ABSL_FLAG(std::string, device, "cpu", "Where the steps run: cpu or cuda:N.");
ABSL_FLAG(std::string, precision, "fp32",
          "Compute precision of the models and the GEMM peak: fp32 or bf16 "
          "(float32 weights either way).");
ABSL_FLAG(int, vocab, 259, "Vocabulary size of the models.");
ABSL_FLAG(int, prompt_tokens, 16, "Prompt tokens in the generation figures.");
ABSL_FLAG(int, generation_batch, 0,
          "Sequences generated at once; 0: the same as --batch.");
ABSL_FLAG(std::string, profile, "",
          "Write a LibTorch profiler trace (Chrome JSON) of one METARM step at "
          "the first size to this file, and run nothing else.");
ABSL_FLAG(std::string, python_peer, "",
          "bench/python_peer.py: time every step in Python too, right after "
          "each C++ timing of it, and print the Python/C++ ratios pair by "
          "pair. Empty: C++ only.");
ABSL_FLAG(std::string, python, "/usr/bin/python3",
          "The interpreter that runs --python_peer.");
ABSL_FLAG(bool, peer_hf_generate, false,
          "With --python_peer: also Hugging Face generate() after each timed "
          "generation (the peer's --hf_generate).");

namespace metarm {
namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Where and in what precision the benchmark runs.
struct Placement {
  torch::Device device = torch::kCPU;
  bool bf16 = false;
  int64_t vocab = 259;
};

// Seconds of one call, with the device's queued work drained before the
// clock starts and before it stops (CUDA kernels run asynchronously).
TimeOnce DeviceStopwatch(const torch::Device& device) {
  if (!device.is_cuda()) return Stopwatch();
  const int64_t index = device.index();
  return [index](const std::function<void()>& call) {
    torch::cuda::synchronize(index);
    const auto start = Clock::now();
    call();
    torch::cuda::synchronize(index);
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
}

void Emit(const std::string& name, const Samples& samples,
          const std::string& unit, const Json& shapes,
          const std::string& check = "ok") {
  PrintFigure(name, samples, unit, shapes, check);
}

// torch::mm on n x n matrices in the steps' precision: the FLOP/s this
// process can reach on the device.
// Each call is the best of five products, so that one pair's peak is the
// machine's reach at that moment, not a disturbed product. Every timing is
// kept: gemm_peak is printed from all of them at the end.
class GemmPeak {
 public:
  GemmPeak(int n, const Placement& at)
      : n_(n),
        dtype_(at.bf16 ? torch::kBFloat16 : torch::kFloat32),
        a_(torch::randn({n, n}).to(at.device, dtype_)),
        b_(torch::randn({n, n}).to(at.device, dtype_)),
        time_(DeviceStopwatch(at.device)) {}

  double flops() const { return 2.0 * n_ * n_ * n_; }

  // Records the seconds of the best of five products.
  void operator()() {
    double best = 1e30;
    for (int i = 0; i < 5; ++i) {
      best = std::min(best, time_([&] { c_ = torch::mm(a_, b_); }));
    }
    seconds_.push_back(best);
  }

  // The seconds the last `count` calls recorded.
  Samples Last(size_t count) const {
    return Samples(seconds_.end() - std::min(count, seconds_.size()),
                   seconds_.end());
  }

  void Print() const {
    // Check: one entry against a dot product computed apart in float64.
    // bf16 rounds the product's inputs' sum in float32 and its output to 8
    // bits: a tolerance that grows as the entries do (about sqrt(n)).
    const double want =
        (a_[3].to(torch::kFloat64) * b_.select(1, 5).to(torch::kFloat64))
            .sum()
            .item<double>();
    const double got = c_[3][5].item<double>();
    const double tolerance = dtype_ == torch::kBFloat16
                                 ? 2e-2 * std::sqrt(static_cast<double>(n_))
                                 : 1e-3 * std::max(1.0, std::abs(want));
    const bool ok = std::abs(want - got) < tolerance;
    Emit("gemm_peak", Rates(seconds_, flops() / 1e9), "GFLOP/s",
         {{"n", n_},
          {"dtype", dtype_ == torch::kBFloat16 ? "bfloat16" : "float32"},
          {"device", a_.device().str()}},
         ok ? "ok" : "mm entry mismatch");
  }

 private:
  int n_;
  torch::Dtype dtype_;
  torch::Tensor a_, b_, c_;
  TimeOnce time_;
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
// between two slow products would otherwise score above 1. `after_each`
// runs right after each timed step, before the next peak (the Python
// peer's turn at the same step).
StepAgainstPeak TimeAgainstPeak(const std::function<void()>& step,
                                double step_flops, GemmPeak& peak, int repeats,
                                const TimeOnce& time,
                                const std::function<void()>& after_each) {
  StepAgainstPeak out;
  step();  // warm-up
  peak();
  for (int i = 0; i < repeats; ++i) {
    out.seconds.push_back(time(step));
    after_each();
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

TransformerConfig Config(int64_t d_model, int layers, int64_t seq,
                         const Placement& at) {
  TransformerConfig config;
  config.vocab_size = at.vocab;
  config.bf16 = at.bf16;
  config.d_model = d_model;
  config.n_layers = layers;
  config.n_heads = std::max<int64_t>(1, d_model / 64);
  config.d_ff = 4 * d_model;
  // Room for the steps and for the longest generation (cached or
  // recomputed); the CPU profiles' shapes have always had seq + 160.
  config.max_seq_len = std::max<int64_t>(
      seq + 160, absl::GetFlag(FLAGS_prompt_tokens) +
                     std::max(absl::GetFlag(FLAGS_new_tokens),
                              absl::GetFlag(FLAGS_speedup_tokens)));
  return config;
}

TokenBatch Tokens(int64_t rows, int64_t length, uint64_t seed,
                  const Placement& at) {
  at::Generator generator = at::detail::createCPUGenerator(seed);
  return {torch::randint(3, at.vocab, {rows, length}, generator, torch::kInt64)
              .to(at.device),
          torch::ones({rows, length}, torch::kInt64).to(at.device)};
}

Json Shapes(const TransformerConfig& c, int64_t seq, int64_t batch) {
  return {{"d_model", c.d_model},
          {"layers", c.n_layers},
          {"heads", c.n_heads},
          {"vocab", c.vocab_size},
          {"seq", seq},
          {"batch", batch},
          {"precision", c.bf16 ? "bf16" : "fp32"},
          {"threads", torch::get_num_threads()}};
}

bool AllFinite(torch::nn::Module& module) {
  for (const torch::Tensor& p : module.parameters()) {
    if (!torch::isfinite(p).all().item<bool>()) return false;
  }
  return true;
}

// The Python peer's turn at `step`, where there is a peer.
std::function<void()> PeerTurn(PythonTurns* turns, const std::string& step,
                               int64_t d_model) {
  return [=] {
    if (turns != nullptr) turns->Take(step, d_model);
  };
}

// The reward-model steps: VANILLA and METARM (first order).
void RewardSteps(const TransformerConfig& config, int64_t seq, int64_t batch,
                 int repeats, GemmPeak& peak, const Placement& at,
                 PythonTurns* turns) {
  SoloCommunicator learners;
  const PreferenceBatch pairs{Tokens(batch, seq, 1, at),
                              Tokens(batch, seq, 2, at)};
  const int64_t k = 4;
  const MetaBatch meta{Tokens(batch / 2 * k, seq, 3, at), k};
  const ModelShape shape = ShapeOf(config, /*lm_head=*/false);
  for (RewardObjective mode :
       {RewardObjective::kVanilla, RewardObjective::kMetaRm}) {
    torch::manual_seed(7);
    ScalarModel model(config);
    model->to(at.device);
    RewardTrainerOptions options;
    options.mode = mode;
    RewardTrainer trainer(model, options, learners);
    std::string check = "ok";
    const double flops =
        mode == RewardObjective::kMetaRm
            ? MetaRmStepFlops(shape, 2 * batch, meta.responses.size(), seq)
            : RewardStepFlops(shape, 2 * batch, seq);
    const std::string name =
        mode == RewardObjective::kMetaRm ? "metarm_step" : "vanilla_rm_step";
    const StepAgainstPeak timed = TimeAgainstPeak(
        [&] {
          absl::StatusOr<RewardStepStats> stats = trainer.Step(
              pairs, mode == RewardObjective::kMetaRm ? &meta : nullptr);
          if (!stats.ok()) check = std::string(stats.status().message());
        },
        flops, peak, repeats, DeviceStopwatch(at.device),
        PeerTurn(turns, name, config.d_model));
    if (check == "ok" && !AllFinite(*model)) check = "non-finite weights";
    Json shapes = Shapes(config, seq, batch);
    if (mode == RewardObjective::kMetaRm)
      shapes["meta_sequences"] = meta.responses.size();
    Emit(name + "_seconds", timed.seconds, "s (this machine)", shapes, check);
    Emit(name + "_samples_per_second", Rates(timed.seconds, batch), "pairs/s",
         shapes, check);
    Emit(name + "_mfu", timed.mfu, "fraction of gemm_peak (same pair)", shapes,
         MfuCheck(check, timed.mfu));
    if (turns != nullptr) {
      turns->EmitStep(name, config.d_model, timed.seconds, shapes);
    }
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
                          int64_t batch, int64_t seq, const Placement& at) {
  torch::NoGradGuard no_grad;
  Experience e;
  e.sequences = Tokens(batch, seq, 11, at);
  e.prompt_columns = seq / 2;
  e.response_mask =
      torch::ones({batch, seq - seq / 2},
                  torch::TensorOptions(torch::kInt64).device(at.device));
  e.old_logprobs =
      ResponseLogprobs(policy, e.sequences, e.prompt_columns).first;
  e.ref_logprobs = e.old_logprobs.clone();
  e.scores = reward->Score(e.sequences.tokens, e.sequences.mask);
  return e;
}

void PpoStep(const TransformerConfig& config, int64_t seq, int64_t batch,
             int repeats, GemmPeak& peak, const Placement& at,
             PythonTurns* turns) {
  torch::manual_seed(9);
  SoloCommunicator learners;
  LanguageModel policy(config);
  ScalarModel critic(config);
  policy->to(at.device);
  critic->to(at.device);
  Experience experience = MakeExperience(policy, critic, batch, seq, at);
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
      flops, peak, repeats, DeviceStopwatch(at.device),
      PeerTurn(turns, "ppo_update", config.d_model));
  if (check == "ok" && !AllFinite(*policy)) check = "non-finite weights";
  Json shapes = Shapes(config, seq, batch);
  shapes["minibatch"] = batch / 2;
  Emit("ppo_update_seconds", timed.seconds, "s (this machine)", shapes, check);
  Emit("ppo_update_samples_per_second", Rates(timed.seconds, batch),
       "sequences/s", shapes, check);
  Emit("ppo_update_mfu", timed.mfu, "fraction of gemm_peak (same pair)", shapes,
       MfuCheck(check, timed.mfu));
  if (turns != nullptr) {
    turns->EmitStep("ppo_update", config.d_model, timed.seconds, shapes);
  }
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

// Tokens/s with the cache at `new_tokens` (each timing followed by the
// Python peer's, and Hugging Face generate()'s where asked); the speedup
// over recomputing in interleaved pairs at `speedup_tokens` (recomputing
// 128 tokens at d_model 512 takes minutes on 2 cores; the speedup grows
// with the length, so the shorter pair understates it).
void Generation(const TransformerConfig& config, int64_t batch,
                int64_t new_tokens, int64_t speedup_tokens, int repeats,
                const Placement& at, PythonTurns* turns) {
  torch::manual_seed(13);
  LanguageModel policy(config);
  policy->to(at.device);
  policy->eval();
  const int64_t prompt_tokens = absl::GetFlag(FLAGS_prompt_tokens);
  const TokenBatch prompts = Tokens(batch, prompt_tokens, 17, at);
  const TimeOnce time = DeviceStopwatch(at.device);
  torch::Tensor cached, recomputed;
  int64_t cache_bytes = 0;
  const bool hf_generate = absl::GetFlag(FLAGS_peer_hf_generate);
  const Samples long_run = TimeRepeats(
      time,
      [&] {
        cached = GenerateWithCache(policy, prompts, new_tokens, &cache_bytes);
      },
      repeats,
      [&] {
        PeerTurn(turns, "generation", config.d_model)();
        if (hf_generate) PeerTurn(turns, "hf_generate", config.d_model)();
      });
  const int64_t bytes_per_sequence = cache_bytes / batch;
  Samples with_cache, without;
  TimePairs(
      time,
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
  Json shapes = Shapes(config, prompt_tokens + new_tokens, batch);
  shapes["prompt_tokens"] = prompt_tokens;
  shapes["new_tokens"] = new_tokens;
  Json short_shapes = Shapes(config, prompt_tokens + speedup_tokens, batch);
  short_shapes["prompt_tokens"] = prompt_tokens;
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
  if (turns == nullptr) return;
  const double tokens = static_cast<double>(batch * new_tokens);
  turns->EmitRate("generation", config.d_model, long_run, tokens,
                  "generation_kv_cache_tokens_per_second",
                  "python_over_cpp_generation", "Python", shapes);
  if (hf_generate) {
    turns->EmitRate("hf_generate", config.d_model, long_run, tokens,
                    "hf_generate_tokens_per_second",
                    "hf_generate_over_cpp_generation", "HF generate()", shapes);
  }
}

// One METARM step (after a warm-up) under LibTorch's profiler.
int ProfileMetaRmStep(const TransformerConfig& config, int64_t seq,
                      int64_t batch, const std::string& path) {
  SoloCommunicator learners;
  const Placement at;  // the profile is of the CPU step
  const PreferenceBatch pairs{Tokens(batch, seq, 1, at),
                              Tokens(batch, seq, 2, at)};
  const MetaBatch meta{Tokens(batch / 2 * 4, seq, 3, at), 4};
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

// --device, --precision and --vocab, checked.
absl::StatusOr<Placement> PlacementFromFlags() {
  Placement at;
  const std::string device = absl::GetFlag(FLAGS_device);
  try {
    at.device = torch::Device(device);
  } catch (const c10::Error&) {
    return absl::InvalidArgumentError("--device: \"" + device +
                                      "\" is not cpu or cuda:N");
  }
  if (at.device.is_cuda() && !torch::cuda::is_available()) {
    return absl::FailedPreconditionError("--device=" + device +
                                         ": LibTorch sees no CUDA device");
  }
  const std::string precision = absl::GetFlag(FLAGS_precision);
  if (precision != "fp32" && precision != "bf16") {
    return absl::InvalidArgumentError("--precision: \"" + precision +
                                      "\" is not fp32 or bf16");
  }
  at.bf16 = precision == "bf16";
  at.vocab = absl::GetFlag(FLAGS_vocab);
  if (at.vocab < 4) return absl::InvalidArgumentError("--vocab: below 4");
  return at;
}

// The Python peer's command line: the same shapes, threads, device and
// precision as this benchmark's flags.
std::vector<std::string> PeerArgv(int64_t generation_batch) {
  std::vector<std::string> argv = {
      absl::GetFlag(FLAGS_python),
      absl::GetFlag(FLAGS_python_peer),
      "--serve",
      "--sizes=" + absl::GetFlag(FLAGS_sizes),
      "--layers=" + std::to_string(absl::GetFlag(FLAGS_layers)),
      "--seq=" + std::to_string(absl::GetFlag(FLAGS_seq)),
      "--batch=" + std::to_string(absl::GetFlag(FLAGS_batch)),
      "--new_tokens=" + std::to_string(absl::GetFlag(FLAGS_new_tokens)),
      "--threads=" + std::to_string(torch::get_num_threads()),
      "--device=" + absl::GetFlag(FLAGS_device),
      "--precision=" + absl::GetFlag(FLAGS_precision),
      "--vocab=" + std::to_string(absl::GetFlag(FLAGS_vocab)),
      "--prompt_tokens=" + std::to_string(absl::GetFlag(FLAGS_prompt_tokens)),
      "--generation_batch=" + std::to_string(generation_batch)};
  if (absl::GetFlag(FLAGS_peer_hf_generate)) argv.push_back("--hf_generate");
  return argv;
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
    return ProfileMetaRmStep(Config(sizes.front(), layers, seq, Placement()),
                             seq, batch, absl::GetFlag(FLAGS_profile));
  }
  absl::StatusOr<Placement> at = PlacementFromFlags();
  if (!at.ok()) {
    std::cerr << "metarm_learner_bench: " << at.status().message() << "\n";
    return 2;
  }
  const int64_t generation_batch = absl::GetFlag(FLAGS_generation_batch) > 0
                                       ? absl::GetFlag(FLAGS_generation_batch)
                                       : batch;
  std::unique_ptr<PythonTurns> turns;
  if (!absl::GetFlag(FLAGS_python_peer).empty()) {
    absl::StatusOr<std::unique_ptr<PythonTurns>> started =
        PythonTurns::Start(PeerArgv(generation_batch));
    if (!started.ok()) {
      std::cerr << "metarm_learner_bench: --python_peer: "
                << started.status().message() << "\n";
      return 1;
    }
    turns = std::move(*started);
  }
  GemmPeak peak(absl::GetFlag(FLAGS_gemm), *at);
  for (int64_t d_model : sizes) {
    const TransformerConfig config = Config(d_model, layers, seq, *at);
    RewardSteps(config, seq, batch, repeats, peak, *at, turns.get());
    PpoStep(config, seq, batch, repeats, peak, *at, turns.get());
    Generation(config, generation_batch, absl::GetFlag(FLAGS_new_tokens),
               absl::GetFlag(FLAGS_speedup_tokens), repeats, *at, turns.get());
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
