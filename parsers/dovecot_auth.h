// DovecotAuth: what a Dovecot auth failure line says about one failed
// login, so a Postfix failure logged as "(reason unavailable)" can be given
// the reason Dovecot logged for the same client and user.
//
// Input is the message after the syslog tag "dovecot" (or a line of
// Dovecot's own log file after its timestamp), in the forms Dovecot 2.3 and
// 2.4 log with auth_verbose = yes:
//
//   auth: passwd-file(alice,192.0.2.7): Password mismatch
//   auth: passwd-file(alice,192.0.2.7,<Hq3kZ2kS>): unknown user
//   auth: Info: sql(alice,192.0.2.7,<sess>): Password mismatch (given password: x)
//   auth-worker(1234): pam(alice,192.0.2.7): pam_authenticate() failed: Authentication failure
//   (password mismatch?)
//
// Read from Dovecot's own log file by the syslog framer, "Mmm dd hh:mm:ss
// auth: Info: ..." has the tag "auth"; see ParseDovecotAuthRecord.
//
// Dovecot 2.4 puts the passdb after the fields, which name the process:
//
//   auth(alice,192.0.2.7,sasl:plain)<Hq3kZ2kS>: passwd-file: Password mismatch
//   auth-worker(bob,192.0.2.8,sasl:login)<77><sess>: request [3]: pam: pam_authenticate()
//   failed: Authentication failure (password mismatch?)
//
// (through syslog after the tag "dovecot"; in its own log file as the first
// token, with the level after the fields: "auth(...)<s>: Info: ..."). The
// driver is then the passdb's name, or empty when the line names none.
//
// The user name is everything before the last "," that precedes the
// address (it may itself hold commas); the session id is optional. Only
// recognised failure texts are failures: lookups, debug lines and anything
// else return false. Pure; the views point into `message`.
#ifndef PSE_PARSERS_DOVECOT_AUTH_H_
#define PSE_PARSERS_DOVECOT_AUTH_H_

#include "absl/strings/string_view.h"
#include "parsers/postfix_event.h"

namespace pse {

struct DovecotAuthFailure {
  absl::string_view driver;    // passdb driver: "passwd-file", "pam", "sql", ...
  absl::string_view username;  // as the client sent it
  absl::string_view client_addr;
  FailureReason reason = FailureReason::kOther;
};

// True when `message` is a Dovecot auth failure of one login.
bool ParseDovecotAuthFailure(absl::string_view message, DovecotAuthFailure* out);

// The same for a framed record whose identifier is `ident`
// (IsDovecotIdentifier): "dovecot" carries the process prefix in the
// message; "auth", "auth-worker(N)" and "dovecot-auth" were that prefix, so
// the message may start at the log level or the passdb driver.
bool ParseDovecotAuthRecord(absl::string_view ident, absl::string_view message,
                            DovecotAuthFailure* out);

}  // namespace pse

#endif  // PSE_PARSERS_DOVECOT_AUTH_H_
