#!/usr/bin/env python3
"""What the systemd unit relies on, without systemd: sd_notify and the watchdog.

usage: test_sd_notify.py EXPORTER UNIT_FILE

Starts the exporter with the flags of the unit's ExecStart= (state files in a
temp dir) the way systemd would for Type=notify and WatchdogSec= (a
NOTIFY_SOCKET datagram socket, WATCHDOG_USEC, WATCHDOG_PID), and checks:
- READY=1 arrives, and by then /metrics answers and the source is up;
- WATCHDOG=1 keeps arriving (at least 3 pings);
- SIGHUP (ExecReload=) leaves it running and serving;
- SIGTERM brings STOPPING=1 and exit status 0, and the state file (read
  position and counters) is saved in the state directory.
Every wait is bounded; the exporter is killed by pid if anything fails.
"""
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from psetest import (MailLog, check, free_port, http_get, parse_exposition,  # noqa: E402
                     run_main, wait_for)


def scrape(port):
    status, _, body = http_get("http://127.0.0.1:%d/metrics" % port)
    check(status == 200, "GET /metrics: status %d" % status)
    return parse_exposition(body.decode())


def exec_start_flags(unit_file, state_dir):
    text = re.sub(r"\\\n\s*", " ", open(unit_file).read())
    m = re.search(r"^ExecStart=(.*)$", text, re.M)
    check(m, "no ExecStart= in " + unit_file)
    argv = shlex.split(m.group(1))
    check(argv[-1] == "$ARGS", "ExecStart= does not end in $ARGS")
    return [a.replace("/var/lib/postfix-sasl-exporter", state_dir) for a in argv[1:-1]]


# Flags that name the state file (aliases: the exporter keeps one state file).
STATE_FLAGS = ("--state.file=", "--postfix.logfile_position_file=", "--systemd.cursor_file=")


def state_file(flags):
    """The one state file the unit's flags name."""
    paths = {f.split("=", 1)[1] for f in flags if f.startswith(STATE_FLAGS)}
    check(len(paths) == 1, "ExecStart= must name exactly one state file (%s are aliases), "
          "names %s" % (", ".join(f[:-1] for f in STATE_FLAGS), sorted(paths)))
    return paths.pop()


def test(exporter, unit_file):
    with tempfile.TemporaryDirectory(prefix="pse-notify-") as tmp:
        state = os.path.join(tmp, "state")
        os.mkdir(state)
        log = os.path.join(tmp, "mail.log")
        with open(log, "w") as f:
            f.write(MailLog(host="mx").sent_mail())  # one session: one submission connect
        sock_path = os.path.join(tmp, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(sock_path)
        sock.settimeout(0.5)
        port = free_port()
        env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="1000000")
        env.pop("WATCHDOG_PID", None)  # unset: the exporter takes the watchdog as its own
        flags = exec_start_flags(unit_file, state)
        saved = state_file(flags)
        cmd = [exporter] + flags + [
            "--postfix.logfile_path=" + log, "--postfix.logfile_from_beginning",
            "--web.listen-address=127.0.0.1:%d" % port]
        errlog = open(os.path.join(tmp, "stderr"), "w+")
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errlog)
        messages = []

        def received(pred, what, seconds=20):
            """Collects notifications (each recv waits up to 0.5 s) until pred()."""
            def step():
                if pred():
                    return True
                check(proc.poll() is None, "exporter exited %s while waiting for %s: %s" % (
                    proc.returncode, what, open(errlog.name).read()))
                try:
                    messages.extend(sock.recv(4096).decode().splitlines())
                except socket.timeout:
                    pass
                return pred()
            wait_for(step, what, deadline=seconds, interval=0,
                     context=lambda: "notifications so far: %s" % messages)

        try:
            received(lambda: "READY=1" in messages, "READY=1")
            metrics = scrape(port)  # bound before READY=1, so no retry needed
            check(metrics.get("postfix_exporter_source_up") == 1, "source not up at READY=1")
            received(lambda: messages.count("WATCHDOG=1") >= 3, "3 WATCHDOG=1 pings")

            proc.send_signal(signal.SIGHUP)
            received(lambda: messages.count("WATCHDOG=1") >= 5, "pings after SIGHUP")
            check(scrape(port).get('postfix_smtpd_connects_total{service="submission"}') == 1,
                  "wrong count after SIGHUP")

            proc.send_signal(signal.SIGTERM)
            received(lambda: "STOPPING=1" in messages, "STOPPING=1")
            rc = proc.wait(30)
            check(rc == 0, "exit status %d after SIGTERM" % rc)
            check(os.path.dirname(saved) == state and os.path.isfile(saved),
                  "%s not saved in the state directory: %s" % (saved, os.listdir(state)))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
            errlog.close()
            sock.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    run_main(test, os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]))
