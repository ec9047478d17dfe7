#include "parsers/syslog_line.h"

#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"

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

}  // namespace

SyslogLineParser::SyslogLineParser(const Options& options) : options_(options) {
  absl::Time now = options_.now == absl::InfinitePast() ? absl::Now() : options_.now;
  year_ = options_.initial_year;
  if (year_ == 0) year_ = static_cast<int>(absl::ToCivilYear(now, options_.bsd_time_zone).year());
}

bool SyslogLineParser::ParseBsdTimestamp(absl::string_view* rest, int64_t* micros) {
  // "Mmm dd hh:mm:ss" is exactly 15 characters; the day may be space-padded.
  absl::string_view s = *rest;
  if (s.size() < 16) return false;
  int64_t seconds;
  if (cache_valid_ && std::memcmp(cached_stamp_, s.data(), 15) == 0) {
    seconds = cached_seconds_;
  } else {
    int month = MonthNumber(s.substr(0, 3));
    if (month == 0 || s[3] != ' ') return false;
    int day;
    if (s[4] == ' ') {
      if (!ReadDigits(s, 5, 1, &day)) return false;
    } else if (!ReadDigits(s, 4, 2, &day)) {
      return false;
    }
    int hh, mm, ss;
    if (s[6] != ' ' || !ReadDigits(s, 7, 2, &hh) || s[9] != ':' || !ReadDigits(s, 10, 2, &mm) ||
        s[12] != ':' || !ReadDigits(s, 13, 2, &ss)) {
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
      absl::Time t = absl::FromCivil(absl::CivilSecond(year_, month, day, hh, mm, ss),
                                     options_.bsd_time_zone);
      if (t > now + absl::Hours(24)) --year_;
    }
    last_month_ = month;
    absl::Time t =
        absl::FromCivil(absl::CivilSecond(year_, month, day, hh, mm, ss), options_.bsd_time_zone);
    seconds = absl::ToUnixSeconds(t);
    std::memcpy(cached_stamp_, s.data(), 15);
    cached_seconds_ = seconds;
    cache_valid_ = true;
  }
  rest->remove_prefix(15);
  int64_t frac = ReadFraction(rest);
  *micros = seconds * 1000000 + frac;
  return true;
}

bool SyslogLineParser::ParseRfc3339Timestamp(absl::string_view* rest, int64_t* micros) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|+HHMM)
  absl::string_view s = *rest;
  int y, mo, d, hh, mm, ss;
  if (!ReadDigits(s, 0, 4, &y) || s.size() < 20 || s[4] != '-' || !ReadDigits(s, 5, 2, &mo) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') ||
      !ReadDigits(s, 11, 2, &hh) || s[13] != ':' || !ReadDigits(s, 14, 2, &mm) || s[16] != ':' ||
      !ReadDigits(s, 17, 2, &ss)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60) return false;
  s.remove_prefix(19);
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
  absl::Time t = absl::FromCivil(absl::CivilSecond(y, mo, d, hh, mm, ss), absl::UTCTimeZone());
  *micros = (absl::ToUnixSeconds(t) - offset_seconds) * 1000000 + frac;
  *rest = s;
  return true;
}

SyslogLineParser::Result SyslogLineParser::Parse(absl::string_view line, LogRecord* record) {
  absl::string_view rest = line;
  int64_t micros = 0;
  bool ok = !rest.empty() && absl::ascii_isdigit(rest[0]) ? ParseRfc3339Timestamp(&rest, &micros)
                                                          : ParseBsdTimestamp(&rest, &micros);
  if (!ok || rest.empty() || rest[0] != ' ') return Result::kMalformed;
  rest.remove_prefix(1);
  // Host name: one token.
  size_t sp = rest.find(' ');
  if (sp == 0 || sp == absl::string_view::npos) return Result::kMalformed;
  rest.remove_prefix(sp + 1);
  // Program tag: "ident[pid]: " or "ident: ".
  size_t colon = rest.find(": ");
  if (colon == absl::string_view::npos || colon == 0) {
    // "tag:" at the very end (empty message) is still a line of that program.
    if (rest.size() > 1 && rest.back() == ':') {
      colon = rest.size() - 1;
    } else {
      return Result::kMalformed;
    }
  }
  absl::string_view tag = rest.substr(0, colon);
  int64_t pid = -1;
  if (tag.back() == ']') {
    size_t open = tag.rfind('[');
    if (open == absl::string_view::npos || open == 0) return Result::kMalformed;
    int64_t v = 0;
    size_t digits = 0;
    for (size_t i = open + 1; i + 1 < tag.size(); ++i, ++digits) {
      char c = tag[i];
      if (c < '0' || c > '9' || digits >= 18) return Result::kMalformed;
      v = v * 10 + (c - '0');
    }
    if (digits == 0) return Result::kMalformed;
    pid = v;
    tag = tag.substr(0, open);
  }
  if (tag.find(' ') != absl::string_view::npos) return Result::kMalformed;
  record->timestamp_us = micros;
  absl::string_view syslog_name, daemon;
  if (!SplitPostfixIdentifier(tag, &syslog_name, &daemon)) return Result::kOther;
  record->syslog_name = syslog_name;
  record->daemon = daemon;
  record->pid = pid;
  record->message = colon + 2 <= rest.size() ? rest.substr(colon + 2) : absl::string_view();
  return Result::kPostfix;
}

}  // namespace pse
