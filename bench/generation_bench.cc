// metarm_generation_bench: the generation engine (rollout/generation_engine.h)
// against the static batch sampler (rollout/sampler.h), on one process
// (bench/run.sh runs it; docs/PERFORMANCE.md defines every figure).
//
//   metarm_generation_bench --d_model=512 --layers=4 --sequences=256
//
// Figures (JSON lines, bench/figure.h), every ratio from interleaved pairs:
// - engine_over_static: useful tokens/s of the engine over the static
//   sampler on a mixed workload (prompts of --min_prompt..--max_prompt
//   tokens, responses that end after --min_response..--max_response tokens,
//   --sequences of them, --slots at once). A response's end is set per
//   sequence (GenerationRequest::max_new_tokens); the static sampler runs
//   each batch of --slots sequences until its longest response ends, as it
//   does when rows end at their end tokens. Check: the static rows' first
//   tokens equal the engine's, token for token.
// - shared_prompt_speedup: the engine with shared prompts over the engine
//   without, --k responses to --k_prompts prompts of --k_prompt_tokens.
// - decode_memory_roofline_fraction_b{1,16}: the time reading the weights
//   and the live keys and values once takes at the bandwidth of a large copy
//   (measured in the same pair) over one decode step's time, with
//   --context tokens per sequence.
// - kv_*: bytes per token, the pool's fill and bytes per sequence on the
//   mixed workload, against the static sampler's cache.
#include <torch/csrc/autograd/profiler_legacy.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <numeric>
#include <random>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "bench/figure.h"
#include "rollout/generation_engine.h"
#include "rollout/paged_kv_pool.h"
#include "rollout/sampler.h"

ABSL_FLAG(int, d_model, 512, "Width.");
ABSL_FLAG(int, layers, 4, "Transformer blocks.");
ABSL_FLAG(int, vocab, 259, "Vocabulary size.");
ABSL_FLAG(int, threads, 0, "LibTorch threads; 0: all cores.");
ABSL_FLAG(int, repeats, 3, "Pairs per ratio (after one warm-up pair).");
ABSL_FLAG(int, sequences, 256, "Sequences of the mixed workload.");
ABSL_FLAG(int, slots, 64, "Engine slots = the static sampler's batch.");
ABSL_FLAG(int, block_tokens, 16, "Tokens per KV block.");
ABSL_FLAG(int, min_prompt, 8, "Shortest prompt of the mixed workload.");
ABSL_FLAG(int, max_prompt, 64, "Longest prompt of the mixed workload.");
ABSL_FLAG(int, min_response, 4, "Shortest response of the mixed workload.");
ABSL_FLAG(int, max_response, 128, "Longest response of the mixed workload.");
ABSL_FLAG(int, k, 5, "Responses per prompt in the shared-prompt pairs.");
ABSL_FLAG(int, k_prompts, 32, "Prompts in the shared-prompt pairs.");
ABSL_FLAG(int, k_prompt_tokens, 64, "Their prompt length.");
ABSL_FLAG(int, k_max_response, 32, "Their longest response (from 4).");
ABSL_FLAG(int, context, 128, "Tokens per sequence in the decode steps.");
ABSL_FLAG(int, copy_mb, 256, "Size of the bandwidth copy, MB.");
ABSL_FLAG(std::string, profile, "",
          "Instead of the figures: LibTorch profiler traces (Chrome JSON) of "
          "one engine run and one static run of the mixed workload and of "
          "10 decode steps at batch 1 and 16, written to PREFIX_engine.json, "
          "PREFIX_static.json, PREFIX_decode_b1.json, PREFIX_decode_b16.json.");

namespace metarm {
namespace {

using Json = nlohmann::json;

TransformerConfig Config() {
  TransformerConfig c;
  c.vocab_size = absl::GetFlag(FLAGS_vocab);
  c.d_model = absl::GetFlag(FLAGS_d_model);
  c.n_layers = absl::GetFlag(FLAGS_layers);
  c.n_heads = std::max<int64_t>(1, c.d_model / 64);
  c.d_ff = 4 * c.d_model;
  c.max_seq_len = std::max(absl::GetFlag(FLAGS_max_prompt) +
                               absl::GetFlag(FLAGS_max_response),
                           std::max(absl::GetFlag(FLAGS_k_prompt_tokens) +
                                        absl::GetFlag(FLAGS_k_max_response),
                                    absl::GetFlag(FLAGS_context) + 1)) +
                  1;
  return c;
}

Json Shapes(const TransformerConfig& c) {
  return {{"d_model", c.d_model},
          {"layers", c.n_layers},
          {"heads", c.n_heads},
          {"vocab", c.vocab_size},
          {"threads", torch::get_num_threads()}};
}

// Requests of random tokens: lengths uniform in [min, max], one seed.
std::vector<GenerationRequest> Workload(int n, int min_prompt, int max_prompt,
                                        int min_response, int max_response,
                                        int k, int64_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  auto uniform = [&](int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(rng);
  };
  std::vector<GenerationRequest> requests;
  for (int i = 0; i < n; ++i) {
    GenerationRequest r;
    r.prompt.push_back(1);
    const int length = uniform(min_prompt, max_prompt);
    while (static_cast<int>(r.prompt.size()) < length) {
      r.prompt.push_back(uniform(3, static_cast<int>(vocab) - 1));
    }
    r.responses = k;
    r.max_new_tokens = uniform(min_response, max_response);
    requests.push_back(std::move(r));
  }
  return requests;
}

int64_t UsefulTokens(const std::vector<GenerationRequest>& requests) {
  int64_t total = 0;
  for (const GenerationRequest& r : requests) {
    total += r.responses * r.max_new_tokens;
  }
  return total;
}

SamplingOptions Sampling(int max_new_tokens) {
  SamplingOptions s;
  s.max_new_tokens = max_new_tokens;
  s.eos_id = -1;  // responses end at their request's max_new_tokens
  return s;
}

// The static sampler on `requests` (k = 1) in batches of `slots`, each run
// until its longest response ends. Returns every row's tokens.
std::vector<TokenSequence> StaticRun(LanguageModel& policy,
                                     const std::vector<GenerationRequest>& rs,
                                     int slots, uint64_t seed,
                                     int64_t* cache_tokens, int64_t* rows,
                                     int64_t* passes) {
  std::vector<TokenSequence> out;
  *cache_tokens = 0;
  *rows = 0;
  *passes = 0;
  for (size_t begin = 0; begin < rs.size(); begin += slots) {
    const size_t end = std::min(rs.size(), begin + slots);
    std::vector<TokenSequence> prompts;
    int longest = 0;
    size_t prompt_columns = 0;
    for (size_t i = begin; i < end; ++i) {
      prompts.push_back(rs[i].prompt);
      longest = std::max<int>(longest, rs[i].max_new_tokens);
      prompt_columns = std::max(prompt_columns, rs[i].prompt.size());
    }
    std::vector<at::Generator> streams =
        SequenceStreams(seed, begin, end - begin);
    Generation g = Generate(policy, PadSequences(prompts, Padding::kLeft),
                            Sampling(longest), streams);
    // The contiguous cache holds every row at the batch's full width.
    *cache_tokens += (end - begin) * (prompt_columns + longest);
    *rows += (end - begin) * (prompt_columns + longest - 1);
    *passes += longest;
    for (int64_t r = 0; r < g.responses.size(); ++r) {
      const torch::Tensor row = g.responses.tokens[r].contiguous();
      out.emplace_back(row.data_ptr<int64_t>(),
                       row.data_ptr<int64_t>() + row.numel());
    }
  }
  return out;
}

// The engine's samples; a refused run ends the benchmark (exit 1).
std::vector<SampledSequence> RunOrExit(GenerationEngine& engine,
                                       const std::vector<GenerationRequest>& r,
                                       uint64_t seed) {
  absl::StatusOr<std::vector<SampledSequence>> out = engine.Run(r, seed);
  if (!out.ok()) {
    std::cerr << "metarm_generation_bench: " << out.status() << "\n";
    std::exit(1);
  }
  return *std::move(out);
}

std::string SameTokens(const std::vector<GenerationRequest>& rs,
                       const std::vector<SampledSequence>& engine,
                       const std::vector<TokenSequence>& reference) {
  for (size_t i = 0; i < rs.size(); ++i) {
    const TokenSequence& e = engine[i].response;
    if (static_cast<int64_t>(e.size()) != rs[i].max_new_tokens ||
        !std::equal(e.begin(), e.end(), reference[i].begin())) {
      return "sequence " + std::to_string(i) + " differs from the static one";
    }
  }
  return "ok";
}

// The mixed workload's requests, from the flags.
std::vector<GenerationRequest> MixedRequests(const TransformerConfig& c) {
  return Workload(
      absl::GetFlag(FLAGS_sequences), absl::GetFlag(FLAGS_min_prompt),
      absl::GetFlag(FLAGS_max_prompt), absl::GetFlag(FLAGS_min_response),
      absl::GetFlag(FLAGS_max_response), 1, c.vocab_size, 7);
}

EngineOptions MixedEngineOptions() {
  EngineOptions options;
  options.max_sequences = absl::GetFlag(FLAGS_slots);
  options.block_tokens = absl::GetFlag(FLAGS_block_tokens);
  return options;
}

constexpr uint64_t kMixedSeed = 99;

void MixedWorkload(LanguageModel& policy, int repeats) {
  const TransformerConfig& c = policy->config();
  const int slots = absl::GetFlag(FLAGS_slots);
  const std::vector<GenerationRequest> requests = MixedRequests(c);
  const EngineOptions options = MixedEngineOptions();
  GenerationEngine engine(policy, Sampling(absl::GetFlag(FLAGS_max_response)),
                          options);
  const uint64_t seed = kMixedSeed;
  std::vector<SampledSequence> engine_out;
  std::vector<TokenSequence> static_out;
  int64_t static_cache_tokens = 0, static_rows = 0, static_passes = 0;
  Samples engine_seconds, static_seconds;
  TimePairs(
      Stopwatch(), [&] { engine_out = RunOrExit(engine, requests, seed); },
      [&] {
        static_out =
            StaticRun(policy, requests, slots, seed, &static_cache_tokens,
                      &static_rows, &static_passes);
      },
      repeats, &engine_seconds, &static_seconds);
  const std::string check = SameTokens(requests, engine_out, static_out);
  const double useful = static_cast<double>(UsefulTokens(requests));
  Json shapes = Shapes(c);
  shapes["sequences"] = requests.size();
  shapes["slots"] = slots;
  shapes["block_tokens"] = options.block_tokens;
  shapes["prompt"] = {absl::GetFlag(FLAGS_min_prompt),
                      absl::GetFlag(FLAGS_max_prompt)};
  shapes["response"] = {absl::GetFlag(FLAGS_min_response),
                        absl::GetFlag(FLAGS_max_response)};
  shapes["useful_tokens"] = useful;
  PrintFigure("engine_useful_tokens_per_second", Rates(engine_seconds, useful),
              "tokens/s", shapes, check);
  PrintFigure("static_useful_tokens_per_second", Rates(static_seconds, useful),
              "tokens/s", shapes, check);
  PrintFigure("engine_over_static", Ratios(static_seconds, engine_seconds),
              "x (static time / engine time, same pair)", shapes, check);
  const EngineStats& stats = engine.stats();
  // Where the time can go: token positions each side ran through the model
  // (the static sampler: every row of a batch to its longest response).
  PrintExact("engine_computed_rows", static_cast<double>(stats.computed_rows),
             "token positions (prefill padding included)", shapes, "ok");
  PrintExact("static_computed_rows", static_cast<double>(static_rows),
             "token positions (prompt columns + steps, per row)", shapes, "ok");
  PrintExact("engine_forward_passes",
             static_cast<double>(stats.prefill_steps + stats.decode_steps),
             "model calls (prefill + decode steps)", shapes, "ok");
  PrintExact("static_forward_passes", static_cast<double>(static_passes),
             "model calls", shapes, "ok");
  const double token_bytes = static_cast<double>(stats.kv_bytes_per_token);
  PrintExact("kv_bytes_per_token", token_bytes, "bytes", shapes, "ok");
  PrintExact("kv_pool_mean_fill_share", stats.mean_block_fill,
             "share of the used blocks' slots holding a token", shapes, "ok");
  PrintExact("kv_pool_peak_used_share",
             static_cast<double>(stats.peak_used_blocks) / stats.pool_blocks,
             "share of the pool", shapes, "ok");
  PrintExact("kv_bytes_per_sequence_engine",
             token_bytes * options.block_tokens * stats.peak_used_blocks /
                 std::min<double>(slots, requests.size()),
             "bytes (peak used blocks / slots)", shapes, "ok");
  PrintExact(
      "kv_bytes_per_sequence_static",
      token_bytes * static_cast<double>(static_cache_tokens) / requests.size(),
      "bytes (batch width × rows / rows)", shapes, "ok");
}

void SharedPrompts(LanguageModel& policy, int repeats) {
  const TransformerConfig& c = policy->config();
  const int k = absl::GetFlag(FLAGS_k);
  const int prompt = absl::GetFlag(FLAGS_k_prompt_tokens);
  const std::vector<GenerationRequest> requests =
      Workload(absl::GetFlag(FLAGS_k_prompts), prompt, prompt, 4,
               absl::GetFlag(FLAGS_k_max_response), k, c.vocab_size, 11);
  EngineOptions shared, separate;
  // Every response of a prompt needs a slot.
  shared.max_sequences = separate.max_sequences =
      std::max(absl::GetFlag(FLAGS_slots), k);
  shared.block_tokens = separate.block_tokens =
      absl::GetFlag(FLAGS_block_tokens);
  separate.share_prompts = false;
  const SamplingOptions sampling =
      Sampling(absl::GetFlag(FLAGS_k_max_response));
  GenerationEngine with(policy, sampling, shared),
      without(policy, sampling, separate);
  std::vector<SampledSequence> a, b;
  Samples with_seconds, without_seconds;
  TimePairs(
      Stopwatch(), [&] { a = RunOrExit(with, requests, 5); },
      [&] { b = RunOrExit(without, requests, 5); }, repeats, &with_seconds,
      &without_seconds);
  bool same = a.size() == b.size();
  for (size_t i = 0; same && i < a.size(); ++i) {
    same = a[i].response == b[i].response;
  }
  Json shapes = Shapes(c);
  shapes["k"] = k;
  shapes["prompts"] = requests.size();
  shapes["prompt_tokens"] = prompt;
  shapes["response"] = {4, absl::GetFlag(FLAGS_k_max_response)};
  PrintFigure("shared_prompt_speedup", Ratios(without_seconds, with_seconds),
              "x (unshared time / shared time, same pair)", shapes,
              same ? "ok" : "shared and unshared samples differ");
}

// Decode steps of `batch` sequences with --context tokens each, as the
// engine runs them (the paged step, the forward, the next-token choice).
class DecodeSteps {
 public:
  DecodeSteps(LanguageModel& policy, int batch)
      : policy_(policy),
        context_(absl::GetFlag(FLAGS_context)),
        pool_(1 + batch * BlocksEach(context_),
              absl::GetFlag(FLAGS_block_tokens)),
        tables_(batch),
        streams_(SequenceStreams(3, 0, batch)),
        next_(torch::full({batch, 1}, 3, torch::kInt64)) {
    for (auto& table : tables_) {
      for (int64_t b = 0; b < BlocksEach(context_); ++b) {
        table.push_back(*pool_.Allocate());
      }
    }
    for (auto& s : streams_) stream_pointers_.push_back(&s);
    torch::NoGradGuard no_grad;
    ScopedEvalMode eval(*policy_);
    // Fill the context (the pool's tensors come with the first step).
    std::vector<PagedRow> rows;
    for (auto& table : tables_) rows.push_back({&table, 0, context_});
    torch::Tensor tokens =
        torch::randint(3, policy_->config().vocab_size, {batch, context_});
    PagedStep fill(pool_, rows, torch::kCPU);
    policy_->forward(tokens, torch::ones_like(tokens), &fill);
  }

  // One step; it writes the same slot each time, so every step is alike.
  void Step() {
    torch::NoGradGuard no_grad;
    ScopedEvalMode eval(*policy_);
    std::vector<PagedRow> rows;
    for (auto& table : tables_) rows.push_back({&table, context_, 1});
    PagedStep paged(pool_, rows, torch::kCPU);
    torch::Tensor logits =
        policy_->forward(next_, torch::ones_like(next_), &paged).select(1, 0);
    ChooseNextTokens(logits, sampling_, stream_pointers_);
  }

 private:
  static int64_t BlocksEach(int64_t context) {
    const int64_t block = absl::GetFlag(FLAGS_block_tokens);
    return (context + 1 + block - 1) / block;
  }

  LanguageModel& policy_;
  int64_t context_;
  PagedKvPool pool_;
  std::vector<std::vector<int64_t>> tables_;
  std::vector<at::Generator> streams_;
  std::vector<at::Generator*> stream_pointers_;
  torch::Tensor next_;
  const SamplingOptions sampling_;
};

// One decode step's time against the time reading its bytes once takes at
// the copy bandwidth.
void DecodeRoofline(LanguageModel& policy, int batch, int repeats) {
  const TransformerConfig& c = policy->config();
  const int context = absl::GetFlag(FLAGS_context);
  DecodeSteps steps(policy, batch);
  auto step = [&] { steps.Step(); };
  const int64_t copy_bytes = int64_t{absl::GetFlag(FLAGS_copy_mb)} << 20;
  torch::Tensor source = torch::rand({copy_bytes / 4});
  torch::Tensor destination = torch::empty_like(source);
  Samples step_seconds, copy_seconds;
  TimePairs(
      Stopwatch(), step, [&] { destination.copy_(source); }, repeats,
      &step_seconds, &copy_seconds);
  // Read once: every parameter (the embedding's one row per token is
  // negligible, the LM head is the tied embedding or its own matrix), and
  // the live keys and values.
  double weight_bytes = 0;
  for (const torch::Tensor& p : policy->parameters()) {
    weight_bytes += p.numel() * p.element_size();
  }
  const double kv_per_token =
      2.0 * c.n_layers * c.kv_heads() * c.head_dim() * sizeof(float);
  const double bytes = weight_bytes + kv_per_token * batch * (context + 1);
  Samples fractions;
  for (size_t i = 0; i < step_seconds.size(); ++i) {
    // A copy reads and writes each byte: bandwidth = 2 · size / time.
    const double bandwidth = 2.0 * copy_bytes / copy_seconds[i];
    fractions.push_back(bytes / bandwidth / step_seconds[i]);
  }
  Json shapes = Shapes(c);
  shapes["batch"] = batch;
  shapes["context"] = context;
  shapes["bytes_read"] = bytes;
  const std::string b = "_b" + std::to_string(batch);
  PrintFigure("decode_step_seconds" + b, step_seconds, "s", shapes, "ok");
  PrintFigure("copy_bandwidth_bytes_per_second" + b,
              Rates(copy_seconds, 2.0 * copy_bytes), "bytes/s", shapes, "ok");
  PrintFigure("decode_memory_roofline_fraction" + b, fractions,
              "x (bytes / copy bandwidth / step time, same pair)", shapes,
              "ok");
}

// Runs `work` once, then once more under LibTorch's profiler into `path`.
void ProfileInto(const std::string& path, const std::function<void()>& work) {
  work();
  {
    torch::autograd::profiler::RecordProfile profile(path);
    work();
  }
  std::cerr << "metarm_generation_bench: profile in " << path << "\n";
}

void Profile(LanguageModel& policy, const std::string& prefix) {
  const std::vector<GenerationRequest> requests =
      MixedRequests(policy->config());
  GenerationEngine engine(policy, Sampling(absl::GetFlag(FLAGS_max_response)),
                          MixedEngineOptions());
  ProfileInto(prefix + "_engine.json",
              [&] { RunOrExit(engine, requests, kMixedSeed); });
  ProfileInto(prefix + "_static.json", [&] {
    int64_t cache_tokens = 0, rows = 0, passes = 0;
    StaticRun(policy, requests, absl::GetFlag(FLAGS_slots), kMixedSeed,
              &cache_tokens, &rows, &passes);
  });
  for (int batch : {1, 16}) {
    DecodeSteps steps(policy, batch);
    ProfileInto(prefix + "_decode_b" + std::to_string(batch) + ".json", [&] {
      for (int i = 0; i < 10; ++i) steps.Step();
    });
  }
}

int Run() {
  const int threads = absl::GetFlag(FLAGS_threads);
  if (threads > 0) torch::set_num_threads(threads);
  torch::manual_seed(0);
  LanguageModel policy(Config());
  if (!absl::GetFlag(FLAGS_profile).empty()) {
    Profile(policy, absl::GetFlag(FLAGS_profile));
    return 0;
  }
  const int repeats = absl::GetFlag(FLAGS_repeats);
  MixedWorkload(policy, repeats);
  SharedPrompts(policy, repeats);
  DecodeRoofline(policy, 1, repeats);
  DecodeRoofline(policy, 16, repeats);
  return 0;
}

}  // namespace
}  // namespace metarm

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return metarm::Run();
}
