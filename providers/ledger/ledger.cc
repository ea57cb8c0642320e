#include "providers/ledger/ledger.h"

namespace tqs1::ledger {

absl::string_view WriteKindName(WriteKind kind) {
  switch (kind) {
    case WriteKind::kCreate:
      return "create";
    case WriteKind::kUpdate:
      return "update";
    case WriteKind::kDelete:
      return "delete";
    case WriteKind::kObserved:
      return "observed";
    case WriteKind::kBaseline:
      return "baseline";
  }
  return "unknown";
}

}  // namespace tqs1::ledger
