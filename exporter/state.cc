#include "exporter/state.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "exporter/state_file.h"

namespace pse {
namespace {

bool Refines(FailureReason r) {
  return r != FailureReason::kOther && r != FailureReason::kUnspecified;
}

}  // namespace

SessionState::SessionState(const Options& options, const ServiceTable* services, Metrics* metrics)
    : options_(options), services_table_(services), metrics_(metrics) {}

SessionState::ServiceState& SessionState::Svc(int index) {
  if (static_cast<size_t>(index) >= services_.size()) services_.resize(index + 1);
  ServiceState& s = services_[index];
  if (!s.peak)
    s.peak = std::make_unique<PeakWindow>(absl::ToInt64Microseconds(options_.peak_window));
  return s;
}

void SessionState::UpdatePeak(int index) {
  ServiceState& s = Svc(index);
  SetIfChanged(HandlesOf(index).sessions_max, static_cast<double>(s.peak->Max(now_us_)));
}

void SessionState::OpenSession(Proc* p) {
  const int label = p->service.label;
  ServiceState& s = Svc(label);
  if (s.some_name < 0) s.some_name = p->service.name;
  p->open = true;
  ++s.open;
  Metrics::Service& m = Handles(p->service);
  m.connects->Increment();
  m.sessions->Set(static_cast<double>(s.open));
  s.peak->Record(now_us_, s.open);
  UpdatePeak(label);
}

void SessionState::CloseSession(Proc* p, int64_t at_us) {
  if (!p->open) return;
  p->open = false;
  const int label = p->service.label;
  ServiceState& s = Svc(label);
  if (s.open > 0) --s.open;
  Handles(p->service).sessions->Set(static_cast<double>(s.open));
  s.peak->Record(at_us < 0 ? now_us_ : at_us, s.open);
  UpdatePeak(label);
}

void SessionState::Forget(ProcList::iterator it, int64_t at_us) {
  CloseSession(&*it, at_us);
  procs_.erase(it->pid);
  lru_.erase(it);
  metrics_->sessions_tracked->Set(static_cast<double>(procs_.size()));
}

int64_t SessionState::ProcessKey(absl::string_view host, int64_t pid) {
  if (host.empty() || pid < 0 || pid > 0xffffffff) return pid;
  uint32_t h = 2166136261u;  // FNV-1a 32
  for (char c : host) h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
  const int64_t tag = static_cast<int64_t>(h % 0x7fffffffu) + 1;
  return (tag << 32) | pid;
}

SessionState::ProcList::iterator SessionState::Touch(int64_t pid, ServiceId service) {
  auto found = procs_.find(pid);
  if (found != procs_.end()) {
    ProcList::iterator it = found->second;
    if (it->service.name != service.name) {
      // The pid now logs under another syslog_name: the old process is gone
      // and a new one reused its pid.
      CloseSession(&*it);
      *it = Proc();
      it->pid = pid;
      it->service = service;
    }
    it->last_seen_us = now_us_;
    lru_.splice(lru_.end(), lru_, it);
    return it;
  }
  if (procs_.size() >= options_.max_tracked_processes && !lru_.empty()) {
    metrics_->evictions_capacity->Increment();
    Forget(lru_.begin());
  }
  lru_.emplace_back();
  ProcList::iterator it = std::prev(lru_.end());
  it->pid = pid;
  it->service = service;
  it->last_seen_us = now_us_;
  procs_.emplace(pid, it);
  metrics_->sessions_tracked->Set(static_cast<double>(procs_.size()));
  return it;
}

void SessionState::AdvanceTime(int64_t now_us) {
  if (now_us <= now_us_) return;
  if (now_us_ == 0) {
    // The first log time: processes seen before it (lines without a usable
    // time) count as seen now, not at the epoch.
    for (Proc& p : lru_) p.last_seen_us = now_us;
    last_sweep_us_ = now_us;
    last_peak_refresh_us_ = now_us;
  }
  now_us_ = now_us;
  // Peaks decay as log time passes even when nothing else happens; refresh
  // them at most once a second of log time.
  if (now_us_ - last_peak_refresh_us_ >= 1000000) {
    last_peak_refresh_us_ = now_us_;
    for (size_t i = 0; i < services_.size(); ++i) {
      if (services_[i].peak) UpdatePeak(static_cast<int>(i));
    }
  }
  if (now_us_ - last_sweep_us_ >= 10 * 1000000) {
    last_sweep_us_ = now_us_;
    const int64_t idle = absl::ToInt64Microseconds(options_.idle_timeout);
    while (!lru_.empty() && lru_.front().last_seen_us < now_us_ - idle) {
      metrics_->evictions_idle->Increment();
      // The session ended, as far as anyone can tell, at its idle deadline:
      // a leaked session must not hold up the peak until the sweep.
      Forget(lru_.begin(), lru_.front().last_seen_us + idle);
    }
  }
}

void SessionState::Handle(ServiceId service, int64_t pid, const PostfixEvent& ev) {
  switch (ev.type) {
    case EventType::kIgnored:
      return;
    case EventType::kAnvilMaxConnectionCount:
      metrics_->anvil_connection_count_max->Set(static_cast<double>(ev.number));
      return;
    case EventType::kMasterProcessLimit:
      metrics_->ProcessLimitReached(ev.master_service, services_table_->host(service.label))
          .Increment();
      return;
    case EventType::kMasterChildExit: {
      // master logs under the instance's own syslog_name; the child may have
      // logged under "<instance>/submission" and so on.
      // The child ran on master's host: same host part of the key.
      auto found = procs_.find((pid & ~int64_t{0xffffffff}) | ev.number);
      if (found == procs_.end()) return;
      if (services_table_->SameInstance(found->second->service.name, service.name)) {
        Forget(found->second);
      }
      return;
    }
    default:
      break;
  }

  Metrics::Service& m = Handles(service);
  if (ev.type == EventType::kUnrecognized) {
    m.unrecognized->Increment();
    return;
  }
  if (ev.type == EventType::kSmtpSaslFailure) {
    if (ev.in_delivery_status && !ev.queue_id.empty()) {
      std::string& last = smtp_sasl_status_[pid];
      if (last == ev.queue_id) return;  // another recipient of the same attempt
      if (smtp_sasl_status_.size() > kMaxSmtpClients) {
        smtp_sasl_status_.clear();
        smtp_sasl_status_[pid] = std::string(ev.queue_id);
      } else {
        last.assign(ev.queue_id.data(), ev.queue_id.size());
      }
    } else {
      smtp_sasl_status_.erase(pid);
    }
    metrics_->SmtpSaslFailures(m).Increment();
    return;
  }
  if (ev.type == EventType::kClientLimitExceeded) {
    m.client_limits[static_cast<int>(ev.client_limit)]->Increment();
    // smtpd refuses the AUTH commands that follow, logging nothing more.
    if (ev.client_limit == ClientLimit::kAuthRate) {
      auto found = procs_.find(pid);
      if (found != procs_.end() && found->second->service.name == service.name) {
        found->second->auth_rate_limited = true;
      }
    }
    return;
  }
  if (ev.type == EventType::kReject || ev.type == EventType::kRejectWarning) {
    const bool warning = ev.type == EventType::kRejectWarning;
    metrics_->Rejects(m, warning, ev.reject_stage, ev.reject_category).Increment();
    if (warning) return;
    // A code-less reject (smtpd's "bare <LF> received") has no code label.
    if (ev.reply_code != 0) metrics_->Rejected(m, ev.reply_code).Increment();
    if (ev.relay_denied) m.relay_denied->Increment();
    return;
  }
  if (ev.type == EventType::kMessageQueued) {
    metrics_->Processed(m, ev.has_sasl_method, ev.method).Increment();
    // Before Postfix 3.0 the disconnect line has no auth= statistics; a
    // message queued with sasl_method= is then the proof of a login.
    if (ev.has_sasl_method) {
      auto found = procs_.find(pid);
      if (found != procs_.end() && found->second->service.name == service.name) {
        found->second->authenticated = true;
      }
    }
    return;
  }

  ProcList::iterator it = Touch(pid, service);
  Proc* p = &*it;
  switch (ev.type) {
    case EventType::kConnect:
      if (p->open) CloseSession(p);  // pid reused without a disconnect line
      *p = Proc{p->pid, service, false, now_us_};
      OpenSession(p);
      break;
    case EventType::kDisconnect: {
      m.disconnects->Increment();
      if (ev.has_auth_stats) {
        m.successes->Increment(ev.auth_success);
        uint32_t failed = ev.auth_total - ev.auth_success;
        // Only a session whose connect we saw knows how many of its failures
        // were already logged and counted; after an eviction (or a start in
        // the middle of a session) deriving them could count some twice.
        if (p->open && failed > p->logged_failures) {
          FailureReason r = p->auth_rate_limited    ? FailureReason::kRateLimited
                            : p->aborted_after_auth ? FailureReason::kAborted
                                                    : FailureReason::kAuthUnavailable;
          metrics_->Failures(m, SaslMethod::kUnknown, r).Increment(failed - p->logged_failures);
          if (observer_) observer_->OnFailures(ev.client_addr, {}, failed - p->logged_failures);
        }
      } else if (p->authenticated) {
        m.successes->Increment();  // once per session, however many messages
      }
      Forget(it);
      break;
    }
    case EventType::kSessionAbort:
      p->has_note = false;
      if (ev.abort_kind != AbortKind::kTooManyErrors && ev.stage == SmtpStage::kAuth) {
        p->aborted_after_auth = true;
      }
      if (ev.abort_kind == AbortKind::kLostConnection) {
        metrics_->Lost(m, ev.stage).Increment();
      }
      break;
    case EventType::kSaslFailed: {
      FailureReason r = ev.reason;
      if (p->has_note && Refines(p->note_reason)) r = p->note_reason;
      if (r == FailureReason::kUnspecified && holder_ != nullptr) {
        holder_->Hold(service, ev.method, ev.client_addr, ev.sasl_username);
      } else {
        CountFailure(service, ev.method, r, ev.client_addr, ev.sasl_username);
      }
      ++p->logged_failures;
      p->has_note = false;
      break;
    }
    case EventType::kSaslAborted:
      metrics_->Failures(m, ev.method, FailureReason::kAborted).Increment();
      if (observer_) observer_->OnFailures(ev.client_addr, ev.sasl_username, 1);
      ++p->logged_failures;
      p->has_note = false;
      break;
    case EventType::kSaslBackendNote:
      if (ev.backend_connect_error) {
        m.backend_errors->Increment();
        p->backend_error_pending = true;
      }
      if (!p->has_note || !Refines(p->note_reason)) {
        p->has_note = true;
        p->note_reason = ev.reason;
      }
      break;
    case EventType::kFatalNoSaslMechanisms:
      if (!p->backend_error_pending) m.backend_errors->Increment();
      Forget(it);
      break;
    case EventType::kFatal:
      Forget(it);
      break;
    default:
      break;
  }
}

void SessionState::CountFailure(ServiceId service, SaslMethod method, FailureReason reason,
                                absl::string_view client_addr, absl::string_view username) {
  metrics_->Failures(Handles(service), method, reason).Increment();
  if (observer_) observer_->OnFailures(client_addr, username, 1);
}

// State-file lines:
//   clock NOW LAST_SWEEP LAST_PEAK_REFRESH
//   proc PID SYSLOG_NAME OPEN LAST_SEEN LOGGED_FAILURES FLAGS NOTE_REASON [HOST]
//   peak SYSLOG_NAME T:V:END...
//   hpeak HOST SYSLOG_NAME T:V:END...
// FLAGS bits: 1 aborted_after_auth, 2 backend_error_pending, 4 has_note,
// 8 authenticated, 16 auth_rate_limited. HOST (the `host` value) and hpeak
// only with the host label.
std::vector<std::string> SessionState::Save() const {
  const bool hosts = services_table_->host_label();
  std::vector<std::string> lines;
  lines.push_back(absl::StrCat("clock ", now_us_, " ", last_sweep_us_, " ", last_peak_refresh_us_));
  for (const Proc& p : lru_) {
    const int flags = (p.aborted_after_auth ? 1 : 0) | (p.backend_error_pending ? 2 : 0) |
                      (p.has_note ? 4 : 0) | (p.authenticated ? 8 : 0) |
                      (p.auth_rate_limited ? 16 : 0);
    std::string line =
        absl::StrCat("proc ", p.pid, " ", EscapeToken(services_table_->syslog_name(p.service.name)),
                     " ", p.open ? 1 : 0, " ", p.last_seen_us, " ", p.logged_failures, " ", flags,
                     " ", static_cast<int>(p.note_reason));
    if (hosts) absl::StrAppend(&line, " ", EscapeToken(services_table_->host(p.service.label)));
    lines.push_back(std::move(line));
  }
  for (size_t i = 0; i < services_.size(); ++i) {
    const ServiceState& s = services_[i];
    if (!s.peak || s.some_name < 0) continue;
    std::string line =
        hosts ? absl::StrCat("hpeak ", EscapeToken(services_table_->host(static_cast<int>(i))), " ")
              : std::string("peak ");
    absl::StrAppend(&line, EscapeToken(services_table_->syslog_name(s.some_name)));
    for (const std::string& t : s.peak->Save()) absl::StrAppend(&line, " ", t);
    lines.push_back(std::move(line));
  }
  return lines;
}

absl::Status SessionState::Restore(const std::vector<std::string>& lines, ServiceTable* services) {
  for (const std::string& line : lines) {
    auto bad = [&line] { return absl::InvalidArgumentError("sessions: malformed line: " + line); };
    std::vector<absl::string_view> t = absl::StrSplit(line, ' ');
    if (t[0] == "clock") {
      if (t.size() != 4 || !absl::SimpleAtoi(t[1], &now_us_) ||
          !absl::SimpleAtoi(t[2], &last_sweep_us_) ||
          !absl::SimpleAtoi(t[3], &last_peak_refresh_us_)) {
        return bad();
      }
    } else if (t[0] == "proc") {
      Proc p;
      std::string name, host;
      int open, flags, note;
      if ((t.size() != 8 && t.size() != 9) || (t.size() == 9 && !UnescapeToken(t[8], &host)) ||
          !absl::SimpleAtoi(t[1], &p.pid) || !UnescapeToken(t[2], &name) ||
          !absl::SimpleAtoi(t[3], &open) || !absl::SimpleAtoi(t[4], &p.last_seen_us) ||
          !absl::SimpleAtoi(t[5], &p.logged_failures) || !absl::SimpleAtoi(t[6], &flags) ||
          !absl::SimpleAtoi(t[7], &note) || note < 0 || note >= kFailureReasonCount ||
          procs_.contains(p.pid)) {
        return bad();
      }
      p.service = services->Resolve(name, host);
      p.aborted_after_auth = flags & 1;
      p.backend_error_pending = flags & 2;
      p.has_note = flags & 4;
      p.authenticated = flags & 8;
      p.auth_rate_limited = flags & 16;
      p.note_reason = static_cast<FailureReason>(note);
      lru_.push_back(p);
      procs_.emplace(p.pid, std::prev(lru_.end()));
      if (open == 1) {
        ServiceState& s = Svc(p.service.label);
        if (s.some_name < 0) s.some_name = p.service.name;
        lru_.back().open = true;
        ++s.open;
      }
    } else if (t[0] == "peak" || t[0] == "hpeak") {
      // hpeak has the host before the name.
      const size_t n = t[0] == "peak" ? 1 : 2;
      std::string name, host;
      if (t.size() < n + 1 || !UnescapeToken(t[n], &name) ||
          (n == 2 && !UnescapeToken(t[1], &host))) {
        return bad();
      }
      const ServiceId id = services->Resolve(name, host);
      ServiceState& s = Svc(id.label);
      if (s.some_name < 0) s.some_name = id.name;
      if (!s.peak->Restore(std::vector<std::string>(t.begin() + n + 1, t.end()))) return bad();
    } else {
      return bad();
    }
  }
  // The gauges follow the restored sessions.
  for (size_t i = 0; i < services_.size(); ++i) {
    if (!services_[i].peak) continue;
    const int label = static_cast<int>(i);
    HandlesOf(label).sessions->Set(static_cast<double>(services_[i].open));
    UpdatePeak(label);
  }
  metrics_->sessions_tracked->Set(static_cast<double>(procs_.size()));
  return absl::OkStatus();
}

}  // namespace pse
