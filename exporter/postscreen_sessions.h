// PostscreenSessions: concurrent postscreen sessions, now and at their peak.
//
// postscreen logs no process per client; a session is its client's socket,
// "[addr]:port", between "CONNECT from [A]:P to [A]:P" and its end:
// "DISCONNECT [A]:P" (postscreen dropped or finished the client itself, after
// a HANGUP too), or the hand-over of the socket to smtpd, which postscreen
// logs as "PASS NEW|OLD [A]:P" or "ALLOWLISTED|WHITELISTED [A]:P" -- or not
// at all (a failed test whose action is "ignore"). A session no line ended
// is closed at kSessionTimeout of log time after its CONNECT: postscreen
// never holds a client longer (greet wait plus the 300 s command time limit
// of its SMTP engine).
//
// Exports postfix_postscreen_sessions{service} (open now) and
// postfix_postscreen_sessions_max{service} (most open at once within the
// trailing peak window of log time, like postfix_smtpd_sessions_max). Series
// are made at the service's first CONNECT. Save/Restore (the "postscreen"
// section of the state file) keep the open sessions and the peak windows, so
// a restart changes neither gauge.
//
// Memory: at most kMaxTracked sessions (the oldest is closed first beyond
// it), each a 64-bit key (a hash of the log's host and "[A]:P") in a map and
// in a time-ordered queue that is compacted when stale entries pile up.
//
// Not thread-safe: the ingest thread owns it; HTTP threads only collect the
// registry's gauges.
#ifndef PSE_EXPORTER_POSTSCREEN_SESSIONS_H_
#define PSE_EXPORTER_POSTSCREEN_SESSIONS_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "exporter/peak_window.h"
#include "exporter/service_table.h"
#include "parsers/mail_flow.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace pse {

class PostscreenSessions {
 public:
  static constexpr int64_t kSessionTimeoutUs = 330LL * 1000000;
  static constexpr size_t kMaxTracked = 65536;

  // `registry` outlives this object. `peak_window_us`: the trailing window
  // of postfix_postscreen_sessions_max (--sessions.peak_window).
  PostscreenSessions(prometheus::Registry* registry, int64_t peak_window_us);
  ~PostscreenSessions();
  PostscreenSessions(const PostscreenSessions&) = delete;
  PostscreenSessions& operator=(const PostscreenSessions&) = delete;

  // One postscreen event of the log's `host`, for `service` (label id and
  // value as ServiceTable resolved them; `host_label` is the series' `host`
  // label, "" without --syslog.host-label). Events that neither open nor
  // end a session are ignored.
  void Handle(int label_id, const std::string& service, const std::string& host_label,
              absl::string_view host, const MailFlowEvent& ev);
  // `syslog_name` of the record, kept for the state file: Restore resolves
  // it again. Call before Handle for a CONNECT (the pipeline does).
  void NameService(int label_id, absl::string_view syslog_name, absl::string_view host);
  // Log time moved to `now_us` (monotonic): expires sessions past their
  // timeout and refreshes the peak gauges.
  void AdvanceTime(int64_t now_us);

  size_t tracked() const { return open_.size(); }

  // State-file lines, and back (on a fresh object, before any event);
  // services are resolved again through `services`. False for malformed
  // lines.
  std::vector<std::string> Save() const;
  bool Restore(const std::vector<std::string>& lines, ServiceTable* services);

 private:
  struct Service {
    std::string syslog_name, host;  // for the state file
    int64_t open = 0;
    std::unique_ptr<PeakWindow> peak;
    prometheus::Gauge* sessions = nullptr;
    prometheus::Gauge* sessions_max = nullptr;
  };
  struct Session {
    int64_t opened_us;
    int label;
  };
  struct Queued {
    int64_t opened_us;
    uint64_t key;
  };

  Service& For(int label_id, const std::string& service, const std::string& host_label);
  void Close(uint64_t key, int64_t at_us);  // at_us: log time, >= the last change
  void Changed(int label, int64_t at_us);
  // Whether `q` is the queue entry of the session open under its key (a
  // key closed and opened again leaves a stale entry behind).
  bool IsCurrent(const Queued& q) const;
  void Compact();

  prometheus::Family<prometheus::Gauge>* sessions_;
  prometheus::Family<prometheus::Gauge>* sessions_max_;
  const int64_t peak_window_us_;
  int64_t now_us_ = 0;
  int64_t last_refresh_us_ = 0;
  std::vector<Service> services_;  // by label id
  absl::flat_hash_map<uint64_t, Session> open_;
  // Open sessions (and closed ones not yet dropped) by opening time.
  std::deque<Queued> by_time_;
};

}  // namespace pse

#endif  // PSE_EXPORTER_POSTSCREEN_SESSIONS_H_
