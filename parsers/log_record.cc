#include "parsers/log_record.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace pse {

bool IsDovecotIdentifier(absl::string_view ident) {
  if (ident == "dovecot" || ident == "dovecot-auth" || ident == "auth" || ident == "auth-worker") {
    return true;
  }
  constexpr absl::string_view kWorker = "auth-worker(";
  if (!absl::StartsWith(ident, kWorker) || !absl::EndsWith(ident, ")")) return false;
  absl::string_view pid = ident.substr(kWorker.size(), ident.size() - kWorker.size() - 1);
  if (pid.empty()) return false;
  for (char c : pid) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

absl::string_view ServiceLabel(absl::string_view syslog_name) {
  if (syslog_name == "postfix") return "smtp";
  constexpr absl::string_view kPrefix = "postfix/";
  if (absl::StartsWith(syslog_name, kPrefix) && syslog_name.size() > kPrefix.size()) {
    return syslog_name.substr(kPrefix.size());
  }
  return syslog_name;
}

}  // namespace pse
