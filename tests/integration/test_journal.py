#!/usr/bin/env python3
"""Integration tests of the real exporter reading the systemd journal.

usage: test_journal.py EXPORTER [unittest args]

Real journal files are built at test time from tests/fixtures/journal/*.export
with Debian's systemd-journal-remote (no journald needed); running it again
with the same --output appends to the file, as journald would while the
exporter reads it. The fixtures' .log twins hold exactly the entries the
default match selects as syslog lines, so the file source run in --once mode
on them is the oracle for what the journal source must produce.
"""
import difflib
import os
import re
import signal
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
import harness  # noqa: E402  (puts tests/pylib on sys.path)
import psetest  # noqa: E402
from harness import stopped_cleanly  # noqa: E402
from psetest import (CONNECTS, FAILURES, LINES, RELAY, SUCCESSES, TestFailure,  # noqa: E402
                     check, check_samples, parse_exposition, sample_key)

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "journal")
# Not in PATH on Debian; tests/integration.cmake passes the path it found.
JOURNAL_REMOTE_DIRS = os.pathsep.join(("/lib/systemd", "/usr/lib/systemd"))
JOURNAL_REMOTE = None  # set by JournalTest.setUp

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
    check(proc.returncode == 0, "%s exited %d: %s" % (JOURNAL_REMOTE, proc.returncode,
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


def same_lines(got, want):
    """Two sorted exposition_lines() lists are equal; the failure shows the
    lines only one of them has."""
    check(got == want, "expositions differ:\n%s" % "\n".join(
        difflib.unified_diff(want, got, "expected", "actual", lineterm="")))


class JournalTest(harness.TempDirTest):

    def setUp(self):
        super().setUp()
        global JOURNAL_REMOTE
        JOURNAL_REMOTE = psetest.require_tool(
            os.environ.get("PSE_JOURNAL_REMOTE", "systemd-journal-remote"),
            "systemd-journal-remote", path=JOURNAL_REMOTE_DIRS)
        self.journal_dir = self.path("journal")
        os.mkdir(self.journal_dir)
        self.journal_file = os.path.join(self.journal_dir, "remote.journal")

    def run_once(self, args):
        return psetest.run_once(harness.BINARY, args, timeout=60).text

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
        def counters_equal():
            got = counters(exp.scrape())
            over = [k for k in want if got.get(k, 0) > want[k]]
            check(not over, "counted twice? %s" % {k: (want[k], got.get(k)) for k in over})
            return got == want
        try:
            exp.wait_for(counters_equal, "counters equal %s" % want)
        except TestFailure:
            got = counters(exp.scrape())
            diff = {k: (want.get(k), got.get(k)) for k in set(want) | set(got)
                    if want.get(k) != got.get(k)}
            raise TestFailure("counters differ {key: (expected, actual)}: %s\n--- stderr:\n%s"
                              % (diff, exp.stderr()))

    # --- one-shot: same metrics as the file source ---------------------------

    def test_once_journal_equals_file_source(self):
        export_to_journal(fixture("postfix.export"), self.journal_file)
        journal = self.journal_once()
        with_file = self.run_once(["--postfix.logfile_path="
                                   + os.path.join(FIXTURES, "postfix.log")])
        same_lines(exposition_lines(journal), exposition_lines(with_file))
        got = parse_exposition(journal)
        # Not vacuous: the fixture's numbers, by hand.
        check_samples(got, {
            LINES: FIRST_SELECTED,
            sample_key(CONNECTS, {"service": "submission"}): 2,
            sample_key(CONNECTS, {"service": "smtp"}): 2,
            sample_key(CONNECTS, {"service": "smtps"}): 1,
            sample_key(RELAY, {"service": "smtp"}): 1,
            sample_key(FAILURES, {"method": "LOGIN", "reason": "bad_credentials",
                                  "service": "submission"}): 1,
            sample_key(FAILURES, {"method": "PLAIN", "reason": "unspecified",
                                  "service": "smtp"}): 1,
            sample_key(SUCCESSES, {"service": "submission"}): 1,
            sample_key(SUCCESSES, {"service": "smtps"}): 1,
            "postfix_anvil_connection_count_max": 1,
            UP: 1})
        check(LAG in got, "no %s" % LAG)

    def test_once_more_fixture_equals_its_log_twin(self):
        export_to_journal(fixture("postfix-more.export"), self.journal_file)
        same_lines(exposition_lines(self.journal_once()),
                   exposition_lines(self.file_once(self.fixture_lines("postfix-more.log"))))

    # --- matching ------------------------------------------------------------

    def rhel_lines(self):
        return [l for l in self.fixture_lines("postfix.log") if re.search(r"\[4\d{3}\]:", l)]

    def debian_lines(self):
        return [l for l in self.fixture_lines("postfix.log") if re.search(r"\[2\d{3}\]:", l)]

    def test_unit_selects_only_that_unit(self):
        export_to_journal(fixture("postfix.export"), self.journal_file)
        journal = self.journal_once("--systemd.unit=postfix.service")
        same_lines(exposition_lines(journal), exposition_lines(self.file_once(self.rhel_lines())))
        check_samples(parse_exposition(journal), {
            LINES: 7, sample_key(CONNECTS, {"service": "submission"}): None})

    def test_slice_selects_only_that_slice(self):
        export_to_journal(fixture("postfix.export"), self.journal_file)
        journal = self.journal_once("--systemd.slice=system-postfix.slice")
        same_lines(exposition_lines(journal),
                   exposition_lines(self.file_once(self.debian_lines())))
        check_samples(parse_exposition(journal), {
            LINES: 10, sample_key(CONNECTS, {"service": "smtps"}): None})

    def test_units_and_slice_are_ored_and_only_postfix_identifiers_count(self):
        export_to_journal(fixture("postfix.export"), self.journal_file)
        got = parse_exposition(self.journal_once(
            "--systemd.unit=cron.service", "--systemd.unit=postfix.service",
            "--systemd.slice=system-postfix.slice"))
        # Both Postfix parts, plus postdrop run from a cron job; CRON's own
        # entry is not Postfix's.
        check_samples(got, {LINES: FIRST_SELECTED + 1})
        # Dovecot's two entries are read (its auth failures refine Postfix's
        # unspecified ones); they count nothing else.
        got = parse_exposition(self.journal_once("--systemd.unit=dovecot.service"))
        check_samples(got, {LINES: 2})

    # --- following -----------------------------------------------------------

    def test_follows_entries_appended_while_running(self):
        export_to_journal(fixture("postfix.export"), self.journal_file)
        exp = self.follow()
        # Started at the end: the entries already there are not counted.
        harness.wait_metrics(exp, {LINES: 0, UP: 1}, (LINES, UP))
        export_to_journal(fixture("postfix-more.export"), self.journal_file)
        oracle = parse_exposition(self.file_once(self.fixture_lines("postfix-more.log")))
        self.wait_counters(exp, counters(oracle))
        got = exp.scrape()
        # Equal dicts: every oracle sample in the daemon's, and no others.
        check_samples(comparable(got), comparable(oracle),
                      "daemon metrics and the file source's on the same entries")
        check(set(comparable(got)) == set(comparable(oracle)),
              "samples only in one of daemon and file source: %s"
              % sorted(set(comparable(got)) ^ set(comparable(oracle))))
        check_samples(got, {UP: 1})
        # A journal file that appears in the directory (journald starts one
        # per rotation) is read too.
        export_to_journal(shift_export(fixture("postfix-more.export"), 600),
                          os.path.join(self.journal_dir, "second.journal"))
        self.wait_counters(exp, {k: 2 * v for k, v in counters(oracle).items()})
        got = exp.scrape()
        check(got.get(LAG, 0) > 0, "%s is %s, expected > 0 (the newest entry is from 2024)"
              % (LAG, got.get(LAG)))
        stopped_cleanly(exp, signal.SIGTERM)

    def test_journal_without_postfix_entries_yet(self):
        # Only cron and dovecot have logged so far.
        entries = fixture("postfix.export").split(b"\n\n")
        others = [e for e in entries if b"_SYSTEMD_UNIT=postfix" not in e and e.strip()]
        export_to_journal(b"\n\n".join(others) + b"\n\n", self.journal_file)
        exp = self.follow()
        harness.wait_metrics(exp, {LINES: 0, UP: 1}, (LINES, UP))
        export_to_journal(fixture("postfix-more.export"), self.journal_file)
        oracle = parse_exposition(self.file_once(self.fixture_lines("postfix-more.log")))
        self.wait_counters(exp, counters(oracle))

    def test_cursor_file_restart_neither_loses_nor_repeats(self):
        export_to_journal(fixture("postfix.export"), self.journal_file)
        cursor = self.path("cursor")
        run1 = self.follow("--systemd.cursor_file=" + cursor)
        oracle = counters(parse_exposition(
            self.file_once(self.fixture_lines("postfix-more.log"))))
        check_samples(oracle, {LINES: MORE_SELECTED})
        export_to_journal(fixture("postfix-more.export"), self.journal_file)
        self.wait_counters(run1, oracle)
        stopped_cleanly(run1, signal.SIGTERM)
        check(os.path.exists(cursor), "no cursor file after SIGTERM")

        # Written while the exporter is down: run 2 resumes after the last
        # entry run 1 counted, not at the end, on top of run 1's counters
        # (the state file carries them).
        export_to_journal(shift_export(fixture("postfix-more.export"), 600), self.journal_file)
        run2 = self.follow("--systemd.cursor_file=" + cursor)
        self.wait_counters(run2, {k: 2 * v for k, v in oracle.items()})
        export_to_journal(shift_export(fixture("postfix-more.export"), 1200), self.journal_file)
        self.wait_counters(run2, {k: 3 * v for k, v in oracle.items()})
        check_samples(run2.scrape(),
                      {"postfix_exporter_log_last_timestamp_seconds": 1715680872 + 1200})
        stopped_cleanly(run2, signal.SIGTERM)


if __name__ == "__main__":
    harness.main(__doc__)
