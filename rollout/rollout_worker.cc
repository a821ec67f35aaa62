#include "rollout/rollout_worker.h"

#include <chrono>

#include "util/status_macros.h"

namespace metarm {

absl::StatusOr<Experience> BuildExperience(
    const RolloutModels& models, const std::vector<std::string>& prompts,
    const GenerationSettings& settings, SampleStreams streams,
    const Tokenizer& tokenizer, int64_t policy_version) {
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  std::vector<TokenSequence> rows;
  for (const std::string& prompt : prompts) {
    TokenSequence row{tokenizer.bos_id()};
    TokenSequence encoded = tokenizer.Encode(prompt);
    row.insert(row.end(), encoded.begin(), encoded.end());
    rows.push_back(std::move(row));
  }
  GenerationEngine engine(*models.policy, settings.sampling, settings.engine);
  METARM_ASSIGN_OR_RETURN(
      std::vector<SampledSequence> sampled,
      engine.Run(Requests(rows, 1), streams.seed, streams.first));
  const Generation generation = ToGeneration(
      rows, sampled, settings.sampling.pad_id, ModuleDevice(**models.policy));
  const Clock::time_point generated_at = Clock::now();
  torch::NoGradGuard no_grad;
  Experience e;
  e.policy_version = policy_version;
  e.sequences = generation.sequences;
  e.prompt_columns =
      generation.sequences.tokens.size(1) - generation.responses.tokens.size(1);
  e.response_mask = generation.responses.mask;
  // Scoring in eval mode: no dropout noise in log-probabilities or scores.
  ScopedEvalMode policy_mode(**models.policy);
  ScopedEvalMode reference_mode(**models.reference);
  ScopedEvalMode reward_mode(**models.reward_model);
  e.old_logprobs =
      ResponseLogprobs(*models.policy, e.sequences, e.prompt_columns).first *
      e.response_mask;
  e.ref_logprobs =
      ResponseLogprobs(*models.reference, e.sequences, e.prompt_columns).first *
      e.response_mask;
  e.scores =
      (*models.reward_model)->Score(e.sequences.tokens, e.sequences.mask);
  e.generation_seconds =
      std::chrono::duration<double>(generated_at - start).count();
  e.scoring_seconds =
      std::chrono::duration<double>(Clock::now() - generated_at).count();
  return e;
}

absl::StatusOr<std::vector<Experience>> ShareExperience(
    const Experience& mine, Communicator& world, const std::vector<int>& roots,
    const torch::Device& device) {
  std::vector<Experience> parts;
  for (int root : roots) {
    const bool sender = world.rank() == root;
    torch::Tensor header =
        sender ? torch::tensor(
                     {mine.size(), mine.prompt_columns,
                      mine.sequences.tokens.size(1), mine.policy_version},
                     torch::kInt64)
               : torch::zeros({4}, torch::kInt64);
    METARM_RETURN_IF_ERROR(world.Broadcast(header, root));
    torch::Tensor seconds =
        sender ? torch::tensor({mine.generation_seconds, mine.scoring_seconds},
                               torch::kFloat64)
               : torch::zeros({2}, torch::kFloat64);
    METARM_RETURN_IF_ERROR(world.Broadcast(seconds, root));
    const int64_t rows = header[0].item<int64_t>();
    const int64_t columns = header[2].item<int64_t>();
    Experience part;
    part.prompt_columns = header[1].item<int64_t>();
    part.policy_version = header[3].item<int64_t>();
    part.generation_seconds = seconds[0].item<double>();
    part.scoring_seconds = seconds[1].item<double>();
    const int64_t responses = columns - part.prompt_columns;
    auto tensor = [&](const torch::Tensor& own, std::vector<int64_t> shape,
                      torch::ScalarType type) {
      return sender ? own.to(device, type).contiguous()
                    : torch::zeros(shape,
                                   torch::TensorOptions(type).device(device));
    };
    part.sequences.tokens =
        tensor(mine.sequences.tokens, {rows, columns}, torch::kInt64);
    part.sequences.mask =
        tensor(mine.sequences.mask, {rows, columns}, torch::kInt64);
    part.response_mask =
        tensor(mine.response_mask, {rows, responses}, torch::kInt64);
    part.old_logprobs =
        tensor(mine.old_logprobs, {rows, responses}, torch::kFloat32);
    part.ref_logprobs =
        tensor(mine.ref_logprobs, {rows, responses}, torch::kFloat32);
    part.scores = tensor(mine.scores, {rows}, torch::kFloat32);
    for (torch::Tensor* t :
         {&part.sequences.tokens, &part.sequences.mask, &part.response_mask,
          &part.old_logprobs, &part.ref_logprobs, &part.scores}) {
      METARM_RETURN_IF_ERROR(world.Broadcast(*t, root));
    }
    parts.push_back(std::move(part));
  }
  return parts;
}

std::vector<std::pair<std::string, std::string>> DecodeExperience(
    const Experience& experience, const Tokenizer& tokenizer) {
  std::vector<std::pair<std::string, std::string>> texts;
  const int64_t p = experience.prompt_columns;
  // Read through accessors on host copies: one transfer, no per-token sync.
  const torch::Tensor all_tokens =
      experience.sequences.tokens.to(torch::kCPU).contiguous();
  const torch::Tensor all_masks =
      experience.sequences.mask.to(torch::kCPU).contiguous();
  auto tokens = all_tokens.accessor<int64_t, 2>();
  auto mask = all_masks.accessor<int64_t, 2>();
  for (int64_t row = 0; row < experience.size(); ++row) {
    TokenSequence prompt, response;
    for (int64_t t = 0; t < all_tokens.size(1); ++t) {
      if (mask[row][t] == 0) continue;
      (t < p ? prompt : response).push_back(tokens[row][t]);
    }
    // The response ends at its end token, which Decode drops.
    texts.emplace_back(tokenizer.Decode(prompt), tokenizer.Decode(response));
  }
  return texts;
}

}  // namespace metarm
