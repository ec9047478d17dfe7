#include "exporter/http/process_metrics.h"

#include <fcntl.h>
#include <unistd.h>

#include <ctime>
#include <future>
#include <map>
#include <thread>

#include "gtest/gtest.h"

namespace pse {
namespace {

std::map<std::string, prometheus::MetricFamily> CollectByName() {
  std::map<std::string, prometheus::MetricFamily> out;
  for (auto& f : ProcessCollector().Collect()) out[f.name] = f;
  return out;
}

double Value(const prometheus::MetricFamily& f) {
  return f.type == prometheus::MetricType::Counter ? f.metric.at(0).counter.value
                                                   : f.metric.at(0).gauge.value;
}

TEST(ProcessCollectorTest, GoClientNamesTypesAndHelp) {
  auto m = CollectByName();
  const std::map<std::string, std::pair<prometheus::MetricType, std::string>> want = {
      {"process_cpu_seconds_total",
       {prometheus::MetricType::Counter, "Total user and system CPU time spent in seconds."}},
      {"process_resident_memory_bytes",
       {prometheus::MetricType::Gauge, "Resident memory size in bytes."}},
      {"process_virtual_memory_bytes",
       {prometheus::MetricType::Gauge, "Virtual memory size in bytes."}},
      {"process_virtual_memory_max_bytes",
       {prometheus::MetricType::Gauge, "Maximum amount of virtual memory available in bytes."}},
      {"process_open_fds", {prometheus::MetricType::Gauge, "Number of open file descriptors."}},
      {"process_max_fds",
       {prometheus::MetricType::Gauge, "Maximum number of open file descriptors."}},
      {"process_start_time_seconds",
       {prometheus::MetricType::Gauge, "Start time of the process since unix epoch in seconds."}},
      {"process_threads", {prometheus::MetricType::Gauge, "Number of OS threads in the process."}},
  };
  for (const auto& [name, type_help] : want) {
    ASSERT_EQ(m.count(name), 1u) << name;
    EXPECT_EQ(m[name].type, type_help.first) << name;
    EXPECT_EQ(m[name].help, type_help.second) << name;
    ASSERT_EQ(m[name].metric.size(), 1u) << name;
    EXPECT_TRUE(m[name].metric[0].label.empty()) << name;
  }
  EXPECT_EQ(m.size(), want.size());
}

TEST(ProcessCollectorTest, ValuesArePlausible) {
  auto m = CollectByName();
  EXPECT_GE(Value(m["process_cpu_seconds_total"]), 0);
  EXPECT_GT(Value(m["process_resident_memory_bytes"]), 1024 * 1024);
  EXPECT_GE(Value(m["process_virtual_memory_bytes"]), Value(m["process_resident_memory_bytes"]));
  EXPECT_GE(Value(m["process_max_fds"]), Value(m["process_open_fds"]));
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(Value(m["process_start_time_seconds"]), now + 1);
  EXPECT_GT(Value(m["process_start_time_seconds"]), now - 3600);
  EXPECT_GE(Value(m["process_threads"]), 1);
}

TEST(ProcessCollectorTest, OpenFdsFollowsReality) {
  const double before = Value(CollectByName()["process_open_fds"]);
  int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int b = open("/dev/null", O_RDONLY | O_CLOEXEC);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_EQ(Value(CollectByName()["process_open_fds"]), before + 2);
  close(a);
  close(b);
  EXPECT_EQ(Value(CollectByName()["process_open_fds"]), before);
}

TEST(ProcessCollectorTest, ThreadsFollowsReality) {
  const double before = Value(CollectByName()["process_threads"]);
  std::promise<void> release;
  std::thread t([f = release.get_future()]() mutable { f.wait(); });
  EXPECT_EQ(Value(CollectByName()["process_threads"]), before + 1);
  release.set_value();
  t.join();
}

TEST(ProcessCollectorTest, CpuSecondsGrowWithWork) {
  const double before = Value(CollectByName()["process_cpu_seconds_total"]);
  // Burn CPU until the kernel's tick accounting shows it (bounded by work, not time).
  volatile uint64_t x = 0;
  double after = before;
  for (int round = 0; round < 2000 && after <= before; ++round) {
    for (int i = 0; i < 1000000; ++i) x = x + i;
    after = Value(CollectByName()["process_cpu_seconds_total"]);
  }
  EXPECT_GT(after, before);
}

}  // namespace
}  // namespace pse
