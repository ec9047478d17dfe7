// IsKnownSmtpdLine: is an smtpd message one that Postfix really writes?
//
// The parser turns the lines the metrics need into events; every other line
// smtpd can write (TLS, milter, DNS, dictionary, configuration warnings...) is
// known and ignored, so that kUnrecognized means format drift only. The
// formats are the msg_info()/msg_warn() strings of smtpd and the libraries it
// logs through, Postfix 2.8 to 3.12, generated into known_formats_*.inc by
// tools/gen_known_formats.py. Each format becomes an anchored pattern in which
// every printf conversion matches any text; formats with almost no literal
// text ("%s: %s") are left out because they would match anything.
//
// The pattern set is compiled on first use and shared; matching is
// thread-safe and allocates nothing on the steady path.
#ifndef PSE_PARSERS_KNOWN_FORMATS_H_
#define PSE_PARSERS_KNOWN_FORMATS_H_

#include <string>

#include "absl/strings/string_view.h"

namespace pse {

// `message` is everything after "smtpd[pid]: ", "warning: " included.
bool IsKnownSmtpdLine(absl::string_view message);

// Exposed for tests: the RE2 pattern for one printf format (without anchors).
std::string FormatToPattern(absl::string_view format);

}  // namespace pse

#endif  // PSE_PARSERS_KNOWN_FORMATS_H_
