#!/usr/bin/env python3
"""Integration tests of the real exporter reading the systemd journal (issue 4).

usage: test_journal.py EXPORTER [unittest args]

Real journal files are built at test time from tests/fixtures/journal/*.export
with Debian's systemd-journal-remote (no journald needed); running it again
with the same --output appends to the file, as journald would while the
exporter reads it. The fixtures' .log twins hold exactly the entries the
default match selects as syslog lines, so the file source run in --once mode
on them is the oracle for what the journal source must produce.
"""
import os
import re
import signal
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
import harness  # noqa: E402
from harness import LINES, sample_key

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "journal")
# tests/integration.cmake passes the path it found; Debian's is the fallback.
JOURNAL_REMOTE = os.environ.get("PSE_JOURNAL_REMOTE", "/lib/systemd/systemd-journal-remote")

LAG = "postfix_exporter_journal_lag_seconds"
UP = "postfix_exporter_source_up"

# Entries the default match selects in each fixture (lines of the .log twins).
FIRST_SELECTED = 17
MORE_SELECTED = 6


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def shift_export(text, seconds):
    """Moves every entry `seconds` later (realtime and monotonic), so one
    fixture yields any number of fresh batches."""
    def bump(m):
        return m.group(1) + str(int(m.group(2)) + seconds * 1000000).encode()
    return re.sub(rb"^(__(?:REALTIME|MONOTONIC)_TIMESTAMP=)(\d+)$", bump, text, flags=re.M)


def export_to_journal(text, journal_file):
    """Converts export text into `journal_file` (appending when it exists)."""
    proc = subprocess.run([JOURNAL_REMOTE, "--output=" + journal_file, "-"], input=text,
                          capture_output=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError("%s exited %d: %s" % (JOURNAL_REMOTE, proc.returncode,
                                                   proc.stderr.decode(errors="replace")))


def comparable(samples):
    """Samples that must be equal whatever the source: everything except the
    source's own health, the journal lag, build info and process metrics."""
    return {k: v for k, v in samples.items()
            if not k.startswith(("postfix_exporter_source_", LAG, "postfix_exporter_build_info",
                                 "process_"))}


def counters(samples):
    return {k: v for k, v in comparable(samples).items() if k.split("{")[0].endswith("_total")}


def exposition_lines(text):
    """The comparable lines of an exposition (HELP/TYPE lines included), as a
    sorted list: sample order is not part of the format."""
    out = []
    for line in text.splitlines():
        name = line.split()[2] if line.startswith("#") else line.split("{")[0].split(" ")[0]
        if comparable({name: 0}):
            out.append(line)
    return sorted(out)


class JournalTest(harness.TempDirTest):

    def setUp(self):
        super().setUp()
        self.assertTrue(os.access(JOURNAL_REMOTE, os.X_OK),
                        JOURNAL_REMOTE + " missing: run scripts/install-deps.sh --test")
        self.journal_dir = self.path("journal")
        os.mkdir(self.journal_dir)
        self.journal_file = os.path.join(self.journal_dir, "remote.journal")

    def run_once(self, args):
        proc = subprocess.run([harness.BINARY, "--once"] + args, capture_output=True,
                              env=dict(os.environ, TZ="UTC"), timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode(errors="replace"))
        return proc.stdout.decode()

    def journal_once(self, *args):
        return self.run_once(["--systemd.enable", "--systemd.journal_path=" + self.journal_dir]
                             + list(args))

    def file_once(self, log_lines):
        """--once over syslog lines: the file source as the oracle."""
        path = self.path("oracle-%d.log" % len(os.listdir(self.dir)))
        with open(path, "w") as f:
            f.write("".join(line + "\n" for line in log_lines))
        return self.run_once(["--postfix.logfile_path=" + path])

    def fixture_lines(self, name):
        return fixture(name).decode().splitlines()

    def follow(self, *args):
        exp = self.start(["--systemd.enable", "--systemd.journal_path=" + self.journal_dir]
                         + list(args))
        exp.wait_ready()
        return exp

    def wait_counters(self, exp, want):
        """Until the daemon's counters equal `want` (counters only grow)."""
        def check():
            got = counters(exp.scrape())
            over = [k for k in want if got.get(k, 0) > want[k]]
            if over:
                raise AssertionError("counted twice? %s" % {k: (want[k], got.get(k)) for k in over})
            return got == want
        try:
            exp.wait_for(check, "counters equal %s" % want)
        except AssertionError:
            got = counters(exp.scrape())
            diff = {k: (want.get(k), got.get(k)) for k in set(want) | set(got)
                    if want.get(k) != got.get(k)}
            raise AssertionError("counters differ {key: (expected, actual)}: %s\n--- stderr:\n%s"
                                 % (diff, exp.stderr()))

    # --- one-shot: same metrics as the file source ---------------------------

    def test_once_journal_equals_file_source(self):
        export_to_journal(fixture("postfix.export"), self.journal_file)
        journal = self.journal_once()
        with_file = self.run_once(["--postfix.logfile_path="
                                   + os.path.join(FIXTURES, "postfix.log")])
        self.assertEqual(exposition_lines(journal), exposition_lines(with_file))
        got = harness.parse_metrics(journal)
        # Not vacuous: the fixture's numbers, by hand.
        self.assertEqual(got[LINES], FIRST_SELECTED)
        self.assertEqual(got[sample_key(harness.CONNECTS, {"service": "submission"})], 2)
        self.assertEqual(got[sample_key(harness.CONNECTS, {"service": "smtp"})], 2)
        self.assertEqual(got[sample_key(harness.CONNECTS, {"service": "smtps"})], 1)
        self.assertEqual(got[sample_key(harness.RELAY, {"service": "smtp"})], 1)
        self.assertEqual(got[sample_key(harness.FAILURES, {
            "method": "LOGIN", "reason": "bad_credentials", "service": "submission"})], 1)
        self.assertEqual(got[sample_key(harness.FAILURES, {
            "method": "PLAIN", "reason": "unspecified", "service": "smtp"})], 1)
        self.assertEqual(got[sample_key(harness.SUCCESSES, {"service": "submission"})], 1)
        self.assertEqual(got[sample_key(harness.SUCCESSES, {"service": "smtps"})], 1)
        self.assertEqual(got["postfix_anvil_connection_count_max"], 1)
        self.assertEqual(got[UP], 1)
        self.assertIn(LAG, got)

    def test_once_more_fixture_equals_its_log_twin(self):
        export_to_journal(fixture("postfix-more.export"), self.journal_file)
        self.assertEqual(exposition_lines(self.journal_once()),
                         exposition_lines(self.file_once(self.fixture_lines("postfix-more.log"))))

    # --- matching ------------------------------------------------------------

    def rhel_lines(self):
        return [l for l in self.fixture_lines("postfix.log") if re.search(r"\[4\d{3}\]:", l)]

    def debian_lines(self):
        return [l for l in self.fixture_lines("postfix.log") if re.search(r"\[2\d{3}\]:", l)]

    def test_unit_selects_only_that_unit(self):
        export_to_journal(fixture("postfix.export"), self.journal_file)
        journal = self.journal_once("--systemd.unit=postfix.service")
        self.assertEqual(exposition_lines(journal), exposition_lines(self.file_once(self.rhel_lines())))
        got = harness.parse_metrics(journal)
        self.assertEqual(got[LINES], 7)
        self.assertNotIn(sample_key(harness.CONNECTS, {"service": "submission"}), got)

    def test_slice_selects_only_that_slice(self):
        export_to_journal(fixture("postfix.export"), self.journal_file)
        journal = self.journal_once("--systemd.slice=system-postfix.slice")
        self.assertEqual(exposition_lines(journal),
                         exposition_lines(self.file_once(self.debian_lines())))
        got = harness.parse_metrics(journal)
        self.assertEqual(got[LINES], 10)
        self.assertNotIn(sample_key(harness.CONNECTS, {"service": "smtps"}), got)

    def test_units_and_slice_are_ored_and_only_postfix_identifiers_count(self):
        export_to_journal(fixture("postfix.export"), self.journal_file)
        got = harness.parse_metrics(self.journal_once(
            "--systemd.unit=cron.service", "--systemd.unit=postfix.service",
            "--systemd.slice=system-postfix.slice"))
        # Both Postfix parts, plus postdrop run from a cron job; CRON's own
        # entry is not Postfix's.
        self.assertEqual(got[LINES], FIRST_SELECTED + 1)
        got = harness.parse_metrics(self.journal_once("--systemd.unit=dovecot.service"))
        self.assertEqual(got[LINES], 0)

    # --- following -----------------------------------------------------------

    def test_follows_entries_appended_while_running(self):
        export_to_journal(fixture("postfix.export"), self.journal_file)
        exp = self.follow()
        # Started at the end: the entries already there are not counted.
        exp.wait_metrics({LINES: 0, UP: 1}, (LINES, UP))
        export_to_journal(fixture("postfix-more.export"), self.journal_file)
        oracle = harness.parse_metrics(self.file_once(self.fixture_lines("postfix-more.log")))
        self.wait_counters(exp, counters(oracle))
        got = exp.scrape()
        self.assertEqual(comparable(got), comparable(oracle),
                         "daemon metrics differ from the file source on the same entries")
        self.assertEqual(got[UP], 1)
        # A journal file that appears in the directory (journald starts one
        # per rotation) is read too.
        export_to_journal(shift_export(fixture("postfix-more.export"), 600),
                          os.path.join(self.journal_dir, "second.journal"))
        self.wait_counters(exp, {k: 2 * v for k, v in counters(oracle).items()})
        got = exp.scrape()
        self.assertIn(LAG, got)
        self.assertGreater(got[LAG], 0)  # the newest entry is from 2024
        self.assertEqual(exp.stop(signal.SIGTERM), 0)

    def test_journal_without_postfix_entries_yet(self):
        # Only cron and dovecot have logged so far.
        entries = fixture("postfix.export").split(b"\n\n")
        others = [e for e in entries if b"_SYSTEMD_UNIT=postfix" not in e and e.strip()]
        export_to_journal(b"\n\n".join(others) + b"\n\n", self.journal_file)
        exp = self.follow()
        exp.wait_metrics({LINES: 0, UP: 1}, (LINES, UP))
        export_to_journal(fixture("postfix-more.export"), self.journal_file)
        oracle = harness.parse_metrics(self.file_once(self.fixture_lines("postfix-more.log")))
        self.wait_counters(exp, counters(oracle))

    def test_cursor_file_restart_neither_loses_nor_repeats(self):
        export_to_journal(fixture("postfix.export"), self.journal_file)
        cursor = self.path("cursor")
        run1 = self.follow("--systemd.cursor_file=" + cursor)
        oracle = counters(harness.parse_metrics(
            self.file_once(self.fixture_lines("postfix-more.log"))))
        self.assertEqual(oracle[LINES], MORE_SELECTED)
        export_to_journal(fixture("postfix-more.export"), self.journal_file)
        self.wait_counters(run1, oracle)
        self.assertEqual(run1.stop(signal.SIGTERM), 0)
        self.assertTrue(os.path.exists(cursor), "no cursor file after SIGTERM")

        # Written while the exporter is down: run 2 (fresh counters) resumes
        # after the last entry run 1 counted, not at the end.
        export_to_journal(shift_export(fixture("postfix-more.export"), 600), self.journal_file)
        run2 = self.follow("--systemd.cursor_file=" + cursor)
        self.wait_counters(run2, oracle)
        export_to_journal(shift_export(fixture("postfix-more.export"), 1200), self.journal_file)
        self.wait_counters(run2, {k: 2 * v for k, v in oracle.items()})
        got = run2.scrape()
        self.assertEqual(got["postfix_exporter_log_last_timestamp_seconds"], 1715680872 + 1200)
        self.assertEqual(run2.stop(signal.SIGTERM), 0)


if __name__ == "__main__":
    harness.main(__doc__)
