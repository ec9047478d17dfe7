// postfix_sasl_exporter: Prometheus exporter for Postfix SMTP AUTH, sessions
// and relay denials. Flags are declared here, and only here.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "exporter/config.h"
#include "exporter/log.h"
#include "exporter/metrics.h"
#include "exporter/pipeline.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

#ifndef PSE_VERSION
#define PSE_VERSION "0.0.0"
#endif
#ifndef PSE_REVISION
#define PSE_REVISION "unknown"
#endif

namespace pse {
namespace {

constexpr int kExitConfig = 2;

struct Flags {
  std::string config_file;
  bool once = false;
  bool help = false;
  bool version = false;
  std::string logfile_path;
  bool logfile_from_beginning = false;
  std::string logfile_position_file;
  int64_t max_line_bytes = 64 * 1024;
  int64_t syslog_year = 0;
  bool systemd_enable = false;
  std::vector<std::string> systemd_units;
  std::string systemd_slice;
  std::string systemd_journal_path;
  std::string systemd_cursor_file;
  absl::Duration peak_window = absl::Seconds(60);
  absl::Duration idle_timeout = absl::Hours(1);
  int64_t max_tracked = 16384;
  std::vector<std::string> listen_addresses = {":9154"};
  std::string telemetry_path = "/metrics";
  std::string web_config_file;
  std::string log_level = "info";
  std::string log_format = "logfmt";
};

void DeclareOptions(OptionSet* o, Flags* f) {
  o->AddString("config.file", &f->config_file,
               "YAML file setting any of these options (keys are option names); flags win");
  o->AddBool("once", &f->once,
             "read the whole input from its start, print the metrics to stdout and exit");
  o->AddString("postfix.logfile_path", &f->logfile_path,
               "Postfix log file to follow; - for standard input (default: /var/log/mail.log, "
               "or the journal when that file is missing and journald runs)");
  o->AddBool("postfix.logfile_from_beginning", &f->logfile_from_beginning,
             "read the log file from its start instead of its end");
  o->AddString("postfix.logfile_position_file", &f->logfile_position_file,
               "file that keeps the read position across restarts (no loss, no double count)");
  o->AddBytes("postfix.logfile_max_line_length", &f->max_line_bytes, 1024, 64 << 20,
              "longer lines are skipped and counted");
  o->AddInt("postfix.syslog_year", &f->syslog_year, 0, 9999,
            "year of the first BSD-timestamp line (they carry none); 0 infers it from the clock");
  o->AddBool("systemd.enable", &f->systemd_enable, "read Postfix's entries from the systemd journal");
  o->AddStringList("systemd.unit", &f->systemd_units,
                   "journal unit to read (default: slice system-postfix.slice or unit postfix.service)");
  o->AddString("systemd.slice", &f->systemd_slice, "journal slice to read");
  o->AddString("systemd.journal_path", &f->systemd_journal_path,
               "read journal files from this directory instead of the local journal");
  o->AddString("systemd.cursor_file", &f->systemd_cursor_file,
               "file that keeps the journal cursor across restarts");
  o->AddDuration("sessions.peak_window", &f->peak_window,
                 "trailing window of log time for postfix_smtpd_sessions_max");
  o->AddDuration("sessions.idle_timeout", &f->idle_timeout,
                 "forget an smtpd process with no line for this long (log time)");
  o->AddInt("sessions.max_tracked", &f->max_tracked, 16, 10000000,
            "most smtpd processes held in state; the least recently active is evicted");
  o->AddStringList("web.listen-address", &f->listen_addresses, "address to serve metrics on");
  o->AddString("web.telemetry-path", &f->telemetry_path, "path of the metrics endpoint");
  o->AddString("web.config.file", &f->web_config_file,
               "exporter-toolkit web configuration (TLS, basic auth)");
  o->AddEnum("log.level", &f->log_level, {"debug", "info", "warn", "error"}, "log level");
  o->AddEnum("log.format", &f->log_format, {"logfmt", "json"}, "log format");
  o->AddBool("version", &f->version, "print the version and exit");
  o->AddBool("help", &f->help, "print this help and exit");
}

// Reads `fd` to its end, handing each line to `sink`. Lines longer than
// `max_line` are skipped; returns how many.
uint64_t ReadToEnd(int fd, size_t max_line, RecordSink* sink) {
  std::vector<char> buf(1 << 20);
  std::string partial;
  bool skipping = false;
  uint64_t too_long = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    const char* p = buf.data();
    const char* end = p + n;
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      const char* stop = nl ? nl : end;
      if (!skipping) {
        if (partial.size() + (stop - p) > max_line) {
          skipping = true;
          ++too_long;
          partial.clear();
        } else if (nl && partial.empty()) {
          sink->OnLine(absl::string_view(p, stop - p));
        } else {
          partial.append(p, stop - p);
          if (nl) {
            sink->OnLine(partial);
            partial.clear();
          }
        }
      }
      if (nl) skipping = false;
      p = nl ? nl + 1 : end;
    }
  }
  if (!partial.empty() && !skipping) sink->OnLine(partial);
  return too_long;
}

int RunOnce(const Flags& f, prometheus::Registry* registry, Pipeline* pipeline) {
  int fd = STDIN_FILENO;
  if (f.logfile_path != "-") {
    fd = ::open(f.logfile_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      Log(LogLevel::kError, "cannot open log file",
          {{"path", f.logfile_path}, {"error", std::strerror(errno)}});
      return 1;
    }
  }
  SourceStats stats;
  stats.up = true;
  stats.lines_too_long = ReadToEnd(fd, static_cast<size_t>(f.max_line_bytes), pipeline);
  if (fd != STDIN_FILENO) ::close(fd);
  pipeline->SyncSourceStats(stats, absl::Now());
  std::string text = prometheus::TextSerializer().Serialize(registry->Collect());
  std::fwrite(text.data(), 1, text.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

int Main(int argc, char** argv) {
  Flags f;
  OptionSet options;
  DeclareOptions(&options, &f);
  absl::Status st = options.ParseArgs(argc, argv);
  if (st.ok() && !f.config_file.empty()) st = options.LoadYamlFile(f.config_file);
  if (!st.ok()) {
    std::cerr << "postfix_sasl_exporter: " << st.message() << "\n";
    return kExitConfig;
  }
  if (f.help) {
    std::cout << "postfix_sasl_exporter: Prometheus exporter for Postfix SMTP AUTH (SASL), "
                 "sessions and relay denials.\n\n"
              << options.Usage("postfix_sasl_exporter");
    return 0;
  }
  if (f.version) {
    std::cout << "postfix_sasl_exporter " << PSE_VERSION << " (revision " << PSE_REVISION << ")\n";
    return 0;
  }
  ConfigureLogging(f.log_level, f.log_format);

  auto registry = std::make_shared<prometheus::Registry>();
  Metrics metrics(registry.get(), BuildInfo{PSE_VERSION, PSE_REVISION});
  Pipeline::Options po;
  po.syslog.initial_year = static_cast<int>(f.syslog_year);
  po.state.peak_window = f.peak_window;
  po.state.idle_timeout = f.idle_timeout;
  po.state.max_tracked_processes = static_cast<size_t>(f.max_tracked);
  Pipeline pipeline(po, &metrics);

  if (f.once) {
    if (f.logfile_path.empty()) {
      std::cerr << "postfix_sasl_exporter: --once needs --postfix.logfile_path (or - for stdin)\n";
      return kExitConfig;
    }
    return RunOnce(f, registry.get(), &pipeline);
  }
  std::cerr << "postfix_sasl_exporter: daemon mode is not built yet\n";
  return 1;
}

}  // namespace
}  // namespace pse

int main(int argc, char** argv) { return pse::Main(argc, argv); }
