#include "parsers/syslog_line.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "parsers/char_search.h"

namespace pse {
namespace {

bool ReadDigits(absl::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Month number 1..12 from a three-letter English abbreviation, 0 if none.
int MonthNumber(absl::string_view m) {
  static constexpr char kMonths[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  if (m.size() != 3) return 0;
  for (int i = 0; i < 12; ++i) {
    if (std::memcmp(kMonths + 3 * i, m.data(), 3) == 0) return i + 1;
  }
  return 0;
}

// Parses ".ffffff" (any number of digits) at *rest; returns microseconds.
int64_t ReadFraction(absl::string_view* rest) {
  if (rest->empty() || (*rest)[0] != '.') return 0;
  size_t i = 1;
  int64_t micros = 0;
  int digits = 0;
  while (i < rest->size() && absl::ascii_isdigit((*rest)[i])) {
    if (digits < 6) {
      micros = micros * 10 + ((*rest)[i] - '0');
      ++digits;
    }
    ++i;
  }
  if (i == 1) return 0;
  while (digits < 6) {
    micros *= 10;
    ++digits;
  }
  rest->remove_prefix(i);
  return micros;
}

// A decimal pid of 1 to 18 digits.
bool ParsePid(absl::string_view s, int64_t* pid) {
  if (s.empty() || s.size() > 18) return false;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *pid = v;
  return true;
}

bool ConsumePrefixChar(absl::string_view* s, char c) {
  if (s->empty() || (*s)[0] != c) return false;
  s->remove_prefix(1);
  return true;
}

// RFC 5424 NILVALUE "-" followed by the field separator.
bool ConsumeNil(absl::string_view* s) {
  if (s->size() < 2 || (*s)[0] != '-' || (*s)[1] != ' ') return false;
  s->remove_prefix(1);
  return true;
}

// " FIELD": a space and a non-empty token of printable US-ASCII.
bool ConsumeField(absl::string_view* s, absl::string_view* field) {
  if (!ConsumePrefixChar(s, ' ')) return false;
  size_t i = 0;
  while (i < s->size() && (*s)[i] > ' ' && (*s)[i] < 127) ++i;
  if (i == 0) return false;
  *field = s->substr(0, i);
  s->remove_prefix(i);
  return true;
}

// STRUCTURED-DATA: "-" or one or more "[SD-ID PARAM=\"VALUE\"...]". Inside a
// quoted value '\' escapes '"', '\' and ']'.
bool SkipStructuredData(absl::string_view* s) {
  if (ConsumePrefixChar(s, '-')) return true;
  if (s->empty() || (*s)[0] != '[') return false;
  while (!s->empty() && (*s)[0] == '[') {
    size_t i = 1;
    bool quoted = false;
    for (; i < s->size(); ++i) {
      char c = (*s)[i];
      if (quoted) {
        if (c == '\\') {
          ++i;
        } else if (c == '"') {
          quoted = false;
        }
      } else if (c == '"') {
        quoted = true;
      } else if (c == ']') {
        break;
      }
    }
    if (i >= s->size()) return false;
    s->remove_prefix(i + 1);
  }
  return true;
}

}  // namespace

SyslogLineParser::SyslogLineParser(const Options& options) : options_(options) {
  absl::Time now = options_.now == absl::InfinitePast() ? absl::Now() : options_.now;
  year_ = options_.initial_year;
  if (year_ == 0) year_ = static_cast<int>(absl::ToCivilYear(now, options_.bsd_time_zone).year());
}

bool SyslogLineParser::ParseBsdTimestamp(absl::string_view* rest, int64_t* micros) {
  // "Mmm dd hh:mm:ss": the day is two digits (postlogd's "%b %d" pads it
  // with a zero), space-padded ("Aug  3", syslog(3)) or not padded at all
  // ("Aug 3", some daemons and templates): 14 or 15 characters.
  absl::string_view s = *rest;
  if (s.size() < 15) return false;
  size_t len = (s[4] != ' ' && s[5] == ' ') ? 14 : 15;
  int64_t seconds;
  if (cache_valid_ && cached_len_ == len && SameBytes(cached_stamp_, s.data(), len)) {
    seconds = cached_seconds_;
  } else {
    int month = MonthNumber(s.substr(0, 3));
    if (month == 0 || s[3] != ' ') return false;
    int day;
    size_t time_at = len - 8;  // "hh:mm:ss"
    if (len == 14) {
      if (!ReadDigits(s, 4, 1, &day)) return false;
    } else if (s[4] == ' ') {
      if (!ReadDigits(s, 5, 1, &day)) return false;
    } else if (!ReadDigits(s, 4, 2, &day)) {
      return false;
    }
    int hh, mm, ss;
    if (s[time_at - 1] != ' ' || !ReadDigits(s, time_at, 2, &hh) || s[time_at + 2] != ':' ||
        !ReadDigits(s, time_at + 3, 2, &mm) || s[time_at + 5] != ':' ||
        !ReadDigits(s, time_at + 6, 2, &ss)) {
      return false;
    }
    if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return false;
    if (last_month_ != 0 && month + 6 <= last_month_) {
      ++year_;  // December -> January
    } else if (last_month_ != 0 && month >= last_month_ + 6) {
      --year_;  // a late line from the previous year after a year change
    }
    if (last_month_ == 0 && options_.initial_year == 0) {
      // First line: a timestamp more than a day ahead of now is last year's.
      absl::Time now = options_.now == absl::InfinitePast() ? absl::Now() : options_.now;
      absl::Time t =
          absl::FromCivil(absl::CivilSecond(year_, month, day, hh, mm, ss), options_.bsd_time_zone);
      if (t > now + absl::Hours(24)) --year_;
    }
    last_month_ = month;
    absl::Time t =
        absl::FromCivil(absl::CivilSecond(year_, month, day, hh, mm, ss), options_.bsd_time_zone);
    seconds = absl::ToUnixSeconds(t);
    std::memcpy(cached_stamp_, s.data(), len);
    cached_len_ = len;
    cached_seconds_ = seconds;
    cache_valid_ = true;
  }
  rest->remove_prefix(len);
  int64_t frac = ReadFraction(rest);
  *micros = seconds * 1000000 + frac;
  return true;
}

bool SyslogLineParser::ParseRfc3339Timestamp(absl::string_view* rest, int64_t* micros) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|+HHMM)
  absl::string_view s = *rest;
  int64_t civil_seconds;  // the date and time as if in UTC
  if (rfc3339_cache_valid_ && s.size() >= 20 &&
      SameBytes(rfc3339_cached_stamp_, s.data(), kRfc3339SecondsLength)) {
    civil_seconds = rfc3339_cached_seconds_;
  } else {
    int y, mo, d, hh, mm, ss;
    if (!ReadDigits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !ReadDigits(s, 5, 2, &mo) ||
        s[7] != '-' || !ReadDigits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') ||
        !ReadDigits(s, 11, 2, &hh) || s[13] != ':' || !ReadDigits(s, 14, 2, &mm) || s[16] != ':' ||
        !ReadDigits(s, 17, 2, &ss)) {
      return false;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60) return false;
    civil_seconds = absl::ToUnixSeconds(
        absl::FromCivil(absl::CivilSecond(y, mo, d, hh, mm, ss), absl::UTCTimeZone()));
    std::memcpy(rfc3339_cached_stamp_, s.data(), kRfc3339SecondsLength);
    rfc3339_cached_seconds_ = civil_seconds;
    rfc3339_cache_valid_ = true;
  }
  s.remove_prefix(kRfc3339SecondsLength);
  int64_t frac = ReadFraction(&s);
  int offset_seconds = 0;
  if (!s.empty() && (s[0] == 'Z' || s[0] == 'z')) {
    s.remove_prefix(1);
  } else if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    int sign = s[0] == '-' ? -1 : 1;
    int oh, om;
    if (!ReadDigits(s, 1, 2, &oh)) return false;
    if (s.size() > 3 && s[3] == ':') {
      if (!ReadDigits(s, 4, 2, &om)) return false;
      s.remove_prefix(6);
    } else {
      if (!ReadDigits(s, 3, 2, &om)) return false;
      s.remove_prefix(5);
    }
    offset_seconds = sign * (oh * 3600 + om * 60);
  } else {
    return false;
  }
  *micros = (civil_seconds - offset_seconds) * 1000000 + frac;
  *rest = s;
  return true;
}

SyslogLineParser::Result SyslogLineParser::Parse(absl::string_view line, LogRecord* record) {
  // One look at the first byte picks the form; each form is then read left
  // to right without backtracking.
  if (line.empty()) return Result::kMalformed;
  char first = line[0];
  if (first == '<') return ParseWithPri(line, record);
  int64_t micros = 0;
  absl::string_view rest = line;
  bool ok = false;
  if (absl::ascii_isdigit(first)) {
    ok = ParseRfc3339Timestamp(&rest, &micros);
  } else if (absl::ascii_isupper(first)) {
    ok = ParseBsdTimestamp(&rest, &micros);
  }
  if (!ok) return Result::kMalformed;
  return ParseHostTagMessage(rest, micros, record);
}

SyslogLineParser::Result SyslogLineParser::ParseWithPri(absl::string_view line, LogRecord* record) {
  // "<PRI>": 1 to 3 digits, at most 191 (facility 23, severity 7), so the
  // '>' is at 2, 3 or 4 (a search of the whole line costs a call per line).
  size_t close = 2;
  while (close < 5 && close < line.size() && line[close] != '>') ++close;
  if (close == 5 || close == line.size()) return Result::kMalformed;
  int pri = 0;
  if (!ReadDigits(line, 1, close - 1, &pri) || pri > 191) return Result::kMalformed;
  absl::string_view rest = line.substr(close + 1);
  // RFC 5424 puts a version ("1") and a space right after PRI; RFC 3164 a
  // timestamp.
  if (rest.size() >= 2 && rest[0] >= '1' && rest[0] <= '9' && rest[1] == ' ') {
    return ParseRfc5424(rest.substr(2), record);
  }
  int64_t micros = 0;
  bool ok = false;
  if (!rest.empty() && absl::ascii_isdigit(rest[0])) {
    ok = ParseRfc3339Timestamp(&rest, &micros);
  } else if (!rest.empty() && absl::ascii_isupper(rest[0])) {
    ok = ParseBsdTimestamp(&rest, &micros);
  }
  if (!ok) return Result::kMalformed;
  return ParseHostTagMessage(rest, micros, record);
}

SyslogLineParser::Result SyslogLineParser::ParseHostTagMessage(absl::string_view rest,
                                                               int64_t micros, LogRecord* record) {
  if (rest.empty() || rest[0] != ' ') return Result::kMalformed;
  rest.remove_prefix(1);
  // Host name: one token. A program writing to /dev/log sends no host; its
  // first token is then the tag, which ends in ':' (host names never do).
  size_t sp = FindCharNear(rest, ' ');
  if (sp == 0) return Result::kMalformed;
  absl::string_view first = rest.substr(0, sp);
  bool has_host = first.empty() || first.back() != ':' || first.size() == 1;
  if (has_host) {
    if (sp == absl::string_view::npos) return Result::kMalformed;
    rest.remove_prefix(sp + 1);
  }
  // Program tag: "ident[pid]: " or "ident: ". Nearly always the first space
  // follows the tag's colon: that is the first ": " and the tag holds no
  // space. Anything else takes the general search below. Without a host,
  // the first token already searched is the tag.
  size_t colon = has_host ? FindCharNear(rest, ' ') : sp;
  const bool plain_tag = colon != absl::string_view::npos && colon > 1 && rest[colon - 1] == ':';
  if (plain_tag) {
    --colon;
  } else {
    colon = FindString(rest, ": ");
  }
  if (colon == absl::string_view::npos || colon == 0) {
    // "tag:" at the very end (empty message) is still a line of that program.
    if (rest.size() > 1 && rest.back() == ':') {
      colon = rest.size() - 1;
    } else {
      return Result::kMalformed;
    }
  }
  absl::string_view tag = rest.substr(0, colon);
  // Dovecot 2.4's own log file: the first token is the process with the
  // login's fields, "auth(user,ip,sasl:plain)<session>: Info: ...". The
  // user name is the client's, so the record keeps the whole text.
  if (!has_host && (absl::StartsWith(tag, "auth(") || absl::StartsWith(tag, "auth-worker(")) &&
      !IsDovecotIdentifier(tag)) {  // 2.3's "auth-worker(N):" is a plain tag
    record->timestamp_us = micros;
    record->host = absl::string_view();
    record->syslog_name = tag.substr(0, tag.find('('));
    record->daemon = absl::string_view();
    record->pid = -1;
    record->message = rest;
    return Result::kDovecot;
  }
  int64_t pid = -1;
  if (tag.back() == ']') {
    size_t open = RFindChar(tag, '[');
    if (open == absl::string_view::npos || open == 0) return Result::kMalformed;
    if (!ParsePid(tag.substr(open + 1, tag.size() - open - 2), &pid)) return Result::kMalformed;
    tag = tag.substr(0, open);
  }
  if (!plain_tag && FindChar(tag, ' ') != absl::string_view::npos) return Result::kMalformed;
  absl::string_view message =
      colon + 2 <= rest.size() ? rest.substr(colon + 2) : absl::string_view();
  const Result result = Finish(micros, tag, pid, message, record);
  if (result == Result::kPostfix && has_host) record->host = first;
  return result;
}

SyslogLineParser::Result SyslogLineParser::ParseRfc5424(absl::string_view rest, LogRecord* record) {
  // TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG], with
  // "-" for a missing field.
  int64_t micros = 0;
  if (ConsumeNil(&rest)) {
    micros = 0;
  } else if (!ParseRfc3339Timestamp(&rest, &micros)) {
    return Result::kMalformed;
  }
  absl::string_view host, app, procid, msgid;
  if (!ConsumeField(&rest, &host) || !ConsumeField(&rest, &app) || !ConsumeField(&rest, &procid) ||
      !ConsumeField(&rest, &msgid)) {
    return Result::kMalformed;
  }
  if (!ConsumePrefixChar(&rest, ' ') || !SkipStructuredData(&rest)) return Result::kMalformed;
  absl::string_view message;
  if (!rest.empty()) {
    if (rest[0] != ' ') return Result::kMalformed;
    message = rest.substr(1);
    // MSG may start with a UTF-8 byte order mark.
    if (absl::StartsWith(message, "\xEF\xBB\xBF")) message.remove_prefix(3);
    // rsyslog's RFC 5424 templates put its %msg% after the SP, and %msg%
    // keeps the space that followed the tag of an RFC 3164 input ("tag: msg"):
    // one more leading space is framing, never part of a Postfix message.
    if (absl::StartsWith(message, " ")) message.remove_prefix(1);
  }
  int64_t pid = -1;
  if (procid != "-" && !ParsePid(procid, &pid)) pid = -1;  // PROCID need not be a number
  absl::string_view tag = app == "-" ? absl::string_view() : app;
  const Result result = Finish(micros, tag, pid, message, record);
  if (result == Result::kPostfix && host != "-") record->host = host;
  return result;
}

SyslogLineParser::Result SyslogLineParser::Finish(int64_t micros, absl::string_view tag,
                                                  int64_t pid, absl::string_view message,
                                                  LogRecord* record) {
  record->timestamp_us = micros;
  record->host = absl::string_view();  // set by the caller when the line names one
  absl::string_view syslog_name, daemon;
  if (!SplitPostfixIdentifier(tag, &syslog_name, &daemon)) {
    if (!IsDovecotIdentifier(tag)) return Result::kOther;
    record->syslog_name = tag;
    record->daemon = absl::string_view();
    record->pid = pid;
    record->message = message;
    return Result::kDovecot;
  }
  record->syslog_name = syslog_name;
  record->daemon = daemon;
  record->pid = pid;
  record->message = message;
  return Result::kPostfix;
}

}  // namespace pse
