#include "exporter/state.h"

#include <algorithm>

namespace pse {
namespace {

bool Refines(FailureReason r) {
  return r != FailureReason::kOther && r != FailureReason::kUnspecified;
}

}  // namespace

SessionState::SessionState(const Options& options, const ServiceTable* services,
                           Metrics* metrics)
    : options_(options), services_table_(services), metrics_(metrics) {}

SessionState::ServiceState& SessionState::Svc(int index) {
  if (static_cast<size_t>(index) >= services_.size()) services_.resize(index + 1);
  ServiceState& s = services_[index];
  if (!s.peak) s.peak = std::make_unique<PeakWindow>(absl::ToInt64Microseconds(options_.peak_window));
  return s;
}

void SessionState::UpdatePeak(int index) {
  ServiceState& s = Svc(index);
  metrics_->service(index, services_table_->label(index)).sessions_max->Set(static_cast<double>(s.peak->Max(now_us_)));
}

void SessionState::OpenSession(Proc* p) {
  const int label = p->service.label;
  ServiceState& s = Svc(label);
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
      metrics_->ProcessLimitReached(ev.master_service).Increment();
      return;
    case EventType::kMasterChildExit: {
      // master logs under the instance's own syslog_name; the child may have
      // logged under "<instance>/submission" and so on.
      auto found = procs_.find(ev.number);
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
  if (ev.type == EventType::kReject) {
    metrics_->Rejected(m, ev.reply_code).Increment();
    if (ev.relay_denied) m.relay_denied->Increment();
    return;
  }
  if (ev.type == EventType::kMessageQueued) {
    int idx = ev.has_sasl_method ? static_cast<int>(ev.method) : kSaslMethodCount;
    m.processed[idx]->Increment();
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
          FailureReason r = p->aborted_after_auth ? FailureReason::kAborted
                                                  : FailureReason::kAuthUnavailable;
          m.failures[static_cast<int>(SaslMethod::kUnknown)][static_cast<int>(r)]->Increment(
              failed - p->logged_failures);
        }
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
        m.lost[static_cast<int>(ev.stage)]->Increment();
      }
      break;
    case EventType::kSaslFailed: {
      FailureReason r = ev.reason;
      if (p->has_note && Refines(p->note_reason)) r = p->note_reason;
      m.failures[static_cast<int>(ev.method)][static_cast<int>(r)]->Increment();
      ++p->logged_failures;
      p->has_note = false;
      break;
    }
    case EventType::kSaslAborted:
      m.failures[static_cast<int>(ev.method)][static_cast<int>(FailureReason::kAborted)]
          ->Increment();
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

}  // namespace pse
