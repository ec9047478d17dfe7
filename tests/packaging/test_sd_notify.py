#!/usr/bin/env python3
"""What the systemd unit relies on, without systemd: sd_notify and the watchdog.

usage: test_sd_notify.py EXPORTER UNIT_FILE

Starts the exporter with the flags of the unit's ExecStart= (state files in a
temp dir) the way systemd would for Type=notify and WatchdogSec= (a
NOTIFY_SOCKET datagram socket, WATCHDOG_USEC, WATCHDOG_PID), and checks:
- READY=1 arrives, and by then /metrics answers and the source is up;
- WATCHDOG=1 keeps arriving (at least 3 pings);
- SIGHUP (ExecReload=) leaves it running and serving;
- SIGTERM brings STOPPING=1 and exit status 0, and the read position is saved
  in the state directory.
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
import time
import urllib.request

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pkgtest import check, main, samples  # noqa: E402

LOG_LINES = [
    "Jan 10 10:00:00 mx postfix/submission/smtpd[100]: connect from c.example[192.0.2.1]",
    "Jan 10 10:00:01 mx postfix/submission/smtpd[100]: disconnect from c.example[192.0.2.1] "
    "ehlo=1 auth=1 quit=1 commands=3",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open("http://127.0.0.1:%d/metrics" % port, timeout=5) as resp:
        return samples(resp.read().decode())


def exec_start_flags(unit_file, state_dir):
    text = re.sub(r"\\\n\s*", " ", open(unit_file).read())
    m = re.search(r"^ExecStart=(.*)$", text, re.M)
    check(m, "no ExecStart= in " + unit_file)
    argv = shlex.split(m.group(1))
    check(argv[-1] == "$ARGS", "ExecStart= does not end in $ARGS")
    return [a.replace("/var/lib/postfix-sasl-exporter", state_dir) for a in argv[1:-1]]


def test(exporter, unit_file):
    with tempfile.TemporaryDirectory(prefix="pse-notify-") as tmp:
        state = os.path.join(tmp, "state")
        os.mkdir(state)
        log = os.path.join(tmp, "mail.log")
        with open(log, "w") as f:
            f.write("\n".join(LOG_LINES) + "\n")
        sock_path = os.path.join(tmp, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(sock_path)
        sock.settimeout(0.5)
        port = free_port()
        env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="1000000")
        env.pop("WATCHDOG_PID", None)  # unset: the exporter takes the watchdog as its own
        cmd = [exporter] + exec_start_flags(unit_file, state) + [
            "--postfix.logfile_path=" + log, "--postfix.logfile_from_beginning",
            "--web.listen-address=127.0.0.1:%d" % port]
        errlog = open(os.path.join(tmp, "stderr"), "w+")
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errlog)
        messages = []

        def wait_for(pred, what, seconds=20):
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                if pred():
                    return
                check(proc.poll() is None, "exporter exited %s while waiting for %s: %s" % (
                    proc.returncode, what, open(errlog.name).read()))
                try:
                    messages.extend(sock.recv(4096).decode().splitlines())
                except socket.timeout:
                    pass
            check(False, "no %s within %d s; got %s" % (what, seconds, messages))

        try:
            wait_for(lambda: "READY=1" in messages, "READY=1")
            metrics = scrape(port)  # bound before READY=1, so no retry needed
            check(metrics.get("postfix_exporter_source_up") == 1, "source not up at READY=1")
            wait_for(lambda: messages.count("WATCHDOG=1") >= 3, "3 WATCHDOG=1 pings")

            proc.send_signal(signal.SIGHUP)
            wait_for(lambda: messages.count("WATCHDOG=1") >= 5, "pings after SIGHUP")
            check(scrape(port).get('postfix_smtpd_connects_total{service="submission"}') == 1,
                  "wrong count after SIGHUP")

            proc.send_signal(signal.SIGTERM)
            wait_for(lambda: "STOPPING=1" in messages, "STOPPING=1")
            rc = proc.wait(30)
            check(rc == 0, "exit status %d after SIGTERM" % rc)
            check(os.path.isfile(os.path.join(state, "logfile.position")),
                  "no position file in the state directory: %s" % os.listdir(state))
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
            errlog.close()
            sock.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(lambda: test(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])))
