// StateFile: the exporter's state on disk, so a restart or a crash is
// invisible in Prometheus (counters continue, every line counted once).
//
// The document is text, in sections that each module fills and reads back:
//
//   pse-state 1
//   source file:/var/log/mail.log      (Source::Describe() of the writer)
//   [position]                         (the source's checkpoint text)
//   ...
//   [metrics]                          (Metrics::SaveValues)
//   ...
//   [sessions]                         (SessionState::Save)
//   ...
//   end 0123456789abcdef               (FNV-1a 64 of every byte before it)
//
// Section lines are opaque here, except that they may not start with '['
// and contain no newline: modules escape free text with EscapeToken. The
// checksum line makes a torn or edited file "corrupt". Saved atomically
// (fs_util's WriteFileAtomically), so a crash leaves the old or the new file.
//
// Thread-safe (no shared state).
#ifndef PSE_EXPORTER_STATE_FILE_H_
#define PSE_EXPORTER_STATE_FILE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace pse {

inline constexpr int kStateFileVersion = 1;

struct StateDocument {
  std::string source;
  std::map<std::string, std::vector<std::string>> sections;
};

std::string FormatState(const StateDocument& doc);

// InvalidArgument when the text is not a complete, intact state document;
// FailedPrecondition when it is one of another version.
absl::StatusOr<StateDocument> ParseState(absl::string_view text);

// Writes `doc` to `path` atomically and durably.
absl::Status SaveStateFile(const std::string& path, const StateDocument& doc);
// NotFound when there is no file; otherwise as ParseState, or Unavailable.
absl::StatusOr<StateDocument> LoadStateFile(const std::string& path);
// Renames an unusable state file to "<path>.bad" (replacing an older one) so
// it can be looked at; returns the new name.
absl::StatusOr<std::string> MoveStateFileAside(const std::string& path);

// A token without spaces, newlines or non-printable bytes: those, and '%',
// are written as %XX. The empty string is "%".
std::string EscapeToken(absl::string_view raw);
bool UnescapeToken(absl::string_view token, std::string* raw);

}  // namespace pse

#endif  // PSE_EXPORTER_STATE_FILE_H_
