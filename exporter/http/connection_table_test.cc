#include "exporter/http/connection_table.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace pse {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class ConnectionTableTest : public ::testing::Test {
 protected:
  ConnectionTableTest() {
    limits_.max_connections = 3;
    limits_.read_header_timeout = absl::Seconds(5);
    limits_.idle_timeout = absl::Seconds(10);
  }
  absl::Time At(double seconds) const { return t0_ + absl::Seconds(seconds); }

  ConnectionLimits limits_;
  const absl::Time t0_ = absl::UnixEpoch() + absl::Hours(1);
};

TEST_F(ConnectionTableTest, AdmitsUpToTheLimitWithoutClosingAnything) {
  ConnectionTable table(limits_);
  for (int fd = 10; fd < 13; ++fd) {
    ConnectionTable::Admission a = table.Admit(fd, At(0));
    EXPECT_FALSE(a.refuse);
    EXPECT_EQ(a.evict, -1);
  }
  EXPECT_EQ(table.stats().open, 3u);
}

TEST_F(ConnectionTableTest, NewcomerEvictsOldestAwaiting) {
  ConnectionTable table(limits_);
  table.Admit(10, At(0));
  table.Admit(11, At(1));
  table.Admit(12, At(2));
  ConnectionTable::Admission a = table.Admit(13, At(3));
  EXPECT_FALSE(a.refuse);
  EXPECT_EQ(a.evict, 10);
  // The next newcomer takes the next oldest, not the one already closing.
  EXPECT_EQ(table.Admit(14, At(3)).evict, 11);
  EXPECT_EQ(table.stats().evicted, 2u);
  EXPECT_EQ(table.stats().open, 3u);
}

TEST_F(ConnectionTableTest, ConnectionsInRequestAreNeverEvicted) {
  ConnectionTable table(limits_);
  table.Admit(10, At(0));
  table.Admit(11, At(1));
  table.Admit(12, At(2));
  table.RequestStarted(10);
  EXPECT_EQ(table.Admit(13, At(3)).evict, 11);
}

TEST_F(ConnectionTableTest, NewcomerRefusedWhenOthersAreServed) {
  ConnectionTable table(limits_);
  for (int fd = 10; fd < 13; ++fd) {
    table.Admit(fd, At(0));
    table.RequestStarted(fd);
  }
  table.RequestFinished(10, At(1));  // kept alive, idle only briefly
  ConnectionTable::Admission a = table.Admit(13, At(2));
  EXPECT_TRUE(a.refuse);
  EXPECT_EQ(a.evict, -1);
  EXPECT_EQ(table.stats().refused, 1u);
  EXPECT_EQ(table.stats().open, 3u);
}

TEST_F(ConnectionTableTest, NewcomerEvictsLongIdle) {
  ConnectionTable table(limits_);
  for (int fd = 10; fd < 13; ++fd) {
    table.Admit(fd, At(0));
    table.RequestStarted(fd);
  }
  table.RequestFinished(11, At(1));
  table.RequestFinished(10, At(2));
  // 11 has been idle 5 s = read_header_timeout; 10 only 4 s.
  EXPECT_EQ(table.Admit(13, At(6)).evict, 11);
}

TEST_F(ConnectionTableTest, ClosedConnectionFreesItsSlot) {
  ConnectionTable table(limits_);
  table.Admit(10, At(0));
  table.Admit(11, At(0));
  table.Admit(12, At(0));
  table.Remove(11);
  ConnectionTable::Admission a = table.Admit(13, At(1));
  EXPECT_FALSE(a.refuse);
  EXPECT_EQ(a.evict, -1);
}

TEST_F(ConnectionTableTest, PeerClosedFreesItsSlot) {
  ConnectionTable table(limits_);
  for (int fd = 10; fd < 13; ++fd) {
    table.Admit(fd, At(0));
    table.RequestStarted(fd);
  }
  table.RequestFinished(11, At(1));
  EXPECT_TRUE(table.WouldRefuse(At(2)));
  EXPECT_THAT(table.IdleConnections(), ElementsAre(11));
  table.PeerClosed(11);
  EXPECT_FALSE(table.WouldRefuse(At(2)));
  ConnectionTable::Admission a = table.Admit(13, At(2));
  EXPECT_FALSE(a.refuse);
  EXPECT_EQ(a.evict, -1);
}

TEST_F(ConnectionTableTest, WouldRefuseOnlyWhenNothingCanBeEvicted) {
  ConnectionTable table(limits_);
  table.Admit(10, At(0));
  table.Admit(11, At(0));
  EXPECT_FALSE(table.WouldRefuse(At(0))) << "not full";
  table.Admit(12, At(0));
  EXPECT_FALSE(table.WouldRefuse(At(0))) << "awaiting connections can be evicted";
}

TEST_F(ConnectionTableTest, AwaitingExpiresAtReadHeaderTimeout) {
  ConnectionTable table(limits_);
  table.Admit(10, At(0));
  table.Admit(11, At(2));
  EXPECT_EQ(table.NextDeadline(), At(5));
  EXPECT_THAT(table.TakeExpired(At(4.9)), IsEmpty());
  EXPECT_THAT(table.TakeExpired(At(5)), ElementsAre(10));
  EXPECT_THAT(table.TakeExpired(At(5)), IsEmpty()) << "returned twice";
  EXPECT_EQ(table.NextDeadline(), At(7));
  EXPECT_EQ(table.stats().header_timeouts, 1u);
}

TEST_F(ConnectionTableTest, RequestInProgressHasNoDeadline) {
  ConnectionTable table(limits_);
  table.Admit(10, At(0));
  table.RequestStarted(10);
  EXPECT_EQ(table.NextDeadline(), absl::InfiniteFuture());
  EXPECT_THAT(table.TakeExpired(At(1000)), IsEmpty());
}

TEST_F(ConnectionTableTest, IdleExpiresAtIdleTimeout) {
  ConnectionTable table(limits_);
  table.Admit(10, At(0));
  table.RequestStarted(10);
  table.RequestFinished(10, At(1));
  EXPECT_EQ(table.NextDeadline(), At(11));
  EXPECT_THAT(table.TakeExpired(At(10.9)), IsEmpty());
  EXPECT_THAT(table.TakeExpired(At(11)), ElementsAre(10));
  EXPECT_EQ(table.stats().idle_timeouts, 1u);
}

TEST_F(ConnectionTableTest, NextRequestOnKeptAliveConnectionClearsItsDeadline) {
  ConnectionTable table(limits_);
  table.Admit(10, At(0));
  table.RequestStarted(10);
  table.RequestFinished(10, At(1));
  table.RequestStarted(10);
  EXPECT_EQ(table.NextDeadline(), absl::InfiniteFuture());
}

TEST_F(ConnectionTableTest, EventsForClosingOrUnknownConnectionsAreIgnored) {
  ConnectionTable table(limits_);
  table.RequestStarted(99);
  table.RequestFinished(99, At(0));
  table.Remove(99);
  table.Admit(10, At(0));
  ASSERT_THAT(table.TakeExpired(At(5)), ElementsAre(10));
  table.RequestStarted(10);  // raced with the close: stays closing
  table.RequestFinished(10, At(6));
  EXPECT_EQ(table.NextDeadline(), absl::InfiniteFuture());
  EXPECT_EQ(table.stats().open, 0u);
  table.Remove(10);
  EXPECT_EQ(table.stats().open, 0u);
}

}  // namespace
}  // namespace pse
