#include "exporter/showq_collector.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "exporter/log.h"
#include "exporter/util/fs_util.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"

namespace pse {

namespace P = prometheus;

namespace {

constexpr std::array<absl::string_view, 6> kQueues = {"active",   "deferred", "hold",
                                                      "incoming", "maildrop", "other"};
constexpr int kOtherQueue = 5;

int QueueIndex(absl::string_view name) {
  for (int i = 0; i < kOtherQueue; ++i) {
    if (name == kQueues[i]) return i;
  }
  return kOtherQueue;
}

// Streams showq's attribute list: "name\0value\0" pairs, an empty name ending
// one message. Only the values it needs are kept, so memory does not grow
// with the queue (recipient lists and reasons are skipped).
class ShowqParser {
 public:
  explicit ShowqParser(absl::Time now) : now_(absl::ToDoubleSeconds(now - absl::UnixEpoch())) {
    for (size_t i = 0; i < kQueues.size(); ++i) {
      sizes_.push_back(std::make_unique<P::Histogram>(SizeBuckets()));
      ages_.push_back(std::make_unique<P::Histogram>(AgeBuckets()));
    }
  }

  absl::Status Feed(absl::string_view data) {
    for (char c : data) {
      if (c != '\0') {
        if (keep_) {
          if (token_.size() >= 256) return absl::DataLossError("showq attribute too long");
          token_.push_back(c);
        }
        continue;
      }
      absl::Status st = EndToken();
      if (!st.ok()) return st;
    }
    return absl::OkStatus();
  }

  absl::Status Finish(std::vector<P::MetricFamily>* out) {
    if (in_value_ || !token_.empty())
      return absl::DataLossError("showq listing ends mid-attribute");
    P::MetricFamily size{"postfix_showq_message_size_bytes",
                         "Size of messages in Postfix's message queue, in bytes",
                         P::MetricType::Histogram,
                         {}};
    P::MetricFamily age{"postfix_showq_message_age_seconds",
                        "Age of messages in Postfix's message queue, in seconds",
                        P::MetricType::Histogram,
                        {}};
    for (size_t i = 0; i < kQueues.size(); ++i) {
      if (static_cast<int>(i) == kOtherQueue && !seen_other_) continue;
      P::ClientMetric s = sizes_[i]->Collect();
      s.label = {{"queue", std::string(kQueues[i])}};
      size.metric.push_back(std::move(s));
      P::ClientMetric a = ages_[i]->Collect();
      a.label = {{"queue", std::string(kQueues[i])}};
      age.metric.push_back(std::move(a));
    }
    out->push_back(std::move(size));
    out->push_back(std::move(age));
    return absl::OkStatus();
  }

 private:
  static P::Histogram::BucketBoundaries SizeBuckets() {
    return {1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
  }
  static P::Histogram::BucketBoundaries AgeBuckets() {
    return {1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
  }

  absl::Status EndToken() {
    if (!in_value_) {
      if (token_.empty()) {
        queue_ = kOtherQueue;  // end of one message
        keep_ = true;
        return absl::OkStatus();
      }
      key_.swap(token_);
      token_.clear();
      in_value_ = true;
      keep_ = key_ == "queue_name" || key_ == "size" || key_ == "time";
      return absl::OkStatus();
    }
    in_value_ = false;
    absl::Status st = absl::OkStatus();
    if (key_ == "queue_name") {
      queue_ = QueueIndex(token_);
      if (queue_ == kOtherQueue) seen_other_ = true;
    } else if (key_ == "size" || key_ == "time") {
      double v;
      if (!absl::SimpleAtod(token_, &v)) {
        st = absl::DataLossError(absl::StrCat("showq ", key_, " is not a number"));
      } else if (key_ == "size") {
        sizes_[queue_]->Observe(v);
      } else {
        ages_[queue_]->Observe(now_ - v);
      }
    }
    token_.clear();
    keep_ = true;
    return st;
  }

  const double now_;
  std::vector<std::unique_ptr<P::Histogram>> sizes_;
  std::vector<std::unique_ptr<P::Histogram>> ages_;
  std::string token_;
  std::string key_;
  bool in_value_ = false;
  bool keep_ = true;
  int queue_ = kOtherQueue;
  bool seen_other_ = false;
};

P::MetricFamily UpFamily(const std::string& path, bool up) {
  P::ClientMetric m;
  m.label = {{"path", path}};
  m.gauge.value = up ? 1 : 0;
  return {"postfix_up",
          "Whether scraping Postfix's metrics was successful.",
          P::MetricType::Gauge,
          {m}};
}

int RemainingMs(absl::Time deadline) {
  const int64_t ms = absl::ToInt64Milliseconds(deadline - absl::Now());
  return ms < 0 ? 0 : static_cast<int>(ms > 60000 ? 60000 : ms);
}

}  // namespace

ShowqCollector::ShowqCollector(std::string path, absl::Duration timeout)
    : path_(std::move(path)), timeout_(timeout) {}

absl::Status ShowqCollector::Parse(absl::string_view listing, absl::Time now,
                                   std::vector<P::MetricFamily>* out) {
  if (!listing.empty() && listing.find('\0') == absl::string_view::npos) {
    return absl::UnimplementedError("showq answered in text (Postfix < 2.9): not read");
  }
  ShowqParser parser(now);
  absl::Status st = parser.Feed(listing);
  if (st.ok()) st = parser.Finish(out);
  return st;
}

absl::Status ShowqCollector::Read(
    const std::function<absl::Status(absl::string_view)>& sink) const {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path_.size() >= sizeof addr.sun_path) return absl::InvalidArgumentError("path too long");
  std::memcpy(addr.sun_path, path_.data(), path_.size());
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", ErrnoText(errno)));
  const absl::Time deadline = absl::Now() + timeout_;
  absl::Status st = absl::OkStatus();
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS && errno != EAGAIN) {
      st = absl::UnavailableError(
          absl::StrCat("connect ", path_, ": ", ErrnoText(errno),
                       errno == EACCES ? " (the exporter needs the postdrop group)" : ""));
    } else {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, RemainingMs(deadline)) <= 0) {
        st = absl::DeadlineExceededError(absl::StrCat("connect ", path_, ": timed out"));
      }
    }
  }
  // Postfix's showq sends the whole listing and closes.
  char buf[16384];
  while (st.ok()) {
    pollfd p{fd, POLLIN, 0};
    const int r = poll(&p, 1, RemainingMs(deadline));
    if (r == 0) {
      st = absl::DeadlineExceededError(absl::StrCat("reading ", path_, ": timed out"));
      break;
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      st = absl::InternalError(absl::StrCat("poll: ", ErrnoText(errno)));
      break;
    }
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      st = absl::UnavailableError(absl::StrCat("reading ", path_, ": ", ErrnoText(errno)));
      break;
    }
    st = sink(absl::string_view(buf, static_cast<size_t>(n)));
  }
  close(fd);
  return st;
}

std::vector<P::MetricFamily> ShowqCollector::Collect() const {
  std::vector<P::MetricFamily> out;
  ShowqParser parser(absl::Now());
  bool first = true;
  absl::Status st = Read([&](absl::string_view chunk) {
    if (first && chunk.find('\0') == absl::string_view::npos) {
      return absl::UnimplementedError("showq answered in text (Postfix < 2.9): not read");
    }
    first = false;
    return parser.Feed(chunk);
  });
  if (st.ok()) st = parser.Finish(&out);
  if (!st.ok()) out.clear();
  {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string error = st.ok() ? "" : std::string(st.message());
    if (error != last_error_) {
      if (st.ok()) {
        Log(LogLevel::kInfo, "showq readable again", {{"path", path_}});
      } else {
        Log(LogLevel::kWarn, "cannot read the Postfix queue (postfix_up 0)",
            {{"path", path_}, {"error", error}});
      }
      last_error_ = error;
    }
  }
  out.push_back(UpFamily(path_, st.ok()));
  return out;
}

}  // namespace pse
