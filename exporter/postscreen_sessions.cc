#include "exporter/postscreen_sessions.h"

#include <algorithm>
#include <map>

#include "absl/hash/hash.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "exporter/metrics.h"
#include "exporter/state_file.h"

namespace pse {

namespace P = prometheus;

PostscreenSessions::PostscreenSessions(P::Registry* registry, int64_t peak_window_us)
    : sessions_(&P::BuildGauge()
                     .Name("postfix_postscreen_sessions")
                     .Help("postscreen sessions open now (CONNECT not yet ended by DISCONNECT "
                           "or a hand-over to smtpd).")
                     .Register(*registry)),
      sessions_max_(&P::BuildGauge()
                         .Name("postfix_postscreen_sessions_max")
                         .Help("Most postscreen sessions open at once within the trailing peak "
                               "window of log time.")
                         .Register(*registry)),
      peak_window_us_(peak_window_us) {}

PostscreenSessions::~PostscreenSessions() = default;

PostscreenSessions::Service& PostscreenSessions::For(int label_id, const std::string& service,
                                                     const std::string& host_label) {
  if (static_cast<size_t>(label_id) >= services_.size()) services_.resize(label_id + 1);
  Service& s = services_[label_id];
  if (s.sessions == nullptr) {
    std::map<std::string, std::string> labels = {{"service", service}};
    if (!host_label.empty()) labels.emplace("host", host_label);
    s.peak = std::make_unique<PeakWindow>(peak_window_us_);
    s.sessions = &sessions_->Add(labels);
    s.sessions_max = &sessions_max_->Add(labels);
  }
  return s;
}

void PostscreenSessions::Changed(int label, int64_t at_us) {
  Service& s = services_[label];
  s.sessions->Set(static_cast<double>(s.open));
  s.peak->Record(at_us, s.open);
  SetIfChanged(s.sessions_max, static_cast<double>(s.peak->Max(now_us_)));
}

void PostscreenSessions::Close(uint64_t key, int64_t at_us) {
  auto it = open_.find(key);
  if (it == open_.end()) return;
  const int label = it->second.label;
  open_.erase(it);
  --services_[label].open;
  Changed(label, at_us);
}

void PostscreenSessions::Handle(int label_id, const std::string& service,
                                const std::string& host_label, absl::string_view host,
                                const MailFlowEvent& ev) {
  if (ev.postscreen_client.empty()) return;
  const uint64_t key = absl::HashOf(host, ev.postscreen_client);
  switch (ev.kind) {
    case MailKind::kPostscreenConnect: {
      Service& s = For(label_id, service, host_label);
      // A CONNECT for a socket still open: its end was not logged (a
      // silent hand-over); it is one session, not two.
      Close(key, now_us_);
      while (!by_time_.empty() && open_.size() >= kMaxTracked) {
        const Queued oldest = by_time_.front();
        by_time_.pop_front();
        if (IsCurrent(oldest)) Close(oldest.key, now_us_);
      }
      open_.emplace(key, Session{now_us_, label_id});
      by_time_.push_back({now_us_, key});
      ++s.open;
      Changed(label_id, now_us_);
      if (by_time_.size() > 2 * open_.size() + 1024) Compact();
      return;
    }
    case MailKind::kPostscreenDisconnect:
      Close(key, now_us_);
      return;
    case MailKind::kPostscreen:
      // PASS NEW|OLD, ALLOWLISTED: the socket goes to smtpd.
      if (ev.postscreen == PostscreenAction::kPassNew ||
          ev.postscreen == PostscreenAction::kPassOld ||
          ev.postscreen == PostscreenAction::kAllowlisted) {
        Close(key, now_us_);
      }
      return;
    default:
      return;
  }
}

void PostscreenSessions::NameService(int label_id, absl::string_view syslog_name,
                                     absl::string_view host) {
  if (static_cast<size_t>(label_id) >= services_.size()) services_.resize(label_id + 1);
  Service& s = services_[label_id];
  if (s.syslog_name.empty()) {
    s.syslog_name = std::string(syslog_name);
    s.host = std::string(host);
  }
}

// State-file lines:
//   clock NOW
//   service INDEX SYSLOG_NAME HOST PEAK_TOKENS...   (HOST "%" when none)
//   open KEY OPENED_US INDEX
// INDEX is the service's label id when saved; Restore maps it to today's.
std::vector<std::string> PostscreenSessions::Save() const {
  std::vector<std::string> lines;
  lines.push_back(absl::StrCat("clock ", now_us_));
  for (size_t i = 0; i < services_.size(); ++i) {
    const Service& s = services_[i];
    if (s.sessions == nullptr || s.syslog_name.empty()) continue;
    std::string line =
        absl::StrCat("service ", i, " ", EscapeToken(s.syslog_name), " ", EscapeToken(s.host));
    for (const std::string& t : s.peak->Save()) absl::StrAppend(&line, " ", t);
    lines.push_back(std::move(line));
  }
  for (const auto& [key, session] : open_) {
    if (services_[session.label].syslog_name.empty()) continue;
    lines.push_back(absl::StrCat("open ", key, " ", session.opened_us, " ", session.label));
  }
  return lines;
}

bool PostscreenSessions::Restore(const std::vector<std::string>& lines, ServiceTable* services) {
  absl::flat_hash_map<int, int> label_of;  // saved index -> today's label id
  for (const std::string& line : lines) {
    std::vector<absl::string_view> t = absl::StrSplit(line, ' ');
    if (t[0] == "clock") {
      if (t.size() != 2 || !absl::SimpleAtoi(t[1], &now_us_)) return false;
      last_refresh_us_ = now_us_;
    } else if (t[0] == "service") {
      int index;
      std::string name, host;
      if (t.size() < 4 || !absl::SimpleAtoi(t[1], &index) || !UnescapeToken(t[2], &name) ||
          !UnescapeToken(t[3], &host) || name.empty()) {
        return false;
      }
      const ServiceId id = services->Resolve(name, host);
      if (!id.valid()) continue;
      NameService(id.label, name, host);
      Service& s = For(id.label, services->label(id.label), services->host(id.label));
      if (!s.peak->Restore(std::vector<std::string>(t.begin() + 4, t.end()))) return false;
      label_of[index] = id.label;
    } else if (t[0] == "open") {
      uint64_t key;
      int64_t opened;
      int index;
      if (t.size() != 4 || !absl::SimpleAtoi(t[1], &key) || !absl::SimpleAtoi(t[2], &opened) ||
          !absl::SimpleAtoi(t[3], &index)) {
        return false;
      }
      auto found = label_of.find(index);
      if (found == label_of.end()) continue;  // its service was not restored
      if (!open_.emplace(key, Session{opened, found->second}).second) continue;
      by_time_.push_back({opened, key});
      ++services_[found->second].open;
    } else {
      return false;
    }
  }
  std::sort(by_time_.begin(), by_time_.end(),
            [](const Queued& a, const Queued& b) { return a.opened_us < b.opened_us; });
  for (Service& s : services_) {
    if (s.sessions == nullptr) continue;
    s.sessions->Set(static_cast<double>(s.open));
    SetIfChanged(s.sessions_max, static_cast<double>(s.peak->Max(now_us_)));
  }
  return true;
}

bool PostscreenSessions::IsCurrent(const Queued& q) const {
  auto it = open_.find(q.key);
  return it != open_.end() && it->second.opened_us == q.opened_us;
}

void PostscreenSessions::Compact() {
  std::deque<Queued> kept;
  for (const Queued& q : by_time_) {
    if (IsCurrent(q)) kept.push_back(q);
  }
  by_time_.swap(kept);
}

void PostscreenSessions::AdvanceTime(int64_t now_us) {
  if (now_us <= now_us_) return;
  now_us_ = now_us;
  while (!by_time_.empty() && by_time_.front().opened_us + kSessionTimeoutUs <= now_us_) {
    const Queued q = by_time_.front();
    by_time_.pop_front();
    // Only the entry of the session still open under that key.
    if (IsCurrent(q)) Close(q.key, now_us_);
  }
  if (now_us_ - last_refresh_us_ < 1000000) return;
  last_refresh_us_ = now_us_;
  for (Service& s : services_) {
    if (s.peak) SetIfChanged(s.sessions_max, static_cast<double>(s.peak->Max(now_us_)));
  }
}

}  // namespace pse
