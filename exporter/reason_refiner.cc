#include "exporter/reason_refiner.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "exporter/state_file.h"
#include "prometheus/gauge.h"

namespace pse {
namespace {

// Postfix logs sasl_username= with %.100s; Dovecot's name is cut the same
// way so that long names still compare equal.
constexpr size_t kMaxUser = 100;
constexpr size_t kMaxClient = 64;

// The address as both logs can be compared: lower case, an IPv4-mapped IPv6
// address as plain IPv4. "" when there is none to match by.
std::string NormalizeClient(absl::string_view addr) {
  if (addr.empty() || addr == "unknown" || addr.size() > kMaxClient) return "";
  std::string out = absl::AsciiStrToLower(addr);
  constexpr absl::string_view kMapped = "::ffff:";
  if (absl::StartsWith(out, kMapped) && out.find('.') != std::string::npos) {
    out.erase(0, kMapped.size());
  }
  return out;
}

std::string CutUser(absl::string_view user) { return std::string(user.substr(0, kMaxUser)); }

}  // namespace

ReasonRefiner::ReasonRefiner(const Options& options, Metrics* metrics, CountFn count)
    : options_(options),
      hold_us_(absl::ToInt64Microseconds(options.hold)),
      verdict_ttl_us_(absl::ToInt64Microseconds(options.verdict_ttl)),
      engaged_for_us_(absl::ToInt64Microseconds(options.engaged_for)),
      count_(std::move(count)) {
  refined_family_ = &metrics->ExtraCounterFamily(
      "postfix_smtpd_sasl_failures_refined_total",
      "SASL failures Postfix logged without a reason, given the reason Dovecot's auth log gave "
      "(also counted in postfix_smtpd_sasl_authentication_failures_total with that reason)");
  // The reasons Dovecot's texts map to exist from the start, at 0: a rate
  // over a series that appears with its first increment misses it.
  for (FailureReason r : {FailureReason::kBadCredentials, FailureReason::kUnknownAccount,
                          FailureReason::kBackendUnavailable}) {
    refined_[static_cast<int>(r)] =
        &refined_family_->Add({{"reason", std::string(FailureReasonLabel(r))}});
  }
  auto& unrefined = metrics->ExtraCounterFamily(
      "postfix_exporter_sasl_failures_unrefined_total",
      "SASL failures without a reason that stayed unspecified: no Dovecot verdict within the "
      "wait (expired), the held-failure cap (overflow), or no client address (no_client)");
  unrefined_[kExpired] = &unrefined.Add({{"cause", "expired"}});
  unrefined_[kOverflow] = &unrefined.Add({{"cause", "overflow"}});
  unrefined_[kNoClient] = &unrefined.Add({{"cause", "no_client"}});
  auto& verdicts = metrics->ExtraCounterFamily(
      "postfix_exporter_dovecot_auth_failures_total",
      "Dovecot auth failure lines read: matched to a Postfix SASL failure, unmatched (none "
      "within the wait: IMAP/POP3 logins, or Postfix already had a reason), or dropped over "
      "the cap");
  verdict_outcomes_[kMatched] = &verdicts.Add({{"outcome", "matched"}});
  verdict_outcomes_[kUnmatched] = &verdicts.Add({{"outcome", "unmatched"}});
  verdict_outcomes_[kDropped] = &verdicts.Add({{"outcome", "dropped"}});
  held_gauge_ = &prometheus::BuildGauge()
                     .Name("postfix_exporter_sasl_failures_held")
                     .Help(
                         "SASL failures without a reason waiting for Dovecot's verdict (not "
                         "counted yet)")
                     .Register(*metrics->registry())
                     .Add({});
}

void ReasonRefiner::Count(const PendingLogin& f, FailureReason reason) {
  count_(f.service, f.method, reason, f.client, f.user);
}

void ReasonRefiner::Unrefined(const PendingLogin& f, Cause cause) {
  unrefined_[cause]->Increment();
  Count(f, FailureReason::kUnspecified);
}

void ReasonRefiner::Refined(const PendingLogin& f, FailureReason reason) {
  const int i = static_cast<int>(reason);
  if (refined_[i] == nullptr) {
    refined_[i] = &refined_family_->Add({{"reason", std::string(FailureReasonLabel(reason))}});
  }
  refined_[i]->Increment();
  verdict_outcomes_[kMatched]->Increment();
  Count(f, reason);
}

void ReasonRefiner::Hold(ServiceId service, SaslMethod method, absl::string_view client_addr,
                         absl::string_view username) {
  const bool always = engaged_for_us_ == std::numeric_limits<int64_t>::max();
  if (!always && last_verdict_us_ < now_us_ - engaged_for_us_) {  // Dovecot is not heard
    count_(service, method, FailureReason::kUnspecified, client_addr, username);
    return;
  }
  PendingLogin f;
  f.at_us = now_us_;
  f.service = service;
  f.method = method;
  f.client = NormalizeClient(client_addr);
  f.user = CutUser(username);
  if (f.client.empty()) {
    Unrefined(f, kNoClient);
    return;
  }
  PendingLogin verdict;
  if (verdicts_.TakeMatch(f.client, f.user, &verdict)) {
    Refined(f, verdict.reason);
    return;
  }
  while (!held_.empty() && held_.slots() >= options_.max_held) {
    Unrefined(held_.PopOldest(), kOverflow);
  }
  held_.Push(std::move(f));
  SetHeldGauge();
}

void ReasonRefiner::OnVerdict(absl::string_view client_addr, absl::string_view username,
                              FailureReason reason) {
  last_verdict_us_ = now_us_;
  PendingLogin v;
  v.at_us = now_us_;
  v.client = NormalizeClient(client_addr);
  v.user = CutUser(username);
  v.reason = reason;
  if (v.client.empty()) {
    verdict_outcomes_[kUnmatched]->Increment();
    return;
  }
  PendingLogin failure;
  if (held_.TakeMatch(v.client, v.user, &failure)) {
    Refined(failure, reason);
    SetHeldGauge();
    return;
  }
  while (!verdicts_.empty() && verdicts_.slots() >= options_.max_verdicts) {
    verdicts_.PopOldest();
    verdict_outcomes_[kDropped]->Increment();
  }
  verdicts_.Push(std::move(v));
}

void ReasonRefiner::AdvanceTime(int64_t now_us) {
  if (now_us <= now_us_) return;
  now_us_ = now_us;
  Expire();
}

// A wait ends once log time is past it: with whole-second timestamps a
// verdict logged at :00 still meets a failure logged at :03.
void ReasonRefiner::Expire() {
  bool changed = false;
  while (!held_.empty() && now_us_ - held_.oldest().at_us > hold_us_) {
    Unrefined(held_.PopOldest(), kExpired);
    changed = true;
  }
  while (!verdicts_.empty() && now_us_ - verdicts_.oldest().at_us > verdict_ttl_us_) {
    verdicts_.PopOldest();
    verdict_outcomes_[kUnmatched]->Increment();
  }
  if (changed) SetHeldGauge();
}

void ReasonRefiner::Flush() {
  while (!held_.empty()) Unrefined(held_.PopOldest(), kExpired);
  while (!verdicts_.empty()) {
    verdicts_.PopOldest();
    verdict_outcomes_[kUnmatched]->Increment();
  }
  SetHeldGauge();
}

void ReasonRefiner::SetHeldGauge() { held_gauge_->Set(static_cast<double>(held_.size())); }

// State-file lines:
//   clock NOW
//   heard LAST_VERDICT_TIME   (only once a verdict came)
//   held AT SYSLOG_NAME METHOD CLIENT USER
//   verdict AT CLIENT USER REASON
// METHOD and REASON are the enum values; the rest are escaped tokens.
std::vector<std::string> ReasonRefiner::Save(const ServiceTable& services) const {
  std::vector<std::string> lines;
  lines.push_back(absl::StrCat("clock ", now_us_));
  if (last_verdict_us_ != std::numeric_limits<int64_t>::min()) {
    lines.push_back(absl::StrCat("heard ", last_verdict_us_));
  }
  held_.ForEach([&](const PendingLogin& f) {
    std::string line = absl::StrCat(
        "held ", f.at_us, " ", EscapeToken(services.syslog_name(f.service.name)), " ",
        static_cast<int>(f.method), " ", EscapeToken(f.client), " ", EscapeToken(f.user));
    // With the host label: the host value, which resolves back to itself.
    const std::string& host = services.host(f.service.label);
    if (!host.empty()) absl::StrAppend(&line, " ", EscapeToken(host));
    lines.push_back(std::move(line));
  });
  verdicts_.ForEach([&](const PendingLogin& v) {
    lines.push_back(absl::StrCat("verdict ", v.at_us, " ", EscapeToken(v.client), " ",
                                 EscapeToken(v.user), " ", static_cast<int>(v.reason)));
  });
  return lines;
}

absl::Status ReasonRefiner::Restore(const std::vector<std::string>& lines, ServiceTable* services) {
  for (const std::string& line : lines) {
    auto bad = [&line] { return absl::InvalidArgumentError("refiner: malformed line: " + line); };
    std::vector<absl::string_view> t = absl::StrSplit(line, ' ');
    PendingLogin p;
    int number;
    if (t[0] == "clock") {
      if (t.size() != 2 || !absl::SimpleAtoi(t[1], &now_us_)) return bad();
    } else if (t[0] == "heard") {
      if (t.size() != 2 || !absl::SimpleAtoi(t[1], &last_verdict_us_)) return bad();
    } else if (t[0] == "held") {
      std::string name, host;  // no host token: saved without the host label
      if ((t.size() != 6 && t.size() != 7) || !absl::SimpleAtoi(t[1], &p.at_us) ||
          !UnescapeToken(t[2], &name) || !absl::SimpleAtoi(t[3], &number) || number < 0 ||
          number >= kSaslMethodCount || !UnescapeToken(t[4], &p.client) ||
          !UnescapeToken(t[5], &p.user) || p.client.empty() ||
          (t.size() == 7 && !UnescapeToken(t[6], &host))) {
        return bad();
      }
      p.service = services->Resolve(name, host);
      p.method = static_cast<SaslMethod>(number);
      held_.Push(std::move(p));
    } else if (t[0] == "verdict") {
      if (t.size() != 5 || !absl::SimpleAtoi(t[1], &p.at_us) || !UnescapeToken(t[2], &p.client) ||
          !UnescapeToken(t[3], &p.user) || !absl::SimpleAtoi(t[4], &number) || number < 0 ||
          number >= kFailureReasonCount || p.client.empty()) {
        return bad();
      }
      p.reason = static_cast<FailureReason>(number);
      verdicts_.Push(std::move(p));
    } else {
      return bad();
    }
  }
  SetHeldGauge();
  return absl::OkStatus();
}

}  // namespace pse
