#include "exporter/http/process_metrics.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace pse {
namespace {

// Reads a small /proc file in one go (they are generated on read; no caching).
bool ReadProcFile(const char* path, std::string* out) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      close(fd);
      return false;
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return true;
}

// Fields of /proc/self/stat after the "(comm)" field, which may itself hold
// spaces and parentheses: split after the last ')'. Index 0 is field 3 (state).
bool StatFields(std::vector<std::string>* fields) {
  std::string stat;
  if (!ReadProcFile("/proc/self/stat", &stat)) return false;
  size_t close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return false;
  *fields =
      absl::StrSplit(absl::string_view(stat).substr(close_paren + 1), ' ', absl::SkipWhitespace());
  return fields->size() >= 22;
}

constexpr size_t kUtime = 14 - 3, kStime = 15 - 3, kThreads = 20 - 3, kStartTime = 22 - 3,
                 kVsize = 23 - 3, kRss = 24 - 3;

void Add(std::vector<prometheus::MetricFamily>* out, const char* name, const char* help,
         prometheus::MetricType type, double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  out->push_back(std::move(family));
}

double RlimitValue(rlim_t v) {
  // Go reports "unlimited" as ^uint64(0) converted to float64.
  return v == RLIM_INFINITY ? 18446744073709551615.0 : static_cast<double>(v);
}

}  // namespace

ProcessCollector::ProcessCollector() {
  std::vector<std::string> fields;
  std::string stat;
  uint64_t start_ticks = 0;
  if (!StatFields(&fields) || !absl::SimpleAtoi(fields[kStartTime], &start_ticks)) return;
  if (!ReadProcFile("/proc/stat", &stat)) return;
  for (absl::string_view line : absl::StrSplit(stat, '\n')) {
    if (absl::ConsumePrefix(&line, "btime ")) {
      uint64_t btime = 0;
      long ticks = sysconf(_SC_CLK_TCK);
      if (absl::SimpleAtoi(line, &btime) && ticks > 0) {
        start_time_seconds_ = static_cast<double>(btime) + static_cast<double>(start_ticks) / ticks;
      }
      break;
    }
  }
}

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  std::vector<std::string> fields;
  if (StatFields(&fields)) {
    const long ticks = sysconf(_SC_CLK_TCK);
    const long page = sysconf(_SC_PAGESIZE);
    uint64_t utime = 0, stime = 0, threads = 0, vsize = 0, rss = 0;
    if (ticks > 0 && absl::SimpleAtoi(fields[kUtime], &utime) &&
        absl::SimpleAtoi(fields[kStime], &stime)) {
      Add(&out, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
          MetricType::Counter, static_cast<double>(utime + stime) / ticks);
    }
    if (absl::SimpleAtoi(fields[kRss], &rss) && page > 0) {
      Add(&out, "process_resident_memory_bytes", "Resident memory size in bytes.",
          MetricType::Gauge, static_cast<double>(rss) * page);
    }
    if (absl::SimpleAtoi(fields[kVsize], &vsize)) {
      Add(&out, "process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
          static_cast<double>(vsize));
    }
    if (absl::SimpleAtoi(fields[kThreads], &threads)) {
      Add(&out, "process_threads", "Number of OS threads in the process.", MetricType::Gauge,
          static_cast<double>(threads));
    }
  }
  struct rlimit limit;
  if (getrlimit(RLIMIT_AS, &limit) == 0) {
    Add(&out, "process_virtual_memory_max_bytes",
        "Maximum amount of virtual memory available in bytes.", MetricType::Gauge,
        RlimitValue(limit.rlim_cur));
  }
  if (DIR* dir = opendir("/proc/self/fd")) {
    const int own = dirfd(dir);
    int count = 0;
    while (const dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      if (std::atoi(entry->d_name) == own) continue;  // the listing's own fd
      ++count;
    }
    closedir(dir);
    Add(&out, "process_open_fds", "Number of open file descriptors.", MetricType::Gauge, count);
  }
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    Add(&out, "process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge,
        RlimitValue(limit.rlim_cur));
  }
  if (start_time_seconds_ >= 0) {
    Add(&out, "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.", MetricType::Gauge,
        start_time_seconds_);
  }
  return out;
}

}  // namespace pse
