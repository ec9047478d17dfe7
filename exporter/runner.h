// The two ways the program runs once its stages are wired:
//
//  - RunOnce: read the source to its end, count the failures still held
//    for Dovecot's reason (Pipeline::Flush), print the exposition to stdout.
//  - RunDaemon: the ingest loop. One thread (the caller's) reads, parses and
//    counts, holding the state store's lock while it does; the HTTP server's
//    threads only read the registry. Saves the state file (state_store.h)
//    at start, every `checkpoint_interval`, before each scrape and at exit;
//    pets the systemd watchdog, sends READY=1 once the listener is bound and
//    the source open, reopens the source on SIGHUP and returns on
//    SIGTERM/SIGINT. After each Poll it calls Pipeline::Tick, so failures
//    held for Dovecot's reason are released while the source is idle.
//
// Both return the process exit status. RunDaemon installs the signal
// handlers itself; call it once per process.
#ifndef PSE_EXPORTER_RUNNER_H_
#define PSE_EXPORTER_RUNNER_H_

#include <memory>

#include "absl/time/time.h"
#include "exporter/http/http_server.h"
#include "exporter/pipeline.h"
#include "exporter/source.h"
#include "exporter/state_store.h"
#include "prometheus/registry.h"

namespace pse {

// Exit status for a bad flag, config file or listen address.
inline constexpr int kExitConfig = 2;

int RunOnce(Source* source, prometheus::Registry* registry, Pipeline* pipeline);

struct DaemonOptions {
  HttpOptions http;
  // How often the state file is saved while ingesting (it is also saved
  // before every scrape). Shorter: less to re-read after a crash; longer:
  // fewer fsyncs under a steady stream.
  absl::Duration checkpoint_interval = absl::Seconds(2);
  // A scrape within this time of the last scrape-time save is answered with
  // that save's values instead of saving again (SavingCollectable), so many
  // scrapes a second cost ingest one save a second. Zero: every scrape saves.
  absl::Duration min_save_interval = absl::Seconds(1);
  // Postfix's showq socket, read at every scrape (showq_collector.h); empty:
  // no queue metrics. The timeout bounds how long a scrape waits for it.
  std::string showq_path;
  absl::Duration showq_timeout = absl::Seconds(5);
};

// `store` may be disabled (no --state.file) but not null.
int RunDaemon(const DaemonOptions& options, Source* source,
              std::shared_ptr<prometheus::Registry> registry, Pipeline* pipeline,
              StateStore* store);

}  // namespace pse

#endif  // PSE_EXPORTER_RUNNER_H_
