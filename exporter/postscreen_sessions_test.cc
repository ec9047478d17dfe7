#include "exporter/postscreen_sessions.h"

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "testing/metric_values.h"

namespace pse {
namespace {

constexpr int64_t kSecond = 1000000;
constexpr int64_t kT0 = 1700000000LL * kSecond;

class PostscreenSessionsTest : public ::testing::Test {
 protected:
  PostscreenSessionsTest() : sessions_(&registry_, 60 * kSecond) { sessions_.AdvanceTime(kT0); }

  void At(double sec) { sessions_.AdvanceTime(kT0 + static_cast<int64_t>(sec * kSecond)); }
  void Send(MailKind kind, const char* client, PostscreenAction action = PostscreenAction::kPassNew,
            const char* host = "mx") {
    MailFlowEvent ev;
    ev.kind = kind;
    ev.postscreen = action;
    ev.postscreen_client = client;
    sessions_.NameService(0, "postfix", host);
    sessions_.Handle(0, "smtp", "", host, ev);
  }
  void Connect(const char* client, const char* host = "mx") {
    Send(MailKind::kPostscreenConnect, client, PostscreenAction::kPassNew, host);
  }
  double Open() { return test::MetricValue(registry_, "postfix_postscreen_sessions", svc_); }
  double Max() { return test::MetricValue(registry_, "postfix_postscreen_sessions_max", svc_); }

  prometheus::Registry registry_;
  PostscreenSessions sessions_;
  const std::map<std::string, std::string> svc_ = {{"service", "smtp"}};
};

TEST_F(PostscreenSessionsTest, EveryEndOfASessionClosesIt) {
  EXPECT_EQ(Open(), -1);  // no series before the first CONNECT
  Connect("[192.0.2.1]:1001");
  Connect("[192.0.2.2]:1002");
  Connect("[192.0.2.3]:1003");
  Connect("[192.0.2.4]:1004");
  Connect("[192.0.2.1]:1001", "mx2");  // another host's socket of the same name
  EXPECT_EQ(Open(), 5);
  EXPECT_EQ(Max(), 5);
  At(1);
  Send(MailKind::kPostscreenDisconnect, "[192.0.2.1]:1001");
  Send(MailKind::kPostscreen, "[192.0.2.2]:1002", PostscreenAction::kPassOld);
  Send(MailKind::kPostscreen, "[192.0.2.3]:1003", PostscreenAction::kAllowlisted);
  // A verdict that does not hand over the socket, and the end of a socket
  // never seen, change nothing.
  Send(MailKind::kPostscreen, "[192.0.2.4]:1004", PostscreenAction::kDenylisted);
  Send(MailKind::kPostscreenDisconnect, "[192.0.2.9]:1009");
  EXPECT_EQ(Open(), 2);
  EXPECT_EQ(Max(), 5);
  Send(MailKind::kPostscreenDisconnect, "[192.0.2.4]:1004");
  Send(MailKind::kPostscreenDisconnect, "[192.0.2.1]:1001", PostscreenAction::kPassNew, "mx2");
  EXPECT_EQ(Open(), 0);
  EXPECT_EQ(sessions_.tracked(), 0u);
  // The peak leaves the trailing window.
  At(62);
  EXPECT_EQ(Max(), 0);
}

TEST_F(PostscreenSessionsTest, ASessionNoLineEndedExpiresAndACONNECTAgainIsOne) {
  Connect("[192.0.2.1]:1001");
  Connect("[192.0.2.1]:1001");  // same socket again: its end was not logged
  EXPECT_EQ(Open(), 1);
  At(100);
  Connect("[192.0.2.2]:1002");
  At(331);  // the first is past kSessionTimeoutUs, the second is not
  EXPECT_EQ(Open(), 1);
  At(431);
  EXPECT_EQ(Open(), 0);
  EXPECT_EQ(sessions_.tracked(), 0u);
}

TEST_F(PostscreenSessionsTest, CapacityClosesTheOldest) {
  char client[32];
  for (size_t i = 0; i < PostscreenSessions::kMaxTracked + 10; ++i) {
    std::snprintf(client, sizeof client, "[10.%zu.%zu.1]:25", i / 256, i % 256);
    Connect(client);
  }
  EXPECT_EQ(sessions_.tracked(), PostscreenSessions::kMaxTracked);
  EXPECT_EQ(Open(), PostscreenSessions::kMaxTracked);
  // The oldest were closed: their DISCONNECT changes nothing.
  Send(MailKind::kPostscreenDisconnect, "[10.0.0.1]:25");
  EXPECT_EQ(Open(), PostscreenSessions::kMaxTracked);
}

// The open sessions and the peak survive a restart through the state file:
// neither gauge moves, and a session opened before it still closes.
TEST_F(PostscreenSessionsTest, StateFileKeepsOpenSessionsAndPeak) {
  Connect("[192.0.2.1]:1001");
  Connect("[192.0.2.2]:1002");
  Connect("[192.0.2.3]:1003");
  At(1);
  Send(MailKind::kPostscreenDisconnect, "[192.0.2.3]:1003");
  const std::vector<std::string> saved = sessions_.Save();

  prometheus::Registry registry;
  ServiceTable services;
  PostscreenSessions restored(&registry, 60 * kSecond);
  ASSERT_TRUE(restored.Restore(saved, &services));
  EXPECT_EQ(restored.tracked(), 2u);
  EXPECT_EQ(test::MetricValue(registry, "postfix_postscreen_sessions", svc_), 2);
  EXPECT_EQ(test::MetricValue(registry, "postfix_postscreen_sessions_max", svc_), 3);
  MailFlowEvent ev;
  ev.kind = MailKind::kPostscreenDisconnect;
  ev.postscreen_client = "[192.0.2.1]:1001";
  const ServiceId id = services.Resolve("postfix", "mx");
  restored.Handle(id.label, services.label(id.label), "", "mx", ev);
  EXPECT_EQ(test::MetricValue(registry, "postfix_postscreen_sessions", svc_), 1);
  EXPECT_EQ(restored.tracked(), 1u);

  PostscreenSessions garbage(&registry, 60 * kSecond);
  EXPECT_FALSE(garbage.Restore({"open x 1 0"}, &services));
  EXPECT_FALSE(garbage.Restore({"what"}, &services));
}

}  // namespace
}  // namespace pse
