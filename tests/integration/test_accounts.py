#!/usr/bin/env python3
"""Integration tests of the accounts at risk (--triage.top_usernames).

usage: test_accounts.py EXPORTER [unittest args, e.g. -k plain]

The real binary follows a log file with failed logins that name users
(Postfix >= 3.9) and messages submitted after AUTH (smtpd's client= line),
and is scraped over HTTP: the three by-username families, their labels
(keyed hashes by default, never the name), the operator's way back from a
hash (--triage.hash_username, the same binary) and a restart with the state
file.
"""
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
import harness  # noqa: E402  (puts tests/pylib on sys.path)
import psetest  # noqa: E402
from harness import append, stopped_cleanly  # noqa: E402
from psetest import check, log_line  # noqa: E402

FAILURES = "postfix_smtpd_sasl_failures_by_username_total"
MESSAGES = "postfix_smtpd_sasl_messages_by_username_total"
CLIENTS = "postfix_smtpd_sasl_username_clients"
PROGRAM = "postfix/submission/smtpd"

# A name with characters a client may choose: quote, backslash, brace,
# a control character, and invalid UTF-8.
HOSTILE = b'adm"in\\}{\x01\xff'


def accounts_log(first_second=0, first_pid=1000):
    """Failed logins: 12 as admin, 12 as the hostile name, 1 each as 4
    one-off names; messages: 10 by mallory from 10 networks, 10 by alice
    from one address, 1 by a one-off sender."""
    out = []
    second, pid = first_second, first_pid

    def add(message):
        nonlocal second, pid
        out.append(log_line(second, PROGRAM, pid, message))
        second += 1
        pid += 1

    for i in range(12):
        add("warning: unknown[192.0.2.%d]: SASL LOGIN authentication failed: "
            "UGFzc3dvcmQ6, sasl_username=admin" % i)
        add(b"warning: unknown[192.0.2.99]: SASL PLAIN authentication failed: "
            b"authentication failure, sasl_username=" + HOSTILE)
    for name in ("guess1", "guess2", "guess3", "guess4"):
        add("warning: unknown[203.0.113.5]: SASL LOGIN authentication failed: "
            "UGFzc3dvcmQ6, sasl_username=" + name)
    for i in range(10):
        add("4Xk2Pj1c3Zz%04d: client=h[198.51.%d.7], sasl_method=PLAIN, "
            "sasl_username=mallory@example.org" % (pid, i))
        add("4Xk2Pj1c3Zz%04d: client=h[192.0.2.200], sasl_method=PLAIN, "
            "sasl_username=alice@example.org, sasl_sender=alice@example.org" % pid)
    add("4Xk2Pj1c3Zz9999: client=h[192.0.2.201], sasl_method=LOGIN, "
        "sasl_username=zq-one-off-sender")
    return b"".join(l if isinstance(l, bytes) else l.encode() for l in out)


class AccountsTest(harness.TempDirTest):

    def follow(self, *extra):
        exp = self.start(["--postfix.logfile_path=" + self.path("mail.log"),
                          "--postfix.syslog_year=2024", "--triage.top_usernames=2",
                          "--triage.min_count=3"] + list(extra))
        exp.wait_ready()
        return exp

    def label(self, name, *extra):
        """The label the binary gives `name` (--triage.hash_username)."""
        proc = subprocess.run([harness.BINARY, "--triage.hash_username=" + name] + list(extra),
                              capture_output=True, timeout=20)
        check(proc.returncode == 0, "--triage.hash_username exit %d: %s"
              % (proc.returncode, proc.stderr.decode(errors="replace")))
        return proc.stdout.decode().strip()

    def wait_families(self, exp, expected):
        """Until every sample of the three families is as expected, and no
        other; a timeout names the samples that differ."""
        families = (FAILURES, MESSAGES, CLIENTS)
        last = {}

        def matches():
            got = exp.scrape()
            last.clear()
            last.update((k, v) for k, v in got.items() if k.split("{", 1)[0] in families)
            return last == expected and got
        try:
            return exp.wait_for(matches, "the by-username families to be as expected")
        except psetest.TestFailure as e:
            diff = harness.diff_samples(last, expected, families)
            extra = [(k, None, v) for k, v in sorted(last.items()) if k not in expected]
            raise psetest.TestFailure("%s; (key, expected, actual):\n  %s" % (
                e, "\n  ".join(map(repr, diff + [d for d in extra if d not in diff]))))

    def expected(self, admin, hostile, mallory, alice):
        def key(family, label):
            return psetest.sample_key(family, {"username": label})
        return {
            key(FAILURES, admin): 10, key(FAILURES, hostile): 10, key(FAILURES, "other"): 8,
            key(MESSAGES, mallory): 8, key(MESSAGES, alice): 8, key(MESSAGES, "other"): 5,
            # Counted from each series on (the third message).
            key(CLIENTS, mallory): 8, key(CLIENTS, alice): 1,
            key(CLIENTS, admin): 0, key(CLIENTS, hostile): 0,
        }

    def test_hashed_labels_never_show_a_name(self):
        key_file = self.path("key")
        with open(key_file, "wb") as f:
            f.write(os.urandom(32))
        append(self.path("mail.log"), "")
        exp = self.follow("--triage.username_hash_key_file=" + key_file)
        with open(self.path("mail.log"), "ab") as f:
            f.write(accounts_log())
        k = "--triage.username_hash_key_file=" + key_file
        hostile = self.label(HOSTILE.decode("utf-8", "surrogateescape"), k)
        want = self.expected(self.label("admin", k), hostile,
                             self.label("mallory@example.org", k),
                             self.label("alice@example.org", k))
        for label in want:
            check("h:" in label or "other" in label, "not a hash label: " + label)
        self.wait_families(exp, want)
        body = exp.get("/metrics")[2]
        for name in (b"admin", b"mallory", b"alice", b"guess", b"adm\"in", b"zq-one-off"):
            check(name not in body, "%r appears on /metrics without --triage.plain_usernames"
                  % name)
        stopped_cleanly(exp)

    def test_plain_labels_are_sanitised(self):
        append(self.path("mail.log"), "")
        exp = self.follow("--triage.plain_usernames")
        with open(self.path("mail.log"), "ab") as f:
            f.write(accounts_log())
        hostile = 'adm"in\\}{\ufffd\ufffd'
        check(self.label(HOSTILE.decode("utf-8", "surrogateescape"),
                         "--triage.plain_usernames") == hostile,
              "--triage.hash_username with --triage.plain_usernames is not the sanitised name")
        self.wait_families(exp, self.expected("admin", hostile, "mallory@example.org",
                                              "alice@example.org"))
        # The exposition stays valid: every line parses (parse_exposition
        # above), and the control byte never reaches it.
        check(b"\x01" not in exp.get("/metrics")[2], "a control byte reached /metrics")
        stopped_cleanly(exp)

    def test_per_install_key_survives_a_restart(self):
        state = "--state.file=" + self.path("state")
        append(self.path("mail.log"), "")
        exp = self.follow(state)
        with open(self.path("mail.log"), "ab") as f:
            f.write(accounts_log())
        # Without a key file the key is random, kept in the state file; the
        # binary reads it from there to map a name to its label.
        def saved():
            return os.path.exists(self.path("state")) and self.label("admin", state)
        exp.wait_for(saved, "a state file with the key")
        labels = [self.label(n, state) for n in
                  ("admin", HOSTILE.decode("utf-8", "surrogateescape"), "mallory@example.org",
                   "alice@example.org")]
        want = self.expected(*labels)
        self.wait_families(exp, want)
        stopped_cleanly(exp)
        check("per-install key" in exp.stderr(), "the random key is not logged at start")

        again = self.follow(state)
        self.wait_families(again, want)  # same labels, same values
        with open(self.path("mail.log"), "ab") as f:
            f.write(log_line(900, PROGRAM, 5000, "warning: unknown[192.0.2.1]: SASL LOGIN "
                             "authentication failed: x, sasl_username=admin").encode())
        want[psetest.sample_key(FAILURES, {"username": labels[0]})] += 1
        self.wait_families(again, want)
        stopped_cleanly(again)

    def test_off_by_default(self):
        append(self.path("mail.log"), "")
        exp = self.start(["--postfix.logfile_path=" + self.path("mail.log")])
        exp.wait_ready()
        body = exp.get("/metrics")[2]
        check(b"by_username" not in body and b"username_clients" not in body,
              "by-username families without --triage.top_usernames")
        stopped_cleanly(exp)


if __name__ == "__main__":
    harness.main(__doc__)
