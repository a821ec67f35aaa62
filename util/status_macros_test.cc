#include "util/status_macros.h"

#include <string>

#include "gtest/gtest.h"

namespace metarm {
namespace {

absl::StatusOr<int> Parse(bool ok) {
  if (!ok) return absl::InvalidArgumentError("jobs/a.pbtxt:3: bad field");
  return 7;
}

absl::Status Plain(bool ok) {
  METARM_RETURN_IF_ERROR(Parse(ok).status());
  return absl::OkStatus();
}

absl::Status WithContext(bool ok, int round) {
  METARM_RETURN_IF_ERROR(Parse(ok).status(), "round ", round);
  return absl::OkStatus();
}

absl::StatusOr<std::string> Assign(bool ok) {
  METARM_ASSIGN_OR_RETURN(int value, Parse(ok));
  METARM_ASSIGN_OR_RETURN(value, Parse(ok), "iteration ", 4);
  return std::to_string(value);
}

absl::StatusOr<int> AssignWithContext(bool ok) {
  METARM_ASSIGN_OR_RETURN(int value, Parse(ok), "rank ", 2, ", reading");
  return value + 1;
}

TEST(StatusMacrosTest, PassesErrorsUpUnchangedWithoutContext) {
  EXPECT_TRUE(Plain(true).ok());
  absl::Status error = Plain(false);
  EXPECT_EQ(error.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(error.message(), "jobs/a.pbtxt:3: bad field");
}

TEST(StatusMacrosTest, ContextGoesInFrontAndKeepsTheCode) {
  EXPECT_TRUE(WithContext(true, 2).ok());
  absl::Status error = WithContext(false, 2);
  EXPECT_EQ(error.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(error.message(), "round 2: jobs/a.pbtxt:3: bad field");
}

TEST(StatusMacrosTest, AssignsValuesAndAnnotatesErrors) {
  EXPECT_EQ(*Assign(true), "7");
  EXPECT_EQ(Assign(false).status().message(), "jobs/a.pbtxt:3: bad field");
  EXPECT_EQ(*AssignWithContext(true), 8);
  EXPECT_EQ(AssignWithContext(false).status().message(),
            "rank 2, reading: jobs/a.pbtxt:3: bad field");
}

}  // namespace
}  // namespace metarm
