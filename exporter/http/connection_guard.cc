#include "exporter/http/connection_guard.h"

#include <sys/socket.h>

#include <chrono>

namespace pse {
namespace {

std::chrono::steady_clock::time_point ToSteady(absl::Time t) {
  return std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(
          absl::ToChronoNanoseconds(t - absl::UnixEpoch())));
}

}  // namespace

absl::Time ConnectionGuard::Now() {
  return absl::UnixEpoch() + absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

ConnectionGuard::ConnectionGuard(ConnectionLimits limits)
    : table_(limits), reaper_([this] { ReapLoop(); }) {}

ConnectionGuard::~ConnectionGuard() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  reaper_.join();
}

void ConnectionGuard::Close(int fd) { shutdown(fd, SHUT_RDWR); }

void ConnectionGuard::WakeReaperIfSooner() {
  if (table_.NextDeadline() < reaper_wakes_at_) wake_.notify_one();
}

void ConnectionGuard::OnAccepted(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = Now();
  if (table_.WouldRefuse(now)) {
    // A client that just closed its kept-alive connection leaves a slot the
    // HTTP layer has not freed yet; count it as free rather than turn the
    // newcomer away.
    for (int idle : table_.IdleConnections()) {
      char byte;
      if (recv(idle, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0) table_.PeerClosed(idle);
    }
  }
  ConnectionTable::Admission admission = table_.Admit(fd, now);
  if (admission.refuse) Close(fd);
  if (admission.evict >= 0) Close(admission.evict);
  WakeReaperIfSooner();
}

void ConnectionGuard::OnRequestStarted(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  table_.RequestStarted(fd);
}

void ConnectionGuard::OnRequestFinished(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  table_.RequestFinished(fd, Now());
  WakeReaperIfSooner();
}

void ConnectionGuard::OnClosed(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  table_.Remove(fd);
}

ConnectionStats ConnectionGuard::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.stats();
}

void ConnectionGuard::ReapLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    for (int fd : table_.TakeExpired(Now())) Close(fd);
    reaper_wakes_at_ = table_.NextDeadline();
    if (reaper_wakes_at_ == absl::InfiniteFuture()) {
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, ToSteady(reaper_wakes_at_));
    }
  }
}

}  // namespace pse
