// FailureObserver: told of every failed SMTP AUTH attempt SessionState
// counts, once per counted failure, with who failed.
//
// It lets modules downstream of the session state (attack triage) see the
// failures without SessionState knowing them. Called on the ingest thread,
// right after the failure counter is incremented; the views live only for
// the call.
#ifndef PSE_EXPORTER_FAILURE_OBSERVER_H_
#define PSE_EXPORTER_FAILURE_OBSERVER_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace pse {

class FailureObserver {
 public:
  virtual ~FailureObserver() = default;
  // `n` failures from `client_addr` (the address text Postfix logs between
  // brackets; "" when not known) as `username` ("" when not known).
  virtual void OnFailures(absl::string_view client_addr, absl::string_view username,
                          uint32_t n) = 0;
};

}  // namespace pse

#endif  // PSE_EXPORTER_FAILURE_OBSERVER_H_
