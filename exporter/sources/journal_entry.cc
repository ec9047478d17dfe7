#include "exporter/sources/journal_entry.h"

#include <systemd/sd-journal.h>

#include <cerrno>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace pse {

int GetJournalField(sd_journal* j, absl::string_view field, absl::string_view* value) {
  const void* data = nullptr;
  size_t length = 0;
  int r = sd_journal_get_data(j, field.data(), &data, &length);
  if (r < 0) return r;
  if (length < field.size() + 1) return -EBADMSG;
  *value = absl::string_view(static_cast<const char*>(data) + field.size() + 1,
                             length - field.size() - 1);
  return 0;
}

bool SameBootAndMonotonic(sd_journal* j, absl::string_view cursor) {
  uint64_t mono = 0;
  sd_id128_t boot;
  if (sd_journal_get_monotonic_usec(j, &mono, &boot) < 0) return false;
  char boot_text[SD_ID128_STRING_MAX];
  return absl::StrContains(cursor, absl::StrCat(";b=", sd_id128_to_string(boot, boot_text),
                                                ";m=", absl::Hex(mono), ";"));
}

bool JournalEntryToRecord(sd_journal* j, std::string* ident, LogRecord* record, int64_t* newest_us,
                          uint64_t* errors) {
  uint64_t realtime = 0;
  int64_t timestamp_us = 0;
  if (sd_journal_get_realtime_usec(j, &realtime) >= 0) {
    timestamp_us = static_cast<int64_t>(realtime);
    if (timestamp_us > *newest_us) *newest_us = timestamp_us;
  } else {
    ++*errors;
  }

  absl::string_view value;
  int r = GetJournalField(j, "SYSLOG_IDENTIFIER", &value);
  if (r < 0) {
    if (r != -ENOENT) ++*errors;
    return false;
  }
  absl::string_view syslog_name, daemon;
  const bool postfix = SplitPostfixIdentifier(value, &syslog_name, &daemon);
  if (!postfix && !IsDovecotIdentifier(value)) return false;
  // The next get_data call may reuse the buffer `value` points into.
  ident->assign(value.data(), value.size());
  if (postfix) {
    SplitPostfixIdentifier(*ident, &record->syslog_name, &record->daemon);
  } else {
    record->syslog_name = *ident;  // Dovecot: no daemon
  }
  record->timestamp_us = timestamp_us;

  int64_t pid = -1;
  if ((GetJournalField(j, "SYSLOG_PID", &value) == 0 && absl::SimpleAtoi(value, &pid)) ||
      (GetJournalField(j, "_PID", &value) == 0 && absl::SimpleAtoi(value, &pid))) {
    record->pid = pid;
  } else {
    record->pid = -1;
  }

  // Fetched last, so the view stays valid until the caller's next journal call.
  r = GetJournalField(j, "MESSAGE", &value);
  if (r == 0) {
    record->message = value;
  } else if (r != -ENOENT) {
    ++*errors;
  }
  return true;
}

}  // namespace pse
