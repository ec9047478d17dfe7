// LogRecord: one Postfix log entry, split into its syslog fields.
//
// A LogRecord holds views into memory owned by whoever produced it (the file
// reader's line buffer, or the journal entry being read). The views are valid
// only until that producer reads the next line or entry; consumers that need
// anything longer must copy it. LogRecord is a plain value: cheap to copy,
// no thread-safety concerns of its own.
#ifndef PSE_PARSERS_LOG_RECORD_H_
#define PSE_PARSERS_LOG_RECORD_H_

#include <cstdint>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "parsers/char_search.h"

namespace pse {

struct LogRecord {
  // Log time in microseconds since the Unix epoch; 0 when the source gave none.
  int64_t timestamp_us = 0;
  // Postfix's syslog_name, e.g. "postfix", "postfix/submission", "postfix-out".
  absl::string_view syslog_name;
  // The Postfix daemon, e.g. "smtpd", "anvil", "master".
  absl::string_view daemon;
  // Process id of the daemon; -1 when absent.
  int64_t pid = -1;
  // Everything after "tag[pid]: ".
  absl::string_view message;
  // The sending host as the line names it (RFC 3164 or RFC 5424 HOSTNAME);
  // empty when it names none (syslog(3) to /dev/log, the journal). Pids
  // collide across hosts, so it is part of a process's identity.
  absl::string_view host;
};

// Splits a syslog identifier such as "postfix/submission/smtpd" into
// syslog_name ("postfix/submission") and daemon ("smtpd") at the last '/'.
// Returns false when the identifier is not a Postfix one: it must start with
// "postfix" and contain a '/' with non-empty parts on both sides.
// Inline: called once per line, and as an out-of-line call its two views
// came back through memory the caller then read in one wider load, which
// the CPU cannot forward from the stores (a stall on every line).
inline bool SplitPostfixIdentifier(absl::string_view ident, absl::string_view* syslog_name,
                                   absl::string_view* daemon) {
  if (!absl::StartsWith(ident, "postfix")) return false;
  size_t slash = RFindChar(ident, '/');
  if (slash == absl::string_view::npos || slash == 0 || slash + 1 == ident.size()) return false;
  *syslog_name = ident.substr(0, slash);
  *daemon = ident.substr(slash + 1);
  return true;
}

// True for the syslog identifier of a Dovecot auth line: "dovecot" (syslog,
// the journal's SYSLOG_IDENTIFIER; the message starts "auth: " or
// "auth-worker(N): "), "dovecot-auth", and "auth" / "auth-worker" /
// "auth-worker(N)" (the process prefix of a line of Dovecot's own log file,
// "Mmm dd hh:mm:ss auth: Info: ...", read as a tag by the syslog framer).
bool IsDovecotIdentifier(absl::string_view ident);

// The `service` metric label for a syslog_name: a leading "postfix/" removed,
// "smtp" for plain "postfix" (so "postfix/submission" -> "submission",
// "postfix-out" -> "postfix-out", "postfix-smo/submission" -> "postfix-smo/submission").
absl::string_view ServiceLabel(absl::string_view syslog_name);

}  // namespace pse

#endif  // PSE_PARSERS_LOG_RECORD_H_
