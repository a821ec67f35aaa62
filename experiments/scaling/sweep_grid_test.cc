#include "experiments/scaling/sweep_grid.h"

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"
#include "proto/job_io.h"
#include "tasks/task_registry.h"
#include "util/file.h"

namespace metarm {
namespace {

// A grid file beside a copy of the quickstart job, in the test's scratch
// folder.
class SweepGridTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(std::getenv("TEST_TMPDIR")) /
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::create_directories(dir_);
    absl::StatusOr<std::string> job = ReadFile("jobs/quickstart.pbtxt");
    ASSERT_TRUE(job.ok()) << job.status();
    ASSERT_TRUE(WriteFileAtomically((dir_ / "base.pbtxt").string(), *job).ok());
  }

  absl::StatusOr<std::vector<SweepPoint>> Expand(const std::string& text) {
    const std::string path = (dir_ / "grid.pbtxt").string();
    EXPECT_TRUE(WriteFileAtomically(path, text).ok());
    absl::StatusOr<SweepGrid> grid = LoadSweepGrid(path);
    if (!grid.ok()) return grid.status();
    return ExpandSweep(*grid, path, ValidationContext{KnownTaskNames()},
                       (dir_ / "out").string());
  }

  std::filesystem::path dir_;
};

TEST_F(SweepGridTest, EveryCombinationFirstAxisSlowest) {
  absl::StatusOr<std::vector<SweepPoint>> points = Expand(R"(
    base_job: "base.pbtxt"
    set { field: "ppo.iterations_per_round" value: "4" }
    axis {
      name: "layout"
      value { label: "1+1" set { field: "topology.learner_ranks" value: "1" }
                           set { field: "topology.rollout_ranks" value: "1" } }
      value { label: "2+2" set { field: "topology.learner_ranks" value: "2" }
                           set { field: "topology.rollout_ranks" value: "2" } }
    }
    axis { name: "staleness" field: "ppo.max_staleness" values: "0" values: "1" }
  )");
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 4u);
  EXPECT_EQ((*points)[0].name, "layout-1+1_staleness-0");
  EXPECT_EQ((*points)[1].name, "layout-1+1_staleness-1");
  EXPECT_EQ((*points)[3].name, "layout-2+2_staleness-1");
  const Job& last = (*points)[3].job;
  EXPECT_EQ(last.topology().learner_ranks(), 2u);
  EXPECT_EQ(last.topology().rollout_ranks(), 2u);
  EXPECT_EQ(last.ppo().max_staleness(), 1u);
  EXPECT_EQ(last.ppo().iterations_per_round(), 4u);
  // The rest of the base job is kept; defaults are applied.
  EXPECT_EQ(last.sft().steps(), 600u);
  EXPECT_GT(last.topology().collective_timeout_seconds(), 0u);
  EXPECT_EQ(last.output_dir(),
            (dir_ / "out/points/layout-2+2_staleness-1/run").string());
  EXPECT_EQ((*points)[2].labels[0],
            std::make_pair(std::string("layout"), std::string("2+2")));
}

TEST_F(SweepGridTest, MessageValuesMergeAndRepeatedValuesReplace) {
  Job job;
  job.mutable_policy()->set_n_layers(2);
  job.mutable_topology()->add_learner_world_ranks(5);
  SweepSetting model;
  model.set_field("policy");
  model.set_value("{ d_model: 128 n_heads: 8 }");
  ASSERT_TRUE(ApplySetting(model, &job).ok());
  EXPECT_EQ(job.policy().d_model(), 128u);
  EXPECT_EQ(job.policy().n_layers(), 2u);
  SweepSetting ranks;
  ranks.set_field("topology.learner_world_ranks");
  ranks.set_value("[0, 2]");
  ASSERT_TRUE(ApplySetting(ranks, &job).ok());
  ASSERT_EQ(job.topology().learner_world_ranks_size(), 2);
  EXPECT_EQ(job.topology().learner_world_ranks(1), 2u);
  SweepSetting placement;
  placement.set_field("topology.placement");
  placement.set_value("COLOCATED");
  ASSERT_TRUE(ApplySetting(placement, &job).ok());
  EXPECT_EQ(job.topology().placement(), COLOCATED);
}

TEST_F(SweepGridTest, BadSettingsNameTheFieldAndValue) {
  Job job;
  SweepSetting setting;
  setting.set_field("topology.learner_rank");
  setting.set_value("2");
  absl::Status status = ApplySetting(setting, &job);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_NE(status.message().find("Topology has no field 'learner_rank'"),
            std::string::npos)
      << status;
  setting.set_field("topology.placement");
  setting.set_value("SIDEWAYS");
  status = ApplySetting(setting, &job);
  EXPECT_NE(status.message().find("cannot take the value 'SIDEWAYS'"),
            std::string::npos)
      << status;
  setting.set_field("seed.x");
  status = ApplySetting(setting, &job);
  EXPECT_NE(status.message().find("'seed' is not a message"), std::string::npos)
      << status;
  setting.set_field("output_dir");
  EXPECT_FALSE(ApplySetting(setting, &job).ok());
}

TEST_F(SweepGridTest, EveryProblemOfAGridIsListedBeforeAnythingRuns) {
  absl::StatusOr<std::vector<SweepPoint>> points = Expand(R"(
    base_job: "base.pbtxt"
    axis { name: "layout" field: "topology.learner_rankz" values: "1" }
    axis { name: "bad name" field: "ppo.max_staleness" values: "0" }
    axis { name: "empty" }
    axis { name: "dup" field: "seed" values: "1" values: "1" }
  )");
  ASSERT_FALSE(points.ok());
  const std::string message(points.status().message());
  EXPECT_NE(message.find("axis 'bad name': name must be"), std::string::npos)
      << message;
  EXPECT_NE(message.find("axis 'empty': no values"), std::string::npos);
  EXPECT_NE(message.find("axis 'dup': two values labelled '1'"),
            std::string::npos);
  EXPECT_NE(message.find("grid.pbtxt: "), std::string::npos);
}

TEST_F(SweepGridTest, AnInvalidPointIsRefusedWithItsName) {
  // 3 learners do not divide the quickstart's minibatch of 32.
  absl::StatusOr<std::vector<SweepPoint>> points = Expand(R"(
    base_job: "base.pbtxt"
    axis { name: "learners" field: "topology.learner_ranks" values: "2" values: "3" }
  )");
  ASSERT_FALSE(points.ok());
  const std::string message(points.status().message());
  EXPECT_NE(message.find("point learners-3: job error: ppo.minibatch_size"),
            std::string::npos)
      << message;
  EXPECT_EQ(message.find("point learners-2"), std::string::npos) << message;
}

TEST_F(SweepGridTest, SyntaxErrorsAndAMissingBaseJobNameTheFile) {
  absl::StatusOr<std::vector<SweepPoint>> points = Expand("base_job: 3 axis {");
  ASSERT_FALSE(points.ok());
  EXPECT_NE(points.status().message().find("grid.pbtxt:1:"), std::string::npos)
      << points.status();
  points = Expand(R"(base_job: "nowhere.pbtxt")");
  ASSERT_FALSE(points.ok());
  EXPECT_NE(points.status().message().find("nowhere.pbtxt"), std::string::npos)
      << points.status();
}

// Every field of the grid, by its path from SweepGrid, has a row in the
// reference in docs/scaling.md.
void CollectPaths(const google::protobuf::Descriptor* message,
                  const std::string& prefix, std::vector<std::string>& paths) {
  for (int i = 0; i < message->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = message->field(i);
    const std::string path =
        prefix.empty() ? field->name() : prefix + "." + field->name();
    if (field->message_type() != nullptr) {
      CollectPaths(field->message_type(), path, paths);
    } else {
      paths.push_back(path);
    }
  }
}

TEST(SweepGridDocTest, EveryGridFieldHasARow) {
  absl::StatusOr<std::string> doc = ReadFile("docs/scaling.md");
  ASSERT_TRUE(doc.ok()) << doc.status();
  std::vector<std::string> paths;
  CollectPaths(SweepGrid::descriptor(), "", paths);
  ASSERT_EQ(paths.size(), 10u);
  for (const std::string& path : paths) {
    EXPECT_NE(doc->find("| `" + path + "` |"), std::string::npos)
        << "docs/scaling.md has no row for " << path;
  }
}

TEST_F(SweepGridTest, NoAxesIsOnePoint) {
  absl::StatusOr<std::vector<SweepPoint>> points =
      Expand(R"(base_job: "base.pbtxt")");
  ASSERT_TRUE(points.ok()) << points.status();
  ASSERT_EQ(points->size(), 1u);
  EXPECT_EQ((*points)[0].name, "base");
}

}  // namespace
}  // namespace metarm
