#include "exporter/triage/siphash.h"

#include <string>

#include "gtest/gtest.h"

namespace pse {
namespace triage {
namespace {

// The paper's key 00 01 .. 0f.
SipKey PaperKey() {
  std::string k;
  for (int i = 0; i < 16; ++i) k.push_back(static_cast<char>(i));
  return SipKeyFromBytes(k);
}

std::string Bytes(int n) {
  std::string m;
  for (int i = 0; i < n; ++i) m.push_back(static_cast<char>(i));
  return m;
}

TEST(SipHash, PaperTestVector) {
  // Appendix A of the paper: the 15-byte message 00 .. 0e.
  EXPECT_EQ(SipHash24(PaperKey(), Bytes(15)), 0xa129ca6149be45e5ULL);
}

TEST(SipHash, ReferenceVectorsOfOtherLengths) {
  // The reference implementation's vectors.h, first entries (empty, 1 and
  // 8 bytes: no tail, a one-byte tail, one whole word).
  EXPECT_EQ(SipHash24(PaperKey(), Bytes(0)), 0x726fdb47dd0e0e31ULL);
  EXPECT_EQ(SipHash24(PaperKey(), Bytes(1)), 0x74f839c593dc67fdULL);
  EXPECT_EQ(SipHash24(PaperKey(), Bytes(8)), 0x93f5f5799a932462ULL);
}

TEST(SipHash, KeyMatters) {
  SipKey other = PaperKey();
  other.k1 ^= 1;
  EXPECT_NE(SipHash24(PaperKey(), "alice"), SipHash24(other, "alice"));
}

}  // namespace
}  // namespace triage
}  // namespace pse
