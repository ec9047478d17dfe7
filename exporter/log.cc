#include "exporter/log.h"

#include <unistd.h>

#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace pse {
namespace {

std::atomic<int> g_min_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<bool> g_json{false};

// Quotes for logfmt when needed, and always for JSON; escapes control bytes.
void AppendValue(std::string* out, absl::string_view v, bool json) {
  bool needs_quotes = json || v.empty();
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || static_cast<unsigned char>(c) < 0x20) {
      needs_quotes = true;
    }
  }
  if (!needs_quotes) {
    out->append(v.data(), v.size());
    return;
  }
  out->push_back('"');
  for (char c : v) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(out, "\\u00", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendField(std::string* out, absl::string_view key, absl::string_view value, bool json,
                 bool first) {
  if (json) {
    if (!first) out->push_back(',');
    AppendValue(out, key, true);
    out->push_back(':');
    AppendValue(out, value, true);
  } else {
    if (!first) out->push_back(' ');
    out->append(key.data(), key.size());
    out->push_back('=');
    AppendValue(out, value, false);
  }
}

// "debug", "info", "warn"/"warning", "error"; anything else is info.
LogLevel ParseLevel(absl::string_view level) {
  if (level == "debug") return LogLevel::kDebug;
  if (level == "warn" || level == "warning") return LogLevel::kWarn;
  if (level == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

}  // namespace

void ConfigureLogging(absl::string_view level, absl::string_view format) {
  g_min_level = static_cast<int>(ParseLevel(level));
  g_json = format == "json";
}

void Log(LogLevel level, absl::string_view msg, std::initializer_list<LogField> fields) {
  if (static_cast<int>(level) < g_min_level.load()) return;
  bool json = g_json.load();
  std::string line = json ? "{" : "";
  AppendField(&line, "ts",
              absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()), json,
              true);
  AppendField(&line, "level", LogLevelName(level), json, false);
  AppendField(&line, "msg", msg, json, false);
  for (const LogField& f : fields) AppendField(&line, f.first, f.second, json, false);
  if (json) line.push_back('}');
  line.push_back('\n');
  ssize_t unused = ::write(STDERR_FILENO, line.data(), line.size());
  (void)unused;
}

void LogText(LogLevel level, absl::string_view msg) { Log(level, msg); }

}  // namespace pse
