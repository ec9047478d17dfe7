// The inline searches give exactly what string_view's find/rfind give.
#include "parsers/char_search.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pse {
namespace {

TEST(CharSearch, SameAsStringViewFind) {
  const std::vector<std::string> texts = {
      "",       ":", ": ",       "a: b", "postfix/submission/smtpd",     "no colon space:",
      "x:y: z", "[", "a[1]b[2]", "::  ", std::string("nul\0: after", 12)};
  for (const std::string& t : texts) {
    const absl::string_view s(t);
    for (char c : {':', '/', '[', ' ', 'z', '\0'}) {
      EXPECT_EQ(FindChar(s, c), s.find(c)) << t << " " << c;
      EXPECT_EQ(RFindChar(s, c), s.rfind(c)) << t << " " << c;
      for (size_t pos = 0; pos <= s.size() + 1; ++pos) {
        EXPECT_EQ(FindChar(s, c, pos), s.find(c, pos)) << t << " " << c << " " << pos;
      }
    }
    EXPECT_EQ(FindColonSpace(s), s.find(": ")) << t;
  }
}

}  // namespace
}  // namespace pse
