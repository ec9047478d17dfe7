#include "exporter/http/compression.h"

#include <string>

#include "gtest/gtest.h"
#include "testing/http_util.h"

namespace pse {
namespace {

TEST(AcceptsGzipTest, NegotiatesLikeRfc9110) {
  EXPECT_FALSE(AcceptsGzip(nullptr));
  EXPECT_FALSE(AcceptsGzip(""));
  EXPECT_TRUE(AcceptsGzip("gzip"));
  EXPECT_TRUE(AcceptsGzip("deflate, GZIP;q=0.5"));
  EXPECT_TRUE(AcceptsGzip("x-gzip"));
  EXPECT_TRUE(AcceptsGzip("*"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=0, *"));
  EXPECT_FALSE(AcceptsGzip("br"));
  EXPECT_FALSE(AcceptsGzip("*;q=0"));
  EXPECT_FALSE(AcceptsGzip("gzip;q=nonsense"));
}

TEST(GzipTest, RoundTrips) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += "metric_total{kind=\"a\"} 42\n";
  std::string compressed;
  ASSERT_TRUE(Gzip(text, 1, &compressed));
  EXPECT_LT(compressed.size(), text.size() / 5);
  EXPECT_EQ(test::Gunzip(compressed), text);
}

TEST(GzipTest, EmptyBodyIsAValidMember) {
  std::string compressed;
  ASSERT_TRUE(Gzip("", 9, &compressed));
  EXPECT_EQ(test::Gunzip(compressed), "");
}

}  // namespace
}  // namespace pse
