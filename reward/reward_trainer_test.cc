// Single-process checks of the reward-model step (the multi-learner ones are
// in tests/reward_data_parallel_mpi_test.cc).
#include "reward/reward_trainer.h"

#include "comm/mpi_communicator.h"
#include "gtest/gtest.h"
#include "reward/losses.h"

namespace metarm {
namespace {

TransformerConfig TinyConfig() {
  TransformerConfig config;
  config.vocab_size = 11;
  config.d_model = 8;
  config.n_layers = 1;
  config.n_heads = 2;
  config.d_ff = 16;
  config.max_seq_len = 10;
  return config;
}

ScalarModel MakeModel(uint64_t seed) {
  torch::manual_seed(seed);
  return ScalarModel(TinyConfig());
}

TokenBatch RandomSequences(int64_t rows, int64_t length, uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<TokenSequence> sequences;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t n = 2 + r % (length - 1);
    torch::Tensor t = torch::randint(11, {n}, torch::kInt64);
    sequences.emplace_back(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
  }
  return PadSequences(sequences, Padding::kLeft);
}

PreferenceBatch Pairs(uint64_t seed) {
  return {RandomSequences(6, 8, seed), RandomSequences(6, 8, seed + 1000)};
}

MetaBatch Meta(uint64_t seed) { return {RandomSequences(8, 8, seed), 4}; }

bool SameParameters(ScalarModel& a, ScalarModel& b) {
  auto pa = a->parameters();
  auto pb = b->parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    if (!torch::equal(pa[i], pb[i])) return false;
  }
  return true;
}

class RewardTrainerTest : public ::testing::Test {
 protected:
  std::unique_ptr<MpiCommunicator> world_ = MpiCommunicator::World();
};

// bf16 compute (model/mixed_precision.h) against float32 on the same
// batches from the same weights: over 5 steps of each objective the
// Bradley-Terry loss, J and the accuracy stay within 0.01 of float32's
// (the loss is about 0.69 here; measured: 1e-4 VANILLA, 1.4e-3 METARM), and
// the master weights stay float32. (The weights themselves are not
// compared: Adam normalises each gradient entry, so entries near zero move
// by about the learning rate either way.)
TEST_F(RewardTrainerTest, Bf16StaysWithinToleranceOfFloat32) {
  for (RewardObjective mode :
       {RewardObjective::kVanilla, RewardObjective::kMetaRm}) {
    RewardTrainerOptions options;
    options.mode = mode;
    options.eta = 0.5;
    TransformerConfig config = TinyConfig();
    config.d_model = 32;
    config.d_ff = 64;
    torch::manual_seed(5);
    RewardTrainer fp32(ScalarModel(config), options, *world_);
    config.bf16 = true;
    torch::manual_seed(5);
    RewardTrainer bf16(ScalarModel(config), options, *world_);
    double worst = 0;
    for (int step = 0; step < 5; ++step) {
      MetaBatch meta = Meta(200 + step);
      absl::StatusOr<RewardStepStats> a = fp32.Step(Pairs(50 + step), &meta);
      absl::StatusOr<RewardStepStats> b = bf16.Step(Pairs(50 + step), &meta);
      ASSERT_TRUE(a.ok() && b.ok());
      worst = std::max({worst, std::abs(a->loss - b->loss),
                        std::abs(a->objective - b->objective),
                        std::abs(a->accuracy - b->accuracy)});
    }
    EXPECT_LT(worst, 0.01) << RewardObjectiveName(mode);
    EXPECT_GT(worst, 0) << "bf16 was not used";
    auto pb = bf16.model()->parameters();
    for (size_t i = 0; i < pb.size(); ++i) {
      EXPECT_EQ(pb[i].scalar_type(), torch::kFloat32);
    }
    std::cout << RewardObjectiveName(mode)
              << ": largest bf16 - float32 difference " << worst << "\n";
  }
}

TEST_F(RewardTrainerTest, EtaZeroIsExactlyTheVanillaStep) {
  RewardTrainerOptions vanilla_options;
  vanilla_options.mode = RewardObjective::kVanilla;
  RewardTrainerOptions meta_options;
  meta_options.mode = RewardObjective::kMetaRm;
  meta_options.eta = 0.0;
  RewardTrainer vanilla(MakeModel(3), vanilla_options, *world_);
  RewardTrainer meta(MakeModel(3), meta_options, *world_);
  for (int step = 0; step < 5; ++step) {
    MetaBatch meta_batch = Meta(100 + step);
    ASSERT_TRUE(vanilla.Step(Pairs(step), &meta_batch).ok());
    absl::StatusOr<RewardStepStats> stats = meta.Step(Pairs(step), &meta_batch);
    ASSERT_TRUE(stats.ok());
    EXPECT_GT(stats->objective, 0.0);  // the meta-process did run
  }
  EXPECT_TRUE(SameParameters(vanilla.model(), meta.model()));
}

TEST_F(RewardTrainerTest, PositiveEtaChangesTheStep) {
  RewardTrainerOptions options;
  options.mode = RewardObjective::kMetaRm;
  options.eta = 1.0;
  RewardTrainerOptions vanilla_options = options;
  vanilla_options.mode = RewardObjective::kVanilla;
  RewardTrainer meta(MakeModel(3), options, *world_);
  RewardTrainer vanilla(MakeModel(3), vanilla_options, *world_);
  MetaBatch meta_batch = Meta(7);
  ASSERT_TRUE(meta.Step(Pairs(1), &meta_batch).ok());
  ASSERT_TRUE(vanilla.Step(Pairs(1), &meta_batch).ok());
  EXPECT_FALSE(SameParameters(meta.model(), vanilla.model()));
}

// The trainer's METARM step equals Algorithm 1 computed here by hand:
// g = ∇L(θ + η∇J(θ)), then one AdamW step at θ with g.
TEST_F(RewardTrainerTest, MetaStepFollowsAlgorithmOne) {
  RewardTrainerOptions options;
  options.mode = RewardObjective::kMetaRm;
  options.eta = 0.5;
  options.learning_rate = 0.01;
  RewardTrainer trainer(MakeModel(5), options, *world_);
  const PreferenceBatch pairs = Pairs(2);
  const MetaBatch meta_batch = Meta(9);
  ASSERT_TRUE(trainer.Step(pairs, &meta_batch).ok());

  // ∇J at θ, on a copy of the initial model.
  ScalarModel at_theta = MakeModel(5);
  DifferenceObjective(ScoreMetaBatch(at_theta, meta_batch)).backward();
  // θ' in a second copy; ∇L there.
  ScalarModel at_theta_prime = MakeModel(5);
  {
    torch::NoGradGuard no_grad;
    auto source = at_theta->parameters();
    auto target = at_theta_prime->parameters();
    for (size_t i = 0; i < target.size(); ++i) {
      target[i].add_(source[i].grad(), options.eta);
    }
  }
  auto [chosen, rejected] = ScorePairs(at_theta_prime, pairs);
  BradleyTerryLoss(chosen, rejected).backward();
  // AdamW at θ with g.
  ScalarModel expected = MakeModel(5);
  torch::optim::AdamW adam(
      expected->parameters(),
      torch::optim::AdamWOptions(options.learning_rate).weight_decay(0.0));
  auto g = at_theta_prime->parameters();
  auto p = expected->parameters();
  for (size_t i = 0; i < p.size(); ++i)
    p[i].mutable_grad() = g[i].grad().clone();
  adam.step();

  auto got = trainer.model()->parameters();
  for (size_t i = 0; i < p.size(); ++i) {
    EXPECT_LT((got[i] - p[i]).abs().max().item<double>(), 1e-7)
        << "parameter " << i;
  }
}

// Autograd gradients of L and J against central finite differences, in
// double precision.
TEST_F(RewardTrainerTest, GradientsMatchFiniteDifferences) {
  ScalarModel model = MakeModel(11);
  model->to(torch::kFloat64);
  const PreferenceBatch pairs = Pairs(4);
  const MetaBatch meta_batch = Meta(12);
  std::vector<std::function<torch::Tensor()>> objectives = {
      [&] {
        auto [c, r] = ScorePairs(model, pairs);
        return BradleyTerryLoss(c, r);
      },
      [&] { return DifferenceObjective(ScoreMetaBatch(model, meta_batch)); }};
  const char* names[] = {"L", "J"};
  torch::manual_seed(99);
  for (size_t o = 0; o < objectives.size(); ++o) {
    model->zero_grad();
    objectives[o]().backward();
    int checked = 0;
    for (torch::Tensor& parameter : model->parameters()) {
      torch::Tensor flat = parameter.detach().view(-1);
      torch::Tensor grad = parameter.grad().view(-1);
      // Three coordinates of every parameter tensor.
      for (int trial = 0; trial < 3; ++trial) {
        const int64_t i = torch::randint(flat.numel(), {1}).item<int64_t>();
        const double original = flat[i].item<double>();
        const double h = 1e-6;
        double plus, minus;
        {
          torch::NoGradGuard no_grad;
          flat[i] = original + h;
          plus = objectives[o]().item<double>();
          flat[i] = original - h;
          minus = objectives[o]().item<double>();
          flat[i] = original;
        }
        const double numeric = (plus - minus) / (2 * h);
        const double analytic = grad[i].item<double>();
        EXPECT_NEAR(analytic, numeric, 1e-6 + 1e-4 * std::abs(numeric))
            << names[o] << " coordinate " << i;
        ++checked;
      }
    }
    EXPECT_GT(checked, 20);
  }
}

// With η = 0 (λ = 0) every meta variant takes exactly the VANILLA step.
TEST_F(RewardTrainerTest, EveryVariantReducesToVanilla) {
  for (RewardObjective mode :
       {RewardObjective::kMetaRmExact, RewardObjective::kGapRegularized}) {
    RewardTrainerOptions vanilla_options;
    vanilla_options.mode = RewardObjective::kVanilla;
    RewardTrainerOptions options;
    options.mode = mode;
    options.eta = 0.0;
    options.gap_lambda = 0.0;
    RewardTrainer vanilla(MakeModel(3), vanilla_options, *world_);
    RewardTrainer variant(MakeModel(3), options, *world_);
    for (int step = 0; step < 4; ++step) {
      MetaBatch meta_batch = Meta(100 + step);
      ASSERT_TRUE(vanilla.Step(Pairs(step), &meta_batch).ok());
      ASSERT_TRUE(variant.Step(Pairs(step), &meta_batch).ok());
    }
    EXPECT_TRUE(SameParameters(vanilla.model(), variant.model()))
        << RewardObjectiveName(mode);
  }
}

// Central finite differences of `objective` at every third coordinate of
// each parameter tensor against the trainer's gradient, in float64.
// `gradient` is a snapshot: the objective may run backward passes itself.
void ExpectGradientMatches(ScalarModel& model,
                           const std::vector<torch::Tensor>& gradient,
                           const std::function<double()>& objective,
                           const char* name) {
  int checked = 0;
  std::vector<torch::Tensor> parameters = model->parameters();
  for (size_t p = 0; p < parameters.size(); ++p) {
    torch::Tensor flat = parameters[p].detach().view(-1);
    torch::Tensor grad = gradient[p].view(-1);
    for (int64_t i = 0; i < flat.numel();
         i += std::max<int64_t>(1, flat.numel() / 3)) {
      const double original = flat[i].item<double>();
      const double h = 1e-6;
      flat[i] = original + h;
      const double plus = objective();
      flat[i] = original - h;
      const double minus = objective();
      flat[i] = original;
      const double numeric = (plus - minus) / (2 * h);
      EXPECT_NEAR(grad[i].item<double>(), numeric,
                  1e-6 + 1e-4 * std::abs(numeric))
          << name << " coordinate " << i;
      ++checked;
    }
  }
  EXPECT_GT(checked, 20) << name;
}

// METARM_EXACT's gradient is d/dθ L(θ + η∇J(θ)).
TEST_F(RewardTrainerTest, ExactMetaGradientMatchesFiniteDifferences) {
  ScalarModel model = MakeModel(21);
  model->to(torch::kFloat64);
  RewardTrainerOptions options;
  options.mode = RewardObjective::kMetaRmExact;
  options.eta = 0.5;
  RewardTrainer trainer(model, options, *world_);
  const PreferenceBatch pairs = Pairs(6);
  const MetaBatch meta_batch = Meta(16);
  RewardStepStats stats;
  ASSERT_TRUE(trainer.ComputeGradient(pairs, &meta_batch, &stats).ok());
  // f(θ) = L(θ + η ∇J(θ)), evaluated from scratch.
  auto objective = [&] {
    auto parameters = model->parameters();
    model->zero_grad();
    DifferenceObjective(ScoreMetaBatch(model, meta_batch)).backward();
    std::vector<torch::Tensor> saved;
    torch::NoGradGuard no_grad;
    for (auto& p : parameters) {
      saved.push_back(p.detach().clone());
      p.add_(p.grad(), options.eta);
    }
    auto [c, r] = ScorePairs(model, pairs);
    const double value = BradleyTerryLoss(c, r).item<double>();
    for (size_t i = 0; i < parameters.size(); ++i)
      parameters[i].copy_(saved[i]);
    return value;
  };
  std::vector<torch::Tensor> gradient;
  for (auto& p : model->parameters()) gradient.push_back(p.grad().clone());
  ExpectGradientMatches(model, gradient, objective, "METARM_EXACT");
  // The exact gradient differs from the first-order one.
  RewardTrainerOptions first_order = options;
  first_order.mode = RewardObjective::kMetaRm;
  ScalarModel other = MakeModel(21);
  other->to(torch::kFloat64);
  RewardTrainer approximate(other, first_order, *world_);
  ASSERT_TRUE(approximate.ComputeGradient(pairs, &meta_batch, &stats).ok());
  double difference = 0;
  auto a = other->parameters();
  for (size_t i = 0; i < a.size(); ++i) {
    difference += (a[i].grad() - gradient[i]).abs().sum().item<double>();
  }
  EXPECT_GT(difference, 1e-8);
}

// GAP_REGULARIZED's gradient is ∇(L − λJ).
TEST_F(RewardTrainerTest, RegularizedGradientMatchesFiniteDifferences) {
  ScalarModel model = MakeModel(22);
  model->to(torch::kFloat64);
  RewardTrainerOptions options;
  options.mode = RewardObjective::kGapRegularized;
  options.gap_lambda = 0.7;
  RewardTrainer trainer(model, options, *world_);
  const PreferenceBatch pairs = Pairs(7);
  const MetaBatch meta_batch = Meta(17);
  RewardStepStats stats;
  ASSERT_TRUE(trainer.ComputeGradient(pairs, &meta_batch, &stats).ok());
  auto objective = [&] {
    torch::NoGradGuard no_grad;
    auto [c, r] = ScorePairs(model, pairs);
    return BradleyTerryLoss(c, r).item<double>() -
           options.gap_lambda *
               DifferenceObjective(ScoreMetaBatch(model, meta_batch))
                   .item<double>();
  };
  std::vector<torch::Tensor> gradient;
  for (auto& p : model->parameters()) gradient.push_back(p.grad().clone());
  ExpectGradientMatches(model, gradient, objective, "GAP_REGULARIZED");
  EXPECT_GT(stats.objective, 0.0);
  EXPECT_GE(stats.gradient_cosine, -1.0);
  EXPECT_LE(stats.gradient_cosine, 1.0);
}

TEST_F(RewardTrainerTest, MetaStepLogsItsDiagnostics) {
  RewardTrainerOptions options;
  options.mode = RewardObjective::kMetaRm;
  options.eta = 0.5;
  RewardTrainer trainer(MakeModel(4), options, *world_);
  MetaBatch meta_batch = Meta(3);
  absl::StatusOr<RewardStepStats> stats = trainer.Step(Pairs(3), &meta_batch);
  ASSERT_TRUE(stats.ok());
  EXPECT_GT(stats->objective, 0.0);
  EXPECT_GT(stats->objective_at_prime, 0.0);
  EXPECT_GT(stats->objective_after, 0.0);
  // Gradient ascent on J with a positive step raises J to first order.
  EXPECT_GT(stats->objective_at_prime, stats->objective);
  EXPECT_GT(stats->meta_step_ratio, 0.0);
}

TEST(ShardRangeTest, EvenShares) {
  EXPECT_EQ(ShardRange(16, 0, 2), std::make_pair(int64_t{0}, int64_t{8}));
  EXPECT_EQ(ShardRange(16, 1, 2), std::make_pair(int64_t{8}, int64_t{8}));
  EXPECT_EQ(ShardRange(12, 2, 3), std::make_pair(int64_t{8}, int64_t{4}));
}

}  // namespace
}  // namespace metarm
