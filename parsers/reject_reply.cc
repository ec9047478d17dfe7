#include "parsers/reject_reply.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "parsers/char_search.h"

namespace pse {
namespace {

constexpr RejectCategory kNoMarker = RejectCategory::kCount;

struct Marker {
  absl::string_view text;
  RejectCategory category;
  // The whole reply text: Postfix's trailer must follow at once.
  bool exact = false;
};

// What smtpd_check.c writes after "<%s>: ": "%s rejected: " with a reply
// class of smtpd_dsn_fix.h, "Relay access denied", "Temporary lookup
// failure". Classes without a category of their own are still markers
// (kOther), so that a client's forged phrase disagrees with them.
constexpr Marker kObjectMarkers[] = {
    {"Relay access denied", RejectCategory::kRelay, true},
    {"Recipient address rejected: ", RejectCategory::kRecipient},
    {"Sender address rejected: ", RejectCategory::kSender},
    {"Helo command rejected: ", RejectCategory::kHelo},
    {"Client host rejected: ", RejectCategory::kClient},
    {"Unverified Client host rejected: ", RejectCategory::kClient},
    {"Client certificate rejected: ", RejectCategory::kClient},
    {"SASL login name rejected: ", RejectCategory::kOther},
    {"Etrn command rejected: ", RejectCategory::kOther},
    {"Data command rejected: ", RejectCategory::kOther},
    {"End-of-data rejected: ", RejectCategory::kOther},
    {"Temporary lookup failure", RejectCategory::kOther, true},
};

// Texts a policy service answers with, after "CLASS rejected: ".
constexpr absl::string_view kPolicyTexts[] = {
    "Policy rejection",
    "Greylisted",
    "Server configuration problem",
};

// Replies that start with Postfix's words (no client text before them).
constexpr Marker kLeadingMarkers[] = {
    {"Service unavailable; ", RejectCategory::kRbl},
    {"Client host rejected: ", RejectCategory::kClient},
    {"Message size exceeds ", RejectCategory::kSize},
    {"Session encryption is required", RejectCategory::kTls},
    {"Must issue a STARTTLS command first", RejectCategory::kTls},
};

// log_whatsup() ends the reply with ";" and then, each when known,
// " from=<", " to=<", " proto=", " helo=<", " sasl_method=".
bool IsTrailerAt(absl::string_view s) {
  if (s.empty() || s[0] != ';') return false;
  s.remove_prefix(1);
  return s.empty() || absl::StartsWith(s, " from=<") || absl::StartsWith(s, " to=<") ||
         absl::StartsWith(s, " proto=") || absl::StartsWith(s, " helo=<") ||
         absl::StartsWith(s, " sasl_method=");
}

bool HasTrailerIn(absl::string_view s) {
  for (size_t i = FindChar(s, ';'); i != absl::string_view::npos; i = FindChar(s, ';', i + 1)) {
    if (IsTrailerAt(s.substr(i))) return true;
  }
  return false;
}

// The category of a phrase at the start of `s`, if it can be Postfix's: a
// phrase with no trailer after it is inside the client's text (a HELO name
// at the end of the line), never the reply's.
RejectCategory MarkerAt(absl::string_view s) {
  for (const Marker& m : kObjectMarkers) {
    if (!absl::StartsWith(s, m.text)) continue;
    absl::string_view detail = s.substr(m.text.size());
    if (m.exact ? !IsTrailerAt(detail) : !HasTrailerIn(detail)) return kNoMarker;
    if (m.exact) return m.category;
    for (absl::string_view p : kPolicyTexts) {
      if (absl::StartsWith(detail, p)) return RejectCategory::kPolicy;
    }
    return m.category;
  }
  return kNoMarker;
}

// "<OBJECT>: PHRASE...": the one category every '>: ' agrees on.
RejectCategory ClassifyObjectReply(absl::string_view text) {
  RejectCategory found = kNoMarker;
  for (size_t pos = FindString(text, ">: "); pos != absl::string_view::npos;
       pos = FindString(text, ">: ", pos + 1)) {
    const RejectCategory c = MarkerAt(text.substr(pos + 3));
    if (c == kNoMarker) continue;
    if (found != kNoMarker && found != c) return RejectCategory::kOther;
    found = c;
  }
  return found == kNoMarker ? RejectCategory::kOther : found;
}

// "D.D{1,3}.D{1,3}" (RFC 3463), and its subject.detail part.
bool IsDsn(absl::string_view w, absl::string_view* subject_detail) {
  if (w.size() < 5 || w.size() > 9 || w[1] != '.') return false;
  if (w[0] != '2' && w[0] != '4' && w[0] != '5') return false;
  int dots = 0;
  for (size_t i = 2; i < w.size(); ++i) {
    if (w[i] == '.') {
      ++dots;
    } else if (!absl::ascii_isdigit(w[i])) {
      return false;
    }
  }
  if (dots != 1) return false;
  *subject_detail = w.substr(2);
  return true;
}

}  // namespace

RejectCategory ClassifyRejectReply(absl::string_view reply) {
  absl::string_view text = reply;
  absl::string_view subject_detail;
  const size_t sp = FindChar(reply, ' ');
  if (IsDsn(reply.substr(0, sp), &subject_detail)) {
    text = sp == absl::string_view::npos ? absl::string_view() : reply.substr(sp + 1);
  }
  if (!text.empty() && text[0] == '<') return ClassifyObjectReply(text);
  for (const Marker& m : kLeadingMarkers) {
    if (absl::StartsWith(text, m.text)) return m.category;
  }
  if (subject_detail == "3.4") return RejectCategory::kSize;
  return RejectCategory::kOther;
}

}  // namespace pse
