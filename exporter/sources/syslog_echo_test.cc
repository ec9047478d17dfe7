#include "exporter/sources/syslog_echo.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace pse {
namespace {

std::string ReadAll(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

TEST(SyslogEcho, AReaderThatNeverReadsBlocksNothingAndBoundsMemory) {
  int p[2];
  ASSERT_EQ(pipe(p), 0);  // a blocking pipe, like a stdout nobody drains
  {
    SyslogEcho echo(p[1]);
    const std::string line(1000, 'x');
    for (int i = 0; i < 10000; ++i) {  // 10 MB, far over pipe and buffer
      echo.Append(absl::StrCat(i, " ", line));
      echo.Flush();
      ASSERT_LE(echo.pending_bytes(), SyslogEcho::kMaxPendingBytes);
    }
    EXPECT_GT(echo.dropped_lines(), 0u);
    // The shared description keeps its flags (other writers of stdout).
    EXPECT_EQ(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
    // Once the reader reads, what was queued follows: whole lines, in
    // order, none torn (lines were dropped whole, at Append).
    const uint64_t dropped = echo.dropped_lines();
    std::string got;
    auto drain = [&] {
      for (int i = 0; i < 1000 && echo.pending_bytes() > 0; ++i) {
        got += ReadAll(p[0]);
        echo.Flush();
      }
      got += ReadAll(p[0]);
    };
    drain();
    echo.Append("99999 " + line);  // room again
    echo.Flush();
    drain();
    EXPECT_EQ(echo.pending_bytes(), 0u);
    EXPECT_EQ(echo.dropped_lines(), dropped);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.back(), '\n');
    int last = -1;
    for (absl::string_view l :
         absl::StrSplit(absl::string_view(got).substr(0, got.size() - 1), '\n')) {
      const size_t sp = l.find(' ');
      ASSERT_NE(sp, absl::string_view::npos);
      EXPECT_EQ(l.substr(sp + 1), line);
      const int n = std::stoi(std::string(l.substr(0, sp)));
      EXPECT_GT(n, last);
      last = n;
    }
    EXPECT_EQ(last, 99999);
  }
  close(p[0]);
  close(p[1]);
}

TEST(SyslogEcho, AClosedReaderDropsAndCounts) {
  auto old = signal(SIGPIPE, SIG_IGN);
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  close(p[0]);
  SyslogEcho echo(p[1]);
  echo.Append("a");
  echo.Append("b");
  echo.Flush();
  EXPECT_EQ(echo.dropped_lines(), 2u);
  EXPECT_EQ(echo.pending_bytes(), 0u);
  close(p[1]);
  signal(SIGPIPE, old);
}

}  // namespace
}  // namespace pse
