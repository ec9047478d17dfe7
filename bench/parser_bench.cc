// Micro-benchmarks of the per-line hot path, one per line family.
//
// BM_Frame_*     SyslogLineParser::Parse: timestamp, host, tag and pid.
// BM_Parse_*     ParsePostfix on an already framed record (the daemon switch and
//                the family's own matcher).
// BM_Line_*      both, as the ingest loop runs them for one line.
// BM_Pipeline_*  Pipeline::OnLine: framing, parsing, session state and metric
//                updates (what --once does per line, minus reading the file).
//
// Lines are real shapes (see tests/fixtures and the reference notes). Items
// processed are lines, so Google Benchmark reports lines per second.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "benchmark/benchmark.h"
#include "exporter/metrics.h"
#include "exporter/pipeline.h"
#include "parsers/postfix_parser.h"
#include "parsers/syslog_line.h"
#include "prometheus/registry.h"

namespace {

struct Family {
  const char* name;
  const char* line;
};

// One line per family, all with the BSD timestamp most mail logs have.
constexpr Family kFamilies[] = {
    {"noise_qmgr",
     "Dec 31 23:59:54 mx1 postfix/qmgr[800]: 4F1A2B3C4D: from=<alice@example.net>, size=1843, "
     "nrcpt=1 (queue active)"},
    {"noise_smtp_delivery",
     "Dec 31 23:59:55 mx1 postfix/smtp[2009]: 5A1B2C3D4E: to=<x@gmail.com>, "
     "relay=gmail-smtp-in.l.google.com[142.250.102.27]:25, delay=0.9, delays=0.1/0.01/0.3/0.5, "
     "dsn=2.0.0, status=sent (250 2.0.0 OK  1700000000 x.123 - gsmtp)"},
    {"non_postfix_dovecot",
     "Dec 31 23:59:55 mx1 dovecot: imap-login: Login: user=<alice@example.org>, method=PLAIN, "
     "rip=198.51.100.7, lip=192.0.2.10, mpid=31337, TLS, session=<AbCdEfGh12345678>"},
    {"smtpd_tls_noise",
     "Dec 31 23:59:52 mx1 postfix/smtpd[1001]: Anonymous TLS connection established from "
     "mail.example.net[198.51.100.20]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"},
    {"connect",
     "Jan  1 00:00:01 mx1 postfix/submission/smtpd[2001]: connect from "
     "mail-wr1-f41.google.com[209.85.221.41]"},
    {"disconnect_stats",
     "Jan  1 00:00:03 mx1 postfix/submission/smtpd[2001]: disconnect from "
     "mail-wr1-f41.google.com[209.85.221.41] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 "
     "quit=1 commands=8"},
    {"sasl_failed_38",
     "Jan  1 00:00:12 mx1 postfix/submission/smtpd[2006]: warning: unknown[203.0.113.66]: SASL "
     "LOGIN authentication failed: UGFzc3dvcmQ6"},
    {"sasl_failed_39",
     "Jan  1 00:00:12 mx1 postfix/submission/smtpd[2006]: warning: unknown[203.0.113.66]: SASL "
     "PLAIN authentication failed: (reason unavailable), sasl_username=carol@example.org"},
    {"cyrus_companion",
     "Jan  1 00:00:10 mx1 postfix/submission/smtpd[2006]: warning: SASL authentication failure: "
     "Password verification failed"},
    {"reject_relay",
     "Jan  1 00:00:21 mx1 postfix/smtpd[1002]: NOQUEUE: reject: RCPT from unknown[192.0.2.99]: "
     "554 5.7.1 <victim@example.com>: Relay access denied; from=<spam@example.biz> "
     "to=<victim@example.com> proto=ESMTP helo=<probe>"},
    {"client_sasl",
     "Jan  1 00:00:02 mx1 postfix/submission/smtpd[2001]: 5A1B2C3D4E: "
     "client=mail-wr1-f41.google.com[209.85.221.41], sasl_method=PLAIN, "
     "sasl_username=relay@example.org"},
};

pse::SyslogLineParser::Options FramerOptions() {
  pse::SyslogLineParser::Options o;
  o.initial_year = 2025;
  o.bsd_time_zone = absl::UTCTimeZone();
  return o;
}

void BM_Frame(benchmark::State& state, absl::string_view line) {
  pse::SyslogLineParser framer(FramerOptions());
  pse::LogRecord record;
  for (auto _ : state) {
    auto r = framer.Parse(line, &record);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(record);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(line.size()));
}

void BM_Parse(benchmark::State& state, absl::string_view line) {
  pse::SyslogLineParser framer(FramerOptions());
  pse::LogRecord record;
  if (framer.Parse(line, &record) != pse::SyslogLineParser::Result::kPostfix) {
    state.SkipWithError("not a Postfix line");
    return;
  }
  for (auto _ : state) {
    pse::PostfixEvent ev = pse::ParsePostfix(record);
    benchmark::DoNotOptimize(ev);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_Line(benchmark::State& state, absl::string_view line) {
  pse::SyslogLineParser framer(FramerOptions());
  pse::LogRecord record;
  for (auto _ : state) {
    if (framer.Parse(line, &record) == pse::SyslogLineParser::Result::kPostfix) {
      pse::PostfixEvent ev = pse::ParsePostfix(record);
      benchmark::DoNotOptimize(ev);
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// A realistic interleaving: one submission session with a failure, a success,
// a queued message and delivery noise, then the same pid again (smtpd reuse).
constexpr const char* kSessionLines[] = {
    "Jan  1 00:00:01 mx1 postfix/postscreen[900]: CONNECT from [198.51.100.20]:40000 to "
    "[192.0.2.10]:25",
    "Jan  1 00:00:01 mx1 postfix/submission/smtpd[2001]: connect from "
    "mail-wr1-f41.google.com[209.85.221.41]",
    "Jan  1 00:00:01 mx1 postfix/submission/smtpd[2001]: Anonymous TLS connection established "
    "from mail-wr1-f41.google.com[209.85.221.41]: TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 "
    "(256/256 bits)",
    "Jan  1 00:00:01 mx1 postfix/submission/smtpd[2001]: warning: SASL authentication failure: "
    "Password verification failed",
    "Jan  1 00:00:01 mx1 postfix/submission/smtpd[2001]: warning: "
    "mail-wr1-f41.google.com[209.85.221.41]: SASL PLAIN authentication failed: authentication "
    "failure",
    "Jan  1 00:00:02 mx1 postfix/submission/smtpd[2001]: 5A1B2C3D4E: "
    "client=mail-wr1-f41.google.com[209.85.221.41], sasl_method=PLAIN, "
    "sasl_username=relay@example.org",
    "Jan  1 00:00:02 mx1 postfix/cleanup[1100]: 5A1B2C3D4E: message-id=<abc@mail.gmail.com>",
    "Jan  1 00:00:02 mx1 postfix/qmgr[800]: 5A1B2C3D4E: from=<relay@example.org>, size=4242, "
    "nrcpt=1 (queue active)",
    "Jan  1 00:00:02 mx1 dovecot: imap(alice@example.org)<31337><AbCdEfGh>: Logged out in=10 "
    "out=20 deleted=0 expunged=0 trashed=0 hdr_count=0 hdr_bytes=0 body_count=0 body_bytes=0",
    "Jan  1 00:00:03 mx1 postfix/smtp[2009]: 5A1B2C3D4E: to=<x@gmail.com>, "
    "relay=gmail-smtp-in.l.google.com[142.250.102.27]:25, delay=0.9, delays=0.1/0.01/0.3/0.5, "
    "dsn=2.0.0, status=sent (250 2.0.0 OK  1700000000 x.123 - gsmtp)",
    "Jan  1 00:00:03 mx1 postfix/qmgr[800]: 5A1B2C3D4E: removed",
    "Jan  1 00:00:03 mx1 postfix/submission/smtpd[2001]: disconnect from "
    "mail-wr1-f41.google.com[209.85.221.41] ehlo=2 starttls=1 auth=1/2 mail=1 rcpt=1 data=1 "
    "quit=1 commands=8/9",
    "Jan  1 00:00:03 mx1 postfix/smtpd[1002]: connect from unknown[192.0.2.99]",
    "Jan  1 00:00:03 mx1 postfix/smtpd[1002]: NOQUEUE: reject: RCPT from unknown[192.0.2.99]: "
    "554 5.7.1 <victim@example.com>: Relay access denied; from=<spam@example.biz> "
    "to=<victim@example.com> proto=ESMTP helo=<probe>",
    "Jan  1 00:00:03 mx1 postfix/smtpd[1002]: disconnect from unknown[192.0.2.99] ehlo=1 mail=1 "
    "rcpt=0/1 quit=1 commands=3/4",
};

void BM_PipelineSession(benchmark::State& state) {
  prometheus::Registry registry;
  pse::Metrics metrics(&registry, pse::BuildInfo{"bench", "bench"});
  pse::Pipeline::Options po;
  po.syslog = FramerOptions();
  pse::Pipeline pipeline(po, &metrics);
  constexpr size_t kN = sizeof(kSessionLines) / sizeof(kSessionLines[0]);
  std::vector<std::string> lines(kSessionLines, kSessionLines + kN);
  size_t i = 0;
  for (auto _ : state) {
    pipeline.OnLine(lines[i]);
    if (++i == kN) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PipelineSession);

void RegisterFamilies() {
  for (const Family& f : kFamilies) {
    absl::string_view line = f.line;
    benchmark::RegisterBenchmark((std::string("BM_Frame/") + f.name).c_str(), BM_Frame, line);
    if (!absl::StartsWith(f.name, "non_postfix")) {
      benchmark::RegisterBenchmark((std::string("BM_Parse/") + f.name).c_str(), BM_Parse, line);
    }
    benchmark::RegisterBenchmark((std::string("BM_Line/") + f.name).c_str(), BM_Line, line);
  }
}

}  // namespace

int main(int argc, char** argv) {
  RegisterFamilies();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
