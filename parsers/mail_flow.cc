#include "parsers/mail_flow.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "parsers/char_search.h"
#include "parsers/postfix_parser.h"

namespace pse {
namespace {

constexpr absl::string_view kStatusLabels[kDeliveryStatusCount] = {"sent", "deferred", "bounced",
                                                                   "expired", "undeliverable"};
constexpr absl::string_view kConnectErrorLabels[kConnectErrorCount] = {
    "none", "timeout", "refused", "no_route", "tls", "dns", "other"};
constexpr absl::string_view kNoticeLabels[kBounceNoticeCount] = {"non_delivery", "delay",
                                                                 "delivery_status"};
constexpr absl::string_view kMilterLabels[kMilterActionCount] = {"reject", "discard", "hold"};
constexpr absl::string_view kPostscreenLabels[kPostscreenActionCount] = {
    "pass_new",   "pass_old",           "dnsbl_rank",           "pregreet",
    "hangup",     "command_pipelining", "non_smtp_command",     "bare_newline",
    "denylisted", "allowlisted",        "too_many_connections", "all_server_ports_busy"};
constexpr absl::string_view kTrustLabels[kTlsTrustCount] = {"Anonymous", "Untrusted", "Trusted",
                                                            "Verified"};

bool Consume(absl::string_view* s, absl::string_view prefix) {
  if (!absl::StartsWith(*s, prefix)) return false;
  s->remove_prefix(prefix.size());
  return true;
}

// "QUEUEID: " as Postfix writes it (short hex or long base-52 ids).
bool ConsumeQueueId(absl::string_view* s) {
  size_t i = 0;
  while (i < s->size() && i < 24 && absl::ascii_isalnum((*s)[i])) ++i;
  if (i < 5 || s->substr(i, 2) != ": ") return false;
  s->remove_prefix(i + 2);
  return true;
}

// An address after "<": ends at the first '>' outside a quoted local part
// (Postfix's external form quotes anything unusual, escaping with '\').
bool ConsumeAddress(absl::string_view* s) {
  bool quoted = false;
  for (size_t i = 0; i < s->size(); ++i) {
    char c = (*s)[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '>') {
      s->remove_prefix(i + 1);
      return true;
    }
  }
  return false;
}

bool ConsumeInt(absl::string_view* s, int64_t* out) {
  // At most 18 digits: the value always fits, no overflow check needed.
  size_t i = 0;
  int64_t v = 0;
  for (; i < s->size() && i < 18 && absl::ascii_isdigit((*s)[i]); ++i) v = v * 10 + ((*s)[i] - '0');
  if (i == 0) return false;
  *out = v;
  s->remove_prefix(i);
  return true;
}

// "D[.D]" with at most 15 digits in all, as Postfix writes delays: the
// integer of its digits over a power of ten, both exact in a double, so the
// one correctly rounded division gives what strtod gives. False for any
// other form (the caller falls back to SimpleAtod).
bool ParsePlainDecimal(absl::string_view v, double* out) {
  static constexpr double kPow10[] = {1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
  int64_t digits = 0;
  int n = 0;
  int decimals = -1;  // digits after the point; -1 before it
  for (char c : v) {
    if (c == '.' && decimals < 0 && n > 0) {
      decimals = 0;
      continue;
    }
    if (c < '0' || c > '9' || ++n > 15) return false;
    digits = digits * 10 + (c - '0');
    if (decimals >= 0) ++decimals;
  }
  if (n == 0 || decimals == 0) return false;
  *out = static_cast<double>(digits) / kPow10[decimals < 0 ? 0 : decimals];
  return true;
}

// "a/b/c/d" (each a decimal number, possibly with an exponent).
bool ParseDelays(absl::string_view v, std::array<double, 4>* out) {
  for (int i = 0; i < 4; ++i) {
    size_t slash = i < 3 ? FindChar(v, '/') : v.size();
    if (slash == absl::string_view::npos || slash == 0) return false;
    double d;
    const absl::string_view text = v.substr(0, slash);
    if (!ParsePlainDecimal(text, &d) && !absl::SimpleAtod(text, &d)) return false;
    if (!(d >= 0) || d > 1e10) return false;
    (*out)[i] = d;
    v.remove_prefix(i < 3 ? slash + 1 : slash);
  }
  return true;
}

bool ParseStatusWord(absl::string_view w, DeliveryStatus* out) {
  for (int i = 0; i < kDeliveryStatusCount; ++i) {
    if (w == kStatusLabels[i]) {
      *out = static_cast<DeliveryStatus>(i);
      return true;
    }
  }
  return false;
}

// "to=<..>, [orig_to=<..>, ]relay=R, [conn_use=N, ]delay=D, delays=a/b/c/d,
// dsn=X.Y.Z, status=S (TEXT)", after the queue id.
bool ParseDelivery(absl::string_view s, MailFlowEvent* ev) {
  if (!Consume(&s, "to=<") || !ConsumeAddress(&s) || !Consume(&s, ", ")) return false;
  if (Consume(&s, "orig_to=<")) {
    if (!ConsumeAddress(&s) || !Consume(&s, ", ")) return false;
  }
  if (!Consume(&s, "relay=")) return false;
  size_t end = FindString(s, ", ");
  if (end == absl::string_view::npos || end == 0) return false;
  ev->relay = s.substr(0, end);
  s.remove_prefix(end + 2);
  // Postfix's own key=value fields up to status=, which is last.
  for (int fields = 0; fields < 8; ++fields) {
    if (Consume(&s, "status=")) {
      size_t w = FindChar(s, ' ');
      absl::string_view word = s.substr(0, w);
      if (!ParseStatusWord(word, &ev->status)) return false;
      s.remove_prefix(word.size());
      if ((ev->status == DeliveryStatus::kDeferred || ev->status == DeliveryStatus::kBounced) &&
          absl::StartsWith(s, " (Host or domain name not found")) {
        ev->connect_error = ConnectError::kDns;
      }
      ev->kind = MailKind::kDelivery;
      return true;
    }
    end = FindString(s, ", ");
    if (end == absl::string_view::npos) return false;
    absl::string_view field = s.substr(0, end);
    s.remove_prefix(end + 2);
    if (Consume(&field, "delays=")) {
      ev->has_delays = ParseDelays(field, &ev->delays);
      if (ev->has_delays) ev->attempt_delays = field.substr(0, RFindChar(field, '/'));
    } else if (Consume(&field, "dsn=")) {
      if (!field.empty() && field[0] >= '2' && field[0] <= '5') ev->dsn_class = field[0];
    }
  }
  return false;
}

ConnectError ClassifyConnectReason(absl::string_view r) {
  if (absl::StartsWith(r, "Connection timed out")) return ConnectError::kTimeout;
  if (absl::StartsWith(r, "Connection refused")) return ConnectError::kRefused;
  if (absl::StartsWith(r, "No route to host") || absl::StartsWith(r, "Network is unreachable")) {
    return ConnectError::kNoRoute;
  }
  return ConnectError::kOther;
}

// "[QUEUEID: ]connect to H[A]:P: REASON" or "SSL_connect error to H[A]:P: ...".
bool ParseConnectError(absl::string_view s, MailFlowEvent* ev) {
  Consume(&s, "warning: ");
  ev->has_queue_id = ConsumeQueueId(&s);
  if (Consume(&s, "SSL_connect error to ")) {
    ev->kind = MailKind::kConnectError;
    ev->connect_error = ConnectError::kTls;
    return true;
  }
  if (!Consume(&s, "connect to ")) return false;
  size_t colon = FindString(s, ": ");
  if (colon == absl::string_view::npos ||
      FindChar(s.substr(0, colon), ' ') != absl::string_view::npos) {
    return false;
  }
  ev->kind = MailKind::kConnectError;
  ev->connect_error = ClassifyConnectReason(s.substr(colon + 2));
  return true;
}

// "T TLS connection established from|to H[A][:P]: PROTO with cipher C (S/A bits)".
bool ParseTls(absl::string_view s, bool inbound, MailFlowEvent* ev) {
  int trust = 0;
  for (; trust < kTlsTrustCount; ++trust) {
    if (Consume(&s, kTrustLabels[trust])) break;
  }
  if (trust == kTlsTrustCount) return false;
  if (!Consume(&s,
               inbound ? " TLS connection established from " : " TLS connection established to ")) {
    return false;
  }
  size_t host = ParseClientPrefix(s);
  if (host == 0) return false;
  s.remove_prefix(host);
  if (!Consume(&s, ": ")) return false;
  size_t sp = FindChar(s, ' ');
  if (sp == absl::string_view::npos) return false;
  absl::string_view protocol = s.substr(0, sp);
  s.remove_prefix(sp);
  if (!Consume(&s, " with cipher ")) return false;
  sp = FindChar(s, ' ');
  if (sp == absl::string_view::npos) return false;
  absl::string_view cipher = s.substr(0, sp);
  s.remove_prefix(sp);
  if (!Consume(&s, " (")) return false;
  absl::string_view before = s;
  int64_t n;
  if (!ConsumeInt(&s, &n)) return false;
  absl::string_view secret = before.substr(0, before.size() - s.size());
  if (!Consume(&s, "/")) return false;
  before = s;
  if (!ConsumeInt(&s, &n)) return false;
  absl::string_view algorithm = before.substr(0, before.size() - s.size());
  if (!Consume(&s, " bits)")) return false;
  ev->kind = MailKind::kTls;
  ev->tls_inbound = inbound;
  ev->trust = static_cast<TlsTrust>(trust);
  ev->protocol = protocol;
  ev->cipher = cipher;
  ev->secret_bits = secret;
  ev->algorithm_bits = algorithm;
  return true;
}

void ParseDeliveryAgent(absl::string_view msg, bool smtp_client, MailFlowEvent* ev) {
  absl::string_view s = msg;
  if (ConsumeQueueId(&s) && ParseDelivery(s, ev)) {
    ev->queue_id = msg.substr(0, msg.size() - s.size() - 2);
    return;
  }
  *ev = MailFlowEvent();
  if (!smtp_client) return;
  if (ParseTls(msg, /*inbound=*/false, ev)) return;
  *ev = MailFlowEvent();
  if (!ParseConnectError(msg, ev)) *ev = MailFlowEvent();
}

void ParseQmgr(absl::string_view s, MailFlowEvent* ev) {
  if (!ConsumeQueueId(&s)) return;
  if (s == "removed") {
    ev->kind = MailKind::kQmgrRemoved;
    return;
  }
  if (!Consume(&s, "from=<") || !ConsumeAddress(&s)) return;
  if (Consume(&s, ", size=")) {
    int64_t size, nrcpt;
    if (!ConsumeInt(&s, &size) || !Consume(&s, ", nrcpt=") || !ConsumeInt(&s, &nrcpt)) return;
    if (!absl::StartsWith(s, " (queue ")) return;
    ev->kind = MailKind::kQmgrInserted;
    ev->size = size;
    ev->nrcpt = nrcpt;
  } else if (absl::StartsWith(s, ", status=expired")) {
    ev->kind = MailKind::kQmgrExpired;
    ev->status = DeliveryStatus::kExpired;
  }
}

void ParseCleanup(absl::string_view s, MailFlowEvent* ev) {
  if (!ConsumeQueueId(&s)) return;
  if (absl::StartsWith(s, "message-id=")) {
    ev->kind = MailKind::kCleanupMessageId;
  } else if (absl::StartsWith(s, "reject: ")) {
    ev->kind = MailKind::kCleanupReject;
  } else if (Consume(&s, "milter-")) {
    for (int i = 0; i < kMilterActionCount; ++i) {
      absl::string_view a = kMilterLabels[i];
      if (absl::StartsWith(s, a) && s.substr(a.size(), 2) == ": ") {
        ev->kind = MailKind::kCleanupMilter;
        ev->milter = static_cast<MilterAction>(i);
        return;
      }
    }
  }
}

void ParseBounce(absl::string_view s, MailFlowEvent* ev) {
  if (!ConsumeQueueId(&s)) return;
  if (!Consume(&s, "sender ") && !Consume(&s, "postmaster ")) return;
  BounceNotice n;
  if (Consume(&s, "non-delivery")) {
    n = BounceNotice::kNonDelivery;
  } else if (Consume(&s, "delay")) {
    n = BounceNotice::kDelay;
  } else if (Consume(&s, "delivery status")) {
    n = BounceNotice::kDeliveryStatus;
  } else {
    return;
  }
  if (!absl::StartsWith(s, " notification: ")) return;
  ev->kind = MailKind::kBounceNotice;
  ev->notice = n;
}

struct PostscreenPrefix {
  absl::string_view prefix;  // ends where the client "[addr]" starts
  PostscreenAction action;
};
constexpr PostscreenPrefix kPostscreenPrefixes[] = {
    {"PASS NEW [", PostscreenAction::kPassNew},
    {"PASS OLD [", PostscreenAction::kPassOld},
    {"DNSBL rank ", PostscreenAction::kDnsblRank},
    {"PREGREET ", PostscreenAction::kPregreet},
    {"HANGUP after ", PostscreenAction::kHangup},
    {"COMMAND PIPELINING from [", PostscreenAction::kCommandPipelining},
    {"NON-SMTP COMMAND from [", PostscreenAction::kNonSmtpCommand},
    {"BARE NEWLINE from [", PostscreenAction::kBareNewline},
    {"BLACKLISTED [", PostscreenAction::kDenylisted},
    {"DENYLISTED [", PostscreenAction::kDenylisted},
    {"WHITELISTED [", PostscreenAction::kAllowlisted},
    {"ALLOWLISTED [", PostscreenAction::kAllowlisted},
};

// "[A]:P" at the start of `s` (postscreen's PSC_CLIENT_ADDR_PORT): its
// length, 0 when it is not one. The address is IPv4 or IPv6 text.
size_t PostscreenClientLength(absl::string_view s) {
  if (s.empty() || s[0] != '[') return 0;
  size_t i = 1;
  while (i < s.size() && i < 64 && (absl::ascii_isxdigit(s[i]) || s[i] == '.' || s[i] == ':')) {
    ++i;
  }
  if (i == 1 || s.substr(i, 2) != "]:") return 0;
  i += 2;
  const size_t port = i;
  while (i < s.size() && i - port < 5 && absl::ascii_isdigit(s[i])) ++i;
  if (i == port || (i < s.size() && absl::ascii_isdigit(s[i]))) return 0;
  return i;
}

// "CONNECT from [A]:P to [A]:P" and "DISCONNECT [A]:P", the ends of a session.
bool ParsePostscreenSession(absl::string_view s, MailFlowEvent* ev) {
  MailKind kind;
  if (Consume(&s, "CONNECT from ")) {
    kind = MailKind::kPostscreenConnect;
  } else if (Consume(&s, "DISCONNECT ")) {
    kind = MailKind::kPostscreenDisconnect;
  } else {
    return false;
  }
  const size_t n = PostscreenClientLength(s);
  if (n == 0) return false;
  absl::string_view rest = s.substr(n);
  if (kind == MailKind::kPostscreenConnect) {
    if (!Consume(&rest, " to ") || PostscreenClientLength(rest) != rest.size()) return false;
  } else if (!rest.empty()) {
    return false;
  }
  ev->kind = kind;
  ev->postscreen_client = s.substr(0, n);
  return true;
}

void ParsePostscreen(absl::string_view s, MailFlowEvent* ev) {
  if (ParsePostscreenSession(s, ev)) return;
  for (const PostscreenPrefix& p : kPostscreenPrefixes) {
    if (absl::StartsWith(s, p.prefix)) {
      ev->kind = MailKind::kPostscreen;
      ev->postscreen = p.action;
      if (p.prefix.back() == '[') {
        // PASS NEW|OLD [A]:P, *LISTED [A]:P: the whole rest is the client.
        absl::string_view client = s.substr(p.prefix.size() - 1);
        if (PostscreenClientLength(client) == client.size()) ev->postscreen_client = client;
      }
      return;
    }
  }
  if (!Consume(&s, "NOQUEUE: reject: CONNECT from [")) return;
  // "[addr]:port: REASON": the address is postscreen's, not client text.
  size_t close = FindString(s, "]:");
  if (close == absl::string_view::npos) return;
  s.remove_prefix(close + 2);
  int64_t port;
  if (!ConsumeInt(&s, &port) || !Consume(&s, ": ")) return;
  if (absl::StartsWith(s, "too many connections")) {
    ev->postscreen = PostscreenAction::kTooManyConnections;
  } else if (absl::StartsWith(s, "all server ports busy")) {
    ev->postscreen = PostscreenAction::kAllServerPortsBusy;
  } else {
    return;
  }
  ev->kind = MailKind::kPostscreen;
}

void ParseSmtpdExtras(absl::string_view s, MailFlowEvent* ev) {
  if (!s.empty() && s[0] == 'w') {
    if (Consume(&s, "warning: hostname ")) {
      size_t sp = FindChar(s, ' ');
      if (sp != absl::string_view::npos && sp > 0 &&
          absl::StartsWith(s.substr(sp), " does not resolve to address ")) {
        ev->kind = MailKind::kFcrdnsError;
      }
    }
    return;
  }
  if (FindString(s.substr(0, 48), "TLS connection established from ") == absl::string_view::npos)
    return;
  if (!ParseTls(s, /*inbound=*/true, ev)) *ev = MailFlowEvent();
}

}  // namespace

absl::string_view DeliveryStatusLabel(DeliveryStatus s) {
  return kStatusLabels[static_cast<int>(s)];
}
absl::string_view ConnectErrorLabel(ConnectError e) {
  return kConnectErrorLabels[static_cast<int>(e)];
}
absl::string_view BounceNoticeLabel(BounceNotice n) { return kNoticeLabels[static_cast<int>(n)]; }
absl::string_view MilterActionLabel(MilterAction a) { return kMilterLabels[static_cast<int>(a)]; }
absl::string_view PostscreenActionLabel(PostscreenAction a) {
  return kPostscreenLabels[static_cast<int>(a)];
}
absl::string_view TlsTrustLabel(TlsTrust t) { return kTrustLabels[static_cast<int>(t)]; }

MailFlowEvent ParseMailFlow(const LogRecord& record) {
  MailFlowEvent ev;
  const absl::string_view d = record.daemon;
  const absl::string_view m = record.message;
  if (d.empty()) return ev;
  switch (d[0]) {
    case 's':
      if (d == "smtpd") {
        ParseSmtpdExtras(m, &ev);
      } else if (d == "smtp") {
        ParseDeliveryAgent(m, true, &ev);
      }
      break;
    case 'l':
      if (d == "lmtp") {
        ParseDeliveryAgent(m, true, &ev);
      } else if (d == "local") {
        ParseDeliveryAgent(m, false, &ev);
      }
      break;
    case 'q':
      if (d == "qmgr") ParseQmgr(m, &ev);
      break;
    case 'c':
      if (d == "cleanup") ParseCleanup(m, &ev);
      break;
    case 'b':
      if (d == "bounce") ParseBounce(m, &ev);
      break;
    case 'p':
      if (d == "postscreen") {
        ParsePostscreen(m, &ev);
      } else if (d == "pipe") {
        ParseDeliveryAgent(m, false, &ev);
      }
      break;
    case 'v':
    case 'e':
    case 'r':
    case 'd':
      if (d == "virtual" || d == "error" || d == "retry" || d == "discard") {
        ParseDeliveryAgent(m, false, &ev);
      }
      break;
    default:
      break;
  }
  return ev;
}

}  // namespace pse
