// PipelineHarness: a whole ingest pipeline (framer -> parser -> state ->
// metrics) on its own registry, for tests that feed whole log lines.
//
// Lines go in as full syslog text; results come out as metric values read
// back from the registry, exactly as a scrape would see them. NonZero()
// gives every non-zero smtpd sample as one map, so a test can assert that a
// hostile line changed exactly the counters it should and nothing else.
//
// BSD timestamps are read as UTC in `year`. Not thread-safe; one per test.
#ifndef PSE_TESTING_PIPELINE_HARNESS_H_
#define PSE_TESTING_PIPELINE_HARNESS_H_

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "exporter/metrics.h"
#include "exporter/pipeline.h"
#include "exporter/state.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "testing/metric_values.h"

namespace pse {
namespace test {

class PipelineHarness {
 public:
  explicit PipelineHarness(const SessionState::Options& state = {}, int year = 2024)
      : PipelineHarness(WithState(state, year)) {}
  // Any pipeline options (syslog, state, triage ...; BSD timestamps in UTC).
  explicit PipelineHarness(Pipeline::Options po) {
    registry_ = std::make_shared<prometheus::Registry>();
    metrics_ = std::make_unique<Metrics>(registry_.get(), BuildInfo{"test", "test"});
    po.syslog.bsd_time_zone = absl::UTCTimeZone();
    pipeline_ = std::make_unique<Pipeline>(po, metrics_.get());
  }
  static Pipeline::Options WithState(const SessionState::Options& state, int year = 2024) {
    Pipeline::Options po;
    po.syslog.initial_year = year;
    po.state = state;
    return po;
  }

  Pipeline* pipeline() { return pipeline_.get(); }
  std::shared_ptr<prometheus::Registry> registry() { return registry_; }
  void Feed(absl::string_view line) {
    pipeline_->OnLine(line);
    pipeline_->PublishCounts();
  }

  // "Jul  5 12:MM:SS mx NAME[PID]: MSG", `sec` seconds after 12:00:00.
  static std::string Line(int sec, absl::string_view name, long pid, absl::string_view msg) {
    char ts[32];
    std::snprintf(ts, sizeof ts, "Jul  5 %02d:%02d:%02d", 12 + sec / 3600, (sec / 60) % 60,
                  sec % 60);
    return absl::StrCat(ts, " mx ", name, "[", pid, "]: ", msg);
  }

  // Value of the sample with exactly these labels; -1 if there is none.
  double Value(const std::string& name, const std::map<std::string, std::string>& labels = {}) {
    pipeline_->PublishCounts();  // lines fed straight to pipeline()
    return MetricValue(*registry_, name, labels);
  }

  // Every non-zero sample of the families that count smtpd behaviour, keyed
  // "name{label=value,...}" (name without "postfix_", labels sorted).
  // sessions_max is left out: it only repeats what sessions shows; so are
  // the triage families.
  std::map<std::string, double> NonZero() {
    std::map<std::string, double> out;
    for (const auto& fam : Collect()) {
      // The triage families only regroup the failures by client (their own
      // tests are exporter/triage/*_test.cc).
      const bool triage = fam.name == "postfix_smtpd_sasl_failures_by_client_total" ||
                          fam.name == "postfix_smtpd_sasl_failing_clients" ||
                          fam.name == "postfix_smtpd_sasl_failing_usernames" ||
                          fam.name == "postfix_smtpd_sasl_failures_by_username_total" ||
                          fam.name == "postfix_smtpd_sasl_messages_by_username_total" ||
                          fam.name == "postfix_smtpd_sasl_username_clients";
      const bool wanted = (absl::StartsWith(fam.name, "postfix_smtpd_") &&
                           fam.name != "postfix_smtpd_sessions_max" && !triage) ||
                          fam.name == "postfix_exporter_smtpd_lines_unrecognized_total" ||
                          fam.name == "postfix_exporter_log_lines_malformed_total" ||
                          fam.name == "postfix_master_process_limit_reached_total" ||
                          fam.name == "postfix_anvil_connection_count_max";
      if (!wanted) continue;
      for (const auto& m : fam.metric) {
        double v = fam.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
        if (v == 0) continue;
        std::vector<std::pair<std::string, std::string>> labels;
        for (const auto& l : m.label) labels.emplace_back(l.name, l.value);
        std::sort(labels.begin(), labels.end());
        std::string key(absl::string_view(fam.name).substr(sizeof("postfix_") - 1));
        if (!labels.empty()) {
          key += "{";
          for (size_t i = 0; i < labels.size(); ++i) {
            absl::StrAppend(&key, i ? "," : "", labels[i].first, "=", labels[i].second);
          }
          key += "}";
        }
        out[key] = v;
      }
    }
    return out;
  }

  // Every non-zero sample of the families that are not smtpd's (NonZero())
  // nor the exporter's own: mail flow (delivery, qmgr, cleanup, bounce, smtp
  // client, TLS, postscreen). Histograms give "NAME_count{...}" and "NAME_sum{...}".
  std::map<std::string, double> NonZeroMailFlow() {
    std::map<std::string, double> out;
    for (const auto& fam : Collect()) {
      if (!absl::StartsWith(fam.name, "postfix_") ||
          absl::StartsWith(fam.name, "postfix_exporter_") ||
          absl::StartsWith(fam.name, "postfix_smtpd_") ||
          absl::StartsWith(fam.name, "postfix_master_") ||
          absl::StartsWith(fam.name, "postfix_anvil_")) {
        continue;
      }
      const std::string name(absl::string_view(fam.name).substr(sizeof("postfix_") - 1));
      for (const auto& m : fam.metric) {
        std::vector<std::pair<std::string, std::string>> labels;
        for (const auto& l : m.label) labels.emplace_back(l.name, l.value);
        std::sort(labels.begin(), labels.end());
        std::string tail;
        for (size_t i = 0; i < labels.size(); ++i) {
          absl::StrAppend(&tail, i ? "," : "{", labels[i].first, "=", labels[i].second);
        }
        if (!tail.empty()) tail += "}";
        if (fam.type == prometheus::MetricType::Histogram) {
          if (m.histogram.sample_count == 0) continue;
          out[name + "_count" + tail] = static_cast<double>(m.histogram.sample_count);
          out[name + "_sum" + tail] = m.histogram.sample_sum;
          continue;
        }
        const double v =
            fam.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
        if (v != 0) out[name + tail] = v;
      }
    }
    return out;
  }

  // The exposition text a scrape would get.
  std::string Exposition() { return prometheus::TextSerializer().Serialize(Collect()); }

  // Distinct values of `label` over the samples of `family`.
  std::vector<std::string> LabelValues(const std::string& family, const std::string& label) {
    std::vector<std::string> out;
    for (const auto& fam : Collect()) {
      if (fam.name != family) continue;
      for (const auto& m : fam.metric) {
        for (const auto& l : m.label) {
          if (l.name == label && std::find(out.begin(), out.end(), l.value) == out.end()) {
            out.push_back(l.value);
          }
        }
      }
    }
    return out;
  }

 private:
  // The registry's families, with every line fed so far counted.
  std::vector<prometheus::MetricFamily> Collect() {
    pipeline_->PublishCounts();
    return registry_->Collect();
  }
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Pipeline> pipeline_;
};

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or values past
// U+10FFFF), as Prometheus requires of label values.
inline bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;
    unsigned cp;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      n = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      n = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // truncated sequence
    for (size_t k = 1; k <= n; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

}  // namespace test
}  // namespace pse

#endif  // PSE_TESTING_PIPELINE_HARNESS_H_
