#!/usr/bin/env python3
"""Integration tests of the real exporter following a log file (issue 3).

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
import harness  # noqa: E402
from harness import (CONNECTS, COUNTED, LINES, SESSIONS, SESSIONS_MAX, MailLog, append,
                     sample_key)

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
        old = MailLog(bsd=True, first_pid=100)
        append(log_path, old.mix(2))  # there before start-up: not counted
        exp = self.follow(log_path)
        exp.wait_metrics(expect(MailLog()), FAMILIES)

        log = MailLog(bsd=True, first_pid=1000, first_second=3600)
        append(log_path, log.mix(2))
        exp.wait_metrics(expect(log), FAMILIES)

        # A partial last line is held until its newline arrives: the
        # session's first two lines count, its cut disconnect does not yet.
        text = log.failed_login("smtps")
        append(log_path, text[:-20])
        want = expect(log)
        want[LINES] -= 1
        want[sample_key("postfix_smtpd_disconnects_total", {"service": "smtps"})] = 0
        want[sample_key(SESSIONS, {"service": "smtps"})] = 1
        exp.wait_metrics(want, FAMILIES)
        append(log_path, text[-20:])
        exp.wait_metrics(expect(log), FAMILIES)

        # Three sessions open at once, then closed: the gauge follows, the
        # peak stays.
        opened = "".join(log.open_session() for _ in range(3))
        append(log_path, opened)
        got = exp.wait_metrics(expect(log), FAMILIES)
        self.assertEqual(got[sample_key(SESSIONS, {"service": "submission"})], 3)
        self.assertEqual(got[sample_key(SESSIONS_MAX, {"service": "submission"})], 3)
        closes = []
        for line in opened.splitlines():
            pid = line.split("smtpd[", 1)[1].split("]", 1)[0]
            closes.append("May 14 11:30:00 mail postfix/submission/smtpd[%s]: disconnect from "
                          "unknown[198.51.100.99] ehlo=1 quit=1 commands=2\n" % pid)
        log.expected[LINES] += 3
        log.expected[sample_key(SESSIONS, {"service": "submission"})] = 0
        log.expected[sample_key("postfix_smtpd_disconnects_total", {"service": "submission"})] += 3
        append(log_path, "".join(closes))
        got = exp.wait_metrics(expect(log), FAMILIES)
        self.assertEqual(got[sample_key(SESSIONS_MAX, {"service": "submission"})], 3)
        self.assertEqual(got[SOURCE_ERRORS], 0)
        self.assertEqual(got["postfix_exporter_log_last_timestamp_seconds"],
                         1715686200)  # 2024-05-14T11:30:00Z

    def test_from_beginning_reads_existing_lines(self):
        log_path = self.path("mail.log")
        log = MailLog()
        append(log_path, log.mix(2))
        exp = self.follow(log_path, "--postfix.logfile_from_beginning")
        exp.wait_metrics(expect(log), FAMILIES)
        append(log_path, log.mix(1))
        exp.wait_metrics(expect(log), FAMILIES)

    def test_rename_rotation_drains_old_file_then_reads_new_one(self):
        log_path = self.path("mail.log")
        append(log_path, MailLog(first_pid=100).mix(1))
        exp = self.follow(log_path)
        log = MailLog()
        append(log_path, log.mix(1))
        exp.wait_metrics(expect(log), FAMILIES)

        os.rename(log_path, log_path + ".1")
        # The writer has not reopened yet: it still writes to the renamed file.
        append(log_path + ".1", log.mix(1) + log.relay_denied())
        append(log_path, log.mix(1), mode="x")  # the new file under the old name
        exp.wait_metrics(expect(log, rotations=1), FAMILIES)
        append(log_path, log.failed_login())
        exp.wait_metrics(expect(log, rotations=1), FAMILIES)

    def test_copytruncate_reads_the_file_again_from_start(self):
        log_path = self.path("mail.log")
        append(log_path, MailLog(first_pid=100).mix(2))
        exp = self.follow(log_path)
        log = MailLog()
        append(log_path, log.mix(2))
        exp.wait_metrics(expect(log), FAMILIES)

        # logrotate copytruncate: copy, then truncate in place; the writer
        # (O_APPEND) goes on at the new end. Less than was there before, so
        # the shrink is visible whenever the exporter looks.
        shutil.copyfile(log_path, log_path + ".1")
        with open(log_path, "r+") as f:
            f.truncate(0)
        append(log_path, log.failed_login())
        exp.wait_metrics(expect(log, truncations=1), FAMILIES)

        # A writer without O_APPEND goes on at its old offset after the
        # truncation, leaving a hole of NUL bytes before its next line.
        size = os.path.getsize(log_path)
        with open(log_path, "r+") as f:
            f.truncate(0)
        exp.wait_metrics(expect(log, truncations=2), FAMILIES)
        text = log.relay_denied().encode()
        fd = os.open(log_path, os.O_WRONLY)
        try:
            os.pwrite(fd, text, size)
        finally:
            os.close(fd)
        exp.wait_metrics(expect(log, truncations=2), FAMILIES)

    def test_missing_file_at_start_is_waited_for(self):
        log_path = self.path("mail.log")
        exp = self.follow(log_path, wait_ready=False)
        exp.wait_http()
        exp.wait_metrics(expect(MailLog(), up=0), FAMILIES)
        status, _, _ = exp.get("/-/ready")
        self.assertEqual(status, 503)
        self.assertEqual(exp.get("/-/healthy")[0], 200)

        log = MailLog()
        append(log_path, log.mix(1))  # a file that appears is read from its start
        exp.wait_metrics(expect(log), FAMILIES)
        self.assertEqual(exp.get("/-/ready")[0], 200)
        self.assertIn("does not exist", exp.stderr())

    def test_deleted_file_is_waited_for_and_recreated_one_read_from_start(self):
        log_path = self.path("mail.log")
        append(log_path, "")
        exp = self.follow(log_path)
        log = MailLog()
        append(log_path, log.mix(1))
        exp.wait_metrics(expect(log), FAMILIES)
        os.unlink(log_path)
        exp.wait_metrics(expect(log, up=0), FAMILIES)
        append(log_path, log.mix(1), mode="x")
        exp.wait_metrics(expect(log, rotations=1), FAMILIES)

    def test_over_long_line_is_skipped_and_counted(self):
        log_path = self.path("mail.log")
        append(log_path, "")
        exp = self.follow(log_path, "--postfix.logfile_max_line_length=1KiB")
        log = MailLog()
        long_line = ("2024-05-14T10:00:00.000000+00:00 mail postfix/smtpd[1]: connect from "
                     + "x" * 2000 + "[192.0.2.1]\n")
        append(log_path, log.failed_login() + long_line[:1500])
        append(log_path, long_line[1500:] + log.relay_denied())
        exp.wait_metrics(expect(log, too_long=1), FAMILIES)

    # --- restarts and signals ----------------------------------------------

    def test_position_file_restart_counts_every_line_once(self):
        log_path = self.path("mail.log")
        pos = self.path("position")
        append(log_path, MailLog(first_pid=100).mix(1))
        args = ["--postfix.logfile_position_file=" + pos]
        run1 = self.follow(log_path, *args)
        log = MailLog()
        append(log_path, log.mix(2))
        run1.wait_metrics(expect(log), FAMILIES)

        log.reset()  # run 2 has fresh counters: it must count exactly what run 1 did not
        held = log.open_session()
        append(log_path, held[:20])  # a partial line: run 1 may hold it, never count it
        self.assertEqual(run1.stop(signal.SIGTERM), 0)
        self.assertTrue(os.path.exists(pos), "no position file after SIGTERM")
        append(log_path, held[20:] + log.mix(1))  # while the exporter is down

        run2 = self.follow(log_path, *args, port=run1.port)
        run2.wait_metrics(expect(log), FAMILIES)
        append(log_path, log.sent_mail())
        run2.wait_metrics(expect(log), FAMILIES)
        self.assertEqual(run2.stop(signal.SIGTERM), 0)

    def test_position_file_restart_across_rotation(self):
        log_path = self.path("mail.log")
        pos = self.path("position")
        append(log_path, "")
        args = ["--postfix.logfile_position_file=" + pos]
        run1 = self.follow(log_path, *args)
        log = MailLog()
        append(log_path, log.mix(1))
        run1.wait_metrics(expect(log), FAMILIES)
        self.assertEqual(run1.stop(signal.SIGTERM), 0)

        # While down: more lines reach the old file, which is then rotated;
        # the new file gets lines too. Run 2 reads the rest of mail.log.1
        # from the saved offset, then the new mail.log from its start.
        log.reset()
        append(log_path, log.mix(1))
        os.rename(log_path, log_path + ".1")
        append(log_path, log.relay_denied() + log.sent_mail(), mode="x")
        run2 = self.follow(log_path, *args)
        # How a rotation found at start-up is counted is not specified.
        want = expect(log)
        del want[ROTATIONS]
        run2.wait_metrics(want, tuple(f for f in FAMILIES if f != ROTATIONS))

    def test_without_position_file_restart_starts_at_end(self):
        log_path = self.path("mail.log")
        append(log_path, "")
        run1 = self.follow(log_path)
        log = MailLog()
        append(log_path, log.mix(1))
        run1.wait_metrics(expect(log), FAMILIES)
        self.assertEqual(run1.stop(signal.SIGINT), 0)
        append(log_path, MailLog(first_pid=5000).mix(1))  # while down: not counted
        run2 = self.follow(log_path)
        log.reset()
        append(log_path, log.failed_login())
        run2.wait_metrics(expect(log), FAMILIES)

    def test_sighup_reopens_and_keeps_counting(self):
        log_path = self.path("mail.log")
        append(log_path, "")
        exp = self.follow(log_path)
        log = MailLog()
        append(log_path, log.mix(1))
        exp.wait_metrics(expect(log), FAMILIES)
        exp.send(signal.SIGHUP)
        append(log_path, log.failed_login())
        exp.wait_metrics(expect(log), FAMILIES)

        # What rotation tools do: rename, create, then SIGHUP the reader.
        os.rename(log_path, log_path + ".1")
        append(log_path + ".1", log.relay_denied())
        append(log_path, log.sent_mail(), mode="x")
        exp.send(signal.SIGHUP)
        exp.wait_metrics(expect(log, rotations=1), FAMILIES)
        self.assertTrue(exp.alive())
        self.assertEqual(exp.stop(signal.SIGTERM), 0)

    # --- HTTP --------------------------------------------------------------

    def test_http_endpoints(self):
        log_path = self.path("mail.log")
        append(log_path, "")
        second_port = harness.free_port()
        exp = self.follow(log_path, "--web.listen-address=127.0.0.1:%d" % second_port)
        log = MailLog()
        append(log_path, log.mix(1))
        exp.wait_metrics(expect(log), FAMILIES)

        status, headers, body = exp.get("/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], CONTENT_TYPE)
        self.assertIsNone(headers["Content-Encoding"])
        plain = harness.parse_metrics(body.decode())
        self.assertEqual(plain[LINES], log.lines())
        self.assertIn("# TYPE postfix_smtpd_connects_total counter", body.decode())
        self.assertTrue(any(k.startswith("process_") for k in plain), "no process_* metrics")

        status, headers, body = exp.get("/metrics", {"Accept-Encoding": "gzip"})
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], CONTENT_TYPE)
        self.assertEqual(headers["Content-Encoding"], "gzip")
        zipped = harness.parse_metrics(gzip.decompress(body).decode())
        self.assertEqual(zipped[LINES], log.lines())
        self.assertEqual(zipped[sample_key(CONNECTS, {"service": "smtp"})], 1)

        status, headers, body = exp.get("/")
        self.assertEqual(status, 200)
        self.assertIn('href="/metrics"', body.decode())
        self.assertEqual(exp.get("/-/healthy")[0], 200)
        self.assertEqual(exp.get("/-/ready")[0], 200)
        self.assertEqual(exp.get("/no/such/page")[0], 404)

        # The second listen address serves the same registry.
        other = harness.http_get("http://127.0.0.1:%d/metrics" % second_port)
        self.assertEqual(other[0], 200)
        self.assertEqual(harness.parse_metrics(other[2].decode())[LINES], log.lines())

    def test_custom_telemetry_path(self):
        log_path = self.path("mail.log")
        append(log_path, "")
        exp = self.follow(log_path, "--web.telemetry-path=/custom")
        log = MailLog()
        append(log_path, log.mix(1))
        exp.wait_metrics(expect(log), FAMILIES, path="/custom")
        status, headers, _ = exp.get("/custom")
        self.assertEqual(headers["Content-Type"], CONTENT_TYPE)
        self.assertEqual(exp.get("/metrics")[0], 404)
        self.assertIn('href="/custom"', exp.get("/")[2].decode())

    # --- stdin and FIFO ----------------------------------------------------

    def test_stdin(self):
        exp = self.follow("-", stdin=subprocess.PIPE)
        log = MailLog()
        pipe = exp.proc.stdin
        pipe.write(log.mix(1).encode())
        pipe.flush()
        exp.wait_metrics(expect(log), FAMILIES)
        pipe.write(log.mix(1).encode())
        # A last line without newline is delivered when stdin ends.
        pipe.write(log.open_session().rstrip("\n").encode())
        pipe.flush()
        pipe.close()
        # stdin at its end is closed for good: the source is down, the
        # exporter keeps serving what it counted.
        got = exp.wait_metrics(expect(log, up=0), FAMILIES)
        self.assertEqual(got[sample_key(SESSIONS, {"service": "submission"})], 1)
        self.assertEqual(exp.stop(signal.SIGTERM), 0)

    def test_fifo(self):
        fifo = self.path("mail.fifo")
        os.mkfifo(fifo)
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))
        exp = self.follow(fifo, wait_ready=False)
        exp.wait_http()
        log = MailLog()
        for _ in range(2):  # one writer after the other, like restarted Postfix
            fd = self.open_fifo_writer(exp, fifo)
            try:
                os.write(fd, log.mix(1).encode())
            finally:
                os.close(fd)
            exp.wait_metrics(expect(log), FAMILIES)
        self.assertEqual(exp.get("/-/ready")[0], 200)
        self.assertEqual(exp.stop(signal.SIGTERM), 0)

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
