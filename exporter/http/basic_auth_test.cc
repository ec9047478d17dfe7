#include "exporter/http/basic_auth.h"

#include <map>
#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "testing/http_util.h"

namespace pse {
namespace {

using test::BcryptHash;

TEST(BasicAuthTest, ParseHeaderLikeGo) {
  std::string user, password;
  EXPECT_TRUE(
      BasicAuthenticator::ParseHeader("Basic " + absl::Base64Escape("u:p:q"), &user, &password));
  EXPECT_EQ(user, "u");
  EXPECT_EQ(password, "p:q");
  EXPECT_TRUE(
      BasicAuthenticator::ParseHeader("basic " + absl::Base64Escape("u:"), &user, &password));
  EXPECT_EQ(password, "");
  EXPECT_FALSE(
      BasicAuthenticator::ParseHeader("Basic " + absl::Base64Escape("nocolon"), &user, &password));
  EXPECT_FALSE(BasicAuthenticator::ParseHeader("Bearer abc", &user, &password));
  EXPECT_FALSE(BasicAuthenticator::ParseHeader("Basic !!!", &user, &password));
  EXPECT_FALSE(BasicAuthenticator::ParseHeader("Basic", &user, &password));
}

TEST(BasicAuthTest, RightAndWrongPasswords) {
  BasicAuthenticator auth({{"alice", BcryptHash("pw")}});
  EXPECT_FALSE(auth.Check("alice", "wrong"));
  EXPECT_FALSE(auth.Check("alice", ""));
  EXPECT_FALSE(auth.Check("bob", "pw"));
  EXPECT_FALSE(auth.Check("alice", std::string("pw\0x", 4)));
  EXPECT_TRUE(auth.Check("alice", "pw"));
  EXPECT_FALSE(auth.CheckHeader(nullptr));
  EXPECT_TRUE(auth.CheckHeader(("Basic " + absl::Base64Escape("alice:pw")).c_str()));
}

TEST(BasicAuthTest, SuccessIsCachedFailureIsNot) {
  BasicAuthenticator auth({{"alice", BcryptHash("pw")}});
  EXPECT_TRUE(auth.Check("alice", "pw"));
  EXPECT_EQ(auth.bcrypt_calls(), 1u);
  EXPECT_TRUE(auth.Check("alice", "pw"));
  EXPECT_EQ(auth.bcrypt_calls(), 1u);
  EXPECT_FALSE(auth.Check("alice", "px"));
  EXPECT_FALSE(auth.Check("alice", "px"));
  EXPECT_EQ(auth.bcrypt_calls(), 3u);
}

TEST(BasicAuthTest, UnknownUserStillPaysBcrypt) {
  BasicAuthenticator auth({{"alice", BcryptHash("pw")}});
  EXPECT_FALSE(auth.Check("mallory", "pw"));
  EXPECT_EQ(auth.bcrypt_calls(), 1u);
}

TEST(BasicAuthTest, CacheIsBounded) {
  BasicAuthenticator auth({{"a", BcryptHash("1")}, {"b", BcryptHash("2")}}, /*cache_size=*/1);
  EXPECT_TRUE(auth.Check("a", "1"));
  EXPECT_TRUE(auth.Check("b", "2"));  // evicts a
  EXPECT_TRUE(auth.Check("a", "1"));
  EXPECT_EQ(auth.bcrypt_calls(), 3u);
  EXPECT_TRUE(auth.Check("a", "1"));
  EXPECT_EQ(auth.bcrypt_calls(), 3u);
}

TEST(BasicAuthTest, AnyBcryptMinorVersionVerifiesLikeGo) {
  const std::string hash = BcryptHash("pw");  // $2b$04$...
  ASSERT_EQ(hash.substr(0, 4), "$2b$");
  for (const char* prefix : {"$2a$", "$2y$", "$2x$"}) {
    BasicAuthenticator auth({{"alice", prefix + hash.substr(4)}});
    EXPECT_TRUE(auth.Check("alice", "pw")) << prefix;
    EXPECT_FALSE(auth.Check("alice", "px")) << prefix;
  }
  BasicAuthenticator no_minor({{"alice", "$2$" + hash.substr(4)}});
  EXPECT_TRUE(no_minor.Check("alice", "pw"));
}

TEST(BasicAuthTest, MalformedHashNeverMatches) {
  BasicAuthenticator auth(std::map<std::string, std::string>{
      {"alice", "$2y$10$!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"}});
  EXPECT_FALSE(auth.Check("alice", ""));
  EXPECT_FALSE(auth.Check("alice", "!!"));
}

}  // namespace
}  // namespace pse
