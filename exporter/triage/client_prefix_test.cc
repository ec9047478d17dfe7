#include "exporter/triage/client_prefix.h"

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pse {
namespace triage {
namespace {

std::string Prefix(absl::string_view text, int v4 = 24, int v6 = 64) {
  IpAddress a;
  if (!ParseIpAddress(text, &a)) return "invalid";
  return PrefixString(ToPrefix(a, v4, v6));
}

TEST(ClientPrefix, Table) {
  struct Case {
    const char* addr;
    int v4, v6;
    const char* want;
  } cases[] = {
      {"192.0.2.7", 24, 64, "192.0.2.0/24"},
      {"192.0.2.255", 16, 64, "192.0.0.0/16"},
      {"203.0.113.77", 32, 64, "203.0.113.77/32"},
      {"203.0.113.77", 0, 64, "0.0.0.0/0"},
      {"198.51.100.200", 25, 64, "198.51.100.128/25"},
      {"2001:db8:1:2:3:4:5:6", 24, 64, "2001:db8:1:2::/64"},
      {"2001:db8:1:2:3:4:5:6", 24, 48, "2001:db8:1::/48"},
      {"2001:db8:1:2:3:4:5:6", 24, 56, "2001:db8:1::/56"},
      {"2001:db8:1:2ff::", 24, 60, "2001:db8:1:2f0::/60"},
      {"::ffff:192.0.2.7", 24, 64, "192.0.2.0/24"},  // IPv4-mapped counts as IPv4
      {"fe80::1%eth0", 24, 64, "fe80::/64"},
      {"unknown", 24, 64, "invalid"},
      {"", 24, 64, "invalid"},
      {"192.0.2", 24, 64, "invalid"},
      {"2001:db8::g", 24, 64, "invalid"},
      {"256.1.1.1", 24, 64, "invalid"},
      {"1.2.3.4.5", 24, 64, "invalid"},
      {"192.168.001.1", 24, 64, "invalid"},
      {"1.2.3.", 24, 64, "invalid"},
      {"0.0.0.0", 24, 64, "0.0.0.0/24"},
      {"255.255.255.255", 32, 64, "255.255.255.255/32"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Prefix(c.addr, c.v4, c.v6), c.want) << c.addr;
  }
}

TEST(ClientPrefix, SameNetworkSamePrefix) {
  IpAddress a, b;
  ASSERT_TRUE(ParseIpAddress("192.0.2.1", &a));
  ASSERT_TRUE(ParseIpAddress("192.0.2.254", &b));
  EXPECT_EQ(ToPrefix(a, 24, 64), ToPrefix(b, 24, 64));
  ASSERT_TRUE(ParseIpAddress("192.0.3.1", &b));
  EXPECT_NE(ToPrefix(a, 24, 64), ToPrefix(b, 24, 64));
}

TEST(ClientPrefix, MaskerIsToPrefix) {
  IpAddress v4, v6;
  ASSERT_TRUE(ParseIpAddress("203.0.113.77", &v4));
  ASSERT_TRUE(ParseIpAddress("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", &v6));
  for (int v4_bits = 0; v4_bits <= 32; ++v4_bits) {
    for (int v6_bits = 0; v6_bits <= 128; ++v6_bits) {
      const PrefixMasker masker(v4_bits, v6_bits);
      for (const IpAddress& a : {v4, v6}) {
        ASSERT_EQ(masker(a), ToPrefix(a, v4_bits, v6_bits)) << v4_bits << " " << v6_bits;
        ASSERT_EQ(PrefixString(masker(a)), PrefixString(ToPrefix(a, v4_bits, v6_bits)));
      }
    }
  }
}

// The dotted-quad fast path and inet_pton agree on texts near the edges.
TEST(ClientPrefix, DottedQuadAgreesWithInetPton) {
  const char* parts[] = {"0",   "1",   "9",    "10", "01", "99", "100", "199", "255", "256",
                         "300", "999", "1000", "",   "a",  "2a", " 1",  "+1",  "-1",  "0x1"};
  int checked = 0;
  for (const char* a : parts) {
    for (const char* b : parts) {
      for (const char* c : {"0", "255", "256", "07", ""}) {
        for (const char* tail : {"", ".", ".1", "x", "%eth0", " "}) {
          const std::string text = absl::StrCat(a, ".", b, ".", c, ".4", tail);
          IpAddress got;
          const bool ok = ParseIpAddress(text, &got);
          unsigned char want[4];
          const std::string unzoned = text.substr(0, text.find('%'));
          const bool want_ok = inet_pton(AF_INET, unzoned.c_str(), want) == 1;
          ASSERT_EQ(ok, want_ok) << text;
          if (ok) {
            ASSERT_EQ(std::memcmp(got.bytes.data() + 12, want, 4), 0) << text;
            ASSERT_FALSE(got.v6);
          }
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 20 * 20 * 5 * 6);
  // Lengths at the fast path's edges, and a NUL inside the text.
  IpAddress a;
  EXPECT_TRUE(ParseIpAddress("1.2.3.4", &a));
  EXPECT_TRUE(ParseIpAddress("255.255.255.255", &a));
  EXPECT_EQ(a.bytes[15], 255);
  EXPECT_FALSE(ParseIpAddress("1.2.3", &a));
  EXPECT_FALSE(ParseIpAddress("255.255.255.2555", &a));
  EXPECT_FALSE(ParseIpAddress("1255.255.255.255", &a));
  // The fast path stops at a NUL (inet_pton then reads up to it).
  uint8_t four[4];
  EXPECT_FALSE(client_prefix_internal::ParseDottedQuad(absl::string_view("1.2.3.4\0", 8), four));
  EXPECT_FALSE(client_prefix_internal::ParseDottedQuad(absl::string_view("1.2.3\0.4", 8), four));
  EXPECT_TRUE(client_prefix_internal::ParseDottedQuad("10.20.30.40", four));
  EXPECT_EQ(four[3], 40);
}

TEST(ClientPrefix, StringRoundTrip) {
  for (const char* s : {"192.0.2.0/24", "2001:db8:1:2::/64", "0.0.0.0/0", "10.1.2.3/32"}) {
    NetPrefix p;
    ASSERT_TRUE(ParsePrefixString(s, &p)) << s;
    EXPECT_EQ(PrefixString(p), s);
  }
  NetPrefix p;
  EXPECT_FALSE(ParsePrefixString("192.0.2.1/24", &p));  // host bits set
  EXPECT_FALSE(ParsePrefixString("192.0.2.0/33", &p));
  EXPECT_FALSE(ParsePrefixString("other", &p));
}

}  // namespace
}  // namespace triage
}  // namespace pse
