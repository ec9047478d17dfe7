#include "parsers/reason_rules.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "parsers/sasl_reason.h"
#include "re2/re2.h"

namespace pse {
namespace {

// Debian's RE2 (2022) takes re2::StringPiece, which does not convert from
// absl::string_view there.
re2::StringPiece Piece(absl::string_view s) { return re2::StringPiece(s.data(), s.size()); }

}  // namespace

ReasonRules::ReasonRules(ReasonRules&&) noexcept = default;
ReasonRules& ReasonRules::operator=(ReasonRules&&) noexcept = default;
ReasonRules::~ReasonRules() = default;

absl::StatusOr<ReasonRules> ReasonRules::Create(const std::vector<Rule>& rules) {
  ReasonRules out;
  out.compiled_.reserve(rules.size());
  RE2::Options options;
  options.set_log_errors(false);
  options.set_never_capture(true);
  for (size_t i = 0; i < rules.size(); ++i) {
    const Rule& rule = rules[i];
    if (rule.reason >= FailureReason::kCount) {
      return absl::InvalidArgumentError(
          absl::StrCat("reason rule ", i, " (\"", rule.pattern, "\"): invalid reason"));
    }
    auto re = std::make_unique<RE2>(Piece(rule.pattern), options);
    if (!re->ok()) {
      return absl::InvalidArgumentError(absl::StrCat("reason rule ", i, " (\"", rule.pattern,
                                                     "\"): invalid RE2 pattern: ", re->error()));
    }
    out.compiled_.push_back(Compiled{std::move(re), rule.reason});
  }
  return out;
}

absl::optional<FailureReason> ReasonRules::Match(absl::string_view text) const {
  for (const Compiled& c : compiled_) {
    if (RE2::PartialMatch(Piece(text), *c.re)) return c.reason;
  }
  return absl::nullopt;
}

FailureReason ClassifyFailedReasonWithRules(absl::string_view reason, const ReasonRules* rules) {
  if (rules != nullptr) {
    absl::optional<FailureReason> r = rules->Match(reason);
    if (r.has_value()) return *r;
  }
  return ClassifyFailedReason(reason);
}

}  // namespace pse
