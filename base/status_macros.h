// Early-return helpers for absl::Status and absl::StatusOr, which Debian's
// Abseil (20220623) does not ship.
//
//   absl::StatusOr<Plan> MakePlan(const Input& in) {
//     RETURN_IF_ERROR(Validate(in));
//     ASSIGN_OR_RETURN(Normalized n, Normalize(in));
//     return Build(n);
//   }
#ifndef TQS1_BASE_STATUS_MACROS_H_
#define TQS1_BASE_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns `expr` from the enclosing function when it is not OK.
#define RETURN_IF_ERROR(expr)                    \
  do {                                           \
    ::absl::Status tqs1_status_ = (expr);        \
    if (!tqs1_status_.ok()) return tqs1_status_; \
  } while (0)

#define TQS1_STATUS_CONCAT_INNER_(a, b) a##b
#define TQS1_STATUS_CONCAT_(a, b) TQS1_STATUS_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status from the
// enclosing function when it is not OK, otherwise moves its value into
// `lhs`, which may be a declaration: ASSIGN_OR_RETURN(auto x, F());
#define ASSIGN_OR_RETURN(lhs, rexpr)                                         \
  ASSIGN_OR_RETURN_IMPL_(TQS1_STATUS_CONCAT_(tqs1_statusor_, __LINE__), lhs, \
                         rexpr)

#define ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                           \
  if (!statusor.ok()) return statusor.status();      \
  lhs = std::move(statusor).value()

#endif  // TQS1_BASE_STATUS_MACROS_H_
