// The two ways the program runs once its stages are wired:
//
//  - RunOnce: read the source to its end, print the exposition to stdout.
//  - RunDaemon: the ingest loop. One thread (the caller's) reads, parses and
//    counts; the HTTP server's threads only read the registry. Checkpoints
//    the source every `checkpoint_interval` and at exit, pets the systemd
//    watchdog, sends READY=1 once the listener is bound and the source open,
//    reopens the source on SIGHUP and returns on SIGTERM/SIGINT.
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
#include "prometheus/registry.h"

namespace pse {

// Exit status for a bad flag, config file or listen address.
inline constexpr int kExitConfig = 2;

int RunOnce(Source* source, prometheus::Registry* registry, Pipeline* pipeline);

struct DaemonOptions {
  HttpOptions http;
  // How often the read position / cursor is saved while running.
  absl::Duration checkpoint_interval = absl::Seconds(5);
};

int RunDaemon(const DaemonOptions& options, Source* source,
              std::shared_ptr<prometheus::Registry> registry, Pipeline* pipeline);

}  // namespace pse

#endif  // PSE_EXPORTER_RUNNER_H_
