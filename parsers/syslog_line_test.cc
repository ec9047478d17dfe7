#include "parsers/syslog_line.h"

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"

namespace pse {
namespace {

SyslogLineParser::Options Utc(int year) {
  SyslogLineParser::Options o;
  o.initial_year = year;
  o.bsd_time_zone = absl::UTCTimeZone();
  return o;
}

int64_t Micros(int y, int mo, int d, int h, int mi, int s) {
  return absl::ToUnixMicros(
      absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone()));
}

TEST(SyslogLine, BsdSpacePaddedDay) {
  SyslogLineParser p(Utc(2024));
  LogRecord r;
  ASSERT_EQ(p.Parse("Jul  5 12:43:39 mx1 postfix/smtpd[1234]: connect from a[192.0.2.1]", &r),
            SyslogLineParser::Result::kPostfix);
  EXPECT_EQ(r.timestamp_us, Micros(2024, 7, 5, 12, 43, 39));
  EXPECT_EQ(r.syslog_name, "postfix");
  EXPECT_EQ(r.daemon, "smtpd");
  EXPECT_EQ(r.pid, 1234);
  EXPECT_EQ(r.message, "connect from a[192.0.2.1]");
}

TEST(SyslogLine, BsdWithMicroseconds) {
  SyslogLineParser p(Utc(2024));
  LogRecord r;
  ASSERT_EQ(p.Parse("Nov 21 05:47:52.123456 mx postfix/submission/smtpd[9]: x", &r),
            SyslogLineParser::Result::kPostfix);
  EXPECT_EQ(r.timestamp_us, Micros(2024, 11, 21, 5, 47, 52) + 123456);
  EXPECT_EQ(r.syslog_name, "postfix/submission");
}

TEST(SyslogLine, DecemberToJanuaryAdvancesYear) {
  SyslogLineParser p(Utc(2023));
  LogRecord r;
  ASSERT_EQ(p.Parse("Dec 31 23:59:59 h postfix/smtpd[1]: a", &r),
            SyslogLineParser::Result::kPostfix);
  EXPECT_EQ(r.timestamp_us, Micros(2023, 12, 31, 23, 59, 59));
  ASSERT_EQ(p.Parse("Jan  1 00:00:01 h postfix/smtpd[1]: b", &r),
            SyslogLineParser::Result::kPostfix);
  EXPECT_EQ(r.timestamp_us, Micros(2024, 1, 1, 0, 0, 1));
}

TEST(SyslogLine, YearInferredFromClockStepsBackForFutureDates) {
  SyslogLineParser::Options o;
  o.bsd_time_zone = absl::UTCTimeZone();
  o.now = absl::FromCivil(absl::CivilSecond(2026, 1, 2, 0, 0, 0), absl::UTCTimeZone());
  SyslogLineParser p(o);
  LogRecord r;
  ASSERT_EQ(p.Parse("Dec 30 10:00:00 h postfix/smtpd[1]: a", &r),
            SyslogLineParser::Result::kPostfix);
  EXPECT_EQ(r.timestamp_us, Micros(2025, 12, 30, 10, 0, 0));
}

TEST(SyslogLine, Rfc3339WithFractionAndOffset) {
  SyslogLineParser p(Utc(2024));
  LogRecord r;
  ASSERT_EQ(p.Parse("2024-07-05T12:43:39.250+02:00 mx postfix-out/smtpd[77]: m", &r),
            SyslogLineParser::Result::kPostfix);
  EXPECT_EQ(r.timestamp_us, Micros(2024, 7, 5, 10, 43, 39) + 250000);
  EXPECT_EQ(r.syslog_name, "postfix-out");
  ASSERT_EQ(p.Parse("2024-07-05T12:43:39Z mx postfix/smtpd[77]: m", &r),
            SyslogLineParser::Result::kPostfix);
  EXPECT_EQ(r.timestamp_us, Micros(2024, 7, 5, 12, 43, 39));
  ASSERT_EQ(p.Parse("2024-07-05T12:43:39.000001-0130 mx postfix/smtpd[77]: m", &r),
            SyslogLineParser::Result::kPostfix);
  EXPECT_EQ(r.timestamp_us, Micros(2024, 7, 5, 14, 13, 39) + 1);
  // The parser keeps the last date and time it read: a line one second on,
  // or the same text cut short, must not reuse it.
  ASSERT_EQ(p.Parse("2024-07-05T12:43:38Z mx postfix/smtpd[77]: m", &r),
            SyslogLineParser::Result::kPostfix);
  EXPECT_EQ(r.timestamp_us, Micros(2024, 7, 5, 12, 43, 38));
  EXPECT_EQ(p.Parse("2024-07-05T12:43:38", &r), SyslogLineParser::Result::kMalformed);
  EXPECT_EQ(p.Parse("2024-07-05T12:43:38 mx postfix/smtpd[77]: m", &r),
            SyslogLineParser::Result::kMalformed);
}

TEST(SyslogLine, OddSyslogNames) {
  SyslogLineParser p(Utc(2024));
  LogRecord r;
  ASSERT_EQ(p.Parse("Jul  5 12:43:39 h postfix-smo/submission/smtpd[5]: m", &r),
            SyslogLineParser::Result::kPostfix);
  EXPECT_EQ(r.syslog_name, "postfix-smo/submission");
  EXPECT_EQ(r.daemon, "smtpd");
  EXPECT_EQ(ServiceLabel(r.syslog_name), "postfix-smo/submission");
  EXPECT_EQ(ServiceLabel("postfix/smtps"), "smtps");
  EXPECT_EQ(ServiceLabel("postfix"), "smtp");
  EXPECT_EQ(ServiceLabel("postfix-out"), "postfix-out");
}

TEST(SyslogLine, OtherProgramsAreNotPostfix) {
  SyslogLineParser p(Utc(2024));
  LogRecord r;
  EXPECT_EQ(p.Parse("Jul  5 12:43:39 h CRON[5]: (root) CMD (x)", &r),
            SyslogLineParser::Result::kOther);
  EXPECT_EQ(p.Parse("Jul  5 12:43:39 h postfix[5]: no slash", &r),
            SyslogLineParser::Result::kOther);
  EXPECT_EQ(p.Parse("Jul  5 12:43:39 h kernel: [1.0] x", &r), SyslogLineParser::Result::kOther);
}

// Dovecot's lines are framed for the auth-failure parser: through syslog
// (tag "dovecot"), and from Dovecot's own log file, whose process prefix
// ("auth:", "auth-worker(N):") the framer reads as a tag without a host.
TEST(SyslogLine, DovecotLines) {
  SyslogLineParser p(Utc(2024));
  LogRecord r;
  ASSERT_EQ(p.Parse("Jul  5 12:43:39 h dovecot[99]: auth: Error: x", &r),
            SyslogLineParser::Result::kDovecot);
  EXPECT_EQ(r.syslog_name, "dovecot");
  EXPECT_EQ(r.pid, 99);
  EXPECT_EQ(r.message, "auth: Error: x");
  EXPECT_EQ(r.timestamp_us, Micros(2024, 7, 5, 12, 43, 39));
  ASSERT_EQ(p.Parse("Jul  5 12:43:40 auth: Info: passwd-file(a,192.0.2.1): unknown user", &r),
            SyslogLineParser::Result::kDovecot);
  EXPECT_EQ(r.syslog_name, "auth");
  EXPECT_EQ(r.message, "Info: passwd-file(a,192.0.2.1): unknown user");
  ASSERT_EQ(p.Parse("Jul  5 12:43:40 auth-worker(77): Info: pam(a,192.0.2.1): x", &r),
            SyslogLineParser::Result::kDovecot);
  EXPECT_EQ(r.syslog_name, "auth-worker(77)");
  ASSERT_EQ(p.Parse("<30>1 2024-08-03T15:30:49Z mx dovecot 77 - - auth: x", &r),
            SyslogLineParser::Result::kDovecot);
  EXPECT_EQ(r.message, "auth: x");
  // Dovecot 2.4's own log file: the process with the login's fields.
  ASSERT_EQ(p.Parse("Jul  5 12:43:41 auth(a b,192.0.2.1,sasl:plain)<S>: Info: x", &r),
            SyslogLineParser::Result::kOther);  // a space in the name: not this form
  ASSERT_EQ(p.Parse("Jul  5 12:43:41 auth(a:b,192.0.2.1,sasl:plain)<S>: Info: passwd-file: x", &r),
            SyslogLineParser::Result::kDovecot);
  EXPECT_EQ(r.syslog_name, "auth");
  EXPECT_EQ(r.message, "auth(a:b,192.0.2.1,sasl:plain)<S>: Info: passwd-file: x");
  ASSERT_EQ(p.Parse("Jul  5 12:43:42 auth-worker(a,192.0.2.1)<7>: request [1]: pam: y", &r),
            SyslogLineParser::Result::kDovecot);
  EXPECT_EQ(r.syslog_name, "auth-worker");
  EXPECT_EQ(r.message, "auth-worker(a,192.0.2.1)<7>: request [1]: pam: y");
  for (const char* other : {"Jul  5 12:43:39 h dovecotx: auth: x",
                            "Jul  5 12:43:39 h auth-worker(x): y", "Jul  5 12:43:39 h imap: z"}) {
    EXPECT_EQ(p.Parse(other, &r), SyslogLineParser::Result::kOther) << other;
  }
}

// Every header form, one row each: the same Postfix line must come out.
TEST(SyslogLine, HeaderForms) {
  struct Case {
    const char* name;
    std::string line;
    int64_t want_us;
    int64_t want_pid;
  } cases[] = {
      {"bsd_space_padded_day", "Aug  3 15:30:49 mx postfix/smtpd[123]: connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49), 123},
      {"bsd_unpadded_day", "Aug 3 15:30:49 mx postfix/smtpd[123]: connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49), 123},
      {"bsd_two_digit_day", "Aug 13 15:30:49 mx postfix/smtpd[123]: connect from a[192.0.2.1]",
       Micros(2024, 8, 13, 15, 30, 49), 123},
      {"postlogd_zero_padded_day",
       "Aug 03 15:30:49 mx postfix/smtpd[123]: connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49), 123},
      {"rfc3339_z", "2024-08-03T15:30:49Z mx postfix/smtpd[123]: connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49), 123},
      {"rfc3339_offset",
       "2024-08-03T17:30:49+02:00 mx postfix/smtpd[123]: connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49), 123},
      {"rfc3339_fraction",
       "2024-08-03T15:30:49.5Z mx postfix/smtpd[123]: connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49) + 500000, 123},
      {"rfc3164_pri", "<22>Aug  3 15:30:49 mx postfix/smtpd[123]: connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49), 123},
      {"rfc3164_pri_no_host", "<22>Aug  3 15:30:49 postfix/smtpd[123]: connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49), 123},
      {"rfc3164_pri_three_digits",
       "<191>Aug  3 15:30:49 mx postfix/smtpd[123]: connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49), 123},
      {"rfc3164_pri_unpadded_no_host",
       "<2>Aug 3 15:30:49 postfix/smtpd[123]: connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49), 123},
      {"no_host_without_pri", "Aug  3 15:30:49 postfix/smtpd[123]: connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49), 123},
      {"rfc5424",
       "<22>1 2024-08-03T15:30:49.000001Z mx postfix/smtpd 123 - - connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49) + 1, 123},
      {"rfc5424_sd_and_bom",
       "<22>1 2024-08-03T17:30:49+02:00 mx.example postfix/smtpd 123 ID47 "
       "[exampleSDID@32473 iut=\"3\" eventSource=\"App\\\"]lication\\\\\"][x@1 a=\"]\"] "
       "\xEF\xBB\xBF"
       "connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49), 123},
      {"rfc5424_nil_fields", "<22>1 - - postfix/smtpd - - - connect from a[192.0.2.1]", 0, -1},
      // rsyslog's RSYSLOG_SyslogProtocol23Format keeps the space after "tag:".
      {"rfc5424_rsyslog_msg_space",
       "<22>1 2024-08-03T15:30:49.000001+00:00 mx postfix/smtpd 123 - -  connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49) + 1, 123},
      // rsyslog's RSYSLOG_ForwardFormat: PRI, RFC 3339 time, host, tag.
      {"rsyslog_forward_format",
       "<22>2024-08-03T15:30:49.000001+00:00 mx postfix/smtpd[123]: connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49) + 1, 123},
      // util-linux logger --rfc5424 adds a timeQuality SD element.
      {"logger_rfc5424_time_quality",
       "<13>1 2024-08-03T15:30:49.000001+00:00 vm postfix/smtpd 123 - "
       "[timeQuality tzKnown=\"1\" isSynced=\"0\"] connect from a[192.0.2.1]",
       Micros(2024, 8, 3, 15, 30, 49) + 1, 123},
  };
  for (const Case& c : cases) {
    SyslogLineParser p(Utc(2024));
    LogRecord r;
    ASSERT_EQ(p.Parse(c.line, &r), SyslogLineParser::Result::kPostfix) << c.name;
    EXPECT_EQ(r.timestamp_us, c.want_us) << c.name;
    EXPECT_EQ(r.pid, c.want_pid) << c.name;
    EXPECT_EQ(r.syslog_name, "postfix") << c.name;
    EXPECT_EQ(r.daemon, "smtpd") << c.name;
    EXPECT_EQ(r.message, "connect from a[192.0.2.1]") << c.name;
  }
}

TEST(SyslogLine, Rfc5424OtherAppAndEmptyMessage) {
  SyslogLineParser p(Utc(2024));
  LogRecord r;
  EXPECT_EQ(p.Parse("<30>1 2024-08-03T15:30:49Z mx cron 77 - - auth: x", &r),
            SyslogLineParser::Result::kOther);
  EXPECT_EQ(r.timestamp_us, Micros(2024, 8, 3, 15, 30, 49));
  ASSERT_EQ(p.Parse("<22>1 2024-08-03T15:30:49Z mx postfix/submission/smtpd 9 - -", &r),
            SyslogLineParser::Result::kPostfix);
  EXPECT_EQ(r.syslog_name, "postfix/submission");
  EXPECT_EQ(r.message, "");
}

TEST(SyslogLine, UnpaddedDayKeepsYearInference) {
  SyslogLineParser p(Utc(2023));
  LogRecord r;
  ASSERT_EQ(p.Parse("Dec 31 23:59:59 h postfix/smtpd[1]: a", &r),
            SyslogLineParser::Result::kPostfix);
  ASSERT_EQ(p.Parse("Jan 1 00:00:01 h postfix/smtpd[1]: b", &r),
            SyslogLineParser::Result::kPostfix);
  EXPECT_EQ(r.timestamp_us, Micros(2024, 1, 1, 0, 0, 1));
  // The cache must not confuse a 14-byte stamp with a 15-byte one.
  ASSERT_EQ(p.Parse("Jan 1 00:00:01 h postfix/smtpd[1]: b", &r),
            SyslogLineParser::Result::kPostfix);
  EXPECT_EQ(r.timestamp_us, Micros(2024, 1, 1, 0, 0, 1));
  ASSERT_EQ(p.Parse("Jan 11 00:00:01 h postfix/smtpd[1]: b", &r),
            SyslogLineParser::Result::kPostfix);
  EXPECT_EQ(r.timestamp_us, Micros(2024, 1, 11, 0, 0, 1));
}

TEST(SyslogLine, MalformedLines) {
  SyslogLineParser p(Utc(2024));
  LogRecord r;
  for (absl::string_view bad : std::initializer_list<absl::string_view>{
           "",
           "garbage",
           "Foo  5 12:43:39 h postfix/smtpd[1]: m",
           "Jul 32 12:43:39 h postfix/smtpd[1]: m",
           "Jul  5 12:43 h postfix/smtpd[1]: m",
           "Jul  5 12:43:39",
           "Jul  5 12:43:39 host",
           "2024-13-05T12:43:39Z h postfix/smtpd[1]: m",
           "2024-07-05T12:43:39 h postfix/smtpd[1]: m",
           "Jul  5 12:43:39 h postfix/smtpd[x]: m",
           "Jul  5 12:43:39 h postfix/smtpd[]: m",
           "Jul  5 12:43:39 h no colon here",
           // Found by the fuzzer: an empty program tag ("host :").
           "Jan  1 00:00:34 mx1 :",
           "Jan  1 00:00:34 mx1 : x",
           absl::string_view("Jul  5 12:43:39 h postfix/smtpd[1\0]: m", 36),
           // PRI out of range or unterminated; RFC 5424 with a broken field.
           "<192>Jul  5 12:43:39 h postfix/smtpd[1]: m",
           "<22 Jul  5 12:43:39 h postfix/smtpd[1]: m",
           "<>Jul  5 12:43:39 h postfix/smtpd[1]: m",
           "<>>Jul  5 12:43:39 h postfix/smtpd[1]: m",
           "<0022>Jul  5 12:43:39 h postfix/smtpd[1]: m",
           "<1>",
           "<22",
           "<",
           "<22>garbage",
           "<22>1 2024-08-03T15:30:49Z mx postfix/smtpd 1 - [unterminated m",
           "<22>1 2024-08-03T15:30:49Z mx postfix/smtpd",
           "<22>1 notatime mx postfix/smtpd 1 - - m",
           "Jul 5 12:43 h postfix/smtpd[1]: m",
       }) {
    EXPECT_EQ(p.Parse(bad, &r), SyslogLineParser::Result::kMalformed) << bad;
  }
}

}  // namespace
}  // namespace pse
