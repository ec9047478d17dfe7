// SessionState: per-process smtpd state that turns events into counts.
//
// An smtpd process serves one SMTP session at a time, so a session is tracked
// per (syslog_name, pid): state is found by pid, and a line of that pid under
// another syslog_name (another ServiceTable name id) means the pid was reused
// by a new process. It is opened by "connect from" and closed by
// "disconnect from", a fatal/panic of that process, master's report of the
// pid's death, a new "connect from" on a reused pid, or an idle timeout.
//
// Attempt accounting (each failed AUTH counted exactly once):
//  - "SASL M authentication failed|aborted" lines are counted when seen, and
//    remembered per process;
//  - a backend line of the same process just before (Cyrus companion, Dovecot
//    socket warning) refines the failed line's reason;
//  - a failure still "unspecified" then goes to the FailureHolder, if one is
//    set (Dovecot's own log may know the reason; reason_refiner.h), which
//    has it counted later through CountFailure;
//  - at "disconnect from ... auth=S/T", S successes are counted, and failed
//    attempts (T-S) beyond those already logged are counted with method
//    "unknown" and reason "aborted" (session lost/timed out after AUTH) or
//    "auth_unavailable" (Postfix logs nothing when it refuses AUTH itself),
//    or "rate_limited" after smtpd's AUTH command rate limit warning --
//    only for sessions whose "connect from" was seen, since only those know
//    what was already logged (an evicted process's disconnect derives none);
//  - a disconnect without auth= statistics (Postfix 2.x) counts one success
//    when the session queued a message with sasl_method= (once per session);
//  - an smtp/lmtp client's failure to authenticate to a relay counts once
//    per attempt: its own line always, and the delivery status lines that
//    repeat it for each recipient of one message once per (pid, queue id);
//  - a backend connect warning is one backend error, and the "fatal: no SASL
//    authentication mechanisms" that follows it is the same error.
//
// Memory is bounded by Options::max_tracked_processes: the least recently
// active process is evicted first (counted). Peaks are maxima over a trailing
// window of log time (never reset by reading).
//
// Not thread-safe: the ingest thread owns it.
#ifndef PSE_EXPORTER_STATE_H_
#define PSE_EXPORTER_STATE_H_

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exporter/failure_observer.h"
#include "exporter/metrics.h"
#include "exporter/peak_window.h"
#include "exporter/service_table.h"
#include "parsers/postfix_event.h"

namespace pse {

// Takes a failed AUTH whose reason is only "unspecified" instead of
// SessionState counting it at once, and has it counted later, exactly once,
// through SessionState::CountFailure (with a better reason when it finds
// one). The views live only for the call.
class FailureHolder {
 public:
  virtual ~FailureHolder() = default;
  virtual void Hold(ServiceId service, SaslMethod method, absl::string_view client_addr,
                    absl::string_view username) = 0;
};

class SessionState {
 public:
  struct Options {
    // Trailing window of log time for postfix_smtpd_sessions_max. Longer
    // windows keep a short burst visible to slower scrape intervals.
    absl::Duration peak_window = absl::Seconds(60);
    // A process with no line for this long (log time) is forgotten and its
    // session closed. smtpd's own command timeout is 300 s; an hour leaves
    // room for slow DATA transfers.
    absl::Duration idle_timeout = absl::Hours(1);
    // Most smtpd processes held at once; beyond it the least recently active
    // is evicted. Each costs ~100 bytes. Postfix's default process limit is
    // 100 per service, so 16384 leaves ample room.
    size_t max_tracked_processes = 16384;
    // Tell processes apart by the host their lines name (ProcessKey), for
    // one log holding several Postfix hosts (a central relay), whose pids
    // collide. Off by default: one Postfix may reach us by paths that name
    // its host differently (syslog(3) names none, a file or relay does), and
    // its sessions must not split.
    bool by_host = false;
  };

  // `services` resolves name ids to instances (master child exits);
  // `metrics` has handles for every label id handed to Handle. Both outlive
  // this object.
  SessionState(const Options& options, const ServiceTable* services, Metrics* metrics);

  // Applies one event of process `pid` of `service` (resolved from the
  // record's syslog_name by the caller, once per record). `pid` is Key().
  void Handle(ServiceId service, int64_t pid, const PostfixEvent& event);
  // The identity Handle() takes: ProcessKey() with Options::by_host, else
  // the pid.
  int64_t Key(absl::string_view host, int64_t pid) const {
    return options_.by_host ? ProcessKey(host, pid) : pid;
  }
  // A process's identity: its pid in the low 32 bits and, when the line
  // names its host, a non-zero 31-bit hash of the host above them, since
  // pids collide across the hosts of one relayed log. A negative pid (none)
  // is returned as it is.
  static int64_t ProcessKey(absl::string_view host, int64_t pid);
  // Advances log time (monotonic; earlier times are ignored): refreshes peak
  // gauges and expires idle processes. Called for every line with a time.
  void AdvanceTime(int64_t now_us);

  size_t tracked() const { return procs_.size(); }

  // Told of every failure counted, after the counter (null: nobody). Not
  // owned; outlives this object.
  void set_failure_observer(FailureObserver* observer) { observer_ = observer; }
  // Where "unspecified" SASL failures go instead of being counted (null:
  // counted at once). The session's own accounting (failures logged, for
  // the disconnect's auth= statistics) still takes them when they are seen.
  // Not owned; outlives this object.
  void set_failure_holder(FailureHolder* holder) { holder_ = holder; }
  // Counts one failed AUTH of `service` (a counter increment and the
  // observer): what Handle does for a failure line, and what the holder
  // calls for each failure it held.
  void CountFailure(ServiceId service, SaslMethod method, FailureReason reason,
                    absl::string_view client_addr, absl::string_view username);

  // The whole session state (processes in LRU order, open sessions, peak
  // windows, log time) as state-file lines, and back. Restore is for a fresh
  // object, before any event; names are resolved through `services`.
  // InvalidArgument for a malformed line.
  std::vector<std::string> Save() const;
  absl::Status Restore(const std::vector<std::string>& lines, ServiceTable* services);

 private:
  struct Proc {
    int64_t pid = 0;
    ServiceId service;
    bool open = false;
    int64_t last_seen_us = 0;
    uint32_t logged_failures = 0;
    bool aborted_after_auth = false;
    // A message was queued with sasl_method= (counts a success when the
    // disconnect line has no auth= statistics, as before Postfix 3.0).
    bool authenticated = false;
    // smtpd logged "AUTH command rate limit exceeded" for this session.
    bool auth_rate_limited = false;
    bool backend_error_pending = false;
    bool has_note = false;
    FailureReason note_reason = FailureReason::kOther;
  };
  using ProcList = std::list<Proc>;

  struct ServiceState {
    int64_t open = 0;
    std::unique_ptr<PeakWindow> peak;
    // A name id with this label, to find the label again after a restart.
    int some_name = -1;
  };

  // The process's state, created (or reset for a reused pid) as needed.
  ProcList::iterator Touch(int64_t pid, ServiceId service);
  void Forget(ProcList::iterator it, int64_t at_us = -1);
  // Closes p's session as of `at_us` (log time; now when omitted).
  void CloseSession(Proc* p, int64_t at_us = -1);
  void OpenSession(Proc* p);
  Metrics::Service& Handles(ServiceId id) { return HandlesOf(id.label); }
  Metrics::Service& HandlesOf(int label) {
    return metrics_->service(label, services_table_->label(label), services_table_->host(label));
  }
  // Open-session count and peak of one label id.
  ServiceState& Svc(int label);
  void UpdatePeak(int label);

  Options options_;
  const ServiceTable* services_table_;
  Metrics* metrics_;
  int64_t now_us_ = 0;
  int64_t last_sweep_us_ = 0;
  int64_t last_peak_refresh_us_ = 0;
  // Least recently active first.
  ProcList lru_;
  absl::flat_hash_map<int64_t, ProcList::iterator> procs_;
  // Indexed by label id.
  std::vector<ServiceState> services_;
  // smtp/lmtp pid -> queue id of the last outbound SASL failure counted from
  // delivery status lines (bounded: cleared past kMaxSmtpClients).
  static constexpr size_t kMaxSmtpClients = 4096;
  absl::flat_hash_map<int64_t, std::string> smtp_sasl_status_;
  FailureObserver* observer_ = nullptr;
  FailureHolder* holder_ = nullptr;
};

}  // namespace pse

#endif  // PSE_EXPORTER_STATE_H_
