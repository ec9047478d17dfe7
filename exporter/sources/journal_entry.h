// Journal entry reading for JournalSource: field access and the conversion of
// one sd-journal entry into a LogRecord.
//
// JournalEntryToRecord() builds a record from the entry's fields, never from a
// re-printed syslog line: SYSLOG_IDENTIFIER must be a Postfix one
// (SplitPostfixIdentifier) or a Dovecot one (IsDovecotIdentifier: syslog_name
// is the identifier, daemon empty); the pid is SYSLOG_PID, else _PID, else -1;
// the timestamp is the entry's realtime; the message is MESSAGE, which may
// hold arbitrary bytes (embedded NUL, invalid UTF-8) and keeps its exact
// length.
//
// Lifetimes: the views these functions hand out point into the journal's own
// buffers and are valid only until the next sd_journal_get_data() (or any
// call that moves or closes the journal); the record's syslog_name and daemon
// point into the caller's `ident` string.
//
// Not thread-safe: a journal handle is used by one thread at a time.
#ifndef PSE_EXPORTER_SOURCES_JOURNAL_ENTRY_H_
#define PSE_EXPORTER_SOURCES_JOURNAL_ENTRY_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "parsers/log_record.h"

// Opaque libsystemd handle.
typedef struct sd_journal sd_journal;

namespace pse {

// Sets *value to the value of FIELD in the current entry (sd_journal_get_data
// hands out "FIELD=value"). 0: found, -ENOENT: absent, other negative: journal
// error.
int GetJournalField(sd_journal* j, absl::string_view field, absl::string_view* value);

// Whether the current entry has the boot ID and monotonic time (hex) that
// `cursor` ("s=..;i=..;b=..;m=..;t=..;x=..") names.
bool SameBootAndMonotonic(sd_journal* j, absl::string_view cursor);

// Fills *record from the current entry; false when the entry is neither
// Postfix's nor Dovecot's (skip it). Raises *newest_us to the entry's
// realtime; adds one to *errors for each field that could not be read for
// another reason than being absent. `ident` receives a copy of
// SYSLOG_IDENTIFIER, which the record's syslog_name and daemon point into.
bool JournalEntryToRecord(sd_journal* j, std::string* ident, LogRecord* record, int64_t* newest_us,
                          uint64_t* errors);

}  // namespace pse

#endif  // PSE_EXPORTER_SOURCES_JOURNAL_ENTRY_H_
