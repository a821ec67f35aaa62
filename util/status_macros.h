// The project's one early-return idiom for absl::Status / absl::StatusOr
// (Abseil 20220623 has none of its own), with an optional context that is
// put in front of the error's message on the way up, so that an error says
// where it happened (round, iteration, file, rank):
//
//   METARM_RETURN_IF_ERROR(WriteFile(path, bytes));
//   METARM_RETURN_IF_ERROR(Step(batch), "round ", round, ", step ", step);
//   METARM_ASSIGN_OR_RETURN(Job job, LoadJob(path));
//   METARM_ASSIGN_OR_RETURN(auto pairs, Read(path), "reading ", path);
//
// An annotated error keeps its code: "round 2, step 3: <message>".
#ifndef METARM_UTIL_STATUS_MACROS_H_
#define METARM_UTIL_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace metarm {
namespace status_internal {

inline absl::Status Annotate(absl::Status status) { return status; }

template <typename... Context>
absl::Status Annotate(const absl::Status& status, const Context&... context) {
  return absl::Status(status.code(),
                      absl::StrCat(context..., ": ", status.message()));
}

}  // namespace status_internal
}  // namespace metarm

#define METARM_RETURN_IF_ERROR(expr, ...)                        \
  do {                                                           \
    ::absl::Status metarm_status_ = (expr);                      \
    if (!metarm_status_.ok()) {                                  \
      return ::metarm::status_internal::Annotate(                \
          std::move(metarm_status_) __VA_OPT__(, ) __VA_ARGS__); \
    }                                                            \
  } while (0)

#define METARM_STATUS_CONCAT_INNER_(a, b) a##b
#define METARM_STATUS_CONCAT_(a, b) METARM_STATUS_CONCAT_INNER_(a, b)

#define METARM_ASSIGN_OR_RETURN(lhs, expr, ...)                  \
  METARM_ASSIGN_OR_RETURN_IMPL_(                                 \
      METARM_STATUS_CONCAT_(metarm_statusor_, __COUNTER__), lhs, \
      expr __VA_OPT__(, ) __VA_ARGS__)

#define METARM_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr, ...)   \
  auto statusor = (expr);                                         \
  if (!statusor.ok()) {                                           \
    return ::metarm::status_internal::Annotate(                   \
        std::move(statusor).status() __VA_OPT__(, ) __VA_ARGS__); \
  }                                                               \
  lhs = std::move(statusor).value()

#endif  // METARM_UTIL_STATUS_MACROS_H_
