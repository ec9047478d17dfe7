// Hostile and broken input through a real FileSource (--once reads of real
// files) and the whole pipeline: binary garbage, invalid UTF-8, NUL bytes,
// over-long and unterminated lines, timestamps out of order and from the
// future, and state caps under floods of processes, clients and services.
// Every case asserts exact counts: what is a line, what is malformed, what
// is too long, and what each flood leaves in state.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "exporter/sources/file_source.h"
#include "gtest/gtest.h"
#include "parsers/postfix_parser.h"
#include "parsers/syslog_line.h"
#include "testing/pipeline_harness.h"

namespace pse {
namespace {

using test::IsValidUtf8;
using test::PipelineHarness;

constexpr char kSmtp[] = "postfix/smtpd";
constexpr char kSub[] = "postfix/submission/smtpd";
constexpr size_t kMaxLine = 64 * 1024;  // the --postfix.logfile_max_line_length default

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* base = std::getenv("TEST_TMPDIR");
    std::string tmpl = absl::StrCat(base != nullptr ? base : "/tmp", "/hostile_input_test.XXXXXX");
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    log_ = dir_ + "/mail.log";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Write(absl::string_view data) {
    std::ofstream out(log_, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    ASSERT_TRUE(out.good());
  }

  // Reads log_ once from start to end, the way --once does.
  void ReadOnce(PipelineHarness* h) {
    FileSourceOptions o;
    o.path = log_;
    o.once = true;
    o.max_line_bytes = kMaxLine;
    auto src = FileSource::Create(o);
    ASSERT_TRUE(src.ok()) << src.status();
    // A read never waits on a regular file; the bound only turns a bug into
    // a failure instead of a hang.
    for (int i = 0; i < 100000 && !(*src)->AtEnd(); ++i) (*src)->Poll(h->pipeline());
    ASSERT_TRUE((*src)->AtEnd());
    h->pipeline()->Flush();  // end of input, as RunOnce
    h->pipeline()->SyncSourceStats((*src)->stats(), absl::Now());
  }

  static double Lines(PipelineHarness* h) { return h->Value("postfix_exporter_log_lines_total"); }
  static double Malformed(PipelineHarness* h) {
    return h->Value("postfix_exporter_log_lines_malformed_total");
  }
  static double TooLong(PipelineHarness* h) {
    return h->Value("postfix_exporter_log_lines_too_long_total");
  }

  std::string dir_;
  std::string log_;
};

std::string Connect(int sec, int pid, int n) {
  return PipelineHarness::Line(sec, kSmtp, pid, absl::StrCat("connect from h[192.0.2.", n, "]"));
}

// ---- binary garbage ----

TEST_F(HostileInputTest, BinaryGarbageLinesAreMalformed) {
  // Lines of random bytes (NULs, CRs, invalid UTF-8 included) that start
  // with a byte no timestamp starts with, so each is exactly one malformed
  // line; some are over the length cap; the last has no newline.
  std::mt19937 rng(20240705);
  std::string data;
  int short_lines = 0, long_lines = 0;
  for (int i = 0; i < 4000; ++i) {
    const bool over = i % 1000 == 999;
    const size_t len = over ? kMaxLine + 1 + rng() % 300000 : 1 + rng() % 400;
    std::string line(len, '\0');
    for (char& c : line) {
      c = static_cast<char>(rng());
      if (c == '\n') c = '\r';
    }
    line[0] = static_cast<char>(0x80 | (rng() & 0x7f));
    data += line;
    data += '\n';
    (over ? long_lines : short_lines)++;
  }
  data += "\xff\xfe\x00\x01partial";
  ++short_lines;
  Write(data);
  PipelineHarness h;
  ReadOnce(&h);
  EXPECT_EQ(Lines(&h), short_lines);
  EXPECT_EQ(Malformed(&h), short_lines);
  EXPECT_EQ(TooLong(&h), long_lines);
  EXPECT_EQ(h.NonZero(),
            (std::map<std::string, double>{{"exporter_log_lines_malformed_total", short_lines}}));
}

TEST_F(HostileInputTest, GarbageBetweenRealLinesDoesNotDisturbThem) {
  std::string data = Connect(0, 10, 1) + "\n";
  data += std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "\n";  // a TLS hello
  data += "GET / HTTP/1.1\r\n";
  data += Connect(1, 11, 2) + "\n";
  Write(data);
  PipelineHarness h;
  ReadOnce(&h);
  EXPECT_EQ(Lines(&h), 4);
  EXPECT_EQ(Malformed(&h), 2);
  EXPECT_EQ(h.Value("postfix_smtpd_connects_total", {{"service", "smtp"}}), 2);
}

// ---- invalid UTF-8 ----

TEST_F(HostileInputTest, InvalidUtf8InClientTextIsCountedAndNeverExported) {
  const std::string lines[] = {
      PipelineHarness::Line(0, kSub, 10, "connect from unknown[192.0.2.1]"),
      PipelineHarness::Line(1, kSub, 10,
                            "warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: "
                            "(reason unavailable), sasl_username=\xc3\x28\xed\xa0\x80\xff"),
      PipelineHarness::Line(
          2, kSub, 10,
          "NOQUEUE: reject: RCPT from unknown[192.0.2.1]: 554 5.7.1 <\xfe\xff@r.example>: "
          "Relay access denied; from=<\xc0\xaf@b.example> to=<\xfe\xff@r.example> "
          "proto=ESMTP helo=<\xf5\x80\x80\x80>"),
      PipelineHarness::Line(3, kSub, 10,
                            "disconnect from unknown[192.0.2.1] ehlo=1 auth=0/1 commands=1/2"),
  };
  std::string data;
  for (const auto& l : lines) data += l + "\n";
  Write(data);
  PipelineHarness h;
  ReadOnce(&h);
  EXPECT_EQ(h.NonZero(),
            (std::map<std::string, double>{
                {"smtpd_connects_total{service=submission}", 1},
                {"smtpd_disconnects_total{service=submission}", 1},
                {"smtpd_messages_rejected_total{code=554,service=submission}", 1},
                {"smtpd_relay_denied_total{service=submission}", 1},
                {"smtpd_rejects_total{category=relay,service=submission,stage=RCPT}", 1},
                {"smtpd_sasl_authentication_failures_total{method=PLAIN,reason="
                 "unspecified,service=submission}",
                 1}}));
  EXPECT_TRUE(IsValidUtf8(h.Exposition()));
}

// Regression: the service label was the syslog_name as written, so one line with an
// invalid UTF-8 program name (`logger -t $'postfix/\xff/smtpd'`, or any
// SYSLOG_IDENTIFIER in the journal) puts invalid UTF-8 into /metrics, and
// Prometheus rejects the whole scrape ("invalid label value";
// `promtool check metrics` fails the same way).
TEST_F(HostileInputTest, InvalidUtf8ProgramNameKeepsExpositionValid) {
  PipelineHarness h;
  h.Feed(PipelineHarness::Line(0, "postfix/ev\xffil/smtpd", 10, "connect from h[192.0.2.1]"));
  h.Feed(PipelineHarness::Line(0, "postfix\xc3/smtpd", 11, "connect from h[192.0.2.1]"));
  EXPECT_TRUE(IsValidUtf8(h.Exposition()));
  double connects = 0;
  for (const std::string& svc : h.LabelValues("postfix_smtpd_connects_total", "service")) {
    connects += h.Value("postfix_smtpd_connects_total", {{"service", svc}});
  }
  EXPECT_EQ(connects, 2);
}

// Regression: service label values were unbounded in length. Up to 63 syslog_names
// each get ~170 series, so 63 lines with 60 KB program names (under the
// line cap) make the exporter hold and serve every name ~170 times: with the
// real binary a 4 MB log drove RSS to 3.3 GiB and /metrics to 685 MB.
TEST_F(HostileInputTest, LongProgramNamesKeepExpositionSmall) {
  PipelineHarness h;
  for (int i = 0; i < 70; ++i) {
    std::string name =
        absl::StrCat("postfix/", std::string(8000, static_cast<char>('a' + i % 26)), i);
    h.Feed(PipelineHarness::Line(0, name + "/smtpd", 100 + i, "connect from h[192.0.2.1]"));
  }
  EXPECT_LT(h.Exposition().size(), 2u << 20);
}

// ---- NUL bytes ----

TEST_F(HostileInputTest, NulBytesInsideLines) {
  using std::string_literals::operator""s;
  const std::string lines[] = {
      // Leading NULs are a copytruncate hole: skipped, the line parses.
      "\0\0\0"s + Connect(0, 10, 1),
      // After the client the rest is free text: still a connect.
      Connect(1, 11, 2) + "\0trailing"s,
      // Inside the client name: not a client, so not a connect.
      PipelineHarness::Line(2, kSmtp, 12, "connect from a\0b[192.0.2.3]"s),
      // Inside the timestamp or the pid: not a syslog line.
      "Jul\0 5 12:00:03 mx postfix/smtpd[13]: connect from h[192.0.2.4]"s,
      "Jul  5 12:00:04 mx postfix/smtpd[1\0004]: connect from h[192.0.2.5]"s,
      // Inside the program name: another program's line.
      "Jul  5 12:00:05 mx post\0fix/smtpd[15]: connect from h[192.0.2.6]"s,
      // Inside a SASL reason: an unknown reason.
      PipelineHarness::Line(
          6, kSmtp, 16,
          "warning: h[192.0.2.7]: SASL PLAIN authentication failed: \0generic failure"s),
  };
  std::string data;
  for (const auto& l : lines) data += l + "\n";
  Write(data);
  PipelineHarness h;
  ReadOnce(&h);
  EXPECT_EQ(Lines(&h), 7);
  EXPECT_EQ(h.NonZero(),
            (std::map<std::string, double>{
                {"exporter_log_lines_malformed_total", 2},
                {"exporter_smtpd_lines_unrecognized_total{service=smtp}", 1},
                {"smtpd_connects_total{service=smtp}", 2},
                {"smtpd_sessions{service=smtp}", 2},
                {"smtpd_sasl_authentication_failures_total{method=PLAIN,reason=other,service=smtp}",
                 1}}));
}

// ---- over-long and unterminated lines ----

TEST_F(HostileInputTest, TenMegabyteLineIsSkippedAndCounted) {
  std::string data = Connect(0, 10, 1) + "\n";
  data += PipelineHarness::Line(1, kSmtp, 11,
                                "warning: h[192.0.2.9]: SASL PLAIN authentication failed: ");
  data += std::string(10 << 20, 'A') + "\n";
  data += Connect(2, 12, 2) + "\n";
  Write(data);
  PipelineHarness h;
  ReadOnce(&h);
  EXPECT_EQ(Lines(&h), 2);
  EXPECT_EQ(TooLong(&h), 1);
  EXPECT_EQ(h.NonZero(), (std::map<std::string, double>{{"smtpd_connects_total{service=smtp}", 2},
                                                        {"smtpd_sessions{service=smtp}", 2}}));
}

TEST_F(HostileInputTest, LineJustUnderAndJustOverTheCap) {
  std::string head = PipelineHarness::Line(0, kSmtp, 10, "connect from h[192.0.2.1] ");
  std::string under = head + std::string(kMaxLine - head.size(), 'x');
  std::string over = head + std::string(kMaxLine + 1 - head.size(), 'x');
  ASSERT_EQ(under.size(), kMaxLine);
  Write(under + "\n" + over + "\n");
  PipelineHarness h;
  ReadOnce(&h);
  EXPECT_EQ(Lines(&h), 1);
  EXPECT_EQ(TooLong(&h), 1);
  EXPECT_EQ(h.Value("postfix_smtpd_connects_total", {{"service", "smtp"}}), 1);
}

TEST_F(HostileInputTest, LogOfOnlyAPartialLine) {
  // No newline anywhere: at the end of a --once read nobody can complete
  // the line, so it is delivered.
  Write(Connect(0, 10, 1));
  PipelineHarness h;
  ReadOnce(&h);
  EXPECT_EQ(Lines(&h), 1);
  EXPECT_EQ(h.Value("postfix_smtpd_connects_total", {{"service", "smtp"}}), 1);
}

TEST_F(HostileInputTest, OverLongUnterminatedLogIsOneTooLongLine) {
  Write(Connect(0, 10, 1) + std::string(3 << 20, 'z'));
  PipelineHarness h;
  ReadOnce(&h);
  EXPECT_EQ(Lines(&h), 0);
  EXPECT_EQ(TooLong(&h), 1);
  EXPECT_EQ(h.NonZero(), (std::map<std::string, double>{}));
}

TEST_F(HostileInputTest, PartialLinesInFollowModeAreHeldNotCounted) {
  // A writer that never finishes its line: fragments arrive, each Poll()
  // holds them; past the cap the line is dropped once and counted once.
  Write("");
  FileSourceOptions o;
  o.path = log_;
  o.from_beginning = true;
  o.max_line_bytes = kMaxLine;
  auto src = FileSource::Create(o);
  ASSERT_TRUE(src.ok()) << src.status();
  PipelineHarness h;
  const std::string fragment(16 * 1024, 'p');
  for (int i = 0; i < 64; ++i) {  // 1 MiB in 16 KiB pieces
    std::ofstream(log_, std::ios::binary | std::ios::app) << fragment;
    (*src)->Poll(h.pipeline());
  }
  h.pipeline()->SyncSourceStats((*src)->stats(), absl::Now());
  EXPECT_EQ(Lines(&h), 0);
  EXPECT_EQ(TooLong(&h), 1);
  // Its end finally arrives; the next line is read normally.
  std::ofstream(log_, std::ios::binary | std::ios::app) << "end\n" << Connect(0, 10, 1) << "\n";
  (*src)->Poll(h.pipeline());
  h.pipeline()->SyncSourceStats((*src)->stats(), absl::Now());
  EXPECT_EQ(Lines(&h), 1);
  EXPECT_EQ(TooLong(&h), 1);
  EXPECT_EQ(h.Value("postfix_smtpd_connects_total", {{"service", "smtp"}}), 1);
}

// ---- timestamps ----

TEST_F(HostileInputTest, TimestampsOutOfOrder) {
  // A relay merging two hosts' logs, or journal entries interleaved: time
  // goes back and forth by seconds. Counts are unaffected; log time and
  // peaks never go backwards.
  PipelineHarness h;
  h.Feed(PipelineHarness::Line(30, kSmtp, 10, "connect from a[192.0.2.1]"));
  h.Feed(PipelineHarness::Line(10, kSmtp, 11, "connect from b[192.0.2.2]"));
  h.Feed(PipelineHarness::Line(20, kSmtp, 10,
                               "disconnect from a[192.0.2.1] ehlo=1 quit=1 commands=2"));
  h.Feed(PipelineHarness::Line(5, kSmtp, 11,
                               "disconnect from b[192.0.2.2] ehlo=1 auth=0/1 commands=1/2"));
  EXPECT_EQ(h.NonZero(),
            (std::map<std::string, double>{{"smtpd_connects_total{service=smtp}", 2},
                                           {"smtpd_disconnects_total{service=smtp}", 2},
                                           {"smtpd_sasl_authentication_failures_total{method="
                                            "unknown,reason=auth_unavailable,service=smtp}",
                                            1}}));
  EXPECT_EQ(h.Value("postfix_smtpd_sessions_max", {{"service", "smtp"}}), 2);
  EXPECT_EQ(h.Value("postfix_exporter_log_last_timestamp_seconds"), 1720180830);  // 12:00:30Z
}

TEST_F(HostileInputTest, LateLineAcrossNewYear) {
  PipelineHarness h(SessionState::Options(), 2024);
  h.Feed("Dec 31 23:59:59 mx postfix/smtpd[10]: connect from a[192.0.2.1]");
  h.Feed("Jan  1 00:00:01 mx postfix/smtpd[11]: connect from b[192.0.2.2]");
  h.Feed("Dec 31 23:59:58 mx postfix/smtpd[12]: connect from c[192.0.2.3]");  // late
  h.Feed("Jan  1 00:00:02 mx postfix/smtpd[10]: disconnect from a[192.0.2.1] commands=0");
  EXPECT_EQ(h.Value("postfix_exporter_log_last_timestamp_seconds"),
            1735689602);  // 2025-01-01T00:00:02Z
  EXPECT_EQ(h.Value("postfix_smtpd_sessions", {{"service", "smtp"}}), 2);
  EXPECT_EQ(h.Value("postfix_exporter_log_lines_malformed_total"), 0);
}

TEST_F(HostileInputTest, FutureTimestampStillBoundedByCapacity) {
  SessionState::Options o;
  o.max_tracked_processes = 100;
  PipelineHarness h(o);
  h.Feed("2099-01-01T00:00:00.000000+00:00 mx postfix/smtpd[9]: connect from f[192.0.2.1]");
  for (int i = 0; i < 5000; ++i) h.Feed(Connect(i % 3600, 1000 + i, 1 + i % 200));
  EXPECT_EQ(h.pipeline()->state().tracked(), 100u);
  EXPECT_EQ(h.Value("postfix_exporter_sessions_tracked"), 100);
  EXPECT_EQ(h.Value("postfix_exporter_session_evictions_total", {{"reason", "capacity"}}), 4901);
  EXPECT_EQ(h.Value("postfix_smtpd_sessions", {{"service", "smtp"}}), 100);
}

// Regression: log time only moved forward, so one line stamped far in the future
// (an RFC 3339 line from a host with a wrong clock, or a bad BSD month)
// freezes it: log_last_timestamp stays in 2099, postfix_smtpd_sessions_max
// never decays, and no session is ever expired by --sessions.idle_timeout
// again (every later line is "in the past"). It was: sessions == 2 (pids 11
// and 12 never expire), log_last_timestamp == 4070908800.
TEST_F(HostileInputTest, FutureTimestampDoesNotFreezeLogTime) {
  PipelineHarness h;  // idle_timeout 1h, peak window 60 s
  h.Feed(PipelineHarness::Line(0, kSmtp, 10, "connect from a[192.0.2.1]"));
  h.Feed("2099-01-01T00:00:00.000000+00:00 mx postfix/smtpd[11]: connect from b[192.0.2.2]");
  h.Feed(PipelineHarness::Line(60, kSmtp, 12, "connect from c[192.0.2.3]"));
  h.Feed(PipelineHarness::Line(2 * 3600, "postfix/qmgr", 5, "3F2A81C0BD: removed"));  // 14:00
  EXPECT_EQ(h.Value("postfix_exporter_log_last_timestamp_seconds"), 1720188000);      // 14:00:00Z
  EXPECT_EQ(h.Value("postfix_smtpd_sessions", {{"service", "smtp"}}), 0);
  EXPECT_EQ(h.Value("postfix_smtpd_sessions_max", {{"service", "smtp"}}), 0);
  EXPECT_EQ(h.pipeline()->state().tracked(), 0u);
}

// ---- state caps ----

// One line per client: "warning: unknown[10.a.b.c]: SASL LOGIN
// authentication failed", each from another smtpd pid (a brute force
// spread over many connections), within ten minutes of log time.
void FeedFailureFlood(PipelineHarness* h, int n) {
  char buf[256];
  for (int i = 0; i < n; ++i) {
    const int sec = static_cast<int>(int64_t{i} * 600 / n);
    int len =
        std::snprintf(buf, sizeof buf,
                      "Jul  5 12:%02d:%02d mx postfix/submission/smtpd[%d]: warning: "
                      "unknown[10.%d.%d.%d]: SASL LOGIN authentication failed: UGFzc3dvcmQ6",
                      sec / 60, sec % 60, 100000 + i, (i >> 16) & 255, (i >> 8) & 255, i & 255);
    h->Feed(absl::string_view(buf, static_cast<size_t>(len)));
  }
}

TEST_F(HostileInputTest, MillionDistinctClientsStayWithinDefaultCap) {
  constexpr int kClients = 1000000;
  PipelineHarness h;  // max_tracked_processes = 16384
  FeedFailureFlood(&h, kClients);
  EXPECT_EQ(h.pipeline()->state().tracked(), 16384u);
  EXPECT_EQ(h.Value("postfix_exporter_sessions_tracked"), 16384);
  EXPECT_EQ(h.Value("postfix_exporter_session_evictions_total", {{"reason", "capacity"}}),
            kClients - 16384);
  EXPECT_EQ(h.Value("postfix_exporter_session_evictions_total", {{"reason", "idle_timeout"}}), 0);
  EXPECT_EQ(
      h.Value("postfix_smtpd_sasl_authentication_failures_total",
              {{"service", "submission"}, {"method", "LOGIN"}, {"reason", "bad_credentials"}}),
      kClients);
}

TEST_F(HostileInputTest, DistinctClientsWithSmallCap) {
  SessionState::Options o;
  o.max_tracked_processes = 16;  // the smallest --sessions.max_tracked
  PipelineHarness h(o);
  FeedFailureFlood(&h, 100000);
  EXPECT_EQ(h.pipeline()->state().tracked(), 16u);
  EXPECT_EQ(h.Value("postfix_exporter_sessions_tracked"), 16);
  EXPECT_EQ(h.Value("postfix_exporter_session_evictions_total", {{"reason", "capacity"}}),
            100000 - 16);
}

TEST_F(HostileInputTest, HundredThousandNeverClosedSessions) {
  for (size_t cap : {size_t{16384}, size_t{1000}}) {
    SessionState::Options o;
    o.max_tracked_processes = cap;
    PipelineHarness h(o);
    for (int i = 0; i < 100000; ++i) {
      h.Feed(PipelineHarness::Line(
          i % 3000, i % 2 ? kSmtp : kSub, 200000 + i,
          absl::StrCat("connect from h[192.0.", (i >> 8) & 255, ".", i & 255, "]")));
    }
    const double c = static_cast<double>(cap);
    EXPECT_EQ(h.pipeline()->state().tracked(), cap);
    EXPECT_EQ(h.Value("postfix_exporter_sessions_tracked"), c);
    EXPECT_EQ(h.Value("postfix_exporter_session_evictions_total", {{"reason", "capacity"}}),
              100000 - c);
    // Evicted sessions are closed: open sessions are exactly the tracked ones.
    EXPECT_EQ(h.Value("postfix_smtpd_sessions", {{"service", "smtp"}}) +
                  h.Value("postfix_smtpd_sessions", {{"service", "submission"}}),
              c);
    EXPECT_EQ(h.Value("postfix_smtpd_connects_total", {{"service", "smtp"}}), 50000);
  }
}

TEST_F(HostileInputTest, ThousandSyslogNamesShareBoundedServiceLabels) {
  PipelineHarness h;
  for (int i = 0; i < 1000; ++i) {
    h.Feed(PipelineHarness::Line(0, absl::StrCat("postfix-i", i, "/smtpd"), 100 + i,
                                 "connect from h[192.0.2.1]"));
  }
  std::vector<std::string> services = h.LabelValues("postfix_smtpd_connects_total", "service");
  EXPECT_LE(services.size(), ServiceTable::kMaxLabels);
  EXPECT_NE(std::find(services.begin(), services.end(), "other"), services.end());
  double connects = 0;
  for (const std::string& s : services)
    connects += h.Value("postfix_smtpd_connects_total", {{"service", s}});
  EXPECT_EQ(connects, 1000);
}

TEST_F(HostileInputTest, ThousandMasterServiceNamesShareBoundedLabels) {
  PipelineHarness h;
  for (int i = 0; i < 1000; ++i) {
    h.Feed(PipelineHarness::Line(
        0, "postfix/master", 1,
        absl::StrCat("warning: service \"svc", i,
                     "\" (2525) has reached its process "
                     "limit \"100\": new clients may experience noticeable delays")));
  }
  std::vector<std::string> services =
      h.LabelValues("postfix_master_process_limit_reached_total", "service");
  EXPECT_LE(services.size(), Metrics::kMaxMasterServices + 1);
  double total = 0;
  for (const std::string& s : services) {
    total += h.Value("postfix_master_process_limit_reached_total", {{"service", s}});
  }
  EXPECT_EQ(total, 1000);
}

// ---- inputs the fuzzer found ----

// Every file in tests/hardening/fuzz_regressions/ is an input that once
// crashed or misbehaved (a libFuzzer reproducer). Each goes through the
// framer and parser exactly as parser_fuzzer feeds it, and through the whole
// pipeline; under ASan/UBSan a regression aborts the test.
TEST(FuzzRegressions, ReproducersRunClean) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(PSE_FUZZ_REGRESSION_DIR)) {
    if (!entry.is_regular_file() || entry.path().filename() == "README.md") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SyslogLineParser::Options so;
    so.initial_year = 2024;
    so.bsd_time_zone = absl::UTCTimeZone();
    SyslogLineParser framer(so);
    PipelineHarness h;
    absl::string_view rest(data);
    int lines = 0;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      absl::string_view line = rest.substr(0, nl);
      rest.remove_prefix(nl == absl::string_view::npos ? rest.size() : nl + 1);
      LogRecord r;
      if (framer.Parse(line, &r) == SyslogLineParser::Result::kPostfix) ParsePostfix(r);
      h.Feed(line);
      ++lines;
    }
    EXPECT_EQ(h.Value("postfix_exporter_log_lines_total"), lines) << entry.path();
    ++files;
  }
  EXPECT_GT(files, 0);
}

}  // namespace
}  // namespace pse
