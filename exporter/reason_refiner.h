// ReasonRefiner: gives a SASL failure that Postfix logged without a reason
// ("(reason unavailable)" or empty: `unspecified`) the reason Dovecot's own
// auth log gave for the same login (parsers/dovecot_auth.h).
//
// Dovecot logs its verdict ("Password mismatch", "unknown user", ...) and
// then delays its reply by auth_failure_delay (2 s by default), so its line
// normally comes first; with two sources or journald interleaving it can
// also come after Postfix's. So both wait, in log time:
//  - a verdict is kept for Options::verdict_ttl;
//  - an unspecified failure (SessionState hands it over as its
//    FailureHolder) is held for Options::hold, not yet counted.
// A failure and a verdict match when their client addresses are equal and,
// if Postfix logged the user name (3.9+ ", sasl_username="), the user names
// are equal ignoring case (Dovecot lowercases by default); without a user
// name, by client address alone, oldest first (arrival order). Each failure
// is counted exactly once through the CountFn: with the verdict's reason
// when matched (at once if the verdict was there), `unspecified` when its
// wait ends, on overflow or at Flush(). A failure without a usable client
// address is counted at once. Each verdict matches at most one failure.
//
// Failures are held only while Dovecot is heard: a verdict within the last
// Options::engaged_for of log time. A log without Dovecot's auth lines
// (Cyrus, or Dovecot logging elsewhere) holds nothing, counts every failure
// at once and pays nothing for this stage.
//
// Time: AdvanceTime() with log time (monotonic; earlier times ignored)
// releases what has waited long enough. When the source goes idle, the
// pipeline advances it by the wall time since the last line (Pipeline::
// Tick), so a held failure is not stuck until the next line.
//
// Memory: at most Options::max_held failures and max_verdicts verdicts, each
// about 200 bytes (user names are cut at 100 bytes, as Postfix cuts
// sasl_username=); past a cap the oldest failure is counted unspecified, the
// oldest verdict dropped, both counted in the metrics below.
//
// Metrics (registered through Metrics, so the state file carries them):
//   postfix_smtpd_sasl_failures_refined_total{reason}
//   postfix_exporter_sasl_failures_unrefined_total{cause="expired|overflow|no_client"}
//   postfix_exporter_dovecot_auth_failures_total{outcome="matched|unmatched|dropped"}
//   postfix_exporter_sasl_failures_held (gauge)
//
// State: Save/Restore (the "refiner" section of the state file) keep the
// held failures and the verdicts: a held failure is not in the counters, so
// a restart neither loses nor doubles it. With the host label, a held
// failure keeps its host too (an optional last token of its line).
//
// Not thread-safe: the ingest thread owns it.
#ifndef PSE_EXPORTER_REASON_REFINER_H_
#define PSE_EXPORTER_REASON_REFINER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exporter/metrics.h"
#include "exporter/pending_logins.h"
#include "exporter/service_table.h"
#include "exporter/state.h"
#include "parsers/postfix_event.h"

namespace pse {

class ReasonRefiner : public FailureHolder {
 public:
  struct Options {
    // How long (log time) an unspecified failure waits for Dovecot's verdict.
    absl::Duration hold = absl::Seconds(3);
    // How long (log time) a verdict waits for Postfix's failure line: the
    // failure delay (2 s) plus whole-second timestamps.
    absl::Duration verdict_ttl = absl::Seconds(5);
    size_t max_held = 4096;
    size_t max_verdicts = 4096;
    // Failures are held only if a verdict came this recently (log time);
    // InfiniteDuration(): always, as if Dovecot were always heard.
    absl::Duration engaged_for = absl::Hours(1);
  };

  // Counts one failure (SessionState::CountFailure).
  using CountFn = std::function<void(ServiceId service, SaslMethod method, FailureReason reason,
                                     absl::string_view client_addr, absl::string_view username)>;

  // `metrics` outlives this object.
  ReasonRefiner(const Options& options, Metrics* metrics, CountFn count);

  // FailureHolder: an unspecified failure, as of the current log time.
  void Hold(ServiceId service, SaslMethod method, absl::string_view client_addr,
            absl::string_view username) override;
  // Dovecot's verdict on one failed login, as of the current log time.
  void OnVerdict(absl::string_view client_addr, absl::string_view username, FailureReason reason);
  void AdvanceTime(int64_t now_us);
  // Counts every held failure as unspecified now (the input has ended) and
  // forgets the verdicts.
  void Flush();

  int64_t now_us() const { return now_us_; }
  size_t held() const { return held_.size(); }
  size_t verdicts() const { return verdicts_.size(); }

  // State-file lines, and back (for a fresh object, before any event);
  // service names are resolved through `services`. InvalidArgument for a
  // malformed line.
  std::vector<std::string> Save(const ServiceTable& services) const;
  absl::Status Restore(const std::vector<std::string>& lines, ServiceTable* services);

 private:
  enum Cause { kExpired, kOverflow, kNoClient, kCauseCount };
  enum Outcome { kMatched, kUnmatched, kDropped, kOutcomeCount };

  void Count(const PendingLogin& failure, FailureReason reason);
  void Unrefined(const PendingLogin& failure, Cause cause);
  void Refined(const PendingLogin& failure, FailureReason reason);
  void Expire();
  void SetHeldGauge();

  const Options options_;
  const int64_t hold_us_;
  const int64_t verdict_ttl_us_;
  const int64_t engaged_for_us_;
  CountFn count_;
  int64_t now_us_ = 0;
  // Log time of the newest verdict; no verdict yet: never engaged.
  int64_t last_verdict_us_ = std::numeric_limits<int64_t>::min();
  PendingLogins held_;      // payload: service, method
  PendingLogins verdicts_;  // payload: reason
  prometheus::Family<prometheus::Counter>* refined_family_;
  std::array<prometheus::Counter*, kFailureReasonCount> refined_{};
  std::array<prometheus::Counter*, kCauseCount> unrefined_{};
  std::array<prometheus::Counter*, kOutcomeCount> verdict_outcomes_{};
  prometheus::Gauge* held_gauge_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_REASON_REFINER_H_
