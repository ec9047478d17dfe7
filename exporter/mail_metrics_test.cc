// Mail-flow families, fed whole log lines through the pipeline.
#include "exporter/mail_metrics.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"
#include "testing/metric_values.h"
#include "testing/pipeline_harness.h"

namespace pse {
namespace {

using test::PipelineHarness;

// Sample count of one histogram series; -1 if there is none.
double HistogramCount(prometheus::Registry& r, const std::string& name,
                      const std::map<std::string, std::string>& labels) {
  for (const auto& fam : r.Collect()) {
    if (fam.name != name) continue;
    for (const auto& m : fam.metric) {
      std::map<std::string, std::string> got;
      for (const auto& l : m.label) got[l.name] = l.value;
      if (got == labels) return static_cast<double>(m.histogram.sample_count);
    }
  }
  return -1;
}

// Number of series of a family.
size_t SeriesCount(prometheus::Registry& r, const std::string& name) {
  for (const auto& fam : r.Collect()) {
    if (fam.name == name) return fam.metric.size();
  }
  return 0;
}

class MailMetricsTest : public ::testing::Test {
 protected:
  MailMetricsTest() {
    registry_ = std::make_shared<prometheus::Registry>();
    metrics_ = std::make_unique<Metrics>(registry_.get(), BuildInfo{"test", "test"});
    Pipeline::Options po;
    po.syslog.initial_year = 2024;
    po.syslog.bsd_time_zone = absl::UTCTimeZone();
    pipeline_ = std::make_unique<Pipeline>(po, metrics_.get());
  }
  void Feed(absl::string_view name, long pid, absl::string_view msg) {
    pipeline_->OnLine(PipelineHarness::Line(++sec_, name, pid, msg));
    pipeline_->PublishCounts();  // as the ingest loop does after each batch
  }
  double Value(const std::string& name, const std::map<std::string, std::string>& labels) {
    return test::MetricValue(*registry_, name, labels);
  }

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Pipeline> pipeline_;
  int sec_ = 0;
};

constexpr char kRcpt1[] =
    "4A00001000: to=<a@d.example>, relay=mx.d.example[198.51.100.1]:25, delay=5, "
    "delays=0.1/0.01/4/0.9, dsn=4.7.0, status=deferred (host said: 421 later)";
constexpr char kRcpt2[] =
    "4A00001000: to=<b@d.example>, relay=mx.d.example[198.51.100.1]:25, delay=5, "
    "delays=0.1/0.01/4/0.9, dsn=4.7.0, status=deferred (host said: 421 later)";
constexpr char kRetry[] =
    "4A00001000: to=<a@d.example>, relay=mx.d.example[198.51.100.1]:25, delay=305, "
    "delays=300/0.01/4/0.9, dsn=2.0.0, status=sent (250 ok)";

TEST_F(MailMetricsTest, StatusPerRecipientDelayOncePerAttempt) {
  Feed("postfix/smtp", 400, kRcpt1);
  Feed("postfix/smtp", 400, kRcpt2);
  Feed("postfix/smtp", 400, kRetry);
  EXPECT_EQ(
      Value(
          "postfix_delivery_status_total",
          {{"service", "smtp"}, {"transport", "smtp"}, {"status", "deferred"}, {"dsn_class", "4"}}),
      2);
  EXPECT_EQ(
      Value("postfix_delivery_status_total",
            {{"service", "smtp"}, {"transport", "smtp"}, {"status", "sent"}, {"dsn_class", "2"}}),
      1);
  // Two attempts: the first (two recipients) and the retry.
  EXPECT_EQ(HistogramCount(*registry_, "postfix_delivery_delay_seconds",
                           {{"service", "smtp"}, {"transport", "smtp"}, {"stage", "transmission"}}),
            2);
  // kumina's family observes every line, as kumina does.
  EXPECT_EQ(HistogramCount(*registry_, "postfix_smtp_delivery_delay_seconds",
                           {{"service", "smtp"}, {"stage", "transmission"}}),
            3);
  EXPECT_EQ(Value("postfix_smtp_deferred_messages_total", {{"service", "smtp"}}), 2);
}

// Regression (real Postfix 3.7, e2e test): one smtp attempt to a server that
// answered RCPT with 550 for one recipient and 250 for the others. The
// refused recipient is logged at RCPT time, so its transmission delay is
// smaller than the delivered ones'; it is still the same attempt.
TEST_F(MailMetricsTest, RecipientRefusedAtRcptSharesTheAttempt) {
  Feed("postfix/smtp", 500,
       "72B0DA7A2DA: to=<bounce1@sink.test>, relay=127.0.0.1[127.0.0.1]:44919, delay=0.07, "
       "delays=0/0.01/0.02/0.04, dsn=5.1.1, status=bounced (host 127.0.0.1[127.0.0.1] said: "
       "550 5.1.1 no such user (in reply to RCPT TO command))");
  Feed("postfix/smtp", 500,
       "72B0DA7A2DA: to=<defer1@sink.test>, relay=127.0.0.1[127.0.0.1]:44919, delay=0.08, "
       "delays=0/0.01/0.02/0.05, dsn=4.3.0, status=deferred (host 127.0.0.1[127.0.0.1] said: "
       "451 4.3.0 try again later (in reply to RCPT TO command))");
  Feed("postfix/smtp", 500,
       "72B0DA7A2DA: to=<ok1@sink.test>, relay=127.0.0.1[127.0.0.1]:44919, delay=0.08, "
       "delays=0/0.01/0.02/0.05, dsn=2.0.0, status=sent (250 2.0.0 accepted)");
  EXPECT_EQ(HistogramCount(*registry_, "postfix_delivery_delay_seconds",
                           {{"service", "smtp"}, {"transport", "smtp"}, {"stage", "transmission"}}),
            1);
  EXPECT_EQ(HistogramCount(*registry_, "postfix_smtp_delivery_delay_seconds",
                           {{"service", "smtp"}, {"stage", "transmission"}}),
            3);
}

TEST_F(MailMetricsTest, EverySyslogNameGetsItsService) {
  Feed("postfix-out/smtp", 400, kRcpt1);
  Feed("postfix/relay/smtp", 401, kRetry);
  EXPECT_EQ(Value("postfix_delivery_status_total", {{"service", "postfix-out"},
                                                    {"transport", "smtp"},
                                                    {"status", "deferred"},
                                                    {"dsn_class", "4"}}),
            1);
  EXPECT_EQ(
      Value("postfix_delivery_status_total",
            {{"service", "relay"}, {"transport", "smtp"}, {"status", "sent"}, {"dsn_class", "2"}}),
      1);
}

TEST_F(MailMetricsTest, NothingPreCreated) {
  Feed("postfix/smtpd", 100, "connect from a.example[192.0.2.1]");
  EXPECT_EQ(SeriesCount(*registry_, "postfix_delivery_status_total"), 0u);
  EXPECT_EQ(SeriesCount(*registry_, "postfix_smtp_delivery_delay_seconds"), 0u);
}

TEST_F(MailMetricsTest, PipeRelayLabelIsCapped) {
  for (int i = 0; i < 40; ++i) {
    Feed("postfix/pipe", 600,
         absl::StrCat("4A00001000: to=<a@d.example>, relay=transport", i,
                      ", delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (ok)"));
  }
  Feed("postfix/pipe", 600,
       "4A00001000: to=<a@d.example>, relay=we{ird, delay=1, delays=0/0/0/1, dsn=2.0.0, "
       "status=sent (ok)");
  // 4 stages per relay value: 32 plausible names and "other".
  EXPECT_EQ(SeriesCount(*registry_, "postfix_pipe_delivery_delay_seconds"),
            4u * (MailMetrics::kMaxWordValues + 1));
  EXPECT_EQ(HistogramCount(*registry_, "postfix_pipe_delivery_delay_seconds",
                           {{"service", "smtp"}, {"relay", "other"}, {"stage", "transmission"}}),
            9);
}

TEST_F(MailMetricsTest, TlsLabelsAreBounded) {
  Feed("postfix/smtpd", 100,
       "Anonymous TLS connection established from a.example[192.0.2.1]: TLSv9 with cipher "
       "x\"y (256/256 bits)");
  EXPECT_EQ(Value("postfix_smtpd_tls_connections_total", {{"service", "smtp"},
                                                          {"trust", "Anonymous"},
                                                          {"protocol", "other"},
                                                          {"cipher", "other"},
                                                          {"secret_bits", "256"},
                                                          {"algorithm_bits", "256"}}),
            1);
  EXPECT_EQ(Value("postfix_tls_connections_total", {{"service", "smtp"},
                                                    {"direction", "inbound"},
                                                    {"trust", "Anonymous"},
                                                    {"protocol", "other"}}),
            1);
}

TEST_F(MailMetricsTest, RepeatedTlsLinesCountInTheirOwnSeries) {
  // The second line of each kind is found by its words (a cache), and must
  // still count in both of its families, under its own labels.
  const char* in13 =
      "Anonymous TLS connection established from a.example[192.0.2.1]: TLSv1.3 with cipher "
      "TLS_AES_256_GCM_SHA384 (256/256 bits)";
  const char* in12 =
      "Untrusted TLS connection established from b.example[192.0.2.2]: TLSv1.2 with cipher "
      "ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)";
  for (int i = 0; i < 3; ++i) Feed("postfix/smtpd", 100, in13);
  for (int i = 0; i < 2; ++i) Feed("postfix/submission/smtpd", 101, in12);
  Feed("postfix/smtpd", 100, in12);
  EXPECT_EQ(Value("postfix_smtpd_tls_connections_total", {{"service", "smtp"},
                                                          {"trust", "Anonymous"},
                                                          {"protocol", "TLSv1.3"},
                                                          {"cipher", "TLS_AES_256_GCM_SHA384"},
                                                          {"secret_bits", "256"},
                                                          {"algorithm_bits", "256"}}),
            3);
  EXPECT_EQ(Value("postfix_smtpd_tls_connections_total", {{"service", "submission"},
                                                          {"trust", "Untrusted"},
                                                          {"protocol", "TLSv1.2"},
                                                          {"cipher", "ECDHE-RSA-AES256-GCM-SHA384"},
                                                          {"secret_bits", "256"},
                                                          {"algorithm_bits", "256"}}),
            2);
  EXPECT_EQ(Value("postfix_tls_connections_total", {{"service", "smtp"},
                                                    {"direction", "inbound"},
                                                    {"trust", "Anonymous"},
                                                    {"protocol", "TLSv1.3"}}),
            3);
  EXPECT_EQ(Value("postfix_tls_connections_total", {{"service", "smtp"},
                                                    {"direction", "inbound"},
                                                    {"trust", "Untrusted"},
                                                    {"protocol", "TLSv1.2"}}),
            1);
  EXPECT_EQ(Value("postfix_tls_connections_total", {{"service", "submission"},
                                                    {"direction", "inbound"},
                                                    {"trust", "Untrusted"},
                                                    {"protocol", "TLSv1.2"}}),
            2);
}

TEST_F(MailMetricsTest, ConnectErrorsByClass) {
  Feed("postfix/smtp", 450, "connect to mx.example[198.51.100.9]:25: Connection timed out");
  Feed("postfix/smtp", 450,
       "4A00001000: connect to mx.example[198.51.100.9]:25: Connection timed out");
  Feed("postfix/smtp", 451,
       "4A00001001: to=<a@nx.example>, relay=none, delay=3, delays=0/0/3/0, dsn=4.4.3, "
       "status=deferred (Host or domain name not found. Name service error for name=nx.example "
       "type=MX: Host not found, try again)");
  EXPECT_EQ(Value("postfix_smtp_connect_errors_total", {{"service", "smtp"}, {"class", "timeout"}}),
            2);
  EXPECT_EQ(Value("postfix_smtp_connect_errors_total", {{"service", "smtp"}, {"class", "dns"}}), 1);
  // kumina's counter matches only the line without a queue id.
  EXPECT_EQ(Value("postfix_smtp_connection_timed_out_total", {{"service", "smtp"}}), 1);
}

TEST_F(MailMetricsTest, CountersSurviveTheStateFile) {
  Feed("postfix/qmgr", 300, "4A00001000: removed");
  Feed("postfix/postscreen", 90, "PASS NEW [192.0.2.1]:4000");
  std::vector<std::string> saved = metrics_->SaveValues();

  auto registry = std::make_shared<prometheus::Registry>();
  Metrics metrics(registry.get(), BuildInfo{"test", "test"});
  Pipeline::Options po;
  Pipeline pipeline(po, &metrics);  // registers the mail-flow families
  ASSERT_TRUE(metrics.RestoreValues(saved).ok());
  EXPECT_EQ(
      test::MetricValue(*registry, "postfix_qmgr_messages_removed_total", {{"service", "smtp"}}),
      1);
  EXPECT_EQ(test::MetricValue(*registry, "postfix_postscreen_actions_total",
                              {{"service", "smtp"}, {"action", "pass_new"}}),
            1);
}

// The exposition lines of the histogram families (buckets, count, sum),
// sorted: series order within a family is not defined.
std::vector<std::string> HistogramText(prometheus::Registry& r) {
  std::vector<prometheus::MetricFamily> histograms;
  for (auto& fam : r.Collect()) {
    if (fam.type == prometheus::MetricType::Histogram) histograms.push_back(std::move(fam));
  }
  std::vector<std::string> lines =
      absl::StrSplit(prometheus::TextSerializer().Serialize(histograms), '\n');
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST_F(MailMetricsTest, HistogramsSurviveTheStateFile) {
  Feed("postfix/qmgr", 300, "4A00001000: from=<a@b.example>, size=4711, nrcpt=2 (queue active)");
  Feed("postfix/smtp", 400, kRcpt1);
  Feed("postfix/smtp", 400, kRetry);
  const std::vector<std::string> before = HistogramText(*registry_);
  const std::string joined = absl::StrJoin(before, "\n");
  ASSERT_NE(joined.find("postfix_delivery_delay_seconds_bucket"), std::string::npos) << joined;
  ASSERT_NE(joined.find("postfix_qmgr_messages_inserted_size_bytes_sum"), std::string::npos);

  auto registry = std::make_shared<prometheus::Registry>();
  Metrics metrics(registry.get(), BuildInfo{"test", "test"});
  Pipeline::Options po;
  po.syslog.initial_year = 2024;
  po.syslog.bsd_time_zone = absl::UTCTimeZone();
  Pipeline pipeline(po, &metrics);
  ASSERT_TRUE(metrics.RestoreValues(metrics_->SaveValues()).ok());
  EXPECT_EQ(HistogramText(*registry), before);
  // And they go on from there.
  pipeline.OnLine(PipelineHarness::Line(++sec_, "postfix/smtp", 400, kRetry));
  pipeline.PublishCounts();
  const std::map<std::string, std::string> labels = {{"service", "smtp"},
                                                     {"stage", "transmission"}};
  EXPECT_EQ(HistogramCount(*registry_, "postfix_smtp_delivery_delay_seconds", labels), 2);
  EXPECT_EQ(HistogramCount(*registry, "postfix_smtp_delivery_delay_seconds", labels), 3);
}

TEST_F(MailMetricsTest, SavedHistogramWithOtherBucketsIsLeftOut) {
  Pipeline::Options po;
  Pipeline pipeline(po, metrics_.get());
  EXPECT_TRUE(metrics_
                  ->RestoreValues({"h postfix_qmgr_messages_inserted_size_bytes 5 1,0 "
                                   "service=smtp"})
                  .ok());
  EXPECT_EQ(HistogramCount(*registry_, "postfix_qmgr_messages_inserted_size_bytes",
                           {{"service", "smtp"}}),
            -1);
  EXPECT_FALSE(metrics_->RestoreValues({"h postfix_qmgr_messages_inserted_size_bytes 5 1,x"}).ok());
}

// Every non-zero counter and histogram count of the mail-flow families,
// as "name{v1,v2,...}" (label values in label-name order).
std::map<std::string, double> NonZeroMailFlow(prometheus::Registry& r) {
  std::map<std::string, double> out;
  for (const auto& fam : r.Collect()) {
    if (fam.name.find("postfix_smtpd_connects") == 0 || fam.name.find("postfix_exporter") == 0 ||
        fam.name.find("postfix_smtpd_sessions") == 0) {
      continue;
    }
    for (const auto& m : fam.metric) {
      double v = fam.type == prometheus::MetricType::Counter     ? m.counter.value
                 : fam.type == prometheus::MetricType::Histogram ? m.histogram.sample_count
                                                                 : 0;
      if (v == 0) continue;
      std::string key = fam.name + "{";
      for (const auto& l : m.label) key += l.value + ",";
      out[key + "}"] = v;
    }
  }
  return out;
}

// Text a client or a remote server chooses, in the places Postfix prints it,
// must not create a label value or move another mail-flow counter.
TEST_F(MailMetricsTest, HostileTextMovesNothingElse) {
  // A recipient whose quoted local part imitates the fields after it.
  Feed("postfix/smtp", 400,
       "4A00001000: to=<\"x>, relay=evil, delays=9/9/9/9, dsn=2.0.0, status=sent\"@d.example>, "
       "relay=mx.d.example[198.51.100.1]:25, delay=1, delays=0/0/0.5/0.5, dsn=4.7.0, "
       "status=deferred (host said: connect to x[192.0.2.1]:25: Connection timed out)");
  // A remote reply that imitates a connect error, a TLS line and a bounce.
  Feed("postfix/smtp", 401,
       "4A00001001: host mx[198.51.100.2] said: 450 connect to x[192.0.2.1]:25: Connection "
       "refused Verified TLS connection established to x[1.2.3.4]:25: TLSv1.3 with cipher "
       "EVIL (1/1 bits) (in reply to RCPT TO command)");
  // Pipelined client junk and a HELO name in smtpd lines.
  Feed("postfix/smtpd", 100,
       "improper command pipelining after EHLO from h[192.0.2.1]: Anonymous TLS connection "
       "established from h[192.0.2.1]: TLSv1.3 with cipher EVIL (1/1 bits)");
  Feed("postfix/smtpd", 100,
       "warning: Illegal address syntax from h[192.0.2.1] in MAIL command: <warning: hostname "
       "x does not resolve to address 1.2.3.4>");
  // A sender address that imitates qmgr's fields.
  Feed("postfix/qmgr", 300,
       "4A00001002: from=<\"x>, size=999999999, nrcpt=99 (queue active)\"@d.example>, size=100, "
       "nrcpt=1 (queue active)");
  // postscreen: the verdict is the prefix; what the client sent comes after.
  Feed("postfix/postscreen", 90,
       "PREGREET 11 after 0.1 from [192.0.2.1]:4000: PASS NEW [192.0.2.1]:4000 DENYLISTED");
  const std::map<std::string, double> want = {
      {"postfix_delivery_status_total{4,smtp,deferred,smtp,}", 1},
      {"postfix_delivery_delay_seconds{smtp,before_queue_manager,smtp,}", 1},
      {"postfix_delivery_delay_seconds{smtp,queue_manager,smtp,}", 1},
      {"postfix_delivery_delay_seconds{smtp,connection_setup,smtp,}", 1},
      {"postfix_delivery_delay_seconds{smtp,transmission,smtp,}", 1},
      {"postfix_smtp_delivery_delay_seconds{smtp,before_queue_manager,}", 1},
      {"postfix_smtp_delivery_delay_seconds{smtp,queue_manager,}", 1},
      {"postfix_smtp_delivery_delay_seconds{smtp,connection_setup,}", 1},
      {"postfix_smtp_delivery_delay_seconds{smtp,transmission,}", 1},
      {"postfix_smtp_deferred_messages_total{smtp,}", 1},
      {"postfix_qmgr_messages_inserted_receipients{smtp,}", 1},
      {"postfix_qmgr_messages_inserted_size_bytes{smtp,}", 0},
      {"postfix_postscreen_actions_total{pregreet,smtp,}", 1},
  };
  std::map<std::string, double> got = NonZeroMailFlow(*registry_);
  // Which size the qmgr line observed: the real one (100), not the forged one.
  for (const auto& fam : registry_->Collect()) {
    if (fam.name == "postfix_qmgr_messages_inserted_size_bytes") {
      EXPECT_EQ(fam.metric.at(0).histogram.sample_sum, 100);
    }
  }
  got.erase("postfix_qmgr_messages_inserted_size_bytes{smtp,}");
  std::map<std::string, double> want_counts = want;
  want_counts.erase("postfix_qmgr_messages_inserted_size_bytes{smtp,}");
  EXPECT_EQ(got, want_counts);
}

}  // namespace
}  // namespace pse
