#include "parsers/postfix_parser.h"

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "parsers/char_search.h"
#include "parsers/known_formats.h"
#include "parsers/reason_rules.h"
#include "parsers/reject_reply.h"
#include "parsers/sasl_reason.h"

namespace pse {
namespace {

bool ConsumePrefix(absl::string_view* s, absl::string_view prefix) {
  if (!absl::StartsWith(*s, prefix)) return false;
  s->remove_prefix(prefix.size());
  return true;
}

// Reads an unsigned decimal number of at most `max_digits` digits.
bool ConsumeNumber(absl::string_view* s, int64_t* out, size_t max_digits = 18) {
  size_t i = 0;
  int64_t v = 0;
  while (i < s->size() && i < max_digits && absl::ascii_isdigit((*s)[i])) {
    v = v * 10 + ((*s)[i] - '0');
    ++i;
  }
  if (i == 0 || (i < s->size() && absl::ascii_isdigit((*s)[i]))) return false;
  *out = v;
  s->remove_prefix(i);
  return true;
}

// A word up to the next space (or the end).
absl::string_view ConsumeWord(absl::string_view* s) {
  const size_t sp = FindCharNear(*s, ' ');  // words are short
  absl::string_view w = s->substr(0, sp);
  s->remove_prefix(sp == absl::string_view::npos ? s->size() : sp);
  return w;
}

bool IsQueueIdChar(char c) { return absl::ascii_isalnum(c); }

// "NOQUEUE: " or "<queue id>: " (short hex or long base-52 ids).
bool ConsumeQueueId(absl::string_view* s) {
  if (ConsumePrefix(s, "NOQUEUE: ")) return true;
  size_t i = 0;
  while (i < s->size() && i < 32 && IsQueueIdChar((*s)[i])) ++i;
  if (i < 5 || i + 1 >= s->size() || (*s)[i] != ':' || (*s)[i + 1] != ' ') return false;
  s->remove_prefix(i + 2);
  return true;
}

// After "X after ": "STAGE[ (N bytes)] from CLIENT".
bool ParseAbortTail(absl::string_view s, PostfixEvent* ev) {
  absl::string_view stage = ConsumeWord(&s);
  if (stage.empty()) return false;
  if (absl::StartsWith(s, " (")) {
    size_t close = FindChar(s, ')');
    if (close == absl::string_view::npos) return false;
    s.remove_prefix(close + 1);
  }
  if (!ConsumePrefix(&s, " from ") || ParseClientPrefix(s) == 0) return false;
  ev->type = EventType::kSessionAbort;
  ev->stage = ParseSmtpStage(stage);
  return true;
}

bool ParseAbort(absl::string_view s, PostfixEvent* ev) {
  if (ConsumePrefix(&s, "lost connection after ")) {
    ev->abort_kind = AbortKind::kLostConnection;
  } else if (ConsumePrefix(&s, "timeout after ")) {
    ev->abort_kind = AbortKind::kTimeout;
  } else if (ConsumePrefix(&s, "too many errors after ")) {
    ev->abort_kind = AbortKind::kTooManyErrors;
  } else {
    return false;
  }
  return ParseAbortTail(s, ev);
}

bool IsRelayDeniedReply(absl::string_view s);

// "CMD from CLIENT: CODE [X.Y.Z ]TEXT[; from=<...> ...]"
bool ParseRejectTail(absl::string_view s, PostfixEvent* ev) {
  absl::string_view cmd = ConsumeWord(&s);
  if (cmd.empty() || !ConsumePrefix(&s, " from ")) return false;
  size_t client = ParseClientPrefix(s);
  if (client == 0) return false;
  s.remove_prefix(client);
  if (!ConsumePrefix(&s, ": ")) return false;
  int64_t code;
  if (!ConsumeNumber(&s, &code, 3) || code < 200 || code > 599) return false;
  ev->type = EventType::kReject;
  ev->reply_code = static_cast<uint16_t>(code);
  ev->reject_stage = ParseRejectStage(cmd);
  if (!ConsumePrefix(&s, " ")) return true;
  ev->relay_denied = IsRelayDeniedReply(s);
  ev->reject_category = ClassifyRejectReply(s);
  return true;
}

// The reply text after "CODE ": is it reject_unauth_destination's (or
// defer_unauth_destination's) "X.7.1 <rcpt>: Relay access denied"?
//
// Postfix writes the recipient into the reply unquoted, so a client can put
// "Relay access denied" text inside an address (or a HELO name) that another
// restriction rejects. Three checks keep those out: the enhanced status must
// be relay control's 5.7.1/4.7.1 (other address and HELO checks answer 5.1.x,
// 5.5.x, 4.1.x ...), the text must follow the first ">: " after the opening
// '<', and Postfix's own "; from=<" / "; to=<" trailer (or the line's end)
// must follow it. What remains possible is an access map that rejects a
// client-chosen address with 5.7.1 -- see docs/metrics.md.
bool IsRelayDeniedReply(absl::string_view s) {
  if (!ConsumePrefix(&s, "5.7.1 <") && !ConsumePrefix(&s, "4.7.1 <")) return false;
  size_t end = FindString(s, ">: ");
  if (end == absl::string_view::npos) return false;
  s.remove_prefix(end + 3);
  if (!ConsumePrefix(&s, "Relay access denied")) return false;
  return s.empty() || absl::StartsWith(s, "; from=<") || absl::StartsWith(s, "; to=<");
}

// Rejects that log_whatsup() writes with a bare text instead of a reply:
// "CMD from CLIENT: bare <LF> received;..." (3.9 and later; the reply code is
// smtpd_forbid_bare_newline_reject_code, which the line does not show).
bool ParseCodelessReject(absl::string_view s, PostfixEvent* ev) {
  absl::string_view cmd = ConsumeWord(&s);
  if (!ConsumePrefix(&s, " from ")) return false;
  size_t client = ParseClientPrefix(s);
  if (client == 0) return false;
  s.remove_prefix(client);
  if (!absl::StartsWith(s, ": bare <LF> received;")) return false;
  ev->type = EventType::kReject;
  ev->reply_code = 0;
  ev->reject_stage = ParseRejectStage(cmd);
  ev->reject_category = RejectCategory::kOther;
  return true;
}

// The address inside "name[address]" (ParseClientPrefix's match).
absl::string_view ClientAddressOf(absl::string_view client) {
  const size_t open = FindChar(client, '[');
  const size_t close = FindChar(client, ']', open);
  if (open == absl::string_view::npos || close == absl::string_view::npos) return {};
  return client.substr(open + 1, close - open - 1);
}

// The name after "client=..., sasl_username=": up to the first field
// Postfix may write after it (smtpd.c: sasl_sender, orig_queue_id,
// orig_client). The name belongs to an account that just authenticated, so
// it is not expected to hold those texts; if it does, it is cut there.
absl::string_view ClientLineUsername(absl::string_view s) {
  size_t end = s.size();
  for (absl::string_view field : {", sasl_sender=", ", orig_queue_id=", ", orig_client="}) {
    end = std::min(end, FindString(s, field));
  }
  return s.substr(0, end);
}

// "client=CLIENT[, sasl_method=M][, sasl_username=U]..."
bool ParseClientLine(absl::string_view s, PostfixEvent* ev) {
  size_t client = ParseClientPrefix(s);
  if (client == 0) return false;
  ev->client_addr = ClientAddressOf(s.substr(0, client));
  s.remove_prefix(client);
  ev->type = EventType::kMessageQueued;
  if (ConsumePrefix(&s, ", sasl_method=")) {
    size_t comma = FindChar(s, ',');
    ev->method = ParseSaslMethod(s.substr(0, comma));
    ev->has_sasl_method = true;
    s.remove_prefix(comma == absl::string_view::npos ? s.size() : comma);
    // Postfix writes sasl_username= only after sasl_method=; the method is a
    // mechanism name without commas, so this is the field and not user text.
    ev->has_sasl_username = absl::StartsWith(s, ", sasl_username=");
    if (ev->has_sasl_username) ev->sasl_username = ClientLineUsername(s.substr(16));
  }
  return true;
}

// After "disconnect from CLIENT": " name=S[/T] ... commands=S[/T][ notes=...]".
void ParseDisconnectStats(absl::string_view s, PostfixEvent* ev) {
  while (ConsumePrefix(&s, " ")) {
    absl::string_view tok = ConsumeWord(&s);
    if (!ConsumePrefix(&tok, "auth=")) continue;
    int64_t ok, total;
    if (!ConsumeNumber(&tok, &ok, 9)) return;
    total = ok;
    if (ConsumePrefix(&tok, "/") && !ConsumeNumber(&tok, &total, 9)) return;
    if (!tok.empty() || total < ok) return;
    ev->has_auth_stats = true;
    ev->auth_success = static_cast<uint32_t>(ok);
    ev->auth_total = static_cast<uint32_t>(total);
    return;
  }
}

// What follows ", sasl_username=": the rest of the line, since the name
// may contain anything; "(unavailable)" is no name.
absl::string_view SaslUsernameOf(absl::string_view suffix) {
  return suffix == "(unavailable)" ? absl::string_view() : suffix;
}

// "SASL M authentication failed[: REASON[, sasl_username=U]]" or
// "SASL M authentication aborted", after "warning: CLIENT: ".
bool ParseSaslAttempt(absl::string_view s, const ReasonRules* rules, PostfixEvent* ev) {
  if (!ConsumePrefix(&s, "SASL ")) return false;
  absl::string_view mech = ConsumeWord(&s);
  if (mech.empty()) return false;
  if (ConsumePrefix(&s, " authentication failed")) {
    ev->type = EventType::kSaslFailed;
    ev->method = ParseSaslMethod(mech);
    absl::string_view reason;
    if (ConsumePrefix(&s, ":")) {
      reason = absl::StripLeadingAsciiWhitespace(s);
      size_t user = FindString(reason, ", sasl_username=");
      if (user != absl::string_view::npos) {
        ev->sasl_username = SaslUsernameOf(reason.substr(user + 16));
        reason = reason.substr(0, user);
      }
    } else if (!s.empty() && !absl::StartsWith(s, ", sasl_username=")) {
      return false;
    } else if (!s.empty()) {
      ev->sasl_username = SaslUsernameOf(s.substr(16));
    }
    ev->reason = ClassifyFailedReasonWithRules(reason, rules);
    return true;
  }
  if (ConsumePrefix(&s, " authentication aborted")) {
    if (!s.empty() && s[0] != ',' && s[0] != ':') return false;
    ev->type = EventType::kSaslAborted;
    ev->method = ParseSaslMethod(mech);
    ev->reason = FailureReason::kAborted;
    if (absl::StartsWith(s, ", sasl_username=")) ev->sasl_username = SaslUsernameOf(s.substr(16));
    return true;
  }
  return false;
}

struct LimitWarning {
  absl::string_view text;
  ClientLimit limit;
};

// smtpd.c's anvil-driven warnings, before ": N from CLIENT for service S".
constexpr LimitWarning kLimitWarnings[] = {
    {"Connection concurrency limit exceeded: ", ClientLimit::kConnectionCount},
    {"Connection rate limit exceeded: ", ClientLimit::kConnectionRate},
    {"Message delivery request rate limit exceeded: ", ClientLimit::kMessageRate},
    {"Recipient address rate limit exceeded: ", ClientLimit::kRecipientRate},
    {"New TLS session rate limit exceeded: ", ClientLimit::kNewtlsRate},
    {"AUTH command rate limit exceeded: ", ClientLimit::kAuthRate},
};

// "<X> limit exceeded: N from CLIENT for service S"
bool ParseLimitWarning(absl::string_view s, PostfixEvent* ev) {
  for (const LimitWarning& w : kLimitWarnings) {
    if (!ConsumePrefix(&s, w.text)) continue;
    int64_t n;
    if (!ConsumeNumber(&s, &n, 9) || !ConsumePrefix(&s, " from ")) return false;
    size_t client = ParseClientPrefix(s);
    if (client == 0) return false;
    s.remove_prefix(client);
    // The service is master.cf's name: one word, and the line's end.
    if (!ConsumePrefix(&s, " for service ") || s.empty() ||
        FindChar(s, ' ') != absl::string_view::npos) {
      return false;
    }
    ev->type = EventType::kClientLimitExceeded;
    ev->client_limit = w.limit;
    ev->number = n;
    ev->limit_service = s;
    return true;
  }
  return false;
}

// Leaves ev->type alone when it recognises nothing (the caller decides).
void ParseSmtpdWarning(absl::string_view s, const ReasonRules* rules, PostfixEvent* ev) {
  absl::string_view text = s;
  if (ConsumePrefix(&text, "SASL authentication failure: ") ||
      ConsumePrefix(&text, "SASL authentication problem: ")) {
    ev->type = EventType::kSaslBackendNote;
    ev->reason = ClassifyCompanionText(text, &ev->backend_connect_error);
    return;
  }
  if (absl::StartsWith(s, "SASL: ")) {
    // Postfix's Dovecot client: "Connect to Dovecot auth socket '...' failed: ...",
    // "Protocol version error", "missing Dovecot server ... field". Each means
    // smtpd cannot use its backend; "fatal: no SASL authentication mechanisms"
    // follows.
    ev->type = EventType::kSaslBackendNote;
    ev->reason = FailureReason::kBackendUnavailable;
    ev->backend_connect_error = true;
    return;
  }
  if (absl::StartsWith(s, "cannot connect to saslauthd server")) {
    ev->type = EventType::kSaslBackendNote;
    ev->reason = ClassifyCompanionText(s, &ev->backend_connect_error);
    return;
  }
  if (ParseLimitWarning(s, ev)) return;
  if (absl::StartsWith(s, "hostname ") &&
      FindString(s, " does not resolve to address ") != absl::string_view::npos) {
    // Forward-confirmed reverse DNS failed: ParseMailFlow counts it. Known
    // without the (slower) format set.
    ev->type = EventType::kIgnored;
    return;
  }
  size_t client = ParseClientPrefix(s);
  if (client == 0) return;
  absl::string_view rest = s.substr(client);
  if (!ConsumePrefix(&rest, ": ")) return;
  if (absl::StartsWith(rest, "SASL ") && ParseSaslAttempt(rest, rules, ev)) {
    ev->client_addr = ClientAddressOf(s.substr(0, client));
  }
}

// smtpd lines that are understood and of no interest to these metrics.
constexpr absl::string_view kSmtpdNoisePrefixes[] = {
    "Anonymous TLS connection established",
    "Trusted TLS connection established",
    "Verified TLS connection established",
    "Untrusted TLS connection established",
    "improper command pipelining after ",
    "discarding EHLO keywords",
    "SSL_accept error",
    "setting up TLS connection",
    "initializing the server-side TLS engine",
    "table ",
    "using backwards-compatible default setting",
    "error: ",
    "connect to ",
    "proxy-accept: ",
    "proxy-reject: ",
    "TLS SNI ",
};

// The end of every smtpd path that recognised nothing: a line smtpd is known
// to write is noise, anything else is format drift.
void IgnoreIfKnown(absl::string_view msg, PostfixEvent* ev) {
  if (ev->type == EventType::kUnrecognized && IsKnownSmtpdLine(msg)) {
    ev->type = EventType::kIgnored;
  }
}

void ParseSmtpdLine(absl::string_view msg, const ReasonRules* rules, PostfixEvent* ev) {
  absl::string_view s = msg;
  if (ConsumePrefix(&s, "connect from ")) {
    if (ParseClientPrefix(s) != 0) ev->type = EventType::kConnect;
    return;
  }
  if (ConsumePrefix(&s, "disconnect from ")) {
    size_t client = ParseClientPrefix(s);
    if (client == 0) return;
    ev->type = EventType::kDisconnect;
    ev->client_addr = ClientAddressOf(s.substr(0, client));
    ParseDisconnectStats(s.substr(client), ev);
    return;
  }
  if (ConsumePrefix(&s, "warning: ")) {
    ParseSmtpdWarning(s, rules, ev);
    return;
  }
  if (ConsumePrefix(&s, "fatal: ")) {
    ev->type = s == "no SASL authentication mechanisms" ? EventType::kFatalNoSaslMechanisms
                                                        : EventType::kFatal;
    return;
  }
  if (absl::StartsWith(s, "panic: ")) {
    ev->type = EventType::kFatal;
    return;
  }
  if (ParseAbort(s, ev)) return;
  absl::string_view q = s;
  if (ConsumeQueueId(&q)) {
    if (ConsumePrefix(&q, "client=")) {
      ParseClientLine(q, ev);
      return;
    }
    if (ConsumePrefix(&q, "reject: ")) {
      if (!ParseRejectTail(q, ev)) ParseCodelessReject(q, ev);
      return;
    }
    if (ConsumePrefix(&q, "reject_warning: ")) {
      // smtpd_check.c's warn_if_reject: logged, the client is not refused.
      if (ParseRejectTail(q, ev)) {
        ev->type = EventType::kRejectWarning;
        ev->relay_denied = false;
      } else {
        ev->type = EventType::kIgnored;
      }
      return;
    }
    if (ConsumePrefix(&q, "milter-reject: ")) {
      // Milter replies often carry no 3-digit code; only count those that do.
      if (ParseRejectTail(q, ev)) {
        ev->reject_category = RejectCategory::kMilter;
      } else {
        ev->type = EventType::kIgnored;
      }
      return;
    }
    if (ParseAbort(q, ev)) return;
    // Other actions (reject_warning, hold, discard, filter, redirect, warn,
    // info, bcc, ...): "ACTION: CMD from ...".
    size_t colon = FindString(q, ": ");
    if (colon != absl::string_view::npos && colon > 0 && colon < 24) {
      ev->type = EventType::kIgnored;
    }
    return;
  }
  for (absl::string_view prefix : kSmtpdNoisePrefixes) {
    if (absl::StartsWith(s, prefix)) {
      ev->type = EventType::kIgnored;
      return;
    }
  }
}

void ParseSmtpd(absl::string_view msg, const ReasonRules* rules, PostfixEvent* ev) {
  ev->type = EventType::kUnrecognized;
  ParseSmtpdLine(msg, rules, ev);
  IgnoreIfKnown(msg, ev);
}

void ParseAnvil(absl::string_view s, PostfixEvent* ev) {
  ev->type = EventType::kIgnored;
  if (!ConsumePrefix(&s, "statistics: max connection count ")) return;
  int64_t n;
  if (!ConsumeNumber(&s, &n, 9) || !absl::StartsWith(s, " for (")) return;
  ev->type = EventType::kAnvilMaxConnectionCount;
  ev->number = n;
}

void ParseMaster(absl::string_view s, PostfixEvent* ev) {
  ev->type = EventType::kIgnored;
  if (!ConsumePrefix(&s, "warning: ")) return;
  if (ConsumePrefix(&s, "service \"")) {
    size_t q = FindChar(s, '"');
    if (q == absl::string_view::npos) return;
    absl::string_view service = s.substr(0, q);
    s.remove_prefix(q + 1);
    size_t marker = FindString(s, " has reached its process limit \"");
    if (marker == absl::string_view::npos) return;
    s.remove_prefix(marker + sizeof(" has reached its process limit \"") - 1);
    int64_t limit;
    if (!ConsumeNumber(&s, &limit, 9)) return;
    ev->type = EventType::kMasterProcessLimit;
    ev->master_service = service;
    ev->number = limit;
    return;
  }
  if (ConsumePrefix(&s, "process ")) {
    absl::string_view path = ConsumeWord(&s);
    if (!absl::EndsWith(path, "/smtpd") && path != "smtpd") return;
    int64_t pid;
    if (!ConsumePrefix(&s, " pid ") || !ConsumeNumber(&s, &pid)) return;
    if (!absl::StartsWith(s, " killed by signal ") && !absl::StartsWith(s, " exit status ")) {
      return;
    }
    ev->type = EventType::kMasterChildExit;
    ev->number = pid;
  }
}

// The smtp/lmtp delivery agents' failures to authenticate to a relay
// (smtp_sasl_glue.c, smtp_sasl_proto.c). The text is the DSN reason; it is
// logged alone (as a warning, or as "QUEUEID: TEXT" when another MX is tried
// next) or inside a delivery record's "status=deferred|bounced (TEXT)".
bool IsSmtpSaslFailureText(absl::string_view s) {
  return absl::StartsWith(s, "SASL authentication failed; ") ||
         absl::StartsWith(s, "SASL authentication failed: ") ||
         absl::StartsWith(s, "SASL [CACHED] authentication failed; ");
}

// "QUEUEID: to=<...>, relay=..., ..., dsn=X.Y.Z, status=deferred|bounced (TEXT)".
// The first ", dsn=" is taken: a recipient address can hold that text, but
// Postfix logs addresses in external (quoted) form since 3.5, and the relay
// reply after the status is the relay's text, not the sender's.
bool IsSmtpSaslDeliveryStatus(absl::string_view s) {
  if (!ConsumePrefix(&s, "to=<")) return false;
  size_t dsn = FindString(s, ", dsn=");
  if (dsn == absl::string_view::npos) return false;
  s.remove_prefix(dsn + 6);
  ConsumeWord(&s);  // "X.Y.Z," ends at the next space
  if (!ConsumePrefix(&s, " status=deferred (") && !ConsumePrefix(&s, " status=bounced (")) {
    return false;
  }
  return IsSmtpSaslFailureText(s);
}

void ParseSmtpClient(absl::string_view s, PostfixEvent* ev) {
  ev->type = EventType::kIgnored;
  ConsumePrefix(&s, "warning: ");
  absl::string_view q = s;
  if (ConsumeQueueId(&q)) {
    ev->queue_id = s.substr(0, s.size() - q.size() - 2);
    s = q;
  }
  if (IsSmtpSaslFailureText(s)) {
    ev->type = EventType::kSmtpSaslFailure;
  } else if (IsSmtpSaslDeliveryStatus(s)) {
    ev->type = EventType::kSmtpSaslFailure;
    ev->in_delivery_status = true;
  }
}

}  // namespace

namespace {

// Character classes of "name[address]:port", one table lookup a byte.
constexpr uint8_t kStopsName = 1;  // ends a host name: '[' or invalid
constexpr uint8_t kInAddress = 2;  // may appear inside the brackets
struct ClientCharClasses {
  uint8_t c[256] = {};
  constexpr ClientCharClasses() {
    // Host names: anything but ' ', ']', ':' and NUL stops nowhere; '['
    // ends the name.
    c[static_cast<uint8_t>(' ')] |= kStopsName;
    c[static_cast<uint8_t>(']')] |= kStopsName;
    c[static_cast<uint8_t>(':')] |= kStopsName;
    c[0] |= kStopsName;
    c[static_cast<uint8_t>('[')] |= kStopsName;
    // Addresses: letters, digits, '.', ':', '%' (IPv6 scope), '-', '_'.
    for (int ch = '0'; ch <= '9'; ++ch) c[ch] |= kInAddress;
    for (int ch = 'a'; ch <= 'z'; ++ch) c[ch] |= kInAddress;
    for (int ch = 'A'; ch <= 'Z'; ++ch) c[ch] |= kInAddress;
    for (char ch : {'.', ':', '%', '-', '_'}) c[static_cast<uint8_t>(ch)] |= kInAddress;
  }
};
constexpr ClientCharClasses kClientChars;

}  // namespace

size_t ParseClientPrefix(absl::string_view s) {
  const uint8_t* cls = kClientChars.c;
  const size_t n = s.size();
  // name: host name characters, never '[' or a space; Postfix validates it.
  size_t i = 0;
  while (i < n && (cls[static_cast<uint8_t>(s[i])] & kStopsName) == 0) ++i;
  if (i == 0 || i >= n || s[i] != '[') return 0;
  ++i;  // '['
  const size_t addr_start = i;
  while (i < n && (cls[static_cast<uint8_t>(s[i])] & kInAddress) != 0) ++i;
  if (i == addr_start || i >= n || s[i] != ']') return 0;
  ++i;  // ']'
  if (i < n && s[i] == ':' && i + 1 < n && absl::ascii_isdigit(s[i + 1])) {
    ++i;
    while (i < n && absl::ascii_isdigit(s[i])) ++i;
  }
  return i;
}

PostfixEvent ParsePostfix(const LogRecord& record, const ReasonRules* rules) {
  PostfixEvent ev;
  absl::string_view d = record.daemon;
  if (d == "smtpd") {
    ParseSmtpd(record.message, rules, &ev);
  } else if (d == "smtp" || d == "lmtp") {
    ParseSmtpClient(record.message, &ev);
  } else if (d == "anvil") {
    ParseAnvil(record.message, &ev);
  } else if (d == "master") {
    ParseMaster(record.message, &ev);
  }
  return ev;
}

}  // namespace pse
