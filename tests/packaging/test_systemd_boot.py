#!/usr/bin/env python3
"""The systemd unit under a real systemd: a Debian 12 root booted in
systemd-nspawn.

usage: test_systemd_boot.py EXPORTER UNIT_FILE [--cache DIR]

The root is made once with debootstrap (minbase + systemd + the shared
libraries the exporter links, found with ldd/dpkg-query) from the Debian
mirror apt uses, and cached outside the repository (default
/var/tmp/pse-systemd-boot, or $PSE_SYSTEMD_ROOT_CACHE); its name carries a
hash of the package list, so a new dependency makes a new root. Each run
boots it with --volatile=overlay (writes go to a tmpfs; the cached root is
never changed), with the exporter, the unit and /etc/default/... bound in.
The unit is the shipped one; one drop-in shortens WatchdogSec= to 3s and
RestartSec= to 1s so the watchdog case is quick.

Checks:
- Type=notify: `systemctl start` returns (systemd got READY=1) and then
  /-/ready answers 200 and the unit is active/running;
- DynamicUser=: the main process runs as a dynamic UID (61184-65519) with
  the systemd-journal group;
- journal access under the hardening: entries logged by a unit in
  system-postfix.slice are counted exactly;
- watchdog: a stopped (SIGSTOP) exporter is aborted by systemd ("Watchdog
  timeout", SIGABRT) and restarted (Restart=on-failure); the new process
  continues the counters exactly from the state file in the unit's
  StateDirectory (/var/lib/private/postfix-sasl-exporter/state, mode 0600,
  owned by the dynamic user).

Needs root, systemd-nspawn (systemd-container) and debootstrap; every wait
is bounded and the container is powered off (then killed) in any case.
Loopback only: the container shares the host's network namespace.
"""
import argparse
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import psetest  # noqa: E402
from psetest import CONNECTS, check, free_port, http_get, parse_exposition, wait_for  # noqa: E402

UNIT = "postfix-sasl-exporter.service"
SUITE = "bookworm"
STATE = "/var/lib/private/postfix-sasl-exporter/state"
DYNAMIC_UIDS = range(61184, 65520)
BOOT_DEADLINE_S = 90
DEBOOTSTRAP_TIMEOUT_S = 900


def debian_mirror():
    """The first Debian mirror apt is configured with (only Debian's
    repository may be reachable)."""
    for path in ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list"):
        try:
            text = open(path).read()
        except OSError:
            continue
        m = re.search(r"^URIs:\s*(\S+/debian)\s*$", text, re.M) or \
            re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)\s+", text, re.M)
        if m:
            return m.group(1)
    return "http://deb.debian.org/debian"


def runtime_packages(exporter):
    """Debian packages holding the shared libraries the exporter links."""
    out = subprocess.run(["ldd", exporter], capture_output=True, text=True, timeout=60).stdout
    libs = [m.group(1) for m in re.finditer(r"=>\s*(/\S+)", out)]
    check(libs, "ldd found no libraries in " + exporter)
    pkgs = set()
    for lib in libs:
        real = os.path.realpath(lib)
        for path in {lib, real, real.replace("/usr/lib/", "/lib/", 1),
                     real.replace("/lib/", "/usr/lib/", 1)}:
            res = subprocess.run(["dpkg-query", "-S", path], capture_output=True, text=True,
                                 timeout=60)
            if res.returncode == 0:
                pkgs.add(res.stdout.split(":", 1)[0].strip())
                break
        else:
            raise psetest.TestFailure("no Debian package holds %s (needed by %s)" % (lib, exporter))
    return sorted(pkgs)


def cached_root(cache, packages):
    """The booted root for `packages`, made with debootstrap when missing."""
    include = sorted({"systemd", "systemd-sysv", "dbus"} | set(packages))
    key = hashlib.sha256(("%s %s" % (SUITE, " ".join(include))).encode()).hexdigest()[:12]
    root = os.path.join(cache, "%s-%s" % (SUITE, key))
    if os.path.isfile(os.path.join(root, ".pse-complete")):
        return root
    os.makedirs(cache, exist_ok=True)
    tmp = root + ".partial"
    shutil.rmtree(tmp, ignore_errors=True)
    debootstrap = psetest.require_tool("debootstrap", "debootstrap")
    mirror = debian_mirror()
    print("making %s from %s (once; cached)" % (root, mirror), flush=True)
    res = subprocess.run([debootstrap, "--variant=minbase", "--include=" + ",".join(include),
                          SUITE, tmp, mirror], capture_output=True, text=True,
                         timeout=DEBOOTSTRAP_TIMEOUT_S)
    check(res.returncode == 0, "debootstrap exited %d:\n%s" % (res.returncode,
                                                             (res.stdout + res.stderr)[-3000:]))
    open(os.path.join(tmp, ".pse-complete"), "w").close()
    shutil.rmtree(root, ignore_errors=True)
    os.rename(tmp, root)
    return root


class Container:
    """One boot of `root` in systemd-nspawn; run() executes a command in it
    (nsenter into the container's namespaces: no machined needed)."""

    def __init__(self, nspawn, root, binds, log_path):
        self.name = "pse-boot-%d" % os.getpid()
        argv = [nspawn, "--quiet", "--directory=" + root, "--machine=" + self.name,
                "--volatile=overlay", "--boot", "--register=no", "--keep-unit",
                "--console=passive"]
        argv += ["--bind-ro=%s:%s" % (src, dst) for src, dst in binds]
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT)
        self.leader = None

    def log(self):
        self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")[-3000:]

    def _find_leader(self):
        check(self.proc.poll() is None, "systemd-nspawn exited %s:\n%s"
              % (self.proc.returncode, self.log()))
        try:
            with open("/proc/%d/task/%d/children" % (self.proc.pid, self.proc.pid)) as f:
                kids = f.read().split()
        except OSError:
            return None
        return int(kids[0]) if kids else None

    def run(self, *cmd, timeout=60, ok=True):
        argv = ["nsenter", "--target=%d" % self.leader, "--mount", "--uts", "--ipc", "--net",
                "--pid", "--"] + list(cmd)
        res = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        if ok:
            check(res.returncode == 0, "in the container, %s exited %d: %s%s"
                  % (" ".join(cmd), res.returncode, res.stdout[-2000:], res.stderr[-2000:]))
        return res

    def boot(self):
        self.leader = wait_for(self._find_leader, "the container's init", BOOT_DEADLINE_S)

        def booted():
            state = self.run("systemctl", "is-system-running", ok=False).stdout.strip()
            return state if state in ("running", "degraded") else None
        state = wait_for(booted, "systemd in the container to finish booting", BOOT_DEADLINE_S,
                         context=self.log)
        if state == "degraded":
            print("note: container is degraded:\n" + self.run(
                "systemctl", "--failed", "--no-pager", ok=False).stdout, flush=True)

    def show(self, prop):
        return self.run("systemctl", "show", "--value", "-p", prop, UNIT).stdout.strip()

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # nspawn: orderly poweroff
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def scrape(port):
    status, _, body = http_get("http://127.0.0.1:%d/metrics" % port)
    check(status == 200, "GET /metrics: %d" % status)
    return parse_exposition(body.decode())


def log_connects(ct, batch, first, count):
    """`count` Postfix connect lines logged by a unit in
    system-postfix.slice (Debian's postfix@-.service lives there)."""
    # The shell lingers: journald looks up the slice of a stdout stream's
    # peer when it reads a line, and finds none for a process that has gone.
    script = "".join('echo "connect from client%d.example[192.0.2.%d]"; ' % (i, i % 250 + 1)
                     for i in range(first, first + count)) + "sleep 1"
    ct.run("systemd-run", "--quiet", "--wait", "--slice=system-postfix",
           "--unit=postfix@%s.service" % batch, "-p", "SyslogIdentifier=postfix/smtpd",
           "/bin/sh", "-c", script)


def wait_connects(ct, port, want):
    """Until the counter is exactly `want`; above it fails at once."""
    def equal():
        if not ct.show("ActiveState") == "active":
            return False
        try:
            got = scrape(port).total(CONNECTS)
        except OSError:
            return False
        check(got <= want, "counted %d connects, only %d were logged" % (got, want))
        return got == want
    def context():
        return (ct.run("journalctl", "--no-pager", "-n", "30", "-u", UNIT, ok=False).stdout +
                "\n--- the Postfix entries' unit and slice:\n" +
                ct.run("journalctl", "--no-pager", "-o", "verbose", "--output-fields="
                       "_SYSTEMD_UNIT,_SYSTEMD_SLICE,MESSAGE", "SYSLOG_IDENTIFIER=postfix/smtpd",
                       ok=False).stdout[-3000:])
    wait_for(equal, "postfix_smtpd_connects_total == %d" % want, 30, context=context)


def test(exporter, unit_file, cache):
    psetest.require_root("systemd-nspawn boots a container")
    nspawn = psetest.require_tool("systemd-nspawn", "systemd-container")
    psetest.require_tool("nsenter", "util-linux")
    root = cached_root(cache, runtime_packages(exporter))
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="pse-boot-") as tmp:
        default = os.path.join(tmp, "default")
        with open(default, "w") as f:
            f.write('ARGS="--web.listen-address=127.0.0.1:%d --systemd.enable"\n' % port)
        dropin = os.path.join(tmp, "dropin")
        os.mkdir(dropin)
        with open(os.path.join(dropin, "test.conf"), "w") as f:
            f.write("[Service]\nWatchdogSec=3s\nRestartSec=1s\n")
        binds = [(os.path.abspath(exporter), "/usr/bin/postfix_sasl_exporter"),
                 (os.path.abspath(unit_file), "/etc/systemd/system/" + UNIT),
                 (default, "/etc/default/postfix-sasl-exporter"),
                 (dropin, "/etc/systemd/system/%s.d" % UNIT)]
        ct = Container(nspawn, root, binds, os.path.join(tmp, "nspawn.log"))
        try:
            ct.boot()

            # Type=notify: start returns once systemd has READY=1.
            ct.run("systemctl", "start", UNIT, timeout=60)
            check((ct.show("ActiveState"), ct.show("SubState")) == ("active", "running"),
                  "after start: %s/%s" % (ct.show("ActiveState"), ct.show("SubState")))
            status, _, _ = http_get("http://127.0.0.1:%d/-/ready" % port)
            check(status == 200, "READY=1 was sent but /-/ready answers %d" % status)

            # DynamicUser=, SupplementaryGroups=.
            pid = ct.show("MainPID")
            proc_status = ct.run("cat", "/proc/%s/status" % pid).stdout
            uid = int(re.search(r"^Uid:\s+(\d+)", proc_status, re.M).group(1))
            check(uid in DYNAMIC_UIDS, "main process runs as uid %d, not a dynamic one" % uid)
            groups = re.search(r"^Groups:(.*)$", proc_status, re.M).group(1).split()
            journal_gid = ct.run("getent", "group", "systemd-journal").stdout.split(":")[2]
            check(journal_gid in groups, "not in group systemd-journal (%s): %s"
                  % (journal_gid, groups))

            # The journal is readable under the hardening.
            log_connects(ct, "a", 0, 7)
            wait_connects(ct, port, 7)
            check(scrape(port).value("postfix_exporter_source_up") == 1, "source not up")

            # Watchdog: a hung exporter is aborted and restarted, and goes on
            # from its state file. The scrape above saved the state.
            check(ct.show("NRestarts") == "0", "restarted before the test: " + ct.show("NRestarts"))
            ct.run("/bin/sh", "-c", "kill -STOP %s" % pid)
            wait_for(lambda: ct.show("NRestarts") == "1" and ct.show("SubState") == "running",
                     "systemd to abort and restart the stopped exporter", 60,
                     context=lambda: ct.run("journalctl", "--no-pager", "-n", "30", ok=False).stdout)
            check(ct.show("MainPID") != pid, "same main PID after the restart")
            journal = ct.run("journalctl", "--no-pager", "-o", "cat", "-u", UNIT).stdout
            check("Watchdog timeout" in journal, "no watchdog timeout logged:\n" + journal[-2000:])
            check("ABRT" in journal, "not aborted with SIGABRT:\n" + journal[-2000:])
            wait_connects(ct, port, 7)  # restored, nothing read twice
            log_connects(ct, "b", 7, 4)
            wait_connects(ct, port, 11)  # and nothing lost

            # The state file is in the StateDirectory, private to the user.
            st = ct.run("stat", "-c", "%u %a", STATE).stdout.split()
            check(st == [str(uid), "600"] or (st[1] == "600" and int(st[0]) in DYNAMIC_UIDS),
                  "%s: owner/mode %s" % (STATE, st))
        finally:
            ct.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("exporter")
    parser.add_argument("unit_file")
    parser.add_argument("--cache", default=os.environ.get("PSE_SYSTEMD_ROOT_CACHE",
                                                          "/var/tmp/pse-systemd-boot"))
    opts = parser.parse_args()
    psetest.run_main(test, opts.exporter, opts.unit_file, opts.cache)


if __name__ == "__main__":
    main()
