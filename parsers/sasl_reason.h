// Mapping of raw SASL failure text to the bounded `reason` label.
//
// Two inputs are classified: the REASON of smtpd's "SASL M authentication
// failed: REASON" line, and the text of a backend companion line (Cyrus
// "SASL authentication failure: TEXT" / "problem: TEXT", or a backend connect
// warning). The table is in docs/metrics.md. A reason that is nothing but an errno
// text (strerror) is a backend failure. Operators' own rules come first
// (reason_rules.h). Pure functions; thread-safe.
#ifndef PSE_PARSERS_SASL_REASON_H_
#define PSE_PARSERS_SASL_REASON_H_

#include "absl/strings/string_view.h"
#include "parsers/postfix_event.h"

namespace pse {

// REASON of a "failed" line. Empty and "(reason unavailable)" are kUnspecified.
FailureReason ClassifyFailedReason(absl::string_view reason);

// Text of a companion line. `backend_connect_error` is set when the text says
// the SASL backend could not be reached (a backend error in the metrics).
FailureReason ClassifyCompanionText(absl::string_view text, bool* backend_connect_error);

}  // namespace pse

#endif  // PSE_PARSERS_SASL_REASON_H_
