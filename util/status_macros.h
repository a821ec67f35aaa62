// Early-return helpers for absl::Status / absl::StatusOr (Abseil 20220623 has
// none of its own).
//
//   METARM_RETURN_IF_ERROR(WriteFile(path, bytes));
//   METARM_ASSIGN_OR_RETURN(Job job, LoadJob(path));
#ifndef METARM_UTIL_STATUS_MACROS_H_
#define METARM_UTIL_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define METARM_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    const ::absl::Status metarm_status_ = (expr);    \
    if (!metarm_status_.ok()) return metarm_status_; \
  } while (0)

#define METARM_STATUS_CONCAT_INNER_(a, b) a##b
#define METARM_STATUS_CONCAT_(a, b) METARM_STATUS_CONCAT_INNER_(a, b)

#define METARM_ASSIGN_OR_RETURN(lhs, expr) \
  METARM_ASSIGN_OR_RETURN_IMPL_(           \
      METARM_STATUS_CONCAT_(metarm_statusor_, __LINE__), lhs, expr)

#define METARM_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                  \
  if (!statusor.ok()) return std::move(statusor).status(); \
  lhs = std::move(statusor).value()

#endif  // METARM_UTIL_STATUS_MACROS_H_
