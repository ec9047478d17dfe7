#include "exporter/pipeline.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "parsers/dovecot_auth.h"
#include "parsers/mail_flow.h"
#include "parsers/postfix_parser.h"

namespace pse {

Pipeline::Pipeline(const Options& options, Metrics* metrics)
    : metrics_(metrics),
      framer_(options.syslog),
      services_(options.services),
      state_(StateOptions(options), &services_, metrics),
      future_tolerance_us_(absl::ToInt64Microseconds(options.future_tolerance)),
      reason_rules_(options.reason_rules),
      mail_(std::make_unique<MailMetrics>(metrics)),
      postscreen_(std::make_unique<PostscreenSessions>(
          metrics->registry(), absl::ToInt64Microseconds(options.state.peak_window))),
      triage_(options.triage.enabled ? std::make_unique<Triage>(options.triage, metrics->registry())
                                     : nullptr),
      refiner_(std::make_unique<ReasonRefiner>(
          options.refiner, metrics,
          [this](ServiceId service, SaslMethod method, FailureReason reason,
                 absl::string_view client_addr, absl::string_view username) {
            state_.CountFailure(service, method, reason, client_addr, username);
          })) {
  state_.set_failure_observer(triage_.get());
  state_.set_failure_holder(refiner_.get());
}

SessionState::Options Pipeline::StateOptions(const Options& options) {
  SessionState::Options o = options.state;
  if (options.services.host_label) o.by_host = true;
  return o;
}

void Pipeline::Advance(int64_t ts) {
  if (ts <= newest_us_) return;
  if (ts > future_limit_us_) {
    future_limit_us_ = absl::ToUnixMicros(absl::Now()) + future_tolerance_us_;
    if (ts > future_limit_us_) return;
  }
  newest_us_ = ts;
  metrics_->log_last_timestamp->Set(static_cast<double>(newest_us_) / 1e6);
  state_.AdvanceTime(ts);
  postscreen_->AdvanceTime(ts);
  if (triage_) triage_->AdvanceTime(ts);
  refiner_->AdvanceTime(ts);
}

void Pipeline::Tick(absl::Time now) {
  if (lines_since_tick_ || tick_wall_ == absl::InfinitePast()) {
    lines_since_tick_ = false;
    tick_wall_ = now;
    tick_log_us_ = newest_us_;
    return;
  }
  if (newest_us_ == 0 || refiner_->held() + refiner_->verdicts() == 0 || now <= tick_wall_) return;
  refiner_->AdvanceTime(tick_log_us_ + absl::ToInt64Microseconds(now - tick_wall_));
}

void Pipeline::Flush() { refiner_->Flush(); }

void Pipeline::OnLine(absl::string_view line) {
  ++unpublished_lines_;
  lines_since_tick_ = true;
  LogRecord record;
  switch (framer_.Parse(line, &record)) {
    case SyslogLineParser::Result::kMalformed:
      metrics_->log_lines_malformed->Increment();
      return;
    case SyslogLineParser::Result::kOther:
      // Other programs' lines still tell us how far the log has got.
      Advance(record.timestamp_us);
      return;
    case SyslogLineParser::Result::kPostfix:
      Process(record);
      return;
    case SyslogLineParser::Result::kDovecot:
      ProcessDovecot(record);
      return;
  }
}

void Pipeline::OnRecord(const LogRecord& record) {
  ++unpublished_lines_;
  lines_since_tick_ = true;
  // The journal source hands over Dovecot's entries with an empty daemon.
  if (record.daemon.empty() && IsDovecotIdentifier(record.syslog_name)) {
    ProcessDovecot(record);
  } else {
    Process(record);
  }
}

void Pipeline::ProcessDovecot(const LogRecord& record) {
  Advance(record.timestamp_us);
  DovecotAuthFailure f;
  if (ParseDovecotAuthRecord(record.syslog_name, record.message, &f)) {
    refiner_->OnVerdict(f.client_addr, f.username, f.reason);
  }
}

void Pipeline::Process(const LogRecord& record) {
  Advance(record.timestamp_us);
  const PostfixEvent event = ParsePostfix(record, reason_rules_.get());
  const MailFlowEvent flow = ParseMailFlow(record);
  if (flow.kind == MailKind::kNone && event.type == EventType::kIgnored) return;
  // Resolved once per record, for every consumer.
  const ServiceId id = services_.Resolve(record.syslog_name, record.host);
  if (flow.kind != MailKind::kNone && id.valid()) {
    const std::string& label = services_.label(id.label);
    const std::string& host_label = services_.host(id.label);
    mail_->Handle(id.label, label, host_label, record, flow);
    if (!flow.postscreen_client.empty()) {
      postscreen_->NameService(id.label, record.syslog_name, record.host);
      postscreen_->Handle(id.label, label, host_label, record.host, flow);
    }
  }
  if (event.type == EventType::kIgnored) return;
  if (triage_ && event.type == EventType::kMessageQueued && !event.sasl_username.empty()) {
    triage_->OnAuthenticatedMessage(event.client_addr, event.sasl_username);
  }
  state_.Handle(id, state_.Key(record.host, record.pid), event);
}

void Pipeline::PublishCounts() {
  mail_->Publish();
  if (triage_) triage_->Publish();
  if (unpublished_lines_ == 0) return;
  metrics_->log_lines->Increment(static_cast<double>(unpublished_lines_));
  unpublished_lines_ = 0;
}

void Pipeline::SyncSourceStats(const SourceStats& s, absl::Time now) {
  PublishCounts();
  metrics_->source_up->Set(s.up ? 1 : 0);
  auto sync = [](prometheus::Counter* c, uint64_t now_value, uint64_t* last) {
    if (now_value > *last) c->Increment(static_cast<double>(now_value - *last));
    *last = now_value;
  };
  sync(metrics_->source_rotations, s.rotations, &synced_.rotations);
  sync(metrics_->source_truncations, s.truncations, &synced_.truncations);
  sync(metrics_->lines_too_long, s.lines_too_long, &synced_.lines_too_long);
  sync(metrics_->source_errors, s.errors, &synced_.errors);
  if (s.idle && s.newest_entry_us > 0) {
    double lag = absl::ToDoubleSeconds(now - absl::FromUnixMicros(s.newest_entry_us));
    metrics_->journal_lag->Set(lag > 0 ? lag : 0);
  }
}

void Pipeline::SaveState(StateDocument* doc,
                         const std::vector<prometheus::MetricFamily>* collected) const {
  doc->sections["pipeline"] = {absl::StrCat("newest ", newest_us_)};
  doc->sections["metrics"] = metrics_->SaveValues(collected);
  doc->sections["sessions"] = state_.Save();
  // Off: a triage section read at start goes back unchanged, for when it
  // is turned on again.
  if (triage_) {
    doc->sections["triage"] = triage_->Save();
  } else if (!kept_triage_.empty()) {
    doc->sections["triage"] = kept_triage_;
  }
  doc->sections["refiner"] = refiner_->Save(services_);
  doc->sections["postscreen"] = postscreen_->Save();
}

absl::Status Pipeline::RestoreState(const StateDocument& doc) {
  for (const char* required : {"pipeline", "metrics", "sessions"}) {
    if (doc.sections.count(required) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("no [", required, "] section"));
    }
  }
  const std::vector<std::string>& pipeline = doc.sections.at("pipeline");
  if (pipeline.size() != 1 || !absl::StartsWith(pipeline[0], "newest ") ||
      !absl::SimpleAtoi(absl::string_view(pipeline[0]).substr(7), &newest_us_)) {
    return absl::InvalidArgumentError("malformed [pipeline] section");
  }
  absl::Status st = metrics_->RestoreValues(doc.sections.at("metrics"));
  if (st.ok()) st = state_.Restore(doc.sections.at("sessions"), &services_);
  auto triage = doc.sections.find("triage");
  if (st.ok() && triage != doc.sections.end()) {
    if (triage_) {
      st = triage_->Restore(triage->second);
    } else {
      kept_triage_ = triage->second;
    }
  }
  auto refiner = doc.sections.find("refiner");
  if (st.ok() && refiner != doc.sections.end()) {
    st = refiner_->Restore(refiner->second, &services_);
  }
  auto postscreen = doc.sections.find("postscreen");
  if (st.ok() && postscreen != doc.sections.end() &&
      !postscreen_->Restore(postscreen->second, &services_)) {
    st = absl::InvalidArgumentError("malformed [postscreen] section");
  }
  return st;
}

}  // namespace pse
