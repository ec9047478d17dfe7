// ParsePostfix: turns one framed Postfix LogRecord into a PostfixEvent.
//
// Pure and thread-safe. It reads smtpd, anvil and master lines, and the SASL
// failures of the smtp/lmtp clients; every other daemon yields kIgnored at
// the cost of a few comparisons. An smtpd line that is neither parsed nor one
// of the formats Postfix 2.8 to 3.12 writes (known_formats.h) is
// kUnrecognized: that counter means format drift. Lines are matched by
// structure, left to right, so that text chosen by a client (HELO names,
// addresses, SASL usernames) can never make a line count as something else:
// the client "name[addr]" that opens a line is validated before anything after
// it is read, a SASL reason ends at the first ", sasl_username=", and a relay
// denial is recognised only with relay control's X.7.1 status and Postfix's
// own trailer after the text (see IsRelayDeniedReply in the .cc).
//
// The event's string_views point into record.message.
#ifndef PSE_PARSERS_POSTFIX_PARSER_H_
#define PSE_PARSERS_POSTFIX_PARSER_H_

#include "absl/strings/string_view.h"
#include "parsers/log_record.h"
#include "parsers/postfix_event.h"
#include "parsers/reason_rules.h"

namespace pse {

// `rules`, when not null, is tried on the REASON of a SASL failure before
// the built-in mapping; it must outlive the call.
PostfixEvent ParsePostfix(const LogRecord& record, const ReasonRules* rules = nullptr);

// Exposed for tests: parses a client "name[addr]" or "name[addr]:port" at the
// start of `s`; returns the number of bytes it spans, or 0 if `s` does not
// start with one.
size_t ParseClientPrefix(absl::string_view s);

}  // namespace pse

#endif  // PSE_PARSERS_POSTFIX_PARSER_H_
