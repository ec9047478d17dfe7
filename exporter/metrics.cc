#include "exporter/metrics.h"

#include <cmath>
#include <cstdio>
#include <exception>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "exporter/service_table.h"
#include "exporter/state_file.h"

namespace pse {

namespace P = prometheus;

namespace {
using CounterFamilies = absl::flat_hash_map<std::string, P::Family<P::Counter>*>;
using GaugeFamilies = absl::flat_hash_map<std::string, P::Family<P::Gauge>*>;
struct HistogramFamily {
  P::Family<P::Histogram>* family;
  P::Histogram::BucketBoundaries buckets;
};
using HistogramFamilies = absl::flat_hash_map<std::string, HistogramFamily>;
}  // namespace

struct Metrics::Families {
  // Every family by name, for restoring saved values.
  CounterFamilies counters;
  GaugeFamilies gauges;
  HistogramFamilies histograms;
  P::Family<P::Counter>* connects;
  P::Family<P::Counter>* disconnects;
  P::Family<P::Gauge>* sessions;
  P::Family<P::Gauge>* sessions_max;
  P::Family<P::Counter>* successes;
  P::Family<P::Counter>* failures;
  P::Family<P::Counter>* backend_errors;
  P::Family<P::Counter>* relay_denied;
  P::Family<P::Counter>* rejected;
  P::Family<P::Counter>* rejects;
  P::Family<P::Counter>* reject_warnings;
  P::Family<P::Counter>* processed;
  P::Family<P::Counter>* lost;
  P::Family<P::Counter>* process_limit;
  P::Family<P::Counter>* unrecognized;
  P::Family<P::Counter>* client_limits;
  P::Family<P::Counter>* smtp_sasl_failures;
};

namespace {

// The build_info gauge is constant: not saved, not restored.
constexpr char kBuildInfo[] = "postfix_exporter_build_info";

P::Family<P::Counter>* Counter(CounterFamilies* all, P::Registry* r, const char* name,
                               const char* help) {
  auto* f = &P::BuildCounter().Name(name).Help(help).Register(*r);
  all->emplace(name, f);
  return f;
}
P::Family<P::Gauge>* Gauge(GaugeFamilies* all, P::Registry* r, const char* name, const char* help) {
  auto* f = &P::BuildGauge().Name(name).Help(help).Register(*r);
  all->emplace(name, f);
  return f;
}

// Exact text of a value for the state file. Counters hold whole numbers
// almost always, so those take the integer path; the rest round-trip
// through %.17g.
std::string FormatValue(double v) {
  constexpr double kExactIntegers = 9007199254740992.0;  // 2^53
  if (v > -kExactIntegers && v < kExactIntegers && v == std::trunc(v) && !std::signbit(v)) {
    return absl::StrCat(static_cast<int64_t>(v));
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

std::map<std::string, std::string> SeriesLabels(
    const std::string& service, const std::string& host,
    std::initializer_list<std::pair<const std::string, std::string>> extra) {
  std::map<std::string, std::string> l(extra);
  l.emplace("service", service);
  if (!host.empty()) l.emplace("host", host);
  return l;
}

Metrics::Metrics(P::Registry* r, const BuildInfo& build) : registry_(r), fam_(new Families) {
  // Registered first, so collected first: a scrape that shows N lines read
  // also shows everything those N lines counted (families are collected in
  // registration order while ingest goes on).
  log_lines =
      &Counter(&fam_->counters, r, "postfix_exporter_log_lines_total", "Log lines read.")->Add({});
  P::BuildGauge()
      .Name(kBuildInfo)
      .Help("Build information of postfix-sasl-exporter; always 1.")
      .Register(*r)
      .Add({{"version", build.version}, {"revision", build.revision}})
      .Set(1);

  fam_->connects = Counter(&fam_->counters, r, "postfix_smtpd_connects_total",
                           "SMTP sessions opened (smtpd 'connect from').");
  fam_->disconnects = Counter(&fam_->counters, r, "postfix_smtpd_disconnects_total",
                              "SMTP sessions closed by smtpd 'disconnect from'.");
  fam_->sessions = Gauge(&fam_->gauges, r, "postfix_smtpd_sessions", "SMTP sessions open now.");
  fam_->sessions_max =
      Gauge(&fam_->gauges, r, "postfix_smtpd_sessions_max",
            "Most SMTP sessions open at once within the trailing peak window of log time.");
  fam_->successes = Counter(&fam_->counters, r, "postfix_smtpd_sasl_authentication_successes_total",
                            "Successful SMTP AUTH commands (S of smtpd's auth=S/T statistics).");
  fam_->failures =
      Counter(&fam_->counters, r, "postfix_smtpd_sasl_authentication_failures_total",
              "Failed SMTP AUTH attempts, each counted once, by mechanism and reason.");
  fam_->backend_errors = Counter(&fam_->counters, r, "postfix_smtpd_sasl_backend_errors_total",
                                 "Times smtpd could not reach its SASL backend.");
  fam_->relay_denied = Counter(&fam_->counters, r, "postfix_smtpd_relay_denied_total",
                               "Recipients rejected with 'Relay access denied'.");
  fam_->rejected = Counter(&fam_->counters, r, "postfix_smtpd_messages_rejected_total",
                           "smtpd rejects (NOQUEUE/queue id 'reject:') by SMTP reply code.");
  fam_->rejects =
      Counter(&fam_->counters, r, "postfix_smtpd_rejects_total",
              "smtpd rejects (reject:, milter-reject:) by SMTP command and reason category.");
  fam_->reject_warnings =
      Counter(&fam_->counters, r, "postfix_smtpd_reject_warnings_total",
              "smtpd reject_warning: lines (warn_if_reject; the client was not refused) by SMTP "
              "command and reason category.");
  fam_->processed = Counter(&fam_->counters, r, "postfix_smtpd_messages_processed_total",
                            "Messages queued by smtpd ('client=' lines) by SASL mechanism.");
  fam_->lost = Counter(&fam_->counters, r, "postfix_smtpd_connections_lost_total",
                       "smtpd 'lost connection after X' by SMTP stage X.");
  fam_->process_limit =
      Counter(&fam_->counters, r, "postfix_master_process_limit_reached_total",
              "master 'has reached its process limit' warnings by master.cf service.");
  fam_->client_limits =
      Counter(&fam_->counters, r, "postfix_smtpd_client_limit_exceeded_total",
              "smtpd 'limit exceeded' warnings (clients turned away by smtpd_client_*_limit), "
              "by limit.");
  fam_->smtp_sasl_failures =
      Counter(&fam_->counters, r, "postfix_smtp_sasl_authentication_failures_total",
              "Postfix's SMTP/LMTP client failing to authenticate to a relay (credentials "
              "rejected or no common mechanism).");
  fam_->unrecognized =
      Counter(&fam_->counters, r, "postfix_exporter_smtpd_lines_unrecognized_total",
              "smtpd lines no parser understood (log format drift).");

  anvil_connection_count_max =
      &Gauge(&fam_->gauges, r, "postfix_anvil_connection_count_max",
             "Largest per-client concurrent connection count in anvil's last statistics report.")
           ->Add({});
  log_lines_malformed = &Counter(&fam_->counters, r, "postfix_exporter_log_lines_malformed_total",
                                 "Lines that are not a parsable log record.")
                             ->Add({});
  log_last_timestamp = &Gauge(&fam_->gauges, r, "postfix_exporter_log_last_timestamp_seconds",
                              "Log time of the newest line read, in seconds since the epoch.")
                            ->Add({});
  source_up = &Gauge(&fam_->gauges, r, "postfix_exporter_source_up",
                     "1 when the log source (file, stdin or journal) is open and readable.")
                   ->Add({});
  source_rotations =
      &Counter(&fam_->counters, r, "postfix_exporter_source_rotations_total",
               "Log rotations (new file under the same name, journal file changes) followed.")
           ->Add({});
  source_truncations = &Counter(&fam_->counters, r, "postfix_exporter_source_truncations_total",
                                "Times the log file shrank below the read offset (copytruncate).")
                            ->Add({});
  lines_too_long = &Counter(&fam_->counters, r, "postfix_exporter_log_lines_too_long_total",
                            "Lines longer than the line-length cap, skipped.")
                        ->Add({});
  source_errors = &Counter(&fam_->counters, r, "postfix_exporter_source_errors_total",
                           "Errors opening or reading the log source.")
                       ->Add({});
  journal_lag = &Gauge(&fam_->gauges, r, "postfix_exporter_journal_lag_seconds",
                       "Age of the newest journal entry read, measured when the reader is idle.")
                     ->Add({});
  auto* evictions = Counter(&fam_->counters, r, "postfix_exporter_session_evictions_total",
                            "Tracked smtpd processes dropped from state, by cause.");
  evictions_idle = &evictions->Add({{"reason", "idle_timeout"}});
  evictions_capacity = &evictions->Add({{"reason", "capacity"}});
  sessions_tracked = &Gauge(&fam_->gauges, r, "postfix_exporter_sessions_tracked",
                            "smtpd processes currently held in session state.")
                          ->Add({});
}

Metrics::~Metrics() = default;

Metrics::Service& Metrics::AddService(int label_id, absl::string_view label,
                                      absl::string_view host) {
  if (static_cast<size_t>(label_id) >= services_.size()) services_.resize(label_id + 1);
  auto s = std::make_unique<Service>();
  s->label = std::string(label);
  s->host = std::string(host);
  const std::map<std::string, std::string> l = s->Labels();
  s->connects = &fam_->connects->Add(l);
  s->disconnects = &fam_->disconnects->Add(l);
  s->sessions = &fam_->sessions->Add(l);
  s->sessions_max = &fam_->sessions_max->Add(l);
  s->successes = &fam_->successes->Add(l);
  s->backend_errors = &fam_->backend_errors->Add(l);
  s->relay_denied = &fam_->relay_denied->Add(l);
  s->unrecognized = &fam_->unrecognized->Add(l);
  for (int r = 0; r < kFailureReasonCount; ++r) {
    Failures(*s, SaslMethod::kUnknown, static_cast<FailureReason>(r));
  }
  for (int i = 0; i < kClientLimitCount; ++i) {
    s->client_limits[i] = &fam_->client_limits->Add(
        s->Labels({{"limit", std::string(ClientLimitLabel(static_cast<ClientLimit>(i)))}}));
  }
  services_[label_id] = std::move(s);
  return *services_[label_id];
}

prometheus::Counter& Metrics::Failures(Service& s, SaslMethod method, FailureReason reason) {
  P::Counter*& c = s.failures[static_cast<int>(method)][static_cast<int>(reason)];
  if (c == nullptr) {
    c = &fam_->failures->Add(s.Labels({{"method", std::string(SaslMethodLabel(method))},
                                       {"reason", std::string(FailureReasonLabel(reason))}}));
  }
  return *c;
}

prometheus::Counter& Metrics::Processed(Service& s, bool has_method, SaslMethod method) {
  const int index = has_method ? static_cast<int>(method) : kSaslMethodCount;
  P::Counter*& c = s.processed[index];
  if (c == nullptr) {
    const std::string label = has_method ? std::string(SaslMethodLabel(method)) : "none";
    c = &fam_->processed->Add(s.Labels({{"sasl_method", label}}));
  }
  return *c;
}

prometheus::Counter& Metrics::Lost(Service& s, SmtpStage stage) {
  P::Counter*& c = s.lost[static_cast<int>(stage)];
  if (c == nullptr) {
    c = &fam_->lost->Add(s.Labels({{"after_stage", std::string(SmtpStageLabel(stage))}}));
  }
  return *c;
}

prometheus::Counter& Metrics::SmtpSaslFailures(Service& s) {
  if (s.smtp_sasl_failures == nullptr) {
    s.smtp_sasl_failures = &fam_->smtp_sasl_failures->Add(s.Labels());
  }
  return *s.smtp_sasl_failures;
}

prometheus::Counter& Metrics::Rejected(Service& s, uint16_t code) {
  P::Counter*& c = s.rejected[code - 200];
  if (c == nullptr) {
    c = &fam_->rejected->Add(s.Labels({{"code", absl::StrCat(code)}}));
  }
  return *c;
}

prometheus::Counter& Metrics::Rejects(Service& s, bool warning, RejectStage stage,
                                      RejectCategory category) {
  P::Counter*& c = (warning ? s.reject_warnings
                            : s.rejects)[static_cast<int>(stage)][static_cast<int>(category)];
  if (c == nullptr) {
    c = &(warning ? fam_->reject_warnings : fam_->rejects)
             ->Add(s.Labels({{"stage", std::string(RejectStageLabel(stage))},
                             {"category", std::string(RejectCategoryLabel(category))}}));
  }
  return *c;
}

prometheus::Counter& Metrics::ProcessLimitReached(absl::string_view master_service,
                                                  absl::string_view host) {
  absl::string_view name = ServiceTable::IsPlausibleName(master_service) ? master_service : "other";
  // The cap is on distinct names; hosts are capped by the ServiceTable that
  // chose `host`.
  if (!process_limit_names_.contains(name)) {
    if (process_limit_names_.size() >= kMaxMasterServices && name != "other") {
      return ProcessLimitReached("other", host);
    }
    process_limit_names_.emplace(name, true);
  }
  const std::string key = absl::StrCat(host, " ", name);
  auto it = process_limit_.find(key);
  if (it != process_limit_.end()) return *it->second;
  std::map<std::string, std::string> labels = {{"service", std::string(name)}};
  if (!host.empty()) labels.emplace("host", std::string(host));
  P::Counter* c = &fam_->process_limit->Add(labels);
  process_limit_.emplace(key, c);
  return *c;
}

}  // namespace pse

namespace pse {

P::Family<P::Counter>& Metrics::ExtraCounterFamily(const std::string& name,
                                                   const std::string& help) {
  auto it = fam_->counters.find(name);
  if (it != fam_->counters.end()) return *it->second;
  P::Family<P::Counter>* f = &P::BuildCounter().Name(name).Help(help).Register(*registry_);
  fam_->counters.emplace(name, f);
  return *f;
}

P::Family<P::Histogram>& Metrics::ExtraHistogramFamily(
    const std::string& name, const std::string& help,
    const P::Histogram::BucketBoundaries& buckets) {
  auto it = fam_->histograms.find(name);
  if (it != fam_->histograms.end()) return *it->second.family;
  P::Family<P::Histogram>* f = &P::BuildHistogram().Name(name).Help(help).Register(*registry_);
  fam_->histograms.emplace(name, HistogramFamily{f, buckets});
  return *f;
}

namespace {

// "h NAME SUM N0,N1,...,Ninf LABELS": the sum and the observations per
// bucket (not cumulative), the +Inf bucket last.
std::string HistogramLine(const std::string& name, const P::ClientMetric& m) {
  std::string line = absl::StrCat("h ", name, " ", FormatValue(m.histogram.sample_sum), " ");
  uint64_t below = 0;
  for (size_t i = 0; i < m.histogram.bucket.size(); ++i) {
    const uint64_t cumulative = m.histogram.bucket[i].cumulative_count;
    absl::StrAppend(&line, i == 0 ? "" : ",", cumulative - below);
    below = cumulative;
  }
  return line;
}

}  // namespace

std::vector<std::string> Metrics::SaveValues(const std::vector<P::MetricFamily>* collected) const {
  std::vector<P::MetricFamily> own;
  if (collected == nullptr) {
    own = registry_->Collect();
    collected = &own;
  }
  std::vector<std::string> lines;
  for (const P::MetricFamily& fam : *collected) {
    if (fam.name == kBuildInfo) continue;
    const bool counter = fam.type == P::MetricType::Counter;
    const bool histogram = fam.type == P::MetricType::Histogram;
    if (!counter && !histogram && fam.type != P::MetricType::Gauge) continue;
    for (const P::ClientMetric& m : fam.metric) {
      std::string line = histogram
                             ? HistogramLine(fam.name, m)
                             : absl::StrCat(counter ? "c " : "g ", fam.name, " ",
                                            FormatValue(counter ? m.counter.value : m.gauge.value));
      for (const auto& l : m.label) absl::StrAppend(&line, " ", l.name, "=", EscapeToken(l.value));
      lines.push_back(std::move(line));
    }
  }
  return lines;
}

absl::Status Metrics::RestoreValues(const std::vector<std::string>& lines) {
  for (const std::string& line : lines) {
    auto bad = [&line](absl::string_view why) {
      return absl::InvalidArgumentError(absl::StrCat("metrics: ", why, ": ", line));
    };
    std::vector<absl::string_view> t = absl::StrSplit(line, ' ');
    double value;  // a histogram's sum
    if (t.size() < 3 || (t[0] != "c" && t[0] != "g" && t[0] != "h") ||
        !absl::SimpleAtod(t[2], &value)) {
      return bad("malformed line");
    }
    std::vector<double> observations;  // per bucket, for "h"
    if (t[0] == "h") {
      if (t.size() < 4) return bad("malformed line");
      for (absl::string_view n : absl::StrSplit(t[3], ',')) {
        uint64_t v;
        if (!absl::SimpleAtoi(n, &v)) return bad("malformed buckets");
        observations.push_back(static_cast<double>(v));
      }
    }
    std::map<std::string, std::string> labels;
    for (size_t i = t[0] == "h" ? 4 : 3; i < t.size(); ++i) {
      const size_t eq = t[i].find('=');
      std::string v;
      if (eq == absl::string_view::npos || !UnescapeToken(t[i].substr(eq + 1), &v)) {
        return bad("malformed label");
      }
      labels.emplace(std::string(t[i].substr(0, eq)), std::move(v));
    }
    const std::string name(t[1]);
    // A family this version does not export any more is left out.
    try {
      if (t[0] == "c") {
        auto it = fam_->counters.find(name);
        if (it != fam_->counters.end()) {
          // Zeros too: the same series exist after a restart as before it.
          P::Counter& c = it->second->Add(labels);
          if (value > 0) c.Increment(value);
        }
      } else if (t[0] == "h") {
        auto it = fam_->histograms.find(name);
        // Buckets this version does not have: the saved series is left out.
        if (it != fam_->histograms.end() && observations.size() == it->second.buckets.size() + 1) {
          it->second.family->Add(labels, it->second.buckets).ObserveMultiple(observations, value);
        }
      } else {
        auto it = fam_->gauges.find(name);
        if (it != fam_->gauges.end()) it->second->Add(labels).Set(value);
      }
    } catch (const std::exception& e) {
      return bad(e.what());
    }
  }
  return absl::OkStatus();
}

}  // namespace pse
