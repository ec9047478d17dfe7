#include "parsers/log_record.h"

#include "absl/strings/match.h"

namespace pse {

bool SplitPostfixIdentifier(absl::string_view ident, absl::string_view* syslog_name,
                            absl::string_view* daemon) {
  if (!absl::StartsWith(ident, "postfix")) return false;
  size_t slash = ident.rfind('/');
  if (slash == absl::string_view::npos || slash == 0 || slash + 1 == ident.size()) return false;
  *syslog_name = ident.substr(0, slash);
  *daemon = ident.substr(slash + 1);
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
