// SyslogLineParser: frames one text log line into a LogRecord.
//
// Accepted shapes (what syslog(3), rsyslog, syslog-ng, journald forwarding and
// Postfix's postlogd write), told apart by the first byte:
//   Jul  5 12:43:39 host postfix/smtpd[123]: message      BSD, local time; the
//   Jul 5 12:43:39 ... / Jul 05 12:43:39 ...              day space-, un- or
//                                                         zero-padded (postlogd)
//   Jul  5 12:43:39.123456 host postfix/smtpd[123]: message   fractions
//   2024-07-05T12:43:39.123456+02:00 host postfix/smtpd[123]: message
//                                                   RFC 3339 (Z, offset, fraction)
//   <22>Jul  5 12:43:39 host postfix/smtpd[123]: message  RFC 3164 with PRI
//   <22>Jul  5 12:43:39 postfix/smtpd[123]: message       ... without a host
//                                                         (a program's /dev/log)
//   <22>1 2024-07-05T12:43:39Z host postfix/smtpd 123 - [sd] message
//                     RFC 5424: "-" for a missing field, SD elements skipped
//                     (escapes honoured), an optional BOM before MSG; APP-NAME
//                     is the tag and PROCID the pid.
// A line with no host is recognised by its first token ending in ':' (a tag
// such as "postfix/smtpd[123]:"; host names never end in ':').
// BSD timestamps carry no year. The year starts at Options::initial_year (or
// the current year, stepped back when that would put the line in the future)
// and moves forward when the month goes back (December -> January).
//
// Not thread-safe: it keeps the inferred year and a one-entry timestamp cache.
// The views in the LogRecord point into the line passed to Parse().
#ifndef PSE_PARSERS_SYSLOG_LINE_H_
#define PSE_PARSERS_SYSLOG_LINE_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "parsers/log_record.h"

namespace pse {

class SyslogLineParser {
 public:
  enum class Result {
    kPostfix,    // a Postfix line; *record is filled in
    kDovecot,    // a Dovecot auth line (IsDovecotIdentifier): timestamp_us, syslog_name
                 // (the tag), pid and message are set. Dovecot 2.4's own log file
                 // ("auth(user,ip,...)<s>: Info: ...") has syslog_name "auth" or
                 // "auth-worker" and the whole text from "auth(" as message.
    kOther,      // another program's line (cron, ...); only timestamp_us is set
    kMalformed,  // not a syslog line at all
  };

  struct Options {
    // Year assumed for the first BSD timestamp; 0 infers it from the clock.
    int initial_year = 0;
    // Time zone of BSD timestamps (which carry no offset). Default: local.
    absl::TimeZone bsd_time_zone = absl::LocalTimeZone();
    // "Now" for year inference; tests set it. Default: the real clock.
    absl::Time now = absl::InfinitePast();
  };

  SyslogLineParser() : SyslogLineParser(Options()) {}
  explicit SyslogLineParser(const Options& options);

  Result Parse(absl::string_view line, LogRecord* record);

 private:
  bool ParseBsdTimestamp(absl::string_view* rest, int64_t* micros);
  bool ParseRfc3339Timestamp(absl::string_view* rest, int64_t* micros);
  Result ParseWithPri(absl::string_view line, LogRecord* record);
  Result ParseRfc5424(absl::string_view rest, LogRecord* record);
  // " [host ]tag[pid]: message" after a 3164-style timestamp.
  Result ParseHostTagMessage(absl::string_view rest, int64_t micros, LogRecord* record);
  Result Finish(int64_t micros, absl::string_view tag, int64_t pid, absl::string_view message,
                LogRecord* record);

  Options options_;
  int year_ = 0;
  int last_month_ = 0;
  // Cache of the last BSD "Mmm dd hh:mm:ss" string and its value in seconds.
  char cached_stamp_[15] = {};
  size_t cached_len_ = 0;
  int64_t cached_seconds_ = 0;
  bool cache_valid_ = false;
  // The same for the last RFC 3339 "YYYY-MM-DDTHH:MM:SS" (before fraction and
  // offset), read as UTC.
  static constexpr size_t kRfc3339SecondsLength = 19;
  char rfc3339_cached_stamp_[kRfc3339SecondsLength] = {};
  int64_t rfc3339_cached_seconds_ = 0;
  bool rfc3339_cache_valid_ = false;
};

}  // namespace pse

#endif  // PSE_PARSERS_SYSLOG_LINE_H_
