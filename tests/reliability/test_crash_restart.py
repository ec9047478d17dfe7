#!/usr/bin/env python3
"""Reliability: the real exporter following a log file under an operator's
worst day -- kill -9 and SIGTERM during a stream, rename and copytruncate
rotation under a steady writer, rotations while the exporter is stopped
(SIGSTOP) or down -- must count every line exactly once and never show a
counter going backwards in Prometheus (--state.file).

usage: test_crash_restart.py EXPORTER [-k NAME]

Every wait is bounded; the whole file runs in about a minute.
"""
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import psetest  # noqa: E402
from psetest import COUNTED, LINES, MailLog, check  # noqa: E402

BINARY = None
ROUNDS_PER_CHUNK = 5  # one chunk: 5 x (4 sessions, 13 lines)


def append(path, text):
    with open(path, "a") as f:
        f.write(text)


class Stream:
    """A writer thread appending whole MailLog chunks to `path` until
    `chunks` are written; `lock` is held around each write so a test can
    rotate between writes."""

    def __init__(self, path, log, chunks, pause_s=0.002):
        self.path, self.log, self.chunks, self.pause_s = path, log, chunks, pause_s
        self.lock = threading.Lock()
        self.written = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        for _ in range(self.chunks):
            with self.lock:
                append(self.path, self.log.mix(ROUNDS_PER_CHUNK))
                self.written += 1
            time.sleep(self.pause_s)

    def start(self):
        self.thread.start()

    def join(self):
        self.thread.join(timeout=120)
        check(not self.thread.is_alive(), "the writer did not finish within 120 s")


class ReliabilityTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="pse-reliability-")
        self.log_path = os.path.join(self.dir, "mail.log")
        self.state = os.path.join(self.dir, "state")
        self.daemons = []
        append(self.log_path, "")

    def tearDown(self):
        for d in self.daemons:
            d.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, *extra):
        d = psetest.Daemon(BINARY, ["--postfix.logfile_path=" + self.log_path,
                                    "--state.file=" + self.state,
                                    "--postfix.syslog_year=2024"] + list(extra),
                           self.dir, name="exporter%d" % len(self.daemons))
        self.daemons.append(d)
        d.wait_ready()
        return d

    def check_exact(self, d, log, deadline=60):
        """Waits until the exporter has read every line, then requires every
        counted sample to equal the log's expectation exactly."""
        want = log.lines()
        got = d.wait_for(lambda: (lambda s: s if s.total(LINES) >= want else None)(d.scrape()),
                         "log_lines_total reaching %d" % want, deadline)
        check(got.total(LINES) == want, "read %d lines, wrote %d" % (got.total(LINES), want))
        diff = []
        for key, value in sorted(log.expected.items()):
            if got.get(key, 0) != value:
                diff.append((key, value, got.get(key)))
        for key, value in got.items():
            name = key.split("{", 1)[0]
            if name in COUNTED and key not in log.expected and value != 0:
                diff.append((key, 0, value))
        check(not diff, "counts differ (key, expected, actual):\n  " +
              "\n  ".join(map(repr, diff)))

    def scrape_monotonic(self, d, last):
        """Scrapes and checks no counter went below what an earlier scrape
        showed (a counter reset in Prometheus). Returns the new scrape."""
        try:
            got = d.scrape()
        except psetest.TestFailure:
            return last  # killed meanwhile
        for key, value in last.items():
            name = key.split("{", 1)[0]
            if name.endswith("_total") and not name.startswith("process_"):
                check(got.get(key, 0) >= value,
                      "counter %s went back from %s to %s across a restart"
                      % (key, value, got.get(key)))
        return got

    def test_ten_sigkills_and_ten_sigterms_during_a_stream(self):
        log = MailLog()
        stream = Stream(self.log_path, log, chunks=400, pause_s=0.01)
        rnd = random.Random(7)
        last = {}
        for i in range(20):
            d = self.start()
            if i == 0:
                stream.start()  # after the first start: a fresh start begins at the end
            time.sleep(rnd.uniform(0.05, 0.4))
            last = self.scrape_monotonic(d, last)
            time.sleep(rnd.uniform(0.0, 0.2))
            if i % 2 == 0:
                d.stop(signal.SIGKILL)
            else:
                check(d.stop(signal.SIGTERM) == 0, "SIGTERM exit status")
        stream.join()
        d = self.start()
        self.check_exact(d, log)
        self.scrape_monotonic(d, last)

    def test_kill_before_the_first_periodic_save_loses_nothing(self):
        log = MailLog()
        d = self.start()
        d.stop(signal.SIGKILL)  # at once: only the start-up save exists
        append(self.log_path, log.mix(3))  # written while down
        d = self.start()
        self.check_exact(d, log)

    def test_rename_rotations_in_quick_succession_under_a_steady_writer(self):
        log = MailLog()
        stream = Stream(self.log_path, log, chunks=300)
        d = self.start()
        stream.start()
        rotations = 0
        for burst in range(4):
            time.sleep(0.15)
            # Two or three rotations back to back, as a busy logrotate may.
            for _ in range(2 + burst % 2):
                with stream.lock:
                    self.rename_rotation("")
                rotations += 1
        stream.join()
        self.check_exact(d, log)
        got = d.scrape()
        check(got.total("postfix_exporter_source_rotations_total") == rotations,
              "rotations counted %s, done %d"
              % (got.total("postfix_exporter_source_rotations_total"), rotations))

    def test_copytruncate_under_a_steady_writer(self):
        # copytruncate loses what the exporter has not read at the moment of
        # the truncation (it is only in the copy): logrotate's own limit. The
        # test truncates once the exporter has caught up, and requires exact
        # counts across several quick truncations with writes in between.
        log = MailLog()
        stream = Stream(self.log_path, log, chunks=200)
        d = self.start()
        stream.start()
        for i in range(5):
            time.sleep(0.1)
            with stream.lock:
                want = log.lines()
                d.wait_for(lambda: d.scrape().total(LINES) >= want, "catching up before truncation")
                shutil.copyfile(self.log_path, "%s.%d" % (self.log_path, i + 1))
                with open(self.log_path, "r+") as f:
                    f.truncate(0)
        stream.join()
        self.check_exact(d, log)
        got = d.scrape()
        check(got.total("postfix_exporter_source_truncations_total") == 5,
              "truncations counted %s" % got.total("postfix_exporter_source_truncations_total"))

    def rename_rotation(self, new_text):
        """One logrotate-style rename rotation (mail.log.N -> .N+1, mail.log ->
        .1), then a new mail.log holding `new_text`."""
        for n in range(8, 0, -1):
            src = "%s.%d" % (self.log_path, n)
            if os.path.exists(src):
                os.rename(src, "%s.%d" % (self.log_path, n + 1))
        os.rename(self.log_path, self.log_path + ".1")
        append(self.log_path, new_text)

    def rotate(self, log, times):
        """`times` rename rotations, each followed by a chunk of new lines."""
        for _ in range(times):
            self.rename_rotation(log.mix(2))

    def fresh_start(self):
        """Removes every log generation and the state file; an empty mail.log."""
        for f in os.listdir(self.dir):
            if f.startswith("mail.log") or f.startswith("state"):
                os.unlink(os.path.join(self.dir, f))
        append(self.log_path, "")

    def test_two_and_three_rotations_while_stopped(self):
        for times in (2, 3):
            log = MailLog(first_pid=10000 * times)
            self.fresh_start()
            d = self.start()
            append(self.log_path, log.mix(2))
            self.check_exact(d, log)
            d.send(signal.SIGSTOP)
            try:
                append(self.log_path, log.mix(2))
                self.rotate(log, times)
            finally:
                d.send(signal.SIGCONT)
            self.check_exact(d, log)
            got = d.scrape()
            check(got.total("postfix_exporter_source_rotations_total") == times,
                  "%d rotations while stopped counted as %s"
                  % (times, got.total("postfix_exporter_source_rotations_total")))
            d.stop()

    def test_two_and_three_rotations_while_down(self):
        for times, sig in ((2, signal.SIGTERM), (3, signal.SIGKILL)):
            log = MailLog(first_pid=20000 * times)
            self.fresh_start()
            d = self.start()
            append(self.log_path, log.mix(2))
            self.check_exact(d, log)
            d.stop(sig)
            append(self.log_path, log.mix(2))
            self.rotate(log, times)
            d = self.start()
            self.check_exact(d, log)

    def test_corrupt_state_file_is_moved_aside_and_not_used(self):
        log = MailLog()
        d = self.start()
        append(self.log_path, log.mix(1))
        self.check_exact(d, log)
        d.stop()
        with open(self.state, "r+b") as f:
            f.seek(20)
            f.write(b"#")
        d = self.start()
        check(os.path.exists(self.state + ".bad"), "the corrupt state file was not moved aside")
        check("not used" in d.stderr(), "the corrupt state file was not logged:\n" + d.stderr())
        # Started as without one: at the end of the file, counting from zero.
        log.reset()
        append(self.log_path, log.failed_login())
        self.check_exact(d, log)

    def test_state_file_of_another_log_is_not_used(self):
        log = MailLog()
        d = self.start()
        append(self.log_path, log.mix(1))
        self.check_exact(d, log)
        d.stop()
        other = os.path.join(self.dir, "other.log")
        append(other, "")
        d2 = psetest.Daemon(BINARY, ["--postfix.logfile_path=" + other,
                                     "--state.file=" + self.state], self.dir, name="other")
        self.daemons.append(d2)
        d2.wait_ready()
        check(os.path.exists(self.state + ".bad"), "a state file for another log was used")
        got = d2.scrape()
        check(got.total(LINES) == 0, "counters were taken from another log's state")


def main():
    global BINARY
    BINARY = sys.argv.pop(1)
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
