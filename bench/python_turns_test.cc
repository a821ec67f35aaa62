#include "bench/python_turns.h"

#include <sstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace metarm {
namespace {

using Json = nlohmann::json;

// A peer in sh speaking python_peer.py --serve's protocol: 0.5 s for every
// metarm_step, hf_generate unavailable, an error for anything else.
constexpr char kPeer[] = R"(
echo "ready torch test threads 1"
while read step d; do
  case $step in
    metarm_step) echo 0.5 ;;
    hf_generate) echo "unavailable the transformers package is not installed" ;;
    *) echo "error no step $step" ;;
  esac
done)";

// The figures Emit* printed, by name.
std::map<std::string, Json> Printed(const std::string& out) {
  std::map<std::string, Json> figures;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    Json figure = Json::parse(line);
    figures[figure["name"]] = figure;
  }
  return figures;
}

TEST(PythonTurnsTest, EachRatioIsThePeersTimeOverItsPairsCppTime) {
  absl::StatusOr<std::unique_ptr<PythonTurns>> turns =
      PythonTurns::Start({"/bin/sh", "-c", kPeer});
  ASSERT_TRUE(turns.ok()) << turns.status();
  (*turns)->Take("metarm_step", 32);
  (*turns)->Take("metarm_step", 32);
  testing::internal::CaptureStdout();
  (*turns)->EmitStep("metarm_step", 32, {0.25, 1.0}, {{"d_model", 32}});
  auto figures = Printed(testing::internal::GetCapturedStdout());
  const Json& ratio = figures.at("python_over_cpp_metarm_step");
  EXPECT_EQ(ratio["check"], "ok");
  EXPECT_EQ(ratio["samples"], Json({2.0, 0.5}));
  EXPECT_EQ(ratio["median"], 1.25);
  EXPECT_EQ(figures.at("python_metarm_step_seconds")["samples"],
            Json({0.5, 0.5}));
  EXPECT_EQ(ratio["shapes"]["peer"],
            "bench/python_peer.py --serve, torch test threads 1");
}

TEST(PythonTurnsTest, AnUnavailableStepIsNotMeasuredWithItsReason) {
  absl::StatusOr<std::unique_ptr<PythonTurns>> turns =
      PythonTurns::Start({"/bin/sh", "-c", kPeer});
  ASSERT_TRUE(turns.ok()) << turns.status();
  (*turns)->Take("hf_generate", 32);
  (*turns)->Take("metarm_step", 32);  // the peer goes on after it
  testing::internal::CaptureStdout();
  (*turns)->EmitRate(
      "hf_generate", 32, {0.1}, 64, "hf_generate_tokens_per_second",
      "hf_generate_over_cpp_generation", "HF generate()", {{"d_model", 32}});
  (*turns)->EmitStep("metarm_step", 32, {0.25}, {{"d_model", 32}});
  auto figures = Printed(testing::internal::GetCapturedStdout());
  EXPECT_EQ(figures.at("hf_generate_over_cpp_generation")["check"],
            "not measured: the transformers package is not installed");
  EXPECT_EQ(figures.at("hf_generate_over_cpp_generation")["repeats"], 0);
  EXPECT_EQ(figures.at("python_over_cpp_metarm_step")["check"], "ok");
}

TEST(PythonTurnsTest, AnErrorReplyEndsTheTurnsAndFailsTheirFigures) {
  absl::StatusOr<std::unique_ptr<PythonTurns>> turns =
      PythonTurns::Start({"/bin/sh", "-c", kPeer});
  ASSERT_TRUE(turns.ok()) << turns.status();
  (*turns)->Take("metarm_step", 32);
  (*turns)->Take("ppo_update", 32);   // replied with an error
  (*turns)->Take("metarm_step", 32);  // not asked any more
  testing::internal::CaptureStdout();
  (*turns)->EmitStep("metarm_step", 32, {0.25, 0.5}, {{"d_model", 32}});
  auto figures = Printed(testing::internal::GetCapturedStdout());
  const Json& ratio = figures.at("python_over_cpp_metarm_step");
  EXPECT_EQ(ratio["samples"], Json({2.0}));  // the pair taken before it
  const std::string check = ratio["check"];
  EXPECT_NE(check.find("error no step ppo_update"), std::string::npos) << check;
}

TEST(PythonTurnsTest, APeerThatDoesNotStartIsAnError) {
  absl::StatusOr<std::unique_ptr<PythonTurns>> turns =
      PythonTurns::Start({"/bin/sh", "-c", "echo 'Traceback ...' >&2; exit 1"});
  ASSERT_FALSE(turns.ok());
  EXPECT_NE(turns.status().message().find("did not start"), std::string::npos)
      << turns.status();
}

}  // namespace
}  // namespace metarm
