#include "exporter/runner.h"

#include <signal.h>
#include <systemd/sd-daemon.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "exporter/http/process_metrics.h"
#include "exporter/log.h"
#include "exporter/showq_collector.h"
#include "prometheus/text_serializer.h"

namespace pse {
namespace {

std::atomic<bool> g_stop{false};
std::atomic<bool> g_reopen{false};

extern "C" void OnSignal(int sig) {
  if (sig == SIGHUP) {
    g_reopen = true;
  } else {
    g_stop = true;
  }
}

void InstallSignalHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

void ReportSave(const absl::Status& st) {
  if (!st.ok()) {
    Log(LogLevel::kWarn, "cannot save the state file", {{"error", std::string(st.message())}});
  }
}

}  // namespace

int RunOnce(Source* source, prometheus::Registry* registry, Pipeline* pipeline) {
  while (!source->AtEnd()) {
    if (source->Poll(pipeline) == 0 && !source->AtEnd()) source->Wait(absl::Milliseconds(100));
  }
  // Failures held for Dovecot's reason can wait no longer.
  pipeline->Flush();
  // The input was read to its end: report the source as up, whether or not
  // the source keeps it open afterwards.
  SourceStats stats = source->stats();
  stats.up = stats.errors == 0;
  pipeline->SyncSourceStats(stats, absl::Now());
  std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int RunDaemon(const DaemonOptions& options, Source* source,
              std::shared_ptr<prometheus::Registry> registry, Pipeline* pipeline,
              StateStore* store) {
  InstallSignalHandlers();
  std::atomic<bool> ready{false};
  auto process = std::make_shared<ProcessCollector>();
  store->Attach(source, pipeline);
  // Saved before anything is read: a crash before the first periodic save
  // must not lose what is written meanwhile.
  ReportSave(store->Save());
  std::shared_ptr<prometheus::Collectable> metrics = registry;
  if (store->enabled()) {
    metrics = std::make_shared<SavingCollectable>(store, registry, options.min_save_interval);
  }
  HttpOptions ho = options.http;
  ho.error_log = [](absl::string_view msg) {
    // libmicrohttpd's per-connection noise is debug; our own start-up
    // warning about the open-file limit is not.
    const bool ours = absl::StartsWith(msg, "open-file limit");
    Log(ours ? LogLevel::kWarn : LogLevel::kDebug, "http", {{"error", std::string(msg)}});
  };
  std::vector<std::shared_ptr<prometheus::Collectable>> collectables = {metrics, process};
  if (!options.showq_path.empty()) {
    collectables.push_back(
        std::make_shared<ShowqCollector>(options.showq_path, options.showq_timeout));
  }
  auto server = HttpServer::Start(
      ho,
      std::vector<std::weak_ptr<prometheus::Collectable>>(collectables.begin(), collectables.end()),
      [&ready] { return ready.load(); });
  if (!server.ok()) {
    std::cerr << "postfix_sasl_exporter: " << server.status().message() << "\n";
    return kExitConfig;
  }
  Log(LogLevel::kInfo, "listening",
      {{"address", absl::StrJoin(ho.listen_addresses, ",")},
       {"telemetry_path", ho.telemetry_path},
       {"tls", (*server)->tls() ? "true" : "false"}});

  uint64_t watchdog_usec = 0;
  const bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0;
  absl::Time next_watchdog = absl::Now();
  // The first iteration saves too: a journal is positioned by its first Poll.
  absl::Time next_checkpoint = absl::Now();
  bool notified = false;
  bool was_up = false;
  while (!g_stop.load()) {
    size_t n;
    SourceStats stats;
    StateStore::Snapshot snapshot;
    const absl::Time now = absl::Now();
    {
      std::lock_guard<std::mutex> lock(store->mutex());
      if (g_reopen.exchange(false)) {
        Log(LogLevel::kInfo, "SIGHUP: reopening the log source");
        source->Reopen();
      }
      n = source->Poll(pipeline);
      pipeline->Tick(absl::Now());
      stats = source->stats();
      pipeline->SyncSourceStats(stats, now);
      if (now >= next_checkpoint) {
        snapshot = store->TakeSnapshotLocked();
        next_checkpoint = now + options.checkpoint_interval;
      }
    }
    // Written outside the lock: scrapes and ingest do not wait for the disk.
    if (snapshot.number != 0) ReportSave(store->Write(snapshot));
    if (stats.up != was_up) {
      const char* msg = stats.up          ? "log source open"
                        : source->AtEnd() ? "input ended; still serving the metrics read so far"
                                          : "log source not available; waiting for it";
      Log(stats.up ? LogLevel::kInfo : LogLevel::kWarn, msg, {{"source", source->Describe()}});
      was_up = stats.up;
    }
    if (stats.up && !ready.load()) ready = true;
    if (ready.load() && !notified) {
      sd_notify(0, "READY=1");  // listener bound and source open
      notified = true;
    }
    if (watchdog && now >= next_watchdog) {
      sd_notify(0, "WATCHDOG=1");
      next_watchdog = now + absl::Microseconds(watchdog_usec / 2);
    }
    // Wake at least every 200 ms: signals and the watchdog are checked here.
    if (n == 0) source->Wait(absl::Milliseconds(200));
  }
  sd_notify(0, "STOPPING=1");
  Log(LogLevel::kInfo, "shutting down");
  (*server)->Stop();
  ReportSave(store->Save());
  return 0;
}

}  // namespace pse
