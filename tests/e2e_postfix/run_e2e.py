#!/usr/bin/env python3
"""End-to-end test against a real Postfix with real Dovecot SASL.

Starts a private Postfix instance (own config, queue and data directories under a
temporary directory, listening only on 127.0.0.1 high ports) with three smtpd
services -- `smtp` without SASL, `submission` (STARTTLS, smtpd_tls_auth_only,
Dovecot SASL) and `smtps` (TLS wrapper mode) -- and `screened`, postscreen in
front of a fourth smtpd, logging through postlogd to a `maillog_file`, and a
private Dovecot that only serves SASL auth to it. Mail for e2e.test is
delivered by virtual(8) into a maildir; mail for sink.test is relayed by the
smtp client to a loopback SMTP sink (smtp_sink.py) that accepts, defers or
bounces each recipient by its name. The exporter under test follows that log
file live while a scripted SMTP client (Python smtplib) logs in, fails in
every way we can provoke, is refused relay, talks before postscreen's
greeting, passes postscreen, is refused by an access map and by
header_checks, relays mail that is sent, deferred and bounced, meets a
stopped Dovecot and opens bursts of simultaneous sessions. The client records
what it did; at the end /metrics must equal that record exactly: connects,
successes, failures by method and reason, backend errors, relay denials and
peak sessions per service (issue 13's list), disconnects, open sessions,
queued messages by SASL method, rejects by code, connections lost after AUTH,
anvil's connection count, and the mail flow (issue 14 item 8): delivery
status by transport/status/DSN class, delivery delays once per attempt and
per smtp line, qmgr arrivals (recipients, sizes) and removals, cleanup's
messages and rejects, bounce notices and postscreen's verdicts; and inbound
TLS handshakes by protocol and cipher.

With --syslog (issue 15 item 5), the same scenario and expectations, but
Postfix logs through syslog(3) (maillog_file empty) and every postfix command
runs in a private mount namespace whose /dev/log is the exporter's
--syslog.listen-address unixgram socket (devlog_namespace.py; the host's
/dev/log is untouched); the exporter starts first and receives RFC 3164
datagrams without a hostname.

Usage (as root):
  run_e2e.py EXPORTER_BINARY [--syslog] [--keep] [--save-log PATH]
  run_e2e.py --no-exporter [--keep] [--save-log PATH]   # scenario + truth only

Exit status: 0 pass, 1 mismatch or error, including missing prerequisites (not
root, or Postfix/Dovecot/OpenSSL not installed: run scripts/install-deps.sh --test).

The modules, one job each (this file is the runner):
  e2e_common.py        constants (domains, users, bursts), log(), wait_for()
  postfix_instance.py  main.cf / master.cf, start/stop, smtpd sessions in the log
  dovecot_instance.py  dovecot_conf() and start/stop of the auth-only Dovecot
  world.py             the temporary directory, certificate, ports, the exporter,
                       start order and shutdown
  devlog_namespace.py  a command in a mount namespace whose /dev/log is a socket
  smtp_client.py       the scripted SMTP client; each action records its effect
  smtp_sink.py         the next hop Postfix relays to: 250/451/550 by recipient
  scenario.py          the sessions, phase by phase
  truth.py             the client's record -> expected metric families, compare
Generic process helpers are in tests/pylib/pseproc.py.

Nothing is started system-wide: every process is started here, tracked by pid
and stopped in a finally block (and atexit, for signals turned into SystemExit);
the temporary directory is removed unless --keep is given.
"""

import argparse
import atexit
import os
import shutil
import signal
import sys
import time

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_common import log, wait_for  # noqa: E402  (puts tests/pylib on sys.path)
import psetest  # noqa: E402
from psetest import TestFailure  # noqa: E402
import pseproc  # noqa: E402
from scenario import scenario  # noqa: E402
from truth import Truth, compare, expected_families, save_truth  # noqa: E402
from world import World  # noqa: E402


def lines_read(world):
    return world.scrape().value("postfix_exporter_log_lines_total")


def held(world):
    """Failures the exporter still holds, waiting for Dovecot's reason."""
    return world.scrape().value("postfix_exporter_sasl_failures_held")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("exporter", nargs="?", help="postfix_sasl_exporter binary")
    ap.add_argument("--no-exporter", action="store_true",
                    help="run the scenario and print the truth only")
    ap.add_argument("--syslog", action="store_true",
                    help="Postfix logs through syslog(3) to the exporter's socket, not to a file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--save-log", help="copy the resulting log here")
    ap.add_argument("--save-truth", help="write the client's record (expected metrics) here, as JSON")
    args = ap.parse_args()
    if not args.exporter and not args.no_exporter:
        ap.error("give the exporter binary or --no-exporter")
    if args.syslog and not args.exporter:
        ap.error("--syslog needs the exporter: it receives the log")

    try:
        psetest.require_root("starts a private Postfix and Dovecot")
        for tool, package in (("postfix", "postfix"), ("postconf", "postfix"),
                              ("dovecot", "dovecot-core"), ("openssl", "openssl")):
            psetest.require_tool(tool, package)
        if args.syslog:
            for tool in ("unshare", "mount"):
                psetest.require_tool(tool, "util-linux")
    except TestFailure as e:
        log("FAIL: %s" % e)
        return 1
    if args.exporter and not os.access(args.exporter, os.X_OK):
        log("exporter binary %s is not executable" % args.exporter)
        return 1

    version = pseproc.run(["postconf", "-d", "-h", "mail_version"]).stdout.strip()
    log("Postfix %s, %s" % (version, pseproc.run(["dovecot", "--version"]).stdout.strip()))
    truth = Truth(version)
    world = World(args.keep, syslog=args.syslog)
    atexit.register(world.shutdown)
    # SIGTERM (ctest timeout) must still clean up: turn it into SystemExit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    status = 1
    try:
        world.configure()
        if args.syslog:  # the socket must exist before Postfix logs
            world.start_exporter(os.path.abspath(args.exporter))
        world.start_postfix()
        world.start_dovecot()
        if args.exporter and not args.syslog:
            world.start_exporter(os.path.abspath(args.exporter))
        started = time.monotonic()
        scenario(world, truth)
        log("scenario done in %.1fs" % (time.monotonic() - started))
        psetest.check(sorted(world.sink.messages()) == sorted(truth.sink_messages),
                      "the sink accepted %r, the client expected %r"
                      % (world.sink.messages(), truth.sink_messages))
        # Stop the servers first so the log is final (their stop lines included).
        world.postfix.stop()
        world.stop_dovecot()
        if args.save_log:
            shutil.copyfile(world.log_path(), args.save_log)
            log("saved log to " + args.save_log)
        log("client journal:\n  " + "\n  ".join(truth.journal))
        if args.save_truth:
            save_truth(truth, args.save_truth)
        if not args.exporter:
            for name, fam in expected_families(truth).items():
                log("truth %s %s" % (name, sorted(fam.items())))
            status = 0
            return status
        if args.syslog:
            # master's last words are the last datagram; once the exporter
            # has echoed them, the echo holds every message.
            wait_for(lambda: "terminating on signal" in world.read_log(),
                     "master's 'terminating on signal' at the exporter", deadline=30)
        with open(world.log_path(), "rb") as f:
            n_lines = f.read().count(b"\n")
        try:
            # ... and to count the failures it held for Dovecot's reason.
            wait_for(lambda: lines_read(world) == n_lines and held(world) == 0,
                     "exporter to read all %d log lines" % n_lines, deadline=30)
        except TestFailure as e:
            raise TestFailure("%s (it has read %s)\nexporter stderr:\n%s" % (
                e, lines_read(world), world.exporter_stderr()))
        samples = world.scrape()
        mismatches = compare(truth, samples, world.read_log())
        if mismatches:
            log("%d metric families differ from what the client did" % mismatches)
        else:
            log("PASS: all metric families equal the client's record")
            status = 0
    except Exception as e:
        if isinstance(e, TestFailure):
            log("ERROR: %s" % e)
        else:
            import traceback
            log("ERROR:\n" + traceback.format_exc())
        tail = world.read_log().splitlines()[-40:]
        if tail:
            log("last log lines:\n    " + "\n    ".join(tail))
    finally:
        world.shutdown()
    return status


if __name__ == "__main__":
    sys.exit(main())
