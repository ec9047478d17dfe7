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

bool ConsumeLevel(absl::string_view* s) {
  for (absl::string_view level : {"Info: ", "Error: ", "Warning: ", "Debug: "}) {
    if (Consume(s, level)) return true;
  }
  return false;
}

bool MatchRule(absl::string_view text, DovecotAuthFailure* f) {
  for (const TextRule& rule : kRules) {
    if (absl::StartsWith(text, rule.prefix)) {
      f->reason = rule.reason;
      return true;
    }
  }
  return false;
}

// What follows the process prefix: "[Level: ]driver(user,ip[,<session>]): text".
bool ParseAfterProcess(absl::string_view s, DovecotAuthFailure* out) {
  ConsumeLevel(&s);  // the log level Dovecot writes into its own log files
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
  if (!MatchRule(text, &f)) return false;
  *out = f;
  return true;
}

// Dovecot 2.4, after "auth(" or "auth-worker(" up to the ')' at `close`:
// "user,ip,sasl:mech[,master]", split from the right. The mechanism is
// there for every SASL login (a lookup without one is not a login).
bool SplitFields24(absl::string_view inside, DovecotAuthFailure* f) {
  size_t comma = inside.rfind(',');
  if (comma != absl::string_view::npos && inside.substr(comma + 1) == "master") {
    inside = inside.substr(0, comma);
    comma = inside.rfind(',');
  }
  if (comma == absl::string_view::npos || !absl::StartsWith(inside.substr(comma + 1), "sasl:")) {
    return false;
  }
  inside = inside.substr(0, comma);
  comma = inside.rfind(',');
  if (comma == absl::string_view::npos || !LooksLikeAddress(inside.substr(comma + 1))) {
    return false;
  }
  f->client_addr = inside.substr(comma + 1);
  f->username = inside.substr(0, comma);
  return true;
}

// What follows the 2.4 fields' ')': "[<pid>][<session>][: request [N]]: ".
bool ConsumeTail24(absl::string_view* s) {
  for (int i = 0; i < 2 && absl::StartsWith(*s, "<"); ++i) {
    const size_t close = s->find('>');
    if (close == absl::string_view::npos) return false;
    s->remove_prefix(close + 1);
  }
  if (Consume(s, ": request [")) {
    const size_t close = s->find(']');
    if (close == absl::string_view::npos || close == 0) return false;
    for (char c : s->substr(0, close)) {
      if (!absl::ascii_isdigit(c)) return false;
    }
    s->remove_prefix(close + 1);
  }
  return Consume(s, ": ");
}

// Dovecot 2.4: "auth(user,ip,sasl:mech[,master])[<pid>][<session>]
// [: request [N]]: [Level: ][passdb: ]text". The user name is the client's
// and may hold ')' and ','; the first ')' after which the rest parses wins.
bool Parse24(absl::string_view s, DovecotAuthFailure* out) {
  if (!Consume(&s, "auth(") && !Consume(&s, "auth-worker(")) return false;
  for (size_t close = s.find(')'); close != absl::string_view::npos;
       close = s.find(')', close + 1)) {
    absl::string_view rest = s.substr(close + 1);
    DovecotAuthFailure f;
    if (!ConsumeTail24(&rest) || !SplitFields24(s.substr(0, close), &f)) continue;
    ConsumeLevel(&rest);
    if (!MatchRule(rest, &f)) {
      // The passdb's name (or its driver's) before the text.
      size_t i = 0;
      while (i < rest.size() &&
             (absl::ascii_isalnum(rest[i]) || rest[i] == '-' || rest[i] == '_' || rest[i] == '.')) {
        ++i;
      }
      if (i == 0 || rest.substr(i, 2) != ": ") continue;
      f.driver = rest.substr(0, i);
      if (!MatchRule(rest.substr(i + 2), &f)) continue;
    }
    *out = f;
    return true;
  }
  return false;
}

}  // namespace

bool ParseDovecotAuthFailure(absl::string_view s, DovecotAuthFailure* out) {
  absl::string_view after = s;
  if (ConsumeProcess(&after)) return ParseAfterProcess(after, out);
  return Parse24(s, out);
}

bool ParseDovecotAuthRecord(absl::string_view ident, absl::string_view message,
                            DovecotAuthFailure* out) {
  if (ParseDovecotAuthFailure(message, out)) return true;
  return ident != "dovecot" && ParseAfterProcess(message, out);
}

}  // namespace pse
