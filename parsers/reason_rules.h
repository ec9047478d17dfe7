// ReasonRules: operator-supplied mapping of raw SASL failure text to a reason.
//
// An ordered list of {RE2 pattern, FailureReason}, compiled once by Create().
// Classify() tries the patterns in order on the raw failure text (the REASON
// of smtpd's "SASL M authentication failed: REASON" line, already cut at
// ", sasl_username=") and returns the reason of the first pattern that
// matches anywhere in it (use ^...$ to match the whole text). When none
// matches, the built-in mapping of sasl_reason.h applies. Operators use this
// for backends whose wording the built-in table does not know.
//
// Immutable after Create(): Classify() is const and thread-safe. The object
// must outlive every parse that is given a pointer to it.
#ifndef PSE_PARSERS_REASON_RULES_H_
#define PSE_PARSERS_REASON_RULES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "parsers/postfix_event.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace pse {

class ReasonRules {
 public:
  struct Rule {
    std::string pattern;  // RE2 syntax, unanchored
    FailureReason reason;
  };

  // Compiles every pattern. Fails with InvalidArgument naming the index and
  // the pattern of the first one RE2 rejects, or when a reason is kCount.
  static absl::StatusOr<ReasonRules> Create(const std::vector<Rule>& rules);

  ReasonRules(ReasonRules&&) noexcept;
  ReasonRules& operator=(ReasonRules&&) noexcept;
  ~ReasonRules();

  // The reason of the first rule whose pattern matches `text`, if any.
  absl::optional<FailureReason> Match(absl::string_view text) const;

  size_t size() const { return compiled_.size(); }

 private:
  struct Compiled {
    std::unique_ptr<re2::RE2> re;
    FailureReason reason;
  };
  ReasonRules() = default;

  std::vector<Compiled> compiled_;
};

// The REASON of a failed line: the operator's rules first (when `rules` is
// not null), then ClassifyFailedReason().
FailureReason ClassifyFailedReasonWithRules(absl::string_view reason, const ReasonRules* rules);

}  // namespace pse

#endif  // PSE_PARSERS_REASON_RULES_H_
