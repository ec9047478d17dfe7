"""Running and measuring processes: CPU time and peak RSS of a child (wait4 and
/usr/bin/time, or /proc/PID for a daemon), stopping one, the exporter's
environment, percentiles, the machine and package versions for the report."""

import os
import platform
import signal
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def proc_cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_status_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def run_measured(argv, stdout_path, env=None, stdin=None):
    """Runs a command to completion; returns wall, cpu, peak RSS (bytes), exit code.

    CPU time comes from wait4() (microseconds; it includes the few ms of
    /usr/bin/time itself). Peak RSS comes from /usr/bin/time's %M: Linux
    carries ru_maxrss across exec(), so a child forked straight from this
    (large) Python process would report Python's RSS, not the program's.
    """
    rss_file = stdout_path + ".rss"
    with open(stdout_path, "wb") as out, open(stdout_path + ".stderr", "wb") as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(["/usr/bin/time", "-o", rss_file, "-f", "%M"] + list(argv),
                             stdout=out, stderr=err, env=env, stdin=stdin)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
    with open(rss_file) as f:
        rss_kib = int(f.read().split()[-1])
    return {"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "user_s": ru.ru_utime,
            "sys_s": ru.ru_stime, "peak_rss_bytes": rss_kib * 1024, "exit": p.returncode}


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def exporter_env():
    env = dict(os.environ)
    env["TZ"] = "UTC"  # gen_corpus.py writes BSD stamps in UTC
    return env


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def machine_info():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    return {"nproc": os.cpu_count(), "cpu": cpu, "mem_gib": round(mem_kib / MIB, 1),
            "kernel": platform.release(), "loadavg_at_start": os.getloadavg(),
            "os": _os_release()}


def _os_release():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return platform.system()


def pkg_version(pkg):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
