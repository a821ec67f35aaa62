// The GPU smoke check (deploy/gpu_smoke.sh builds and runs it): on cuda:0,
// a one-rank NCCL all-reduce, reduce-scatter and all-gather, the routing of
// CPU and CUDA tensors, the sharded AdamW (ZeRO stage 1) against the
// replicated one, a MetaRM step and a PPO update, each checked against the
// same computation on the CPU, then timings of the medium-size steps and of
// generation.
//
// Exit codes: 0 every check passed, 1 a check failed, 3 no CUDA device.
#include <ATen/CPUGeneratorImpl.h>
#include <cuda_runtime.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <stdexcept>
#include <string>

#include "comm/nccl_communicator.h"
#include "comm/routing_communicator.h"
#include "comm/solo_communicator.h"
#include "model/transformer.h"
#include "optim/data_parallel_optimizer.h"
#include "ppo/ppo_learner.h"
#include "proto/job_defaults.h"
#include "reward/reward_trainer.h"
#include "rollout/experience.h"
#include "rollout/generation_engine.h"

namespace metarm {
namespace {

struct Checks {
  int failed = 0;
  void Report(const std::string& name, bool passed, const std::string& detail) {
    std::printf("%-44s %s  %s\n", name.c_str(), passed ? "PASS" : "FAIL",
                detail.c_str());
    if (!passed) ++failed;
  }
};

// Milliseconds per call of `step`, after `warmup` calls, over `repeats`.
double MillisPerCall(const std::function<void()>& step, int warmup,
                     int repeats) {
  for (int i = 0; i < warmup; ++i) step();
  torch::cuda::synchronize();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < repeats; ++i) step();
  torch::cuda::synchronize();
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
             .count() /
         repeats;
}

TransformerConfig Config(int64_t d_model) {
  TransformerConfig config;
  config.vocab_size = 259;
  config.d_model = d_model;
  config.n_layers = 4;
  config.n_heads = d_model / 64;
  config.d_ff = 4 * d_model;
  config.max_seq_len = 256;
  return config;
}

// Rows of random tokens (ids 3.. so that none is the end token 2).
TokenBatch RandomTokens(int64_t rows, int64_t length, uint64_t seed) {
  at::Generator generator = at::detail::createCPUGenerator(seed);
  return {torch::randint(3, 259, {rows, length}, generator, torch::kInt64),
          torch::ones({rows, length}, torch::kInt64)};
}

template <typename Model>
Model CopyTo(Model& source, const torch::Device& device) {
  Model copy(source->config());
  torch::NoGradGuard no_grad;
  auto from = source->parameters();
  auto to = copy->parameters();
  for (size_t i = 0; i < to.size(); ++i) to[i].copy_(from[i]);
  copy->to(device);
  return copy;
}

double RelativeDifference(double a, double b) {
  return std::abs(a - b) / std::max(1e-6, std::max(std::abs(a), std::abs(b)));
}

void CheckNccl(Checks& checks, Communicator& nccl) {
  const int64_t elements = 16 << 20;  // 64 MB of float32
  torch::Tensor t = torch::arange(
      elements,
      torch::TensorOptions().dtype(torch::kFloat32).device(torch::kCUDA));
  torch::Tensor expected = t.clone();
  absl::Status status = nccl.AllReduce(t, ReduceOp::kSum);
  checks.Report("NCCL all-reduce, one rank (64 MB)",
                status.ok() && torch::equal(t, expected),
                status.ok() ? "sum over one rank is the tensor"
                            : std::string(status.message()));
  if (!status.ok()) return;
  const double ms =
      MillisPerCall([&] { (void)nccl.AllReduce(t, ReduceOp::kSum); }, 3, 20);
  std::printf(
      "  time: %.3f ms per 64 MB all-reduce (one rank: launch and "
      "local copy only)\n",
      ms);
}

void CheckScatterGather(Checks& checks, Communicator& nccl) {
  const auto cuda = torch::TensorOptions().device(torch::kCUDA);
  torch::Tensor whole = torch::arange(1 << 20, cuda.dtype(torch::kFloat32));
  torch::Tensor block = torch::zeros_like(whole);
  absl::Status scattered = nccl.ReduceScatter(whole, block, ReduceOp::kSum);
  torch::Tensor gathered = torch::zeros_like(whole);
  absl::Status gathered_status = nccl.AllGather(block, gathered);
  checks.Report("NCCL reduce-scatter and all-gather, one rank",
                scattered.ok() && gathered_status.ok() &&
                    torch::equal(block, whole) && torch::equal(gathered, whole),
                std::string(scattered.message()) +
                    std::string(gathered_status.message()));
}

// ZeRO stage 1 on the GPU: the sharded AdamW over the learners' group gives
// the replicated one's parameters.
void CheckShardedAdamW(Checks& checks, Communicator& gpu_learners) {
  torch::manual_seed(5);
  LanguageModel replicated(Config(64));
  replicated->to(torch::kCUDA);
  LanguageModel sharded = CopyTo(replicated, torch::kCUDA);
  const auto options = torch::optim::AdamWOptions(1e-3).weight_decay(0.01);
  auto whole = MakeDataParallelAdamW(replicated->parameters(), options,
                                     gpu_learners, false);
  auto shard =
      MakeDataParallelAdamW(sharded->parameters(), options, gpu_learners, true);
  absl::Status status = whole.ok() ? shard.status() : whole.status();
  for (int step = 0; status.ok() && step < 3; ++step) {
    for (auto [model, optimizer] : {std::make_pair(&replicated, whole->get()),
                                    std::make_pair(&sharded, shard->get())}) {
      torch::manual_seed(100 + step);
      for (torch::Tensor& p : (*model)->parameters()) {
        p.mutable_grad() = torch::randn_like(p);
      }
      status = optimizer->ReduceGradients(GradientReduction::kAverage);
      if (status.ok()) status = optimizer->Step();
      if (!status.ok()) break;
    }
  }
  double most = 0;
  if (status.ok()) {
    auto a = replicated->parameters();
    auto b = sharded->parameters();
    for (size_t i = 0; i < a.size(); ++i) {
      most = std::max(most, (a[i] - b[i]).abs().max().item<double>());
    }
  }
  char detail[96];
  std::snprintf(detail, sizeof(detail), "max |sharded - replicated| %.2g",
                most);
  checks.Report("sharded AdamW (ZeRO-1) equals replicated",
                status.ok() && most <= 1e-6,
                status.ok() ? detail : std::string(status.message()));
}

void CheckRouting(Checks& checks, std::unique_ptr<Communicator> nccl) {
  // Forced MPI-like host backend with a CUDA tensor: staged through host
  // memory. Forced device backend with a CPU tensor: staged on the GPU.
  RoutingCommunicator host_only(
      std::make_unique<SoloCommunicator>("host"),
      {TensorBackend::kHost, torch::Device("cuda:0")});
  torch::Tensor on_gpu = torch::arange(1000, torch::kFloat32).cuda();
  absl::Status a = host_only.AllReduce(on_gpu, ReduceOp::kAverage);
  RoutingCommunicator device_only(
      std::make_unique<SoloCommunicator>("host"),
      {TensorBackend::kDevice, torch::Device("cuda:0")});
  device_only.SetDeviceBackend(std::move(nccl));
  torch::Tensor on_cpu = torch::arange(1000, torch::kFloat32);
  absl::Status b = device_only.AllReduce(on_cpu, ReduceOp::kSum);
  const torch::Tensor want = torch::arange(1000, torch::kFloat32);
  checks.Report("routing: CUDA tensor staged through the host",
                a.ok() && on_gpu.is_cuda() && torch::equal(on_gpu.cpu(), want),
                std::string(a.message()));
  checks.Report("routing: CPU tensor staged on the GPU (NCCL)",
                b.ok() && !on_cpu.is_cuda() && torch::equal(on_cpu, want),
                std::string(b.message()));
}

PreferenceBatch Pairs(int64_t n, int64_t length, uint64_t seed) {
  return {RandomTokens(n, length, seed), RandomTokens(n, length, seed + 1)};
}

MetaBatch Meta(int64_t prompts, int64_t k, int64_t length, uint64_t seed) {
  return {RandomTokens(prompts * k, length, seed), k};
}

void CheckMetaRmStep(Checks& checks, Communicator& gpu_learners) {
  torch::manual_seed(7);
  ScalarModel cpu_model(Config(128));
  ScalarModel gpu_model = CopyTo(cpu_model, torch::Device("cuda:0"));
  SoloCommunicator cpu_learners("cpu");
  RewardTrainerOptions options;  // METARM, η 0.1
  RewardTrainer on_cpu(cpu_model, options, cpu_learners);
  RewardTrainer on_gpu(gpu_model, options, gpu_learners);
  const PreferenceBatch pairs = Pairs(16, 64, 11);
  const MetaBatch meta = Meta(8, 4, 64, 13);
  absl::StatusOr<RewardStepStats> cpu = on_cpu.Step(pairs, &meta);
  absl::StatusOr<RewardStepStats> gpu = on_gpu.Step(pairs, &meta);
  if (!cpu.ok() || !gpu.ok()) {
    checks.Report("MetaRM step on cuda:0 vs CPU", false,
                  std::string((cpu.ok() ? gpu : cpu).status().message()));
    return;
  }
  // The gradients the step used (left in .grad by the optimizer step): the
  // weights themselves can differ by up to 2 learning rates where AdamW's
  // first step divides a near-zero gradient by its own magnitude.
  double gradient_difference = 0, gradient_scale = 0;
  auto a = cpu_model->parameters();
  auto b = gpu_model->parameters();
  for (size_t i = 0; i < a.size(); ++i) {
    gradient_difference =
        std::max(gradient_difference,
                 (a[i].grad() - b[i].grad().cpu()).abs().max().item<double>());
    gradient_scale =
        std::max(gradient_scale, a[i].grad().abs().max().item<double>());
  }
  const double gradient = gradient_difference / std::max(1e-30, gradient_scale);
  const double loss = RelativeDifference(cpu->loss, gpu->loss);
  const double j = RelativeDifference(cpu->objective, gpu->objective);
  const double j_after =
      RelativeDifference(cpu->objective_after, gpu->objective_after);
  char detail[256];
  std::snprintf(detail, sizeof(detail),
                "rel. diff loss %.1e, J %.1e, J after %.1e, gradient %.1e",
                loss, j, j_after, gradient);
  checks.Report("MetaRM step on cuda:0 vs CPU",
                loss < 1e-3 && j < 1e-3 && j_after < 1e-3 && gradient < 1e-3,
                detail);
}

// Prompt + sampled response, scored: what a rollout worker hands the
// learners (rollout/rollout_worker.cc, without the tokenizer).
Experience Rollout(LanguageModel& policy, LanguageModel& reference,
                   ScalarModel& reward_model, const TokenBatch& prompts,
                   int64_t new_tokens, uint64_t seed) {
  // The generation engine, as the rollout workers sample.
  SamplingOptions options;
  options.max_new_tokens = new_tokens;
  const torch::Tensor tokens = prompts.tokens.to(torch::kCPU).contiguous();
  const torch::Tensor mask = prompts.mask.to(torch::kCPU).contiguous();
  std::vector<TokenSequence> rows(prompts.size());
  for (int64_t r = 0; r < prompts.size(); ++r) {
    for (int64_t t = 0; t < tokens.size(1); ++t) {
      if (mask[r][t].item<int64_t>() != 0) {
        rows[r].push_back(tokens[r][t].item<int64_t>());
      }
    }
  }
  GenerationEngine engine(policy, options, EngineOptions{});
  absl::StatusOr<std::vector<SampledSequence>> sampled =
      engine.Run(Requests(rows, 1), seed);
  if (!sampled.ok()) throw std::runtime_error(sampled.status().ToString());
  Generation generation =
      ToGeneration(rows, *sampled, options.pad_id, ModuleDevice(*policy));
  torch::NoGradGuard no_grad;
  Experience e;
  e.sequences = generation.sequences;
  e.prompt_columns = prompts.tokens.size(1);
  e.response_mask = generation.responses.mask;
  policy->eval();
  e.old_logprobs =
      ResponseLogprobs(policy, e.sequences, e.prompt_columns).first *
      e.response_mask;
  policy->train();
  e.ref_logprobs =
      ResponseLogprobs(reference, e.sequences, e.prompt_columns).first *
      e.response_mask;
  e.scores = reward_model->Score(e.sequences.tokens, e.sequences.mask);
  return e;
}

PpoSpec SmokePpoSpec() {
  Job job;
  ApplyJobDefaults(&job);
  PpoSpec spec = job.ppo();
  spec.set_minibatch_size(8);
  spec.set_epochs(1);
  return spec;
}

void CheckPpoUpdate(Checks& checks, Communicator& gpu_learners) {
  const torch::Device cuda0("cuda:0");
  torch::manual_seed(17);
  LanguageModel cpu_policy(Config(128));
  ScalarModel cpu_critic(Config(128));
  ScalarModel cpu_reward(Config(128));
  LanguageModel cpu_reference = CopyTo(cpu_policy, torch::kCPU);
  LanguageModel gpu_policy = CopyTo(cpu_policy, cuda0);
  LanguageModel gpu_reference = CopyTo(cpu_policy, cuda0);
  ScalarModel gpu_critic = CopyTo(cpu_critic, cuda0);
  ScalarModel gpu_reward = CopyTo(cpu_reward, cuda0);
  const TokenBatch prompts = RandomTokens(16, 16, 23);
  Experience cpu_batch =
      Rollout(cpu_policy, cpu_reference, cpu_reward, prompts, 24, 29);
  Experience gpu_batch =
      Rollout(gpu_policy, gpu_reference, gpu_reward, prompts, 24, 29);
  // The draws are made on the CPU from one seed, so both devices sample the
  // same tokens unless a probability differs right at a draw's boundary.
  const bool same_tokens = torch::equal(cpu_batch.sequences.tokens,
                                        gpu_batch.sequences.tokens.cpu());
  checks.Report("generation on cuda:0: same tokens as CPU", same_tokens,
                "16 prompts x 24 new tokens, one seed");
  if (!same_tokens) return;
  SoloCommunicator cpu_learners("cpu");
  const PpoSpec spec = SmokePpoSpec();
  PpoLearner on_cpu(cpu_policy, cpu_critic, spec, cpu_learners);
  PpoLearner on_gpu(gpu_policy, gpu_critic, spec, gpu_learners);
  absl::StatusOr<PpoStats> cpu = on_cpu.Update(cpu_batch, 31);
  absl::StatusOr<PpoStats> gpu = on_gpu.Update(gpu_batch, 31);
  if (!cpu.ok() || !gpu.ok()) {
    checks.Report("PPO update on cuda:0 vs CPU", false,
                  std::string((cpu.ok() ? gpu : cpu).status().message()));
    return;
  }
  const double policy = std::abs(cpu->policy_loss - gpu->policy_loss);
  const double value = RelativeDifference(cpu->value_loss, gpu->value_loss);
  const double kl = std::abs(cpu->kl_to_reference - gpu->kl_to_reference);
  char detail[256];
  std::snprintf(detail, sizeof(detail),
                "|Δ policy loss| %.1e, rel. Δ value loss %.1e, |Δ KL| %.1e, "
                "%lld steps",
                policy, value, kl, static_cast<long long>(gpu->steps));
  checks.Report(
      "PPO update on cuda:0 vs CPU",
      policy < 1e-4 && value < 1e-3 && kl < 1e-4 && gpu->skipped_steps == 0,
      detail);
}

// Medium size (d_model 512, 4 layers, 128 tokens): time per step on cuda:0.
void TimeMediumSteps(Communicator& gpu_learners) {
  const torch::Device cuda0("cuda:0");
  torch::manual_seed(41);
  ScalarModel reward(Config(512));
  reward->to(cuda0);
  const PreferenceBatch pairs = Pairs(32, 128, 43);
  const MetaBatch meta = Meta(8, 4, 128, 47);
  RewardTrainerOptions metarm;
  RewardTrainer meta_trainer(reward, metarm, gpu_learners);
  const double meta_ms =
      MillisPerCall([&] { (void)meta_trainer.Step(pairs, &meta); }, 2, 10);
  RewardTrainerOptions vanilla;
  vanilla.mode = RewardObjective::kVanilla;
  RewardTrainer vanilla_trainer(reward, vanilla, gpu_learners);
  const double vanilla_ms =
      MillisPerCall([&] { (void)vanilla_trainer.Step(pairs, nullptr); }, 2, 10);

  LanguageModel policy(Config(512));
  policy->to(cuda0);
  LanguageModel reference = CopyTo(policy, cuda0);
  ScalarModel critic = CopyTo(reward, cuda0);
  const TokenBatch prompts = RandomTokens(32, 32, 53);
  Experience batch;
  const double generate_ms = MillisPerCall(
      [&] { batch = Rollout(policy, reference, reward, prompts, 96, 59); }, 1,
      3);
  PpoSpec spec = SmokePpoSpec();
  spec.set_minibatch_size(16);
  PpoLearner ppo(policy, critic, spec, gpu_learners);
  const double ppo_ms =
      MillisPerCall([&] { (void)ppo.Update(batch, 61); }, 1, 5);
  std::printf(
      "\nTimings on cuda:0, d_model 512, 4 layers (this machine):\n"
      "  MetaRM step, 32 pairs + 8x4 meta responses of 128 tokens: %8.2f ms\n"
      "  vanilla RM step, 32 pairs of 128 tokens:                   %8.2f ms\n"
      "  rollout, 32 prompts of 32 tokens + 96 new, KV cache, scored: %6.2f ms"
      " (%.0f new tokens/s)\n"
      "  PPO update, 32 sequences of 128 tokens, minibatch 16:      %8.2f ms\n",
      meta_ms, vanilla_ms, generate_ms, 32 * 96 / (generate_ms / 1000.0),
      ppo_ms);
}

int Run() {
  if (!torch::cuda::is_available()) {
    std::printf(
        "gpu_smoke: needs a CUDA device, and LibTorch sees none (a CPU-only "
        "LibTorch, no GPU, or CUDA_VISIBLE_DEVICES empty)\n");
    return 3;
  }
  cudaDeviceProp properties;
  cudaGetDeviceProperties(&properties, 0);
  std::printf(
      "gpu_smoke on cuda:0: %s, %d multiprocessors, %.0f GiB; "
      "LibTorch %s\n\n",
      properties.name, properties.multiProcessorCount,
      properties.totalGlobalMem / double(1 << 30), TORCH_VERSION);
  Checks checks;
  SoloCommunicator solo("smoke");
  absl::StatusOr<std::unique_ptr<Communicator>> nccl =
      CreateNcclCommunicator(solo, 0);
  if (!nccl.ok()) {
    checks.Report("NCCL communicator of one rank", false,
                  std::string(nccl.status().message()));
    return 1;
  }
  CheckNccl(checks, **nccl);
  CheckScatterGather(checks, **nccl);
  absl::StatusOr<std::unique_ptr<Communicator>> staging =
      CreateNcclCommunicator(solo, 0);
  if (staging.ok()) {
    CheckRouting(checks, *std::move(staging));
  } else {
    checks.Report("routing", false, std::string(staging.status().message()));
  }
  // The learners' group as the trainer builds it: MPI-like host, NCCL for
  // CUDA tensors.
  RoutingCommunicator learners(std::make_unique<SoloCommunicator>("learners"),
                               {TensorBackend::kAuto, torch::Device("cuda:0")});
  learners.SetDeviceBackend(*std::move(nccl));
  CheckShardedAdamW(checks, learners);
  CheckMetaRmStep(checks, learners);
  CheckPpoUpdate(checks, learners);
  TimeMediumSteps(learners);
  std::printf("\n%s: %d check(s) failed\n",
              checks.failed == 0 ? "PASS" : "FAIL", checks.failed);
  return checks.failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace metarm

int main() { return metarm::Run(); }
