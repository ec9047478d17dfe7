#!/usr/bin/env python3
"""Integration tests of the real exporter's configuration: bad
flags and config files stop start-up with exit status 2 and a message naming
the file, line and key (or the flag); a good file applies and flags win over
it; --help/--version; the log formats.

usage: test_config_errors.py EXPORTER [unittest args]
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
import harness  # noqa: E402  (puts tests/pylib on sys.path)
import psetest  # noqa: E402
from harness import expect_status, stopped_cleanly  # noqa: E402
from psetest import check  # noqa: E402

EXIT_CONFIG = 2

# Every flag the README or docs/configuration.md documents.
DOCUMENTED_FLAGS = (
    "config.file", "once", "postfix.logfile_path", "postfix.logfile_from_beginning",
    "postfix.logfile_position_file", "postfix.logfile_max_line_length", "postfix.syslog_year",
    "systemd.enable", "systemd.unit", "systemd.slice", "systemd.journal_path",
    "systemd.cursor_file", "sessions.peak_window", "sessions.idle_timeout",
    "sessions.max_tracked", "web.listen-address", "web.telemetry-path", "web.config.file",
    "log.level", "log.format", "version", "help", "triage.enabled", "triage.top_usernames",
    "triage.username_hash_key_file", "triage.plain_usernames", "triage.hash_username")

LOGFMT_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_.]*)=("(?:[^"\\]|\\.)*"|[^ "=]*)(?: |$)')


class ConfigTest(harness.TempDirTest):

    def run_exporter(self, args, timeout=20):
        """Runs to completion (bounded; a hang is killed and fails)."""
        try:
            proc = subprocess.run([harness.BINARY] + args, capture_output=True, timeout=timeout,
                                  env=dict(os.environ, TZ="UTC"))
        except subprocess.TimeoutExpired as e:
            check(False, "did not exit within %ss: %s\nstderr: %s" % (timeout, args, e.stderr))
        return proc.returncode, proc.stdout.decode(errors="replace"), \
            proc.stderr.decode(errors="replace")

    def write(self, name, text):
        path = self.path(name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def log_path(self):
        """A log file that exists, so start-up gets as far as it can."""
        path = self.path("mail.log")
        if not os.path.exists(path):
            self.write("mail.log", "")
        return path

    def assert_config_error(self, args, *needles):
        rc, out, err = self.run_exporter(args)
        check(rc == EXIT_CONFIG, "args %s: exit %d, expected %d; stderr: %s"
              % (args, rc, EXIT_CONFIG, err))
        for needle in needles:
            check(needle in err, "args %s: stderr does not name %r: %s" % (args, needle, err))
        check(out == "", "args %s: stdout %r; nothing goes to stdout on an error" % (args, out))
        return err

    def assert_file_error(self, yaml_text, line, key, *more, listen_flag=True):
        """A config file error names file:line and the key."""
        path = self.write("config.yml", yaml_text)
        args = ["--config.file=" + path, "--postfix.logfile_path=" + self.log_path()]
        if listen_flag:  # a mistake must not start a listener on :9154
            args.append("--web.listen-address=127.0.0.1:%d" % psetest.free_port())
        err = self.assert_config_error(args, "%s:%d" % (path, line), *more)
        if key is not None:
            check(re.search(r'\b%s\b' % re.escape(key), err), "stderr does not name %s: %s"
                  % (key, err))
        return err

    # --- config file errors --------------------------------------------------

    def test_bad_yaml_syntax(self):
        self.assert_file_error('web:\n  telemetry-path: /m\n  listen-address: [":9154"\n',
                               4, None, "YAML")

    def test_bad_yaml_indentation(self):
        self.assert_file_error("web:\n  telemetry-path: /m\n   listen-address: x\n", 3, None)

    def test_unknown_key_nested(self):
        self.assert_file_error("web:\n  telemetry-path: /m\n  telemetry_path: /x\n", 3,
                               "web.telemetry_path", "unknown")

    def test_unknown_key_flat(self):
        self.assert_file_error("web.telemetry-path: /m\n\npostfix.logfile: /x\n", 3,
                               "postfix.logfile", "unknown")

    def test_unknown_section(self):
        # The section itself is unknown: named at its own line.
        self.assert_file_error("# comment\nsystemd:\n  enable: false\nsmtpd:\n  x: 1\n", 4,
                               "smtpd", "unknown")

    def test_wrong_type_list_for_scalar(self):
        self.assert_file_error("sessions:\n  max_tracked: [1, 2]\n", 2, "sessions.max_tracked")

    def test_wrong_type_mapping_for_scalar(self):
        # Named at the line of the offending value (a block mapping on line 3).
        self.assert_file_error("web:\n  telemetry-path:\n    a: 1\n", 3, "web.telemetry-path")

    def test_wrong_type_text_for_integer(self):
        self.assert_file_error("sessions:\n  max_tracked: many\n", 2, "sessions.max_tracked")

    def test_wrong_type_text_for_bool(self):
        self.assert_file_error("postfix:\n  logfile_from_beginning: maybe\n", 2,
                               "postfix.logfile_from_beginning")

    def test_bad_duration(self):
        self.assert_file_error("sessions:\n  peak_window: soon\n", 2, "sessions.peak_window",
                               "soon")

    def test_integer_out_of_range(self):
        self.assert_file_error("sessions:\n  max_tracked: 3\n", 2, "sessions.max_tracked")

    def test_bad_enum(self):
        self.assert_file_error("log:\n  format: xml\n", 2, "log.format", "xml")

    def test_top_level_not_a_mapping(self):
        self.assert_file_error("- web.telemetry-path: /m\n", 1, None)

    def test_state_file_in_a_missing_directory(self):
        self.assert_config_error(["--postfix.logfile_path=" + self.log_path(),
                                  "--state.file=" + self.path("no/such/dir/state")],
                                 self.path("no/such/dir"), "does not exist")

    def test_state_file_that_is_a_directory(self):
        os.mkdir(self.path("state"))
        self.assert_config_error(["--postfix.logfile_path=" + self.log_path(),
                                  "--state.file=" + self.path("state")], "not a regular file")

    def test_username_hash_key_file_missing(self):
        key = self.path("no-such-key")
        self.assert_config_error(["--postfix.logfile_path=" + self.log_path(),
                                  "--triage.top_usernames=5",
                                  "--triage.username_hash_key_file=" + key],
                                 "--triage.username_hash_key_file", key, "No such file")

    def test_username_hash_key_file_too_short(self):
        key = self.write("short.key", "fifteen bytes!!")
        self.assert_config_error(["--postfix.logfile_path=" + self.log_path(),
                                  "--triage.top_usernames=5",
                                  "--triage.username_hash_key_file=" + key],
                                 key, "holds 15 bytes", "16")

    def test_username_hash_key_file_unreadable(self):
        # A directory opens but cannot be read (root reads any file, so a
        # mode-000 file would not fail here).
        os.mkdir(self.path("key.d"))
        self.assert_config_error(["--postfix.logfile_path=" + self.log_path(),
                                  "--triage.top_usernames=5",
                                  "--triage.username_hash_key_file=" + self.path("key.d")],
                                 "--triage.username_hash_key_file", self.path("key.d"),
                                 "Is a directory")

    def test_top_usernames_above_100(self):
        self.assert_config_error(["--postfix.logfile_path=" + self.log_path(),
                                  "--triage.top_usernames=101"],
                                 "triage.top_usernames", "101")

    def test_reason_rule_that_does_not_compile(self):
        self.assert_file_error("sasl:\n  reason_rules:\n    - {match: ok, reason: other}\n"
                               "    - {match: 'LDAP (unclosed', reason: bad_credentials}\n",
                               4, "sasl.reason_rules", "RE2")

    def test_reason_rule_with_an_unknown_reason(self):
        self.assert_file_error("sasl:\n  reason_rules:\n    - {match: x, reason: wrong_pw}\n",
                               3, "sasl.reason_rules", "wrong_pw")

    def test_reason_rules_classify_before_the_built_in_mapping(self):
        path = self.write("config.yml", "sasl:\n  reason_rules:\n"
                          "    - {match: '^LDAP: invalid', reason: bad_credentials}\n"
                          "    - {match: generic, reason: unknown_account}\n")
        log = self.write("mail.log", "".join(
            psetest.log_line(i, "postfix/submission/smtpd", 10,
                             "warning: unknown[192.0.2.1]: SASL PLAIN authentication failed: " + r)
            for i, r in enumerate(["LDAP: invalid credentials (49)", "generic failure",
                                   "LDAP: something else"])))
        res = psetest.run_once(harness.BINARY, ["--config.file=" + path,
                                                "--postfix.logfile_path=" + log,
                                                "--postfix.syslog_year=2024"])
        def failures(reason):
            return res.samples.value(psetest.FAILURES, method="PLAIN", reason=reason,
                                     service="submission")
        check(failures("bad_credentials") == 1, "rule 1: %s" % failures("bad_credentials"))
        # "generic failure" is backend_unavailable built in; the site's rule wins.
        check(failures("unknown_account") == 1, "rule 2: %s" % failures("unknown_account"))
        check(failures("other") == 1, "no rule, no built-in match: %s" % failures("other"))

    def test_bad_listen_address_in_file(self):
        self.assert_file_error('web:\n  telemetry-path: /m\n  listen-address: ["nonsense"]\n', 3,
                               "web.listen-address", "nonsense", listen_flag=False)

    def test_missing_config_file(self):
        missing = self.path("nope.yml")
        self.assert_config_error(["--config.file=" + missing], missing)

    # --- flag errors ---------------------------------------------------------

    def flag_args(self, *args):
        return ["--postfix.logfile_path=" + self.log_path()] + list(args)

    def test_bad_listen_address_flag(self):
        self.assert_config_error(self.flag_args("--web.listen-address=nonsense"),
                                 "--web.listen-address", "nonsense")

    def test_listen_port_out_of_range(self):
        self.assert_config_error(self.flag_args("--web.listen-address=127.0.0.1:70000"),
                                 "--web.listen-address", "70000")

    def test_listen_address_in_use(self):
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            rc, out, err = self.run_exporter(
                self.flag_args("--web.listen-address=127.0.0.1:%d" % port))
        check(rc != 0, "started on a busy port: " + err)
        check("127.0.0.1:%d" % port in err, "stderr does not name the address: " + err)

    def test_telemetry_path_without_slash(self):
        self.assert_config_error(self.flag_args("--web.telemetry-path=metrics"),
                                 "--web.telemetry-path", "metrics")

    def test_unknown_flag(self):
        self.assert_config_error(["--web.listen_address=:9154"], "--web.listen_address")

    def test_flag_missing_value(self):
        self.assert_config_error(["--postfix.logfile_path"], "--postfix.logfile_path")

    def test_flag_bad_value(self):
        self.assert_config_error(self.flag_args("--sessions.peak_window=soon"),
                                 "--sessions.peak_window", "soon")
        self.assert_config_error(self.flag_args("--postfix.logfile_max_line_length=lots"),
                                 "--postfix.logfile_max_line_length")
        self.assert_config_error(self.flag_args("--log.level=loud"), "--log.level", "loud")

    def test_positional_argument(self):
        self.assert_config_error(["/var/log/mail.log"], "/var/log/mail.log")

    # --- good configuration --------------------------------------------------

    def test_config_file_applies(self):
        log = self.log_path()
        path = self.write("config.yml", "postfix:\n  logfile_path: %s\n"
                          "web:\n  telemetry-path: /from-file\n" % log)
        exp = self.start(["--config.file=" + path])
        exp.wait_ready()
        expect_status(exp, "/from-file", 200)
        expect_status(exp, "/metrics", 404)
        with open(log, "a") as f:
            f.write(psetest.MailLog(rfc3339=True).relay_denied())
        exp.wait_for(lambda: exp.scrape("/from-file").value(psetest.RELAY, service="smtp") == 1,
            "the relay denial is counted (the file's log path applies)")

    def test_flag_wins_over_file(self):
        log = self.log_path()
        path = self.write("config.yml", "postfix.logfile_path: %s\n"
                          "web.telemetry-path: /from-file\n" % self.path("other.log"))
        exp = self.start(["--config.file=" + path, "--web.telemetry-path=/from-flag",
                          "--postfix.logfile_path=" + log])
        exp.wait_ready()  # other.log does not exist: ready means mail.log is open
        expect_status(exp, "/from-flag", 200)
        expect_status(exp, "/from-file", 404)

    def test_listen_addresses_from_file(self):
        ports = [psetest.free_port(), psetest.free_port()]
        path = self.write("config.yml", "postfix.logfile_path: %s\nweb:\n  listen-address:\n"
                          "    - 127.0.0.1:%d\n    - 127.0.0.1:%d\n"
                          % (self.log_path(), ports[0], ports[1]))
        first = self.start(["--config.file=" + path], port=ports[0], listen=False)
        first.wait_ready()
        status, _, body = psetest.http_get("http://127.0.0.1:%d/metrics" % ports[1])
        check(status == 200, "second address from the file: status %d" % status)
        check("postfix_exporter_build_info" in body.decode(), "no build_info on the second address")

    # --- --help, --version, logs ---------------------------------------------

    def test_version(self):
        rc, out, err = self.run_exporter(["--version"])
        check(rc == 0, "--version exit %d: %s" % (rc, err))
        check(re.search(r"^postfix_sasl_exporter \d+\.\d+\.\d+", out), "--version printed %r" % out)

    def test_help_lists_every_documented_flag(self):
        rc, out, err = self.run_exporter(["--help"])
        check(rc == 0, "--help exit %d: %s" % (rc, err))
        for flag in DOCUMENTED_FLAGS:
            check("--" + flag in out, "--help does not list --" + flag)

    def daemon_stderr(self, *args):
        """Stderr of a short daemon run on a missing log file (a warning and
        info lines), stopped by SIGTERM."""
        exp = self.start(["--postfix.logfile_path=" + self.path("missing.log")] + list(args))
        exp.wait_http()
        stopped_cleanly(exp, signal.SIGTERM)
        lines = [l for l in exp.stderr().splitlines() if l]
        check(lines, "no log lines")
        return lines

    def test_logs_are_logfmt_by_default(self):
        levels = []
        for line in self.daemon_stderr():
            pairs = LOGFMT_PAIR.findall(line)
            check("".join("%s=%s " % p for p in pairs).strip() == line, "not logfmt: %r" % line)
            fields = dict(pairs)
            check(list(fields)[:3] == ["ts", "level", "msg"], "not ts, level, msg first: " + line)
            levels.append(fields["level"])
        check("warn" in levels, "no warn line (the missing log file): %s" % levels)
        check("info" in levels, "no info line: %s" % levels)

    def test_logs_are_json_with_log_format_json(self):
        levels = []
        for line in self.daemon_stderr("--log.format=json"):
            entry = json.loads(line)  # one object per line
            check(isinstance(entry, dict), "not a JSON object: " + line)
            for key in ("ts", "level", "msg"):
                check(key in entry, "no %s: %s" % (key, line))
            levels.append(entry["level"])
        check("warn" in levels, "no warn line (the missing log file): %s" % levels)
        check("info" in levels, "no info line: %s" % levels)

    def test_log_level_filters(self):
        lines = self.daemon_stderr("--log.level=warn")
        levels = {dict(LOGFMT_PAIR.findall(l)).get("level") for l in lines}
        check(levels == {"warn"}, "levels %s with --log.level=warn: %s" % (levels, lines))


if __name__ == "__main__":
    harness.main(__doc__)
