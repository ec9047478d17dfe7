// LogLevel and the logging hook modules take, apart from the logger itself
// (exporter/log.h), so a module can report operational events without
// linking the logger: main.cc passes Log's adapter, tests pass a lambda.
#ifndef PSE_EXPORTER_LOG_LEVEL_H_
#define PSE_EXPORTER_LOG_LEVEL_H_

#include <functional>

#include "absl/strings/string_view.h"

namespace pse {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn", "error".
inline absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

// Receives one operational message; never called per line read.
using LogHook = std::function<void(LogLevel level, absl::string_view msg)>;

}  // namespace pse

#endif  // PSE_EXPORTER_LOG_LEVEL_H_
