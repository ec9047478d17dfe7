#include "parsers/sasl_reason.h"

#include "gtest/gtest.h"

namespace pse {
namespace {

using R = FailureReason;

TEST(SaslReason, FailedLineReasons) {
  struct Case {
    const char* text;
    R want;
  } cases[] = {
      {"", R::kUnspecified},
      {" ", R::kUnspecified},
      {"(reason unavailable)", R::kUnspecified},
      {"authentication failure", R::kBadCredentials},
      {"UGFzc3dvcmQ6", R::kBadCredentials},
      {"VXNlcm5hbWU6", R::kBadCredentials},
      {"Password:", R::kBadCredentials},
      {"generic failure", R::kBackendUnavailable},
      {"transient failure (e.g., weak key)", R::kBackendUnavailable},
      {"Connection lost to authentication server", R::kBackendUnavailable},
      {"Invalid authentication mechanism", R::kMechanismUnsupported},
      {"Invalid authentication mechanism: 'FOO'", R::kMechanismUnsupported},
      {"no mechanism available", R::kMechanismUnsupported},
      {"bad protocol / cancel", R::kProtocolError},
      {"Invalid base64 data in continued response", R::kProtocolError},
      {"encryption needed to use mechanism", R::kAuthUnavailable},
      {"user not found", R::kUnknownAccount},
      {"undefined error!", R::kOther},
      // Wording of operators' triage guides.
      {"Invalid user name or authentication type", R::kBadCredentials},
      {"Unknown user or password incorrect", R::kUnknownAccount},
      {"Authentication not available", R::kAuthUnavailable},
      {"Authentication mechanism not available", R::kMechanismUnsupported},
      // Not base64: a space, or '=' in the middle.
      {"abc def", R::kOther},
      {"ab=cd", R::kOther},
  };
  for (const Case& c : cases) EXPECT_EQ(ClassifyFailedReason(c.text), c.want) << c.text;
}

TEST(SaslReason, ErrnoTextsAreBackendUnavailable) {
  for (const char* text :
       {"No such file or directory", "Connection refused", "Permission denied",
        "Connection timed out", "Connection reset by peer", "Resource temporarily unavailable",
        "Broken pipe", "Network is unreachable", "No route to host", "Operation timed out"}) {
    EXPECT_EQ(ClassifyFailedReason(text), R::kBackendUnavailable) << text;
  }
  // Only the whole reason: an errno text inside other text is not one.
  EXPECT_EQ(ClassifyFailedReason("user said Connection refused"), R::kOther);
}

TEST(SaslReason, RateLimitedHasItsLabel) {
  EXPECT_EQ(FailureReasonLabel(R::kRateLimited), "rate_limited");
  EXPECT_EQ(FailureReasonLabel(R::kUnspecified), "unspecified");
  EXPECT_EQ(FailureReasonLabel(R::kOther), "other");
}

TEST(SaslReason, CompanionTexts) {
  bool connect = false;
  EXPECT_EQ(ClassifyCompanionText("Password verification failed", &connect), R::kBadCredentials);
  EXPECT_FALSE(connect);
  EXPECT_EQ(ClassifyCompanionText("user not found", &connect), R::kUnknownAccount);
  EXPECT_EQ(ClassifyCompanionText(
                "user: bob@example.org property: cmusaslsecretPLAIN not found in sasldb", &connect),
            R::kUnknownAccount);
  EXPECT_EQ(
      ClassifyCompanionText("cannot connect to saslauthd server: Connection refused", &connect),
      R::kBackendUnavailable);
  EXPECT_TRUE(connect);
  EXPECT_EQ(ClassifyCompanionText(
                "unable to open Berkeley db /etc/sasldb2: No such file or directory", &connect),
            R::kBackendUnavailable);
  EXPECT_FALSE(connect);
  EXPECT_EQ(ClassifyCompanionText("something new", &connect), R::kOther);
  // A username that contains backend text does not make it a backend error.
  EXPECT_EQ(
      ClassifyCompanionText(
          "user: cannot connect to saslauthd server property: x not found in sasldb", &connect),
      R::kUnknownAccount);
  EXPECT_FALSE(connect);
}

}  // namespace
}  // namespace pse
