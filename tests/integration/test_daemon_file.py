#!/usr/bin/env python3
"""Integration tests of the real exporter following a log file.

usage: test_daemon_file.py EXPORTER [unittest args, e.g. -k Rotation]

Each test starts the binary in daemon mode on a file in its own temp dir,
writes real-format Postfix lines, and scrapes /metrics over HTTP until the
exact expected values are there (bounded deadline; a counter above its
expected value fails at once). Nothing lost and nothing counted twice is
checked through postfix_exporter_log_lines_total and the smtpd counters.
"""
import gzip
import os
import shutil
import signal
import stat
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
import harness  # noqa: E402  (puts tests/pylib on sys.path)
import psetest  # noqa: E402
from harness import (append, expect_status, stopped_cleanly,  # noqa: E402
                     wait_metrics)
from psetest import (CONNECTS, COUNTED, LINES, SESSIONS, SESSIONS_MAX, MailLog,  # noqa: E402
                     check, check_samples, log_line, parse_exposition, sample_key)

UP = "postfix_exporter_source_up"
ROTATIONS = "postfix_exporter_source_rotations_total"
TRUNCATIONS = "postfix_exporter_source_truncations_total"
TOO_LONG = "postfix_exporter_log_lines_too_long_total"
SOURCE_ERRORS = "postfix_exporter_source_errors_total"
HEALTH = (UP, ROTATIONS, TRUNCATIONS, TOO_LONG)
FAMILIES = COUNTED + HEALTH

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def health(up=1, rotations=0, truncations=0, too_long=0):
    return {UP: up, ROTATIONS: rotations, TRUNCATIONS: truncations, TOO_LONG: too_long}


def expect(log, **health_args):
    out = dict(log.expected)
    out.setdefault(LINES, 0)
    out.update(health(**health_args))
    return out


class FileTest(harness.TempDirTest):

    def follow(self, log_path, *extra, wait_ready=True, **kwargs):
        exp = self.start(["--postfix.logfile_path=" + log_path, "--postfix.syslog_year=2024"]
                         + list(extra), **kwargs)
        if wait_ready:
            exp.wait_ready()
        return exp

    # --- following ---------------------------------------------------------

    def test_starts_at_end_and_counts_appended_lines_exactly(self):
        log_path = self.path("mail.log")
        old = MailLog(first_pid=100)
        append(log_path, old.mix(2))  # there before start-up: not counted
        exp = self.follow(log_path)
        wait_metrics(exp, expect(MailLog()), FAMILIES)

        log = MailLog(first_pid=1000, first_second=3600)
        append(log_path, log.mix(2))
        wait_metrics(exp, expect(log), FAMILIES)

        # A partial last line is held until its newline arrives: the
        # session's first two lines count, its cut disconnect does not yet.
        text = log.failed_login("smtps")
        append(log_path, text[:-20])
        want = expect(log)
        want[LINES] -= 1
        want[sample_key("postfix_smtpd_disconnects_total", {"service": "smtps"})] = 0
        want[sample_key(SESSIONS, {"service": "smtps"})] = 1
        wait_metrics(exp, want, FAMILIES)
        append(log_path, text[-20:])
        wait_metrics(exp, expect(log), FAMILIES)

        # Three sessions open at once, then closed: the gauge follows, the
        # peak stays.
        opened = "".join(log.open_session() for _ in range(3))
        append(log_path, opened)
        got = wait_metrics(exp, expect(log), FAMILIES)
        check_samples(got, {sample_key(SESSIONS, {"service": "submission"}): 3,
                            sample_key(SESSIONS_MAX, {"service": "submission"}): 3})
        closes = []
        for line in opened.splitlines():
            pid = line.split("smtpd[", 1)[1].split("]", 1)[0]
            closes.append(log_line(5400, "postfix/submission/smtpd", int(pid),  # 11:30:00
                                   "disconnect from unknown[198.51.100.99] ehlo=1 quit=1 "
                                   "commands=2"))
        log.expected[LINES] += 3
        log.expected[sample_key(SESSIONS, {"service": "submission"})] = 0
        log.expected[sample_key("postfix_smtpd_disconnects_total", {"service": "submission"})] += 3
        append(log_path, "".join(closes))
        got = wait_metrics(exp, expect(log), FAMILIES)
        check_samples(got, {sample_key(SESSIONS_MAX, {"service": "submission"}): 3,
                            SOURCE_ERRORS: 0,
                            # 2024-05-14T11:30:00Z
                            "postfix_exporter_log_last_timestamp_seconds": 1715686200})

    def test_from_beginning_reads_existing_lines(self):
        log_path = self.path("mail.log")
        log = MailLog(rfc3339=True)
        append(log_path, log.mix(2))
        exp = self.follow(log_path, "--postfix.logfile_from_beginning")
        wait_metrics(exp, expect(log), FAMILIES)
        append(log_path, log.mix(1))
        wait_metrics(exp, expect(log), FAMILIES)

    def test_rename_rotation_drains_old_file_then_reads_new_one(self):
        log_path = self.path("mail.log")
        append(log_path, MailLog(rfc3339=True, first_pid=100).mix(1))
        exp = self.follow(log_path)
        log = MailLog(rfc3339=True)
        append(log_path, log.mix(1))
        wait_metrics(exp, expect(log), FAMILIES)

        os.rename(log_path, log_path + ".1")
        # The writer has not reopened yet: it still writes to the renamed file.
        append(log_path + ".1", log.mix(1) + log.relay_denied())
        append(log_path, log.mix(1), mode="x")  # the new file under the old name
        wait_metrics(exp, expect(log, rotations=1), FAMILIES)
        append(log_path, log.failed_login())
        wait_metrics(exp, expect(log, rotations=1), FAMILIES)

    def test_copytruncate_reads_the_file_again_from_start(self):
        log_path = self.path("mail.log")
        append(log_path, MailLog(rfc3339=True, first_pid=100).mix(2))
        exp = self.follow(log_path)
        log = MailLog(rfc3339=True)
        append(log_path, log.mix(2))
        wait_metrics(exp, expect(log), FAMILIES)

        # logrotate copytruncate: copy, then truncate in place; the writer
        # (O_APPEND) goes on at the new end. Less than was there before, so
        # the shrink is visible whenever the exporter looks.
        shutil.copyfile(log_path, log_path + ".1")
        with open(log_path, "r+") as f:
            f.truncate(0)
        append(log_path, log.failed_login())
        wait_metrics(exp, expect(log, truncations=1), FAMILIES)

        # A writer without O_APPEND goes on at its old offset after the
        # truncation, leaving a hole of NUL bytes before its next line.
        size = os.path.getsize(log_path)
        with open(log_path, "r+") as f:
            f.truncate(0)
        wait_metrics(exp, expect(log, truncations=2), FAMILIES)
        text = log.relay_denied().encode()
        fd = os.open(log_path, os.O_WRONLY)
        try:
            os.pwrite(fd, text, size)
        finally:
            os.close(fd)
        wait_metrics(exp, expect(log, truncations=2), FAMILIES)

    def test_missing_file_at_start_is_waited_for(self):
        log_path = self.path("mail.log")
        exp = self.follow(log_path, wait_ready=False)
        exp.wait_http()
        wait_metrics(exp, expect(MailLog(rfc3339=True), up=0), FAMILIES)
        expect_status(exp, "/-/ready", 503)
        expect_status(exp, "/-/healthy", 200)

        log = MailLog(rfc3339=True)
        append(log_path, log.mix(1))  # a file that appears is read from its start
        wait_metrics(exp, expect(log), FAMILIES)
        expect_status(exp, "/-/ready", 200)
        check("does not exist" in exp.stderr(), "no warning that the file does not exist:\n"
              + exp.stderr())

    def test_deleted_file_is_waited_for_and_recreated_one_read_from_start(self):
        log_path = self.path("mail.log")
        append(log_path, "")
        exp = self.follow(log_path)
        log = MailLog(rfc3339=True)
        append(log_path, log.mix(1))
        wait_metrics(exp, expect(log), FAMILIES)
        os.unlink(log_path)
        wait_metrics(exp, expect(log, up=0), FAMILIES)
        append(log_path, log.mix(1), mode="x")
        wait_metrics(exp, expect(log, rotations=1), FAMILIES)

    def test_over_long_line_is_skipped_and_counted(self):
        log_path = self.path("mail.log")
        append(log_path, "")
        exp = self.follow(log_path, "--postfix.logfile_max_line_length=1KiB")
        log = MailLog(rfc3339=True)
        long_line = ("2024-05-14T10:00:00.000000+00:00 mail postfix/smtpd[1]: connect from "
                     + "x" * 2000 + "[192.0.2.1]\n")
        append(log_path, log.failed_login() + long_line[:1500])
        append(log_path, long_line[1500:] + log.relay_denied())
        wait_metrics(exp, expect(log, too_long=1), FAMILIES)

    # --- restarts and signals ----------------------------------------------

    def test_position_file_restart_counts_every_line_once(self):
        log_path = self.path("mail.log")
        pos = self.path("position")
        append(log_path, MailLog(rfc3339=True, first_pid=100).mix(1))
        args = ["--postfix.logfile_position_file=" + pos]
        run1 = self.follow(log_path, *args)
        log = MailLog(rfc3339=True)
        append(log_path, log.mix(2))
        wait_metrics(run1, expect(log), FAMILIES)

        # The position file also carries the counters: run 2 goes on from run
        # 1's totals, so it must count exactly the lines run 1 did not.
        held = log.open_session()
        append(log_path, held[:20])  # a partial line: run 1 may hold it, never count it
        stopped_cleanly(run1, signal.SIGTERM)
        check(os.path.exists(pos), "no position file after SIGTERM")
        append(log_path, held[20:] + log.mix(1))  # while the exporter is down

        run2 = self.follow(log_path, *args, port=run1.port)
        wait_metrics(run2, expect(log), FAMILIES)
        append(log_path, log.sent_mail())
        wait_metrics(run2, expect(log), FAMILIES)
        stopped_cleanly(run2, signal.SIGTERM)

    def test_position_file_restart_across_rotation(self):
        log_path = self.path("mail.log")
        pos = self.path("position")
        append(log_path, "")
        args = ["--postfix.logfile_position_file=" + pos]
        run1 = self.follow(log_path, *args)
        log = MailLog(rfc3339=True)
        append(log_path, log.mix(1))
        wait_metrics(run1, expect(log), FAMILIES)
        stopped_cleanly(run1, signal.SIGTERM)

        # While down: more lines reach the old file, which is then rotated;
        # the new file gets lines too. Run 2 reads the rest of mail.log.1
        # from the saved offset, then the new mail.log from its start, on top
        # of run 1's restored counters.
        append(log_path, log.mix(1))
        os.rename(log_path, log_path + ".1")
        append(log_path, log.relay_denied() + log.sent_mail(), mode="x")
        run2 = self.follow(log_path, *args)
        # How a rotation found at start-up is counted is not specified.
        want = expect(log)
        del want[ROTATIONS]
        wait_metrics(run2, want, tuple(f for f in FAMILIES if f != ROTATIONS))

    def test_without_position_file_restart_starts_at_end(self):
        log_path = self.path("mail.log")
        append(log_path, "")
        run1 = self.follow(log_path)
        log = MailLog(rfc3339=True)
        append(log_path, log.mix(1))
        wait_metrics(run1, expect(log), FAMILIES)
        stopped_cleanly(run1, signal.SIGINT)
        append(log_path, MailLog(rfc3339=True, first_pid=5000).mix(1))  # while down: not counted
        run2 = self.follow(log_path)
        log.reset()
        append(log_path, log.failed_login())
        wait_metrics(run2, expect(log), FAMILIES)

    def test_sighup_reopens_and_keeps_counting(self):
        log_path = self.path("mail.log")
        append(log_path, "")
        exp = self.follow(log_path)
        log = MailLog(rfc3339=True)
        append(log_path, log.mix(1))
        wait_metrics(exp, expect(log), FAMILIES)
        exp.send(signal.SIGHUP)
        append(log_path, log.failed_login())
        wait_metrics(exp, expect(log), FAMILIES)

        # What rotation tools do: rename, create, then SIGHUP the reader.
        os.rename(log_path, log_path + ".1")
        append(log_path + ".1", log.relay_denied())
        append(log_path, log.sent_mail(), mode="x")
        exp.send(signal.SIGHUP)
        wait_metrics(exp, expect(log, rotations=1), FAMILIES)
        check(exp.alive(), "exporter exited after SIGHUP:\n" + exp.stderr())
        stopped_cleanly(exp, signal.SIGTERM)

    # --- HTTP --------------------------------------------------------------

    def test_http_endpoints(self):
        log_path = self.path("mail.log")
        append(log_path, "")
        second_port = psetest.free_port()
        exp = self.follow(log_path, "--web.listen-address=127.0.0.1:%d" % second_port)
        log = MailLog(rfc3339=True)
        append(log_path, log.mix(1))
        wait_metrics(exp, expect(log), FAMILIES)

        _, headers, body = expect_status(exp, "/metrics", 200)
        check(headers["Content-Type"] == CONTENT_TYPE, "Content-Type: %s" % headers["Content-Type"])
        check(headers["Content-Encoding"] is None,
              "Content-Encoding %s without Accept-Encoding" % headers["Content-Encoding"])
        plain = parse_exposition(body.decode())
        check_samples(plain, {LINES: log.lines()})
        check("# TYPE postfix_smtpd_connects_total counter" in body.decode(),
              "no TYPE line for postfix_smtpd_connects_total")
        check(any(k.startswith("process_") for k in plain), "no process_* metrics")

        _, headers, body = expect_status(exp, "/metrics", 200, {"Accept-Encoding": "gzip"})
        check(headers["Content-Type"] == CONTENT_TYPE, "Content-Type: %s" % headers["Content-Type"])
        check(headers["Content-Encoding"] == "gzip",
              "Content-Encoding %s, expected gzip" % headers["Content-Encoding"])
        zipped = parse_exposition(gzip.decompress(body).decode())
        check_samples(zipped, {LINES: log.lines(), sample_key(CONNECTS, {"service": "smtp"}): 1})

        _, _, body = expect_status(exp, "/", 200)
        check('href="/metrics"' in body.decode(), "/ does not link /metrics")
        expect_status(exp, "/-/healthy", 200)
        expect_status(exp, "/-/ready", 200)
        expect_status(exp, "/no/such/page", 404)

        # The second listen address serves the same registry.
        status, _, body = psetest.http_get("http://127.0.0.1:%d/metrics" % second_port)
        check(status == 200, "second listen address: status %d" % status)
        check_samples(parse_exposition(body.decode()), {LINES: log.lines()})

    def test_custom_telemetry_path(self):
        log_path = self.path("mail.log")
        append(log_path, "")
        exp = self.follow(log_path, "--web.telemetry-path=/custom")
        log = MailLog(rfc3339=True)
        append(log_path, log.mix(1))
        wait_metrics(exp, expect(log), FAMILIES, path="/custom")
        _, headers, _ = expect_status(exp, "/custom", 200)
        check(headers["Content-Type"] == CONTENT_TYPE, "Content-Type: %s" % headers["Content-Type"])
        expect_status(exp, "/metrics", 404)
        check('href="/custom"' in exp.get("/")[2].decode(), "/ does not link /custom")

    # --- stdin and FIFO ----------------------------------------------------

    def test_stdin(self):
        exp = self.follow("-", stdin=subprocess.PIPE)
        log = MailLog(rfc3339=True)
        pipe = exp.proc.stdin
        pipe.write(log.mix(1).encode())
        pipe.flush()
        wait_metrics(exp, expect(log), FAMILIES)
        pipe.write(log.mix(1).encode())
        # A last line without newline is delivered when stdin ends.
        pipe.write(log.open_session().rstrip("\n").encode())
        pipe.flush()
        pipe.close()
        # stdin at its end is closed for good: the source is down, the
        # exporter keeps serving what it counted.
        got = wait_metrics(exp, expect(log, up=0), FAMILIES)
        check_samples(got, {sample_key(SESSIONS, {"service": "submission"}): 1})
        stopped_cleanly(exp, signal.SIGTERM)

    def test_fifo(self):
        fifo = self.path("mail.fifo")
        os.mkfifo(fifo)
        check(stat.S_ISFIFO(os.stat(fifo).st_mode), "mkfifo made no FIFO")
        exp = self.follow(fifo, wait_ready=False)
        exp.wait_http()
        log = MailLog(rfc3339=True)
        for _ in range(2):  # one writer after the other, like restarted Postfix
            fd = self.open_fifo_writer(exp, fifo)
            try:
                os.write(fd, log.mix(1).encode())
            finally:
                os.close(fd)
            wait_metrics(exp, expect(log), FAMILIES)
        expect_status(exp, "/-/ready", 200)
        stopped_cleanly(exp, signal.SIGTERM)

    def open_fifo_writer(self, exp, fifo):
        """Opens the FIFO for writing once the exporter has it open for
        reading (non-blocking open fails with ENXIO until then)."""
        fds = []

        def try_open():
            try:
                fds.append(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                return True
            except OSError as e:
                if e.errno == 6:  # ENXIO: no reader yet
                    return False
                raise
        exp.wait_for(try_open, "the exporter opens the FIFO for reading")
        os.set_blocking(fds[0], True)
        return fds[0]


if __name__ == "__main__":
    harness.main(__doc__)
