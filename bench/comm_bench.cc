// metarm_comm_bench: the learner's collectives against the plain MPI call of
// the same bytes, under mpirun (bench/run.sh starts 2 ranks).
//
//   mpirun -np 2 metarm_comm_bench --d_model=512 --layers=4 --repeats=5
//
// Rank 0 prints JSON lines like metarm_learner_bench's. Figures:
//  - weight sync: BroadcastWeights (25 MB buckets) / one MPI_Bcast of the
//    whole model as a flat buffer, and one broadcast per tensor / the same;
//  - gradient all-reduce: AllReduceTensors (pack, one all-reduce, unpack) /
//    one all-reduce of an already flat buffer, as effective-bandwidth ratio.
//  - optimizer-state sharding (ZeRO stage 1): the AdamW state one learner
//    keeps, sharded / replicated (goal 1/N), the largest parameter
//    difference after three steps (goal <= 1e-6), and the reduce + step time
//    sharded / replicated.
// Checks: every rank ends with the root's weights; the all-reduced gradients
// equal the sum computed apart; the sharded state is exactly the padded
// 1/N share.
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "bench/figure.h"
#include "comm/gradient_sync.h"
#include "comm/mpi_communicator.h"
#include "comm/mpi_environment.h"
#include "comm/overlapped_reducer.h"
#include "comm/weight_sync.h"
#include "model/transformer.h"
#include "nlohmann/json.hpp"
#include "optim/data_parallel_optimizer.h"

ABSL_FLAG(int, d_model, 512, "Model width.");
ABSL_FLAG(int, layers, 4, "Transformer blocks.");
ABSL_FLAG(int, repeats, 5, "Timed repetitions (after one warm-up).");

namespace metarm {
namespace {

using Json = nlohmann::json;

// The slowest rank's seconds (a collective ends for the group when its last
// rank is done), best of `repeats` after a warm-up.
double BestSeconds(Communicator& group, const std::function<void()>& call,
                   int repeats) {
  call();
  double best = 1e30;
  for (int i = 0; i < repeats; ++i) {
    (void)group.Barrier();
    const auto start = std::chrono::steady_clock::now();
    call();
    // The group's time: this rank's, then the largest over the ranks (the
    // sum of each rank's value in its own slot, then the max of the slots).
    torch::Tensor seconds = torch::zeros({group.size()}, torch::kFloat64);
    seconds[group.rank()] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    (void)group.AllReduce(seconds, ReduceOp::kSum);
    best = std::min(best, seconds.max().item<double>());
  }
  return best;
}

void Emit(Communicator& group, const std::string& name, double value,
          const std::string& unit, const Json& shapes,
          const std::string& check) {
  if (group.rank() == 0) PrintFigure(name, value, unit, shapes, check);
}

// Whether every rank holds rank 0's `values` (compared by checksum).
bool SameEverywhere(Communicator& group, const torch::Tensor& values) {
  torch::Tensor sum = values.to(torch::kFloat64).sum().reshape({1});
  torch::Tensor mine = sum.clone();
  (void)group.Broadcast(sum, 0);
  torch::Tensor differs = (sum != mine).to(torch::kInt32);
  (void)group.AllReduce(differs, ReduceOp::kSum);
  return differs.item<int>() == 0;
}

void WeightSync(Communicator& group, std::vector<torch::Tensor> parameters,
                const Json& shapes, int repeats) {
  torch::NoGradGuard no_grad;
  if (group.rank() != 0) {
    for (torch::Tensor& p : parameters) p.zero_();
  }
  const double bucketed = BestSeconds(
      group, [&] { (void)BroadcastWeights(parameters, 1, group, 0); }, repeats);
  const bool synced = SameEverywhere(group, FlattenParameters(parameters));
  torch::Tensor flat = FlattenParameters(parameters).to(torch::kFloat32);
  const double one_buffer = BestSeconds(
      group, [&] { (void)group.Broadcast(flat, 0); }, repeats);
  const double per_tensor = BestSeconds(
      group,
      [&] {
        for (torch::Tensor& p : parameters) (void)group.Broadcast(p, 0);
      },
      repeats);
  const std::string check = synced ? "ok" : "ranks hold different weights";
  const double bytes = flat.numel() * 4.0;
  Emit(group, "weight_sync_bucketed_seconds", bucketed, "s (this machine)",
       shapes, check);
  Emit(group, "weight_sync_flat_bcast_seconds", one_buffer, "s (this machine)",
       shapes, check);
  Emit(group, "weight_sync_per_tensor_seconds", per_tensor, "s (this machine)",
       shapes, check);
  Emit(group, "weight_sync_bucketed_over_flat", bucketed / one_buffer,
       "x (time ratio; goal <= 1.2)", shapes, check);
  Emit(group, "weight_sync_per_tensor_over_flat", per_tensor / one_buffer,
       "x (time ratio)", shapes, check);
  Emit(group, "weight_sync_bucketed_bandwidth", bytes / bucketed / 1e9, "GB/s",
       shapes, check);
}

// Returns the packed all-reduce's seconds.
double GradientAllReduce(Communicator& group, std::vector<torch::Tensor> grads,
                         const Json& shapes, int repeats) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < grads.size(); ++i) {
    grads[i] = torch::full_like(grads[i], group.rank() + 1.0 + i % 3);
  }
  std::vector<torch::Tensor> once = grads;
  for (torch::Tensor& g : once) g = g.clone();
  (void)AllReduceTensors(once, group, ReduceOp::kSum);
  // Check: the sum over ranks r of (r + 1 + i % 3).
  bool correct = true;
  const double ranks = group.size();
  for (size_t i = 0; i < once.size(); ++i) {
    const double want = ranks * (ranks + 1) / 2 + ranks * (i % 3);
    correct =
        correct && torch::allclose(once[i], torch::full_like(once[i], want));
  }
  const double packed = BestSeconds(
      group, [&] { (void)AllReduceTensors(grads, group, ReduceOp::kSum); },
      repeats);
  torch::Tensor flat = FlattenParameters(grads).to(torch::kFloat32);
  const double raw = BestSeconds(
      group, [&] { (void)group.AllReduce(flat, ReduceOp::kSum); }, repeats);
  const std::string check = correct ? "ok" : "wrong all-reduced sums";
  const double bytes = flat.numel() * 4.0;
  Emit(group, "grad_allreduce_packed_seconds", packed, "s (this machine)",
       shapes, check);
  Emit(group, "grad_allreduce_flat_seconds", raw, "s (this machine)", shapes,
       check);
  Emit(group, "grad_allreduce_effective_bandwidth_ratio", raw / packed,
       "x (flat time / packed time; goal >= 0.9)", shapes, check);
  Emit(group, "grad_allreduce_effective_bandwidth", bytes / packed / 1e9,
       "GB/s", shapes, check);
  return packed;
}

// Backward then the packed all-reduce, against backward with the overlapped
// reducer (comm/overlapped_reducer.h): how much of the communication the
// rest of backward hides.
void OverlapWithBackward(Communicator& group, const TransformerConfig& config,
                         double allreduce_seconds, const Json& shapes,
                         int repeats) {
  torch::manual_seed(3);
  LanguageModel plain(config);
  torch::manual_seed(3);
  LanguageModel hooked(config);
  torch::manual_seed(100 + group.rank());
  torch::Tensor tokens = torch::randint(0, config.vocab_size, {4, 64});
  torch::Tensor mask = torch::ones_like(tokens);
  auto backward = [&](LanguageModel& model) {
    for (torch::Tensor& p : model->parameters())
      p.mutable_grad() = torch::Tensor();
    model->forward(tokens, mask).pow(2).mean().backward();
  };
  const double compute = BestSeconds(
      group, [&] { backward(plain); }, repeats);
  std::vector<torch::Tensor> plain_parameters = plain->parameters();
  const double sequential = BestSeconds(
      group,
      [&] {
        backward(plain);
        (void)AverageGradients(plain_parameters, group);
      },
      repeats);
  OverlappedGradientReducer reducer(hooked->parameters(), group,
                                    ReduceOp::kAverage);
  absl::Status status;
  const double overlapped = BestSeconds(
      group,
      [&] {
        backward(hooked);
        status = reducer.Finish();
      },
      repeats);
  bool same = status.ok();
  auto a = plain->parameters();
  auto b = hooked->parameters();
  for (size_t i = 0; same && i < a.size(); ++i) {
    same = torch::allclose(a[i].grad(), b[i].grad(), 1e-6, 1e-7);
  }
  const std::string check =
      same ? "ok" : "overlapped gradients differ from the sequential ones";
  Json s = shapes;
  s["backward_tokens"] = tokens.numel();
  s["buckets"] = reducer.buckets();
  Emit(group, "backward_seconds", compute, "s (this machine)", s, check);
  Emit(group, "backward_then_allreduce_seconds", sequential, "s (this machine)",
       s, check);
  Emit(group, "backward_overlapped_allreduce_seconds", overlapped,
       "s (this machine)", s, check);
  Emit(group, "allreduce_hidden_share",
       std::clamp((sequential - overlapped) / allreduce_seconds, 0.0, 1.0),
       "fraction of the all-reduce time hidden behind backward", s, check);
}

// Sets each gradient to values that differ by rank and step.
void FillGradients(std::vector<torch::Tensor> parameters, int rank, int step) {
  torch::manual_seed(1000 * step + rank);
  for (torch::Tensor& p : parameters) p.mutable_grad() = torch::randn_like(p);
}

// The largest |a - b| over the parameters and the ranks.
double MaxDifference(Communicator& group, LanguageModel& a, LanguageModel& b) {
  double most = 0;
  auto pa = a->parameters();
  auto pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    most = std::max(most, (pa[i] - pb[i]).abs().max().item<double>());
  }
  torch::Tensor all = torch::zeros({group.size()}, torch::kFloat64);
  all[group.rank()] = most;
  (void)group.AllReduce(all, ReduceOp::kSum);
  return all.max().item<double>();
}

// ZeRO stage 1 (optim/sharded_adamw.h) against the replicated AdamW on the
// same local gradients.
void OptimizerSharding(Communicator& group, const TransformerConfig& config,
                       const Json& shapes, int repeats) {
  torch::manual_seed(3);
  LanguageModel replicated(config);
  torch::manual_seed(3);
  LanguageModel sharded(config);
  const auto options = torch::optim::AdamWOptions(1e-3).weight_decay(0.01);
  auto whole =
      MakeDataParallelAdamW(replicated->parameters(), options, group, false);
  auto shard =
      MakeDataParallelAdamW(sharded->parameters(), options, group, true);
  if (!whole.ok() || !shard.ok()) {
    Emit(group, "zero1_optimizer_state_share", 0, "", shapes,
         "cannot make the optimizers");
    return;
  }
  int step = 0;
  auto take_step = [&](LanguageModel& model, DataParallelOptimizer& o) {
    FillGradients(model->parameters(), group.rank(), step);
    absl::Status status = o.ReduceGradients(GradientReduction::kAverage);
    if (status.ok()) status = o.Step();
    return status;
  };
  bool steps_ok = true;
  for (step = 0; step < 3; ++step) {
    steps_ok = steps_ok && take_step(replicated, **whole).ok() &&
               take_step(sharded, **shard).ok();
  }
  const double difference = MaxDifference(group, replicated, sharded);
  int64_t elements = 0;
  for (const torch::Tensor& p : replicated->parameters()) {
    elements += p.numel();
  }
  const int64_t share = (elements + group.size() - 1) / group.size();
  const bool exact_share = (*shard)->StateBytes() == 2 * 4 * share &&
                           (*whole)->StateBytes() == 2 * 4 * elements;
  const double replicated_seconds = BestSeconds(
      group, [&] { (void)take_step(replicated, **whole); }, repeats);
  const double sharded_seconds = BestSeconds(
      group, [&] { (void)take_step(sharded, **shard); }, repeats);
  std::string check = "ok";
  if (!steps_ok) check = "a step failed";
  if (!exact_share) check = "the sharded state is not the 1/N share";
  if (difference > 1e-6) check = "sharded parameters differ from replicated";
  Emit(group, "zero1_optimizer_state_bytes_replicated",
       static_cast<double>((*whole)->StateBytes()), "bytes per learner", shapes,
       check);
  Emit(group, "zero1_optimizer_state_bytes_sharded",
       static_cast<double>((*shard)->StateBytes()), "bytes per learner", shapes,
       check);
  Emit(group, "zero1_optimizer_state_share",
       static_cast<double>((*shard)->StateBytes()) / (*whole)->StateBytes(),
       "x (sharded / replicated state per learner; goal 1/N)", shapes, check);
  Emit(group, "zero1_max_parameter_difference", difference,
       "(largest |sharded - replicated| after 3 steps; goal <= 1e-6)", shapes,
       check);
  Emit(group, "zero1_step_seconds_replicated", replicated_seconds,
       "s (this machine; all-reduce + AdamW)", shapes, check);
  Emit(group, "zero1_step_seconds_sharded", sharded_seconds,
       "s (this machine; reduce-scatter + AdamW on 1/N + all-gather)", shapes,
       check);
  Emit(group, "zero1_step_sharded_over_replicated",
       sharded_seconds / replicated_seconds, "x (time)", shapes, check);
}

// The α of the α-β model: the time of an all-reduce of one float64 (best
// of 200), and β from a 64 MB one (docs/scaling.md uses both).
void LatencyAndBandwidth(Communicator& group, const Json& shapes) {
  torch::Tensor one = torch::ones({1}, torch::kFloat64);
  const double alpha = BestSeconds(
      group, [&] { (void)group.AllReduce(one, ReduceOp::kSum); }, 200);
  torch::Tensor big = torch::ones({int64_t{16} << 20}, torch::kFloat32);
  const double large = BestSeconds(
      group, [&] { (void)group.AllReduce(big, ReduceOp::kSum); }, 5);
  const double bytes = big.numel() * 4.0;
  const double p = group.size();
  // Ring all-reduce moves 2 (p - 1) / p of the bytes through each rank.
  const double bus = 2 * (p - 1) / p * bytes / std::max(1e-12, large - alpha);
  Emit(group, "allreduce_latency_seconds", alpha, "s (this machine; alpha)",
       shapes, "ok");
  Emit(group, "allreduce_bus_bandwidth", bus / 1e9,
       "GB/s (this machine; 1/beta, 64 MB all-reduce)", shapes, "ok");
}

int Run() {
  std::unique_ptr<MpiCommunicator> world = MpiCommunicator::World();
  TransformerConfig config;
  config.d_model = absl::GetFlag(FLAGS_d_model);
  config.n_layers = absl::GetFlag(FLAGS_layers);
  config.n_heads = std::max(1, absl::GetFlag(FLAGS_d_model) / 64);
  config.d_ff = 4 * config.d_model;
  torch::manual_seed(world->rank() + 1);  // different weights per rank
  LanguageModel model(config);
  std::vector<torch::Tensor> parameters = model->parameters();
  int64_t elements = 0;
  for (const torch::Tensor& p : parameters) elements += p.numel();
  const Json shapes = {{"d_model", config.d_model},
                       {"layers", config.n_layers},
                       {"tensors", parameters.size()},
                       {"bytes", elements * 4},
                       {"ranks", world->size()}};
  WeightSync(*world, parameters, shapes, absl::GetFlag(FLAGS_repeats));
  std::vector<torch::Tensor> grads;
  for (const torch::Tensor& p : parameters)
    grads.push_back(torch::zeros_like(p));
  const double allreduce =
      GradientAllReduce(*world, grads, shapes, absl::GetFlag(FLAGS_repeats));
  OverlapWithBackward(*world, config, allreduce, shapes,
                      absl::GetFlag(FLAGS_repeats));
  OptimizerSharding(*world, config, shapes, absl::GetFlag(FLAGS_repeats));
  LatencyAndBandwidth(*world, shapes);
  return 0;
}

}  // namespace
}  // namespace metarm

int main(int argc, char** argv) {
  metarm::MpiEnvironment mpi(&argc, &argv);
  absl::ParseCommandLine(argc, argv);
  return metarm::Run();
}
