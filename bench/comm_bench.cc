// metarm_comm_bench: the learner's collectives against the plain MPI call of
// the same bytes, under mpirun (bench/run.sh starts 2 ranks).
//
//   mpirun -np 2 metarm_comm_bench --d_model=512 --layers=4 --repeats=5
//
// Rank 0 prints JSON lines like metarm_learner_bench's (bench/figure.h: the
// median with min, max and every sample; each ratio from calls made back to
// back, repeat after repeat). Figures:
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

// The slowest rank's seconds of one call (a collective ends for the group
// when its last rank is done): a barrier, the call, then the largest time
// over the ranks (the sum of each rank's value in its own slot, then the max
// of the slots).
TimeOnce SlowestRank(Communicator& group) {
  return [&group](const std::function<void()>& call) {
    (void)group.Barrier();
    torch::Tensor seconds = torch::zeros({group.size()}, torch::kFloat64);
    seconds[group.rank()] = Stopwatch()(call);
    (void)group.AllReduce(seconds, ReduceOp::kSum);
    return seconds.max().item<double>();
  };
}

void Emit(Communicator& group, const std::string& name, const Samples& value,
          const std::string& unit, const Json& shapes,
          const std::string& check) {
  if (group.rank() == 0) PrintFigure(name, value, unit, shapes, check);
}

void EmitExact(Communicator& group, const std::string& name, double value,
               const std::string& unit, const Json& shapes,
               const std::string& check) {
  if (group.rank() == 0) PrintExact(name, value, unit, shapes, check);
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
  // Bucketed, flat and per-tensor broadcasts in turn, repeat after repeat.
  torch::Tensor flat = FlattenParameters(parameters).to(torch::kFloat32);
  const TimeOnce time = SlowestRank(group);
  auto bucketed_call = [&] { (void)BroadcastWeights(parameters, 1, group, 0); };
  auto flat_call = [&] { (void)group.Broadcast(flat, 0); };
  auto per_tensor_call = [&] {
    for (torch::Tensor& p : parameters) (void)group.Broadcast(p, 0);
  };
  bucketed_call();
  const bool synced = SameEverywhere(group, FlattenParameters(parameters));
  flat_call();
  per_tensor_call();
  Samples bucketed, one_buffer, per_tensor;
  for (int i = 0; i < repeats; ++i) {
    bucketed.push_back(time(bucketed_call));
    one_buffer.push_back(time(flat_call));
    per_tensor.push_back(time(per_tensor_call));
  }
  const std::string check = synced ? "ok" : "ranks hold different weights";
  const double bytes = flat.numel() * 4.0;
  Emit(group, "weight_sync_bucketed_seconds", bucketed, "s (this machine)",
       shapes, check);
  Emit(group, "weight_sync_flat_bcast_seconds", one_buffer, "s (this machine)",
       shapes, check);
  Emit(group, "weight_sync_per_tensor_seconds", per_tensor, "s (this machine)",
       shapes, check);
  Emit(group, "weight_sync_bucketed_over_flat", Ratios(bucketed, one_buffer),
       "x (time ratio, same round; goal <= 1.2)", shapes, check);
  Emit(group, "weight_sync_per_tensor_over_flat",
       Ratios(per_tensor, one_buffer), "x (time ratio, same round)", shapes,
       check);
  Emit(group, "weight_sync_bucketed_bandwidth", Rates(bucketed, bytes / 1e9),
       "GB/s", shapes, check);
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
  torch::Tensor flat = FlattenParameters(grads).to(torch::kFloat32);
  Samples packed, raw;
  TimePairs(
      SlowestRank(group),
      [&] { (void)AllReduceTensors(grads, group, ReduceOp::kSum); },
      [&] { (void)group.AllReduce(flat, ReduceOp::kSum); }, repeats, &packed,
      &raw);
  const std::string check = correct ? "ok" : "wrong all-reduced sums";
  const double bytes = flat.numel() * 4.0;
  Emit(group, "grad_allreduce_packed_seconds", packed, "s (this machine)",
       shapes, check);
  Emit(group, "grad_allreduce_flat_seconds", raw, "s (this machine)", shapes,
       check);
  Emit(group, "grad_allreduce_effective_bandwidth_ratio", Ratios(raw, packed),
       "x (flat time / packed time, same pair; goal >= 0.9)", shapes, check);
  Emit(group, "grad_allreduce_effective_bandwidth", Rates(packed, bytes / 1e9),
       "GB/s", shapes, check);
  return Median(packed);
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
  std::vector<torch::Tensor> plain_parameters = plain->parameters();
  OverlappedGradientReducer reducer(hooked->parameters(), group,
                                    ReduceOp::kAverage);
  absl::Status status;
  const TimeOnce time = SlowestRank(group);
  auto compute_call = [&] { backward(plain); };
  auto sequential_call = [&] {
    backward(plain);
    (void)AverageGradients(plain_parameters, group);
  };
  auto overlapped_call = [&] {
    backward(hooked);
    status = reducer.Finish();
  };
  compute_call();
  sequential_call();
  overlapped_call();
  Samples compute, sequential, overlapped, hidden;
  for (int i = 0; i < repeats; ++i) {
    compute.push_back(time(compute_call));
    sequential.push_back(time(sequential_call));
    overlapped.push_back(time(overlapped_call));
    // Clamped: below 0 the overlap cost more than it hid; above 1 is noise
    // (the overlapped run faster than backward alone).
    hidden.push_back(std::clamp(
        (sequential.back() - overlapped.back()) / allreduce_seconds, 0.0, 1.0));
  }
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
  Emit(group, "allreduce_hidden_share", hidden,
       "fraction of the all-reduce time hidden behind backward (same round)", s,
       check);
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
    EmitExact(group, "zero1_optimizer_state_share", 0, "", shapes,
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
  Samples replicated_seconds, sharded_seconds;
  TimePairs(
      SlowestRank(group), [&] { (void)take_step(replicated, **whole); },
      [&] { (void)take_step(sharded, **shard); }, repeats, &replicated_seconds,
      &sharded_seconds);
  std::string check = "ok";
  if (!steps_ok) check = "a step failed";
  if (!exact_share) check = "the sharded state is not the 1/N share";
  if (difference > 1e-6) check = "sharded parameters differ from replicated";
  EmitExact(group, "zero1_optimizer_state_bytes_replicated",
            static_cast<double>((*whole)->StateBytes()), "bytes per learner",
            shapes, check);
  EmitExact(group, "zero1_optimizer_state_bytes_sharded",
            static_cast<double>((*shard)->StateBytes()), "bytes per learner",
            shapes, check);
  EmitExact(
      group, "zero1_optimizer_state_share",
      static_cast<double>((*shard)->StateBytes()) / (*whole)->StateBytes(),
      "x (sharded / replicated state per learner; goal 1/N)", shapes, check);
  EmitExact(group, "zero1_max_parameter_difference", difference,
            "(largest |sharded - replicated| after 3 steps; goal <= 1e-6)",
            shapes, check);
  Emit(group, "zero1_step_seconds_replicated", replicated_seconds,
       "s (this machine; all-reduce + AdamW)", shapes, check);
  Emit(group, "zero1_step_seconds_sharded", sharded_seconds,
       "s (this machine; reduce-scatter + AdamW on 1/N + all-gather)", shapes,
       check);
  Emit(group, "zero1_step_sharded_over_replicated",
       Ratios(sharded_seconds, replicated_seconds), "x (time, same pair)",
       shapes, check);
}

// The α of the α-β model: the time of an all-reduce of one float64 (best
// of 200), and β from a 64 MB one (docs/scaling.md uses both).
void LatencyAndBandwidth(Communicator& group, const Json& shapes, int repeats) {
  const TimeOnce time = SlowestRank(group);
  torch::Tensor one = torch::ones({1}, torch::kFloat64);
  // α: the best of 200 tiny all-reduces, `repeats` times over.
  Samples alpha;
  for (int i = 0; i < repeats; ++i) {
    const Samples tries = TimeRepeats(
        time, [&] { (void)group.AllReduce(one, ReduceOp::kSum); }, 200);
    alpha.push_back(*std::min_element(tries.begin(), tries.end()));
  }
  torch::Tensor big = torch::ones({int64_t{16} << 20}, torch::kFloat32);
  const Samples large = TimeRepeats(
      time, [&] { (void)group.AllReduce(big, ReduceOp::kSum); }, repeats);
  const double bytes = big.numel() * 4.0;
  const double p = group.size();
  // Ring all-reduce moves 2 (p - 1) / p of the bytes through each rank.
  Samples bus;
  for (double seconds : large) {
    bus.push_back(2 * (p - 1) / p * bytes /
                  std::max(1e-12, seconds - Median(alpha)) / 1e9);
  }
  Emit(group, "allreduce_latency_seconds", alpha, "s (this machine; alpha)",
       shapes, "ok");
  Emit(group, "allreduce_bus_bandwidth", bus,
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
  LatencyAndBandwidth(*world, shapes, absl::GetFlag(FLAGS_repeats));
  return 0;
}

}  // namespace
}  // namespace metarm

int main(int argc, char** argv) {
  metarm::MpiEnvironment mpi(&argc, &argv);
  absl::ParseCommandLine(argc, argv);
  return metarm::Run();
}
