#include "exporter/metrics.h"

#include "absl/strings/str_cat.h"
#include "exporter/service_table.h"

namespace pse {

namespace P = prometheus;

struct Metrics::Families {
  P::Family<P::Counter>* connects;
  P::Family<P::Counter>* disconnects;
  P::Family<P::Gauge>* sessions;
  P::Family<P::Gauge>* sessions_max;
  P::Family<P::Counter>* successes;
  P::Family<P::Counter>* failures;
  P::Family<P::Counter>* backend_errors;
  P::Family<P::Counter>* relay_denied;
  P::Family<P::Counter>* rejected;
  P::Family<P::Counter>* processed;
  P::Family<P::Counter>* lost;
  P::Family<P::Counter>* process_limit;
  P::Family<P::Counter>* unrecognized;
};

namespace {

P::Family<P::Counter>* Counter(P::Registry* r, const char* name, const char* help) {
  return &P::BuildCounter().Name(name).Help(help).Register(*r);
}
P::Family<P::Gauge>* Gauge(P::Registry* r, const char* name, const char* help) {
  return &P::BuildGauge().Name(name).Help(help).Register(*r);
}

// Reply codes pre-created at 0 for every service: the ones smtpd's access
// restrictions and relay control use.
constexpr uint16_t kCommonReplyCodes[] = {421, 450, 451, 452, 454, 501, 503, 504,
                                          550, 551, 552, 553, 554};

}  // namespace

Metrics::Metrics(P::Registry* r, const BuildInfo& build) : fam_(new Families) {
  // Registered first, so collected first: a scrape that shows N lines read
  // also shows everything those N lines counted (families are collected in
  // registration order while ingest goes on).
  log_lines = &Counter(r, "postfix_exporter_log_lines_total", "Log lines read.")->Add({});
  P::BuildGauge()
      .Name("postfix_exporter_build_info")
      .Help("Build information of postfix-sasl-exporter; always 1.")
      .Register(*r)
      .Add({{"version", build.version}, {"revision", build.revision}})
      .Set(1);

  fam_->connects = Counter(r, "postfix_smtpd_connects_total", "SMTP sessions opened (smtpd 'connect from').");
  fam_->disconnects = Counter(r, "postfix_smtpd_disconnects_total",
                              "SMTP sessions closed by smtpd 'disconnect from'.");
  fam_->sessions = Gauge(r, "postfix_smtpd_sessions", "SMTP sessions open now.");
  fam_->sessions_max = Gauge(r, "postfix_smtpd_sessions_max",
                             "Most SMTP sessions open at once within the trailing peak window of log time.");
  fam_->successes = Counter(r, "postfix_smtpd_sasl_authentication_successes_total",
                            "Successful SMTP AUTH commands (S of smtpd's auth=S/T statistics).");
  fam_->failures = Counter(r, "postfix_smtpd_sasl_authentication_failures_total",
                           "Failed SMTP AUTH attempts, each counted once, by mechanism and reason.");
  fam_->backend_errors = Counter(r, "postfix_smtpd_sasl_backend_errors_total",
                                 "Times smtpd could not reach its SASL backend.");
  fam_->relay_denied = Counter(r, "postfix_smtpd_relay_denied_total",
                               "Recipients rejected with 'Relay access denied'.");
  fam_->rejected = Counter(r, "postfix_smtpd_messages_rejected_total",
                           "smtpd rejects (NOQUEUE/queue id 'reject:') by SMTP reply code.");
  fam_->processed = Counter(r, "postfix_smtpd_messages_processed_total",
                            "Messages queued by smtpd ('client=' lines) by SASL mechanism.");
  fam_->lost = Counter(r, "postfix_smtpd_connections_lost_total",
                       "smtpd 'lost connection after X' by SMTP stage X.");
  fam_->process_limit = Counter(r, "postfix_master_process_limit_reached_total",
                                "master 'has reached its process limit' warnings by master.cf service.");
  fam_->unrecognized = Counter(r, "postfix_exporter_smtpd_lines_unrecognized_total",
                               "smtpd lines no parser understood (log format drift).");

  anvil_connection_count_max =
      &Gauge(r, "postfix_anvil_connection_count_max",
             "Largest per-client concurrent connection count in anvil's last statistics report.")
           ->Add({});
  log_lines_malformed = &Counter(r, "postfix_exporter_log_lines_malformed_total",
                                 "Lines that are not a parsable log record.")
                             ->Add({});
  log_last_timestamp = &Gauge(r, "postfix_exporter_log_last_timestamp_seconds",
                              "Log time of the newest line read, in seconds since the epoch.")
                            ->Add({});
  source_up = &Gauge(r, "postfix_exporter_source_up",
                     "1 when the log source (file, stdin or journal) is open and readable.")
                   ->Add({});
  source_rotations = &Counter(r, "postfix_exporter_source_rotations_total",
                              "Log rotations (new file under the same name, journal file changes) followed.")
                          ->Add({});
  source_truncations = &Counter(r, "postfix_exporter_source_truncations_total",
                                "Times the log file shrank below the read offset (copytruncate).")
                            ->Add({});
  lines_too_long = &Counter(r, "postfix_exporter_log_lines_too_long_total",
                            "Lines longer than the line-length cap, skipped.")
                        ->Add({});
  source_errors = &Counter(r, "postfix_exporter_source_errors_total",
                           "Errors opening or reading the log source.")
                       ->Add({});
  journal_lag = &Gauge(r, "postfix_exporter_journal_lag_seconds",
                       "Age of the newest journal entry read, measured when the reader is idle.")
                     ->Add({});
  auto* evictions = Counter(r, "postfix_exporter_session_evictions_total",
                            "Tracked smtpd processes dropped from state, by cause.");
  evictions_idle = &evictions->Add({{"reason", "idle_timeout"}});
  evictions_capacity = &evictions->Add({{"reason", "capacity"}});
  sessions_tracked = &Gauge(r, "postfix_exporter_sessions_tracked",
                            "smtpd processes currently held in session state.")
                          ->Add({});
}

Metrics::~Metrics() = default;

Metrics::Service& Metrics::AddService(int label_id, absl::string_view label) {
  if (static_cast<size_t>(label_id) >= services_.size()) services_.resize(label_id + 1);
  auto s = std::make_unique<Service>();
  s->label = std::string(label);
  const std::map<std::string, std::string> l = {{"service", s->label}};
  s->connects = &fam_->connects->Add(l);
  s->disconnects = &fam_->disconnects->Add(l);
  s->sessions = &fam_->sessions->Add(l);
  s->sessions_max = &fam_->sessions_max->Add(l);
  s->successes = &fam_->successes->Add(l);
  s->backend_errors = &fam_->backend_errors->Add(l);
  s->relay_denied = &fam_->relay_denied->Add(l);
  s->unrecognized = &fam_->unrecognized->Add(l);
  for (int m = 0; m < kSaslMethodCount; ++m) {
    for (int r = 0; r < kFailureReasonCount; ++r) {
      s->failures[m][r] = &fam_->failures->Add(
          {{"service", s->label},
           {"method", std::string(SaslMethodLabel(static_cast<SaslMethod>(m)))},
           {"reason", std::string(FailureReasonLabel(static_cast<FailureReason>(r)))}});
    }
  }
  for (int m = 0; m <= kSaslMethodCount; ++m) {
    std::string method = m == kSaslMethodCount
                             ? std::string("none")
                             : std::string(SaslMethodLabel(static_cast<SaslMethod>(m)));
    s->processed[m] = &fam_->processed->Add({{"service", s->label}, {"sasl_method", method}});
  }
  for (int st = 0; st < kSmtpStageCount; ++st) {
    s->lost[st] = &fam_->lost->Add(
        {{"service", s->label},
         {"after_stage", std::string(SmtpStageLabel(static_cast<SmtpStage>(st)))}});
  }
  for (uint16_t code : kCommonReplyCodes) Rejected(*s, code);
  services_[label_id] = std::move(s);
  return *services_[label_id];
}

prometheus::Counter& Metrics::Rejected(Service& s, uint16_t code) {
  // REQUIRES: 200 <= code <= 599 (the parser guarantees it).
  P::Counter*& c = s.rejected[code - 200];
  if (c == nullptr) {
    c = &fam_->rejected->Add({{"service", s.label}, {"code", absl::StrCat(code)}});
  }
  return *c;
}

prometheus::Counter& Metrics::ProcessLimitReached(absl::string_view master_service) {
  absl::string_view name =
      ServiceTable::IsPlausibleName(master_service) ? master_service : "other";
  auto it = process_limit_.find(name);
  if (it != process_limit_.end()) return *it->second;
  if (process_limit_.size() >= kMaxMasterServices && name != "other") {
    return ProcessLimitReached("other");
  }
  P::Counter* c = &fam_->process_limit->Add({{"service", std::string(name)}});
  process_limit_.emplace(std::string(name), c);
  return *c;
}

}  // namespace pse
