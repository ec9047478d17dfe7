#include "parsers/dovecot_auth.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace pse {
namespace {

using R = FailureReason;

struct TextRule {
  absl::string_view prefix;
  FailureReason reason;
};

// Failure texts after "driver(user,ip[,session]): ", matched as prefixes:
// auth_verbose_passwords appends " (given password: ...)" and PAM texts
// carry hints in parentheses.
constexpr TextRule kRules[] = {
    {"Password mismatch", R::kBadCredentials},
    {"unknown user", R::kUnknownAccount},
    {"user disabled", R::kUnknownAccount},
    {"Password expired", R::kUnknownAccount},
    {"Account is disabled", R::kUnknownAccount},
    {"pam_authenticate() failed: Authentication failure", R::kBadCredentials},
    {"pam_authenticate() failed: User not known to the underlying authentication module",
     R::kUnknownAccount},
    {"pam_authenticate() failed: Authentication token is no longer valid", R::kUnknownAccount},
    {"pam_acct_mgmt() failed: Authentication token is no longer valid", R::kUnknownAccount},
    {"pam_acct_mgmt() failed: User account has expired", R::kUnknownAccount},
    {"pam_authenticate() failed: Authentication service cannot retrieve authentication info",
     R::kBackendUnavailable},
    {"pam_authenticate() failed: Authentication information cannot be recovered",
     R::kBackendUnavailable},
};

bool Consume(absl::string_view* s, absl::string_view prefix) {
  if (!absl::StartsWith(*s, prefix)) return false;
  s->remove_prefix(prefix.size());
  return true;
}

// "auth: " or "auth-worker(N): " (the process that logged).
bool ConsumeProcess(absl::string_view* s) {
  if (Consume(s, "auth: ")) return true;
  if (!Consume(s, "auth-worker(")) return false;
  const size_t close = s->find("): ");
  if (close == absl::string_view::npos || close == 0) return false;
  for (char c : s->substr(0, close)) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  s->remove_prefix(close + 3);
  return true;
}

bool LooksLikeAddress(absl::string_view a) {
  if (a.empty() || a.size() > 45) return false;
  for (char c : a) {
    if (!absl::ascii_isxdigit(c) && c != '.' && c != ':') return false;
  }
  return true;
}

// What follows the process prefix: "[Level: ]driver(user,ip[,<session>]): text".
bool ParseAfterProcess(absl::string_view s, DovecotAuthFailure* out) {
  // The log level Dovecot writes into its own log files.
  for (absl::string_view level : {"Info: ", "Error: ", "Warning: ", "Debug: "}) {
    if (Consume(&s, level)) break;
  }
  size_t i = 0;
  while (i < s.size() && (absl::ascii_isalnum(s[i]) || s[i] == '-' || s[i] == '_')) ++i;
  if (i == 0 || i >= s.size() || s[i] != '(') return false;
  DovecotAuthFailure f;
  f.driver = s.substr(0, i);
  s.remove_prefix(i + 1);
  // The text is chosen by Dovecot; the user name inside the parentheses by
  // the client, so the fields are found from the right.
  const size_t end = s.find("): ");
  if (end == absl::string_view::npos) return false;
  absl::string_view inside = s.substr(0, end);
  // A user name holding "): " would cut `inside` short: then the fields
  // below do not parse, or the text after does not match a rule.
  absl::string_view text = s.substr(end + 3);
  size_t comma = inside.rfind(',');
  if (comma == absl::string_view::npos) return false;
  absl::string_view last = inside.substr(comma + 1);
  if (absl::StartsWith(last, "<") && absl::EndsWith(last, ">")) {
    inside = inside.substr(0, comma);
    comma = inside.rfind(',');
    if (comma == absl::string_view::npos) return false;
    last = inside.substr(comma + 1);
  }
  if (!LooksLikeAddress(last)) return false;
  f.client_addr = last;
  f.username = inside.substr(0, comma);
  for (const TextRule& rule : kRules) {
    if (absl::StartsWith(text, rule.prefix)) {
      f.reason = rule.reason;
      *out = f;
      return true;
    }
  }
  return false;
}

}  // namespace

bool ParseDovecotAuthFailure(absl::string_view s, DovecotAuthFailure* out) {
  return ConsumeProcess(&s) && ParseAfterProcess(s, out);
}

bool ParseDovecotAuthRecord(absl::string_view ident, absl::string_view message,
                            DovecotAuthFailure* out) {
  if (ParseDovecotAuthFailure(message, out)) return true;
  return ident != "dovecot" && ParseAfterProcess(message, out);
}

}  // namespace pse
