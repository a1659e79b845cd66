// Internal: status helpers. Installed, not API; may change without notice.
//
// Debian's Abseil (20220623) has no ABSL_RETURN_IF_ERROR, and its
// absl::string_view is a distinct type from std::string_view; both gaps are
// bridged here, once.
#ifndef COSTROUTE_INTERNAL_STATUS_MACROS_H_
#define COSTROUTE_INTERNAL_STATUS_MACROS_H_

#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define COSTROUTE_RETURN_IF_ERROR(expr)                 \
  do {                                                  \
    ::absl::Status costroute_status_ = (expr);          \
    if (!costroute_status_.ok()) return costroute_status_; \
  } while (false)

#define COSTROUTE_CONCAT_INNER_(a, b) a##b
#define COSTROUTE_CONCAT_(a, b) COSTROUTE_CONCAT_INNER_(a, b)

// `COSTROUTE_ASSIGN_OR_RETURN(auto x, f());` declares `x` from an
// absl::StatusOr or returns its error status.
#define COSTROUTE_ASSIGN_OR_RETURN(lhs, expr)                                  \
  COSTROUTE_ASSIGN_OR_RETURN_IMPL_(COSTROUTE_CONCAT_(costroute_or_, __LINE__), \
                                   lhs, expr)
#define COSTROUTE_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                     \
  if (!tmp.ok()) return std::move(tmp).status();         \
  lhs = std::move(tmp).value()

namespace costroute::internal {

// The one place where std::string_view and absl::string_view meet.
inline absl::string_view to_absl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view to_std(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// `status` with "`where`: " in front of its message, its code kept: the
// file, fold or step an error came from ("in.jsonl: labels: ...").
inline absl::Status prefixed(std::string_view where, const absl::Status& status) {
  return absl::Status(status.code(), absl::StrCat(to_absl(where), ": ", status.message()));
}

}  // namespace costroute::internal

#endif  // COSTROUTE_INTERNAL_STATUS_MACROS_H_
