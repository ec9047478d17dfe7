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
        EXPECT_EQ(FindCharNear(s, c, pos), s.find(c, pos)) << t << " " << c << " " << pos;
      }
    }
    for (absl::string_view needle : {"", ":", ": ", "b[2", "a[1]b[2]x", "after", "nul"}) {
      for (size_t pos = 0; pos <= s.size() + 1; ++pos) {
        EXPECT_EQ(FindString(s, needle, pos), s.find(needle, pos))
            << t << " " << needle << " " << pos;
      }
    }
  }
}

TEST(CharSearch, SameBytesComparesEveryByte) {
  for (size_t n = 8; n <= 24; ++n) {
    const std::string a(n, 'a');
    EXPECT_TRUE(SameBytes(a.data(), a.data(), n));
    for (size_t at = 0; at < n; ++at) {
      std::string b = a;
      b[at] = 'b';
      EXPECT_FALSE(SameBytes(a.data(), b.data(), n)) << n << " " << at;
    }
  }
}

// The 16-byte steps: every position of the byte in texts longer than one
// block, and texts that end one byte short of or just past a block.
TEST(CharSearch, NearSearchAcrossBlocks) {
  for (size_t len : {15u, 16u, 17u, 31u, 32u, 33u, 70u}) {
    for (size_t at = 0; at <= len; ++at) {
      std::string t(len, 'x');
      if (at < len) t[at] = ' ';
      const absl::string_view s(t);
      for (size_t pos = 0; pos <= len; ++pos) {
        EXPECT_EQ(FindCharNear(s, ' ', pos), s.find(' ', pos)) << len << " " << at << " " << pos;
      }
    }
  }
}

}  // namespace
}  // namespace pse
