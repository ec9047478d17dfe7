"""Processes a test starts and must stop: generic helpers beside psetest.py
(a separate module so neither file grows past the project's 600 lines).
Python 3 standard library only; Linux /proc.

  run(cmd, check=True)          runs cmd to completion, output to a file (not a
                                pipe: daemons it starts inherit and keep it);
                                CompletedProcess with .stdout text. A non-zero
                                exit fails (TestFailure) unless check=False.
  pid_alive(pid)                True while pid exists and is not a zombie.
  children_of(pid)              every descendant of pid, from /proc.
  pids_with_env(key, value)     processes whose environment has key=value
                                (e.g. Postfix daemons inherit MAIL_CONFIG).
  kill_pids(pids, what, log)    SIGTERM, a bounded wait, then SIGKILL: only the
                                given pids, never by name.
  read_pidfile(path)            the first number in a pid file, or None.
"""
import os
import signal
import subprocess
import tempfile
import time

from psetest import TestFailure


def run(cmd, check=True, env=None):
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out,
                              stderr=subprocess.STDOUT, env=env)
        out.seek(0)
        proc.stdout = out.read()
    if check and proc.returncode != 0:
        raise TestFailure("%s failed (%d):\n%s" % (" ".join(cmd), proc.returncode, proc.stdout))
    return proc


def _stat_fields(pid):
    with open("/proc/%s/stat" % pid) as f:
        # The command name in parentheses may contain spaces: split after it.
        return f.read().rsplit(")", 1)[1].split()


def pid_alive(pid):
    try:
        # A zombie has exited; it only waits for its parent to reap it.
        return _stat_fields(pid)[0] != "Z"
    except OSError:
        return False


def children_of(root_pid):
    parent = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            parent[int(entry)] = int(_stat_fields(entry)[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [], [root_pid]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        found += kids
        frontier += kids
    return found


def pids_with_env(key, value):
    needle = ("%s=%s" % (key, value)).encode()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open("/proc/%s/environ" % entry, "rb") as f:
                if needle in f.read().split(b"\0"):
                    out.append(int(entry))
        except OSError:
            continue
    return out


def kill_pids(pids, what, log=print):
    pids = [p for p in pids if pid_alive(p)]
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    end = time.monotonic() + 5
    while time.monotonic() < end and any(pid_alive(p) for p in pids):
        time.sleep(0.05)
    for p in pids:
        if pid_alive(p):
            log("%s pid %d ignored SIGTERM; SIGKILL" % (what, p))
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass


def read_pidfile(path):
    try:
        with open(path) as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
