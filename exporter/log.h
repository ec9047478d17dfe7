// Structured logging to stderr: one line per event, logfmt or JSON.
//
//   level=info msg="listening" address=:9154
//   {"level":"info","msg":"listening","address":":9154"}
//
// Thread-safe (one write(2) per line). Configure once at start-up, before
// other threads start.
#ifndef PSE_EXPORTER_LOG_H_
#define PSE_EXPORTER_LOG_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/string_view.h"
#include "exporter/log_level.h"

namespace pse {

// REQUIRES: level one of debug|info|warn|error, format logfmt|json.
void ConfigureLogging(absl::string_view level, absl::string_view format);

using LogField = std::pair<absl::string_view, std::string>;
void Log(LogLevel level, absl::string_view msg, std::initializer_list<LogField> fields = {});

// The LogHook modules take (exporter/log_level.h).
void LogText(LogLevel level, absl::string_view msg);

}  // namespace pse

#endif  // PSE_EXPORTER_LOG_H_
