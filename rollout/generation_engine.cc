#include "rollout/generation_engine.h"

#include <algorithm>
#include <deque>
#include <map>
#include <stdexcept>
#include <string>

#include "absl/status/status.h"
#include "rollout/paged_kv_pool.h"

namespace metarm {
namespace {

// A request (or what is left of it after a restart) waiting for a slot.
struct Waiting {
  int64_t request = 0;
  std::vector<int64_t> sequences;  // global sequence indices
};

struct Sequence {
  int64_t index = 0;
  int64_t request = 0;
  int64_t admitted = 0;  // admission order of its request
  std::vector<int64_t> table;
  int64_t length = 0;   // tokens in the pool
  int64_t pending = 0;  // sampled, not yet in the pool
  at::Generator stream;
};

// The state of one GenerationEngine::Run.
class EngineRun {
 public:
  EngineRun(LanguageModel& policy, const SamplingOptions& sampling,
            const EngineOptions& options,
            const std::vector<GenerationRequest>& requests,
            uint64_t stream_seed, int64_t first_sequence, int64_t pool_blocks,
            EngineStats& stats)
      : policy_(policy),
        sampling_(sampling),
        options_(options),
        requests_(requests),
        stream_seed_(stream_seed),
        first_sequence_(first_sequence),
        device_(ModuleDevice(*policy)),
        pool_(pool_blocks, options.block_tokens),
        stats_(stats) {
    int64_t next = 0;
    for (int64_t r = 0; r < static_cast<int64_t>(requests.size()); ++r) {
      Waiting w{r, {}};
      for (int64_t j = 0; j < requests[r].responses; ++j) {
        w.sequences.push_back(next++);
      }
      waiting_.push_back(std::move(w));
    }
    out_.resize(next);
    stats_.pool_blocks = pool_.usable_blocks();
  }

  std::vector<SampledSequence> Run() {
    while (!waiting_.empty() || !active_.empty()) {
      std::vector<Waiting> admitted = Admit();
      if (admitted.empty() && active_.empty()) {
        // Run() checked that every request fits an empty pool.
        throw std::logic_error("generation engine: nothing can run");
      }
      if (!admitted.empty()) Prefill(admitted);
      if (!active_.empty()) Decode();
    }
    if (block_fill_samples_ > 0) {
      stats_.mean_block_fill = block_fill_sum_ / block_fill_samples_;
    }
    if (pool_.bytes() > 0) {
      stats_.kv_bytes_per_token =
          pool_.bytes() / ((pool_.usable_blocks() + 1) * pool_.block_tokens());
    }
    return std::move(out_);
  }

 private:
  int64_t NewTokens(const GenerationRequest& request) const {
    return request.max_new_tokens > 0 ? request.max_new_tokens
                                      : sampling_.max_new_tokens;
  }

  // Blocks a waiting request takes at admission: its prompt's, and one per
  // response for its first stored token.
  // (never more than it can need at most, which the pool holds).
  int64_t AdmissionBlocks(const Waiting& w) const {
    const int64_t p = static_cast<int64_t>(requests_[w.request].prompt.size());
    const int64_t prompt = CeilDiv(p, options_.block_tokens);
    const int64_t k = static_cast<int64_t>(w.sequences.size());
    return std::min(
        (options_.share_prompts ? prompt : k * prompt) + k,
        WorstCaseBlocks(p, k, NewTokens(requests_[w.request]),
                        options_.block_tokens, options_.share_prompts));
  }

  // Waiting requests, in order, while slots and blocks allow. After a
  // restart none is admitted until a sequence ends and frees its blocks, so
  // that the restarted request does not take back the blocks at once.
  std::vector<Waiting> Admit() {
    std::vector<Waiting> admitted;
    int64_t slots =
        options_.max_sequences - static_cast<int64_t>(active_.size());
    int64_t blocks = pool_.free_blocks();
    while (!waiting_.empty() && !(admission_paused_ && !active_.empty())) {
      const Waiting& w = waiting_.front();
      const int64_t k = static_cast<int64_t>(w.sequences.size());
      const int64_t need = AdmissionBlocks(w);
      if (k > slots || need > blocks) break;
      slots -= k;
      blocks -= need;
      admitted.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
    }
    if (active_.empty()) admission_paused_ = false;
    return admitted;
  }

  // Stores the admitted prompts' keys and values (one row per prompt when
  // shared, else one per response) and samples every response's first
  // token from the prompt's last logits.
  void Prefill(const std::vector<Waiting>& admitted) {
    std::vector<std::vector<int64_t>> tables;
    std::vector<const TokenSequence*> prompts;
    std::vector<int64_t> row_of_sequence;
    for (const Waiting& w : admitted) {
      const TokenSequence& prompt = requests_[w.request].prompt;
      const int64_t rows =
          options_.share_prompts ? 1 : static_cast<int64_t>(w.sequences.size());
      for (int64_t r = 0; r < rows; ++r) {
        std::vector<int64_t> table;
        for (int64_t b = 0; b < CeilDiv(static_cast<int64_t>(prompt.size()),
                                        options_.block_tokens);
             ++b) {
          table.push_back(*pool_.Allocate());  // admission counted them
        }
        tables.push_back(std::move(table));
        prompts.push_back(&prompt);
      }
    }
    torch::Tensor last_logits = RunPrefill(tables, prompts);
    // The responses take over the prompt rows' blocks.
    std::vector<at::Generator*> streams;
    std::vector<int64_t> rows;
    int64_t row = 0;
    for (const Waiting& w : admitted) {
      const int64_t admitted_at = admissions_++;
      for (size_t j = 0; j < w.sequences.size(); ++j) {
        const int64_t source = options_.share_prompts ? row : row + j;
        Sequence s;
        s.index = w.sequences[j];
        s.request = w.request;
        s.admitted = admitted_at;
        s.table = tables[source];
        for (int64_t block : s.table) pool_.Retain(block);
        s.length = static_cast<int64_t>(requests_[w.request].prompt.size());
        s.stream = SequenceStream(stream_seed_, first_sequence_ + s.index);
        active_.push_back(std::move(s));
        rows.push_back(source);
      }
      row +=
          options_.share_prompts ? 1 : static_cast<int64_t>(w.sequences.size());
    }
    for (const std::vector<int64_t>& table : tables) {
      for (int64_t block : table) pool_.Release(block);
    }
    const size_t first = active_.size() - rows.size();
    for (size_t i = first; i < active_.size(); ++i) {
      streams.push_back(&active_[i].stream);
    }
    torch::Tensor index = torch::tensor(rows, torch::kInt64).to(device_);
    NextTokens chosen = ChooseNextTokens(last_logits.index_select(0, index),
                                         sampling_, streams);
    Accept(chosen, first);
  }

  // One forward over the prompts (right-padded); their last logits [R, V].
  torch::Tensor RunPrefill(const std::vector<std::vector<int64_t>>& tables,
                           const std::vector<const TokenSequence*>& prompts) {
    std::vector<TokenSequence> rows;
    std::vector<PagedRow> paged;
    std::vector<int64_t> last;
    for (size_t r = 0; r < prompts.size(); ++r) {
      rows.push_back(*prompts[r]);
      const int64_t length = static_cast<int64_t>(prompts[r]->size());
      paged.push_back({&tables[r], 0, length});
      last.push_back(length - 1);
      stats_.prompt_tokens += length;
    }
    TokenBatch batch = PadSequences(rows, Padding::kRight).To(device_);
    stats_.computed_rows += batch.tokens.numel();
    ++stats_.prefill_steps;
    PagedStep step(pool_, paged, device_);
    torch::Tensor logits = policy_->forward(batch.tokens, batch.mask, &step);
    torch::Tensor at = torch::tensor(last, torch::kInt64).to(device_);
    return logits.gather(1, at.view({-1, 1, 1}).expand({-1, 1, logits.size(2)}))
        .squeeze(1);
  }

  // Takes the chosen tokens of active_[first...] and retires the sequences
  // that ended.
  void Accept(const NextTokens& chosen, size_t first) {
    const torch::Tensor tokens = chosen.tokens.to(torch::kCPU).contiguous();
    const torch::Tensor logprobs = chosen.logprobs.to(torch::kCPU).contiguous();
    std::vector<Sequence> kept(active_.begin(), active_.begin() + first);
    for (size_t i = first; i < active_.size(); ++i) {
      Sequence& s = active_[i];
      const int64_t token = tokens[i - first].item<int64_t>();
      SampledSequence& out = out_[s.index];
      out.response.push_back(token);
      out.logprobs.push_back(logprobs[i - first].item<double>());
      ++stats_.response_tokens;
      const bool ended =
          sampling_.Ends(token) || static_cast<int64_t>(out.response.size()) >=
                                       NewTokens(requests_[s.request]);
      if (ended) {
        for (int64_t block : s.table) pool_.Release(block);
        admission_paused_ = false;
      } else {
        s.pending = token;
        kept.push_back(std::move(s));
      }
    }
    active_ = std::move(kept);
  }

  // Finds every active sequence a slot for its pending token, restarting
  // the latest admitted request while the pool is short.
  void ReserveSlots() {
    for (size_t i = 0; i < active_.size();) {
      if (pool_.MakeWritable(active_[i].table, active_[i].length)) {
        ++i;
        continue;
      }
      Restart(LatestAdmitted());
      i = 0;
    }
  }

  int64_t LatestAdmitted() const {
    int64_t latest = -1, request = -1;
    for (const Sequence& s : active_) {
      if (s.admitted > latest) latest = s.admitted, request = s.request;
    }
    return request;
  }

  // Gives back the request's blocks and sends its unfinished responses back
  // to wait, to start again from their streams' beginning.
  void Restart(int64_t request) {
    Waiting w{request, {}};
    std::vector<Sequence> kept;
    for (Sequence& s : active_) {
      if (s.request != request) {
        kept.push_back(std::move(s));
        continue;
      }
      for (int64_t block : s.table) pool_.Release(block);
      stats_.response_tokens -=
          static_cast<int64_t>(out_[s.index].response.size());
      out_[s.index] = {};
      w.sequences.push_back(s.index);
    }
    active_ = std::move(kept);
    std::sort(w.sequences.begin(), w.sequences.end());
    waiting_.push_front(std::move(w));
    admission_paused_ = true;
    ++stats_.restarts;
  }

  // One token for every active sequence.
  void Decode() {
    ReserveSlots();
    if (active_.empty()) return;
    std::vector<PagedRow> paged;
    std::vector<int64_t> pending;
    std::vector<at::Generator*> streams;
    for (Sequence& s : active_) {
      paged.push_back({&s.table, s.length, 1});
      pending.push_back(s.pending);
      streams.push_back(&s.stream);
    }
    RecordBlockFill();
    const int64_t rows = static_cast<int64_t>(active_.size());
    torch::Tensor tokens =
        torch::tensor(pending, torch::kInt64).view({rows, 1}).to(device_);
    torch::Tensor mask = torch::ones_like(tokens);
    PagedStep step(pool_, paged, device_);
    torch::Tensor logits = policy_->forward(tokens, mask, &step).select(1, 0);
    for (Sequence& s : active_) ++s.length;
    stats_.computed_rows += rows;
    ++stats_.decode_steps;
    Accept(ChooseNextTokens(logits, sampling_, streams), 0);
  }

  // The filled share of the used blocks' slots (a shared block counted
  // once, filled as far as its longest holder).
  void RecordBlockFill() {
    std::map<int64_t, int64_t> fill;
    const int64_t block = options_.block_tokens;
    for (const Sequence& s : active_) {
      // The pending token's slot is reserved and counts as filled.
      const int64_t tokens = s.length + 1;
      for (size_t b = 0; b < s.table.size(); ++b) {
        const int64_t filled =
            std::min(block, tokens - static_cast<int64_t>(b) * block);
        int64_t& f = fill[s.table[b]];
        f = std::max(f, filled);
      }
    }
    int64_t filled = 0;
    for (const auto& [id, f] : fill) filled += f;
    const int64_t used = pool_.used_blocks();
    stats_.peak_used_blocks = std::max(stats_.peak_used_blocks, used);
    if (used > 0) {
      block_fill_sum_ += static_cast<double>(filled) / (used * block);
      ++block_fill_samples_;
      stats_.max_waste_per_sequence =
          std::max(stats_.max_waste_per_sequence,
                   static_cast<double>(used * block - filled) /
                       static_cast<double>(active_.size()));
    }
  }

  LanguageModel& policy_;
  const SamplingOptions& sampling_;
  const EngineOptions& options_;
  const std::vector<GenerationRequest>& requests_;
  uint64_t stream_seed_;
  int64_t first_sequence_;
  torch::Device device_;
  PagedKvPool pool_;
  EngineStats& stats_;
  std::deque<Waiting> waiting_;
  std::vector<Sequence> active_;
  std::vector<SampledSequence> out_;
  int64_t admissions_ = 0;
  bool admission_paused_ = false;
  double block_fill_sum_ = 0.0;
  int64_t block_fill_samples_ = 0;
};

}  // namespace

GenerationEngine::GenerationEngine(LanguageModel& policy,
                                   const SamplingOptions& sampling,
                                   const EngineOptions& options)
    : policy_(policy), sampling_(sampling), options_(options) {}

absl::StatusOr<std::vector<SampledSequence>> GenerationEngine::Run(
    const std::vector<GenerationRequest>& requests, uint64_t stream_seed,
    int64_t first_sequence) {
  stats_ = {};
  if (options_.max_sequences < 1 || options_.block_tokens < 1) {
    return absl::InvalidArgumentError(
        "generation engine: max_sequences and block_tokens must be >= 1");
  }
  const int64_t max_len = policy_->config().max_seq_len;
  int64_t longest = 0, needed = 0, sequences = 0;
  for (size_t r = 0; r < requests.size(); ++r) {
    const GenerationRequest& q = requests[r];
    const int64_t p = static_cast<int64_t>(q.prompt.size());
    const std::string which = "generation request " + std::to_string(r) + ": ";
    if (p == 0 || q.responses < 1) {
      return absl::InvalidArgumentError(which + "empty prompt or no response");
    }
    if (q.responses > options_.max_sequences) {
      return absl::InvalidArgumentError(
          which + std::to_string(q.responses) +
          " responses to one prompt, more than max_sequences " +
          std::to_string(options_.max_sequences));
    }
    const int64_t new_tokens =
        q.max_new_tokens > 0 ? q.max_new_tokens : sampling_.max_new_tokens;
    if (q.max_new_tokens < 0 || q.max_new_tokens > sampling_.max_new_tokens) {
      return absl::InvalidArgumentError(
          which + "max_new_tokens " + std::to_string(q.max_new_tokens) +
          " outside [0, " + std::to_string(sampling_.max_new_tokens) + "]");
    }
    if (p + new_tokens > max_len) {
      return absl::InvalidArgumentError(
          which + "a prompt of " + std::to_string(p) + " tokens plus " +
          std::to_string(new_tokens) +
          " new ones is longer than the policy's max_seq_len " +
          std::to_string(max_len));
    }
    longest = std::max(longest, p + new_tokens);
    sequences += q.responses;
    needed = std::max(
        needed, WorstCaseBlocks(p, q.responses, new_tokens,
                                options_.block_tokens, options_.share_prompts));
  }
  const int64_t pool_blocks =
      options_.pool_blocks > 0
          ? options_.pool_blocks
          : 1 + std::min(options_.max_sequences, sequences) *
                    CeilDiv(longest, options_.block_tokens);
  if (needed > pool_blocks - 1) {
    return absl::InvalidArgumentError(
        "generation engine: a request needs up to " + std::to_string(needed) +
        " KV blocks of " + std::to_string(options_.block_tokens) +
        " tokens, more than the pool's " + std::to_string(pool_blocks - 1));
  }
  if (requests.empty()) return std::vector<SampledSequence>{};
  torch::NoGradGuard no_grad;
  ScopedEvalMode sampling(*policy_);
  EngineRun run(policy_, sampling_, options_, requests, stream_seed,
                first_sequence, pool_blocks, stats_);
  return run.Run();
}

std::vector<GenerationRequest> Requests(
    const std::vector<TokenSequence>& prompts, int64_t responses) {
  std::vector<GenerationRequest> requests;
  requests.reserve(prompts.size());
  for (const TokenSequence& prompt : prompts) {
    requests.push_back({prompt, responses});
  }
  return requests;
}

Generation ToGeneration(const std::vector<TokenSequence>& prompts,
                        const std::vector<SampledSequence>& sampled,
                        int64_t pad_id, const torch::Device& device) {
  const int64_t rows = static_cast<int64_t>(sampled.size());
  int64_t columns = 1;
  for (const SampledSequence& s : sampled) {
    columns = std::max(columns, static_cast<int64_t>(s.response.size()));
  }
  torch::Tensor tokens = torch::full({rows, columns}, pad_id, torch::kInt64);
  torch::Tensor mask = torch::zeros({rows, columns}, torch::kInt64);
  torch::Tensor logprobs = torch::zeros({rows, columns}, torch::kFloat64);
  auto t = tokens.accessor<int64_t, 2>();
  auto m = mask.accessor<int64_t, 2>();
  auto l = logprobs.accessor<double, 2>();
  for (int64_t r = 0; r < rows; ++r) {
    for (size_t c = 0; c < sampled[r].response.size(); ++c) {
      t[r][c] = sampled[r].response[c];
      m[r][c] = 1;
      l[r][c] = sampled[r].logprobs[c];
    }
  }
  Generation out;
  TokenBatch prompt_batch = PadSequences(prompts, Padding::kLeft).To(device);
  out.responses = TokenBatch{tokens, mask}.To(device);
  out.sequences = {torch::cat({prompt_batch.tokens, out.responses.tokens}, 1),
                   torch::cat({prompt_batch.mask, out.responses.mask}, 1)};
  out.logprobs = logprobs.to(torch::kFloat32).to(device);
  return out;
}

}  // namespace metarm
