#!/usr/bin/env python3
"""The end-to-end benchmark behind bench/run.sh. Python 3 standard library only.

Parts (each prints its table; all tables go to bench/results/latest.md and
every number to bench/results/latest.json):

  replay    --once over a generated corpus (default 2,000,000 lines): wall time,
            CPU time (user+sys), peak RSS, lines per wall and per CPU second;
            the output is checked against the generator's expected values.
            Then the same corpus through the tools users would pick instead,
            in the same run: Debian's prometheus-postfix-exporter (kumina's Go
            exporter; it only follows new lines, so the corpus is appended to
            a file it follows and its /metrics polled until its counters reach
            the corpus counts) and mtail --one_shot with Debian's example
            postfix.mtail. Our exporter is also measured the Go exporter's way
            (follow an empty file, append, poll), so both modes have a peer.
  live      a followed file gets lines appended at fixed rates while a client
            scrapes 10 times a second: CPU per line, write-to-visible delay of
            marker lines, scrape latency percentiles.
  memory    adversarial inputs: 1 million distinct client addresses and user
            names in failure lines; 100k and 1M sessions that never end.

Numbers are from whatever machine runs this; the ratios are measured in the
same run. Benchmarks are not tests: nothing here fails the test suite.
"""

import argparse
import gzip
import hashlib
import http.client
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import promcheck  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024
MTAIL_EXAMPLE = "/usr/share/doc/mtail/examples/postfix.mtail"
KUMINA = "prometheus-postfix-exporter"
DEFAULT_MAX_TRACKED = 16384  # --sessions.max_tracked default (README)


# ---------------------------------------------------------------- utilities
def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


class Scraper:
    """A keep-alive HTTP client that asks like Prometheus does (gzip)."""

    def __init__(self, port, path="/metrics", gzip_ok=True):
        self.port = port
        self.path = path
        self.gzip_ok = gzip_ok
        self.conn = None

    def get(self, timeout=5.0):
        headers = {"Accept": "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"}
        if self.gzip_ok:
            headers["Accept-Encoding"] = "gzip"
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
                t0 = time.perf_counter()
                self.conn.request("GET", self.path, headers=headers)
                resp = self.conn.getresponse()
                body = resp.read()
                dt = time.perf_counter() - t0
                if resp.getheader("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                if resp.status != 200:
                    raise OSError("HTTP %d" % resp.status)
                return body.decode("utf-8", "replace"), dt
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def close(self):
        if self.conn is not None:
            self.conn.close()


def wait_http(port, deadline_s=15.0, path="/metrics"):
    s = Scraper(port, path, gzip_ok=False)
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            s.get(timeout=1.0)
            s.close()
            return True
        except (OSError, http.client.HTTPException):
            time.sleep(0.05)
    return False


def settled(scraper, deadline_s=10.0):
    """Scrapes until two scrapes in a row agree. One scrape is not a snapshot:
    families are collected one after another while the ingest thread counts
    on, so the scrape that first shows the last line counted may show other
    counters from a moment earlier."""
    prev = None
    end = time.monotonic() + deadline_s
    while True:
        text, _ = scraper.get(timeout=30)
        samples = promcheck.parse_text(text)
        # Process and Go runtime metrics change on every scrape; the log's do not.
        cur = {k: v for k, v in samples.items() if k[0].startswith("postfix_")}
        if cur == prev or time.monotonic() > end:
            return samples
        prev = cur
        time.sleep(0.05)


def value(samples, name, **labels):
    want = frozenset(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def fmt_int(n):
    return "{:,}".format(int(round(n)))


def fmt_rate(x):
    if x >= 1e6:
        return "%.2f M" % (x / 1e6)
    if x >= 1e3:
        return "%.0f k" % (x / 1e3)
    return "%.0f" % x


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(out)


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


# ---------------------------------------------------------------- corpora
def generator_hash():
    with open(os.path.join(HERE, "gen_corpus.py"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


def corpus(results, profile, lines, seed=1, timestamps="bsd"):
    """Generates (or reuses) a corpus; returns (log path, expected dict)."""
    name = "corpus-%s-%d-s%d-%s-%s" % (profile, lines, seed, timestamps, generator_hash())
    path = os.path.join(results, name + ".log")
    exp = os.path.join(results, name + ".json")
    if not (os.path.exists(path) and os.path.exists(exp)):
        for old in os.listdir(results):  # keep one generation of each kind
            if old.startswith("corpus-%s-%d-s%d-%s-" % (profile, lines, seed, timestamps)):
                os.unlink(os.path.join(results, old))
        log("generating %s ..." % name)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, os.path.join(HERE, "gen_corpus.py"), "--profile", profile,
                        "--seed", str(seed), "--lines", str(lines), "--timestamps", timestamps,
                        "--out", path + ".tmp", "--expected", exp + ".tmp"], check=True)
        os.rename(path + ".tmp", path)
        os.rename(exp + ".tmp", exp)
        log("  %.1f s" % (time.perf_counter() - t0))
    with open(exp) as f:
        return path, json.load(f)


def warm(path):
    with open(path, "rb") as f:
        while f.read(8 * MIB):
            pass


def exporter_env():
    env = dict(os.environ)
    env["TZ"] = "UTC"  # gen_corpus.py writes BSD stamps in UTC
    return env


# ---------------------------------------------------------------- replay
def ours_once(exe, path, exp, out_dir, reps, extra=()):
    runs = []
    diffs = None
    out = os.path.join(out_dir, "ours-once.prom")
    for i in range(reps):
        r = run_measured([exe, "--once", "--postfix.logfile_path=" + path,
                          "--postfix.syslog_year=%d" % exp["syslog_year"]] + list(extra), out,
                         env=exporter_env())
        if r["exit"] != 0:
            raise SystemExit("exporter --once failed (exit %d); see %s.stderr" % (r["exit"], out))
        if diffs is None:
            with open(out) as f:
                samples = promcheck.parse_text(f.read())
            diffs = promcheck.compare(exp, samples)
        runs.append(r)
    best = sorted(runs, key=lambda r: r["cpu_s"])[len(runs) // 2]  # median by CPU time
    best = dict(best)
    best["runs"] = runs
    best["peak_rss_bytes"] = max(r["peak_rss_bytes"] for r in runs)
    best["lines"] = exp["lines"]
    best["check"] = {"ok": not diffs, "series": len(exp["ours"]["series"]), "diffs": diffs[:50]}
    return best, samples


def append_file(src, dst_fd, chunk=4 * MIB):
    with open(src, "rb") as f:
        while True:
            b = f.read(chunk)
            if not b:
                return
            os.write(dst_fd, b)


def follow_replay(name, argv_fn, path, done_fn, work, poll_s=0.1, timeout_s=900, scrape_path="/metrics"):
    """Starts a follower on an empty file, appends the corpus, polls until done_fn(samples).

    Returns wall (from the first appended byte to the poll that saw the end),
    CPU used meanwhile, peak RSS (VmHWM) and the last samples.
    """
    log_path = os.path.join(work, name + ".log")
    open(log_path, "wb").close()
    port = free_port()
    out = open(os.path.join(work, name + ".out"), "wb")
    p = subprocess.Popen(argv_fn(log_path, port), stdout=out, stderr=subprocess.STDOUT,
                         env=exporter_env())
    try:
        if not wait_http(port, path=scrape_path):
            raise SystemExit("%s did not serve %s on port %d" % (name, scrape_path, port))
        time.sleep(0.5)  # let it settle on the (empty) file before measuring
        scraper = Scraper(port, scrape_path, gzip_ok=False)
        cpu0 = proc_cpu_seconds(p.pid)
        t0 = time.perf_counter()
        fd = os.open(log_path, os.O_WRONLY | os.O_APPEND)
        try:
            append_file(path, fd)
        finally:
            os.close(fd)
        t_written = time.perf_counter() - t0
        scrapes = 0
        while True:
            text, _ = scraper.get(timeout=30)
            scrapes += 1
            samples = promcheck.parse_text(text)
            if done_fn(samples):
                break
            if time.perf_counter() - t0 > timeout_s:
                raise SystemExit("%s did not reach the corpus counts in %d s" % (name, timeout_s))
            time.sleep(poll_s)
        wall = time.perf_counter() - t0
        cpu = proc_cpu_seconds(p.pid) - cpu0
        hwm = proc_status_kib(p.pid, "VmHWM") * 1024
        samples = settled(scraper)
        scraper.close()
        return {"wall_s": wall, "cpu_s": cpu, "peak_rss_bytes": hwm, "append_s": t_written,
                "polls": scrapes, "poll_interval_s": poll_s}, samples
    finally:
        stop(p)
        out.close()


def kumina_follow(path, exp, work):
    want = exp["kumina"]
    res, samples = follow_replay(
        "kumina",
        lambda lp, port: [KUMINA, "--postfix.logfile_path=" + lp,
                          "--web.listen-address=127.0.0.1:%d" % port,
                          "--postfix.showq_path=" + os.path.join(work, "no-showq")],
        path,
        lambda s: all(value(s, k) >= v for k, v in want.items()),
        work, poll_s=0.1)
    diffs = promcheck.compare_flat(want, samples)
    res["lines"] = exp["lines"]
    res["check"] = {"ok": not diffs, "what": want, "diffs": diffs,
                    "note": "reads only postfix/smtpd[...] lines: submission/smtps and every "
                            "SASL line of this corpus are invisible to it"}
    return res


def ours_follow(exe, path, exp, work):
    n = exp["lines"]
    res, samples = follow_replay(
        "ours-follow",
        lambda lp, port: [exe, "--postfix.logfile_path=" + lp,
                          "--postfix.syslog_year=%d" % exp["syslog_year"],
                          "--web.listen-address=127.0.0.1:%d" % port],
        path,
        lambda s: value(s, "postfix_exporter_log_lines_total") >= n,
        work, poll_s=0.02)
    diffs = promcheck.compare(exp, samples)
    res["lines"] = n
    res["check"] = {"ok": not diffs, "series": len(exp["ours"]["series"]), "diffs": diffs[:50]}
    return res


def mtail_once(path, exp, work):
    progs = os.path.join(work, "mtail-progs")
    os.makedirs(progs, exist_ok=True)
    src = MTAIL_EXAMPLE if os.path.exists(MTAIL_EXAMPLE) else MTAIL_EXAMPLE + ".gz"
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rb") as f, open(os.path.join(progs, "postfix.mtail"), "wb") as g:
        g.write(f.read())
    out = os.path.join(work, "mtail.prom")
    r = run_measured(["mtail", "--one_shot", "--one_shot_format=prometheus", "--progs", progs,
                      "--logs", path, "--logtostderr", "--stderrthreshold=ERROR"], out)
    if r["exit"] != 0:
        raise SystemExit("mtail failed (exit %d); see %s.stderr" % (r["exit"], out))
    with open(out) as f:
        samples = promcheck.parse_text(f.read())
    r["lines"] = exp["lines"]
    want = exp.get("mtail")
    diffs = promcheck.compare_flat(want, samples) if want else ["no expected values (not BSD)"]
    r["check"] = {"ok": not diffs, "what": want, "diffs": diffs,
                  "note": "counts connects/disconnects/SASL failures without service, method "
                          "or reason; messages_processed is labelled by sasl_username "
                          "(unbounded)"}
    r["series_out"] = len(samples)
    return r


# ---------------------------------------------------------------- live follow
def load_lines(path, limit):
    with open(path, "rb") as f:
        data = f.read()
    offs = [0]
    pos = 0
    find = data.find
    while len(offs) <= limit:
        nl = find(b"\n", pos)
        if nl < 0:
            break
        pos = nl + 1
        offs.append(pos)
    return data, offs


def _scrape_worker(port, stop_evt, conn):
    """Prometheus-style scrapes, 10 per second, in a process of its own so that
    the writer and the marker poller (threads of the parent) cannot delay them."""
    s = Scraper(port)
    lat = []
    nxt = time.perf_counter()
    while not stop_evt.is_set():
        _, dt = s.get()
        lat.append(dt)
        nxt += 0.1
        d = nxt - time.perf_counter()
        if d > 0:
            time.sleep(d)
    s.close()
    conn.send(lat)
    conn.close()


def live_phase(exe, data, offs, exp, rate, seconds, work, check):
    """Appends `rate` lines/s for `seconds` to a file our exporter follows."""
    n = min(int(rate * seconds), len(offs) - 1)
    log_path = os.path.join(work, "live-%d.log" % rate)
    open(log_path, "wb").close()
    port = free_port()
    out = open(os.path.join(work, "live-%d.out" % rate), "wb")
    p = subprocess.Popen([exe, "--postfix.logfile_path=" + log_path,
                          "--postfix.syslog_year=%d" % exp["syslog_year"],
                          "--web.listen-address=127.0.0.1:%d" % port],
                         stdout=out, stderr=subprocess.STDOUT, env=exporter_env())
    try:
        if not wait_http(port):
            raise SystemExit("exporter did not start (live follow)")
        time.sleep(0.3)
        # Scrape cost alone (10 scrapes/s, nothing written) for the per-line figure.
        sc = Scraper(port)
        cpu0 = proc_cpu_seconds(p.pid)
        idle_lat = []
        t_end = time.perf_counter() + 2.0
        while time.perf_counter() < t_end:
            _, dt = sc.get()
            idle_lat.append(dt)
            time.sleep(0.1)
        idle_cpu_per_scrape = (proc_cpu_seconds(p.pid) - cpu0) / len(idle_lat)

        stop_ev = threading.Event()
        markers = []  # (k, t_write)
        delays = []
        poller_scrapes = [0]
        marker_cv = threading.Condition()
        marker_service = "postfix-bench"
        marker_re = re.compile(r'^postfix_smtpd_connects_total\{service="%s"\} (\S+)$' %
                               marker_service, re.M)

        def marker_poller():
            s = Scraper(port, gzip_ok=False)
            k_done = 0
            while True:
                with marker_cv:
                    while len(markers) <= k_done and not stop_ev.is_set():
                        marker_cv.wait(0.05)
                    if len(markers) <= k_done:
                        break
                    k, tw = markers[k_done]
                deadline = tw + 10
                while True:
                    text, _ = s.get()
                    poller_scrapes[0] += 1
                    mm = marker_re.search(text)
                    if mm and float(mm.group(1)) >= k:
                        delays.append(time.perf_counter() - tw)
                        break
                    if time.perf_counter() > deadline:
                        delays.append(float("inf"))
                        break
                    time.sleep(0.002)
                k_done += 1
            s.close()

        ctx = multiprocessing.get_context("fork")
        scrape_stop = ctx.Event()
        rx, tx = ctx.Pipe(duplex=False)
        scraper_proc = ctx.Process(target=_scrape_worker, args=(port, scrape_stop, tx),
                                   daemon=True)
        scraper_proc.start()
        tx.close()
        fd = os.open(log_path, os.O_WRONLY | os.O_APPEND)
        th_m = threading.Thread(target=marker_poller, daemon=True)
        th_m.start()
        cpu1 = proc_cpu_seconds(p.pid)
        t0 = time.perf_counter()
        pos = 0
        k = 0
        next_marker = t0 + 0.25
        marker_lines = 0
        while pos < n:
            now = time.perf_counter()
            target = min(n, int(rate * (now - t0)))
            if target > pos:
                os.write(fd, data[offs[pos]:offs[target]])
                last = data[offs[target - 1]:offs[target]]
                pos = target
            if now >= next_marker and pos > 0:
                # A connect/disconnect pair on a service of its own, stamped like the
                # line before it so log time stays monotonic.
                k += 1
                stamp = last[:last.index(b" mx1 ")]
                pid = 4000000 + k
                line = (b"%s mx1 %s/smtpd[%d]: connect from marker[192.0.2.201]\n"
                        b"%s mx1 %s/smtpd[%d]: disconnect from marker[192.0.2.201] quit=1 "
                        b"commands=1\n") % (stamp, marker_service.encode(), pid, stamp,
                                            marker_service.encode(), pid)
                with marker_cv:
                    os.write(fd, line)
                    markers.append((k, time.perf_counter()))
                    marker_cv.notify()
                marker_lines += 2
                next_marker += 0.25
            time.sleep(0.002)
        t_write = time.perf_counter() - t0
        os.close(fd)
        total = n + marker_lines
        # Wait until everything written is counted.
        s = Scraper(port)
        catch_deadline = time.perf_counter() + 60
        while True:
            text, _ = s.get()
            samples = promcheck.parse_text(text)
            if value(samples, "postfix_exporter_log_lines_total") >= total:
                break
            if time.perf_counter() > catch_deadline:
                break
            time.sleep(0.01)
        caught_up_s = time.perf_counter() - t0 - t_write
        samples = settled(s)
        stop_ev.set()
        scrape_stop.set()
        with marker_cv:
            marker_cv.notify_all()
        scrape_lat = rx.recv() if rx.poll(20) else []
        scraper_proc.join(10)
        th_m.join(20)
        cpu = proc_cpu_seconds(p.pid) - cpu1
        hwm = proc_status_kib(p.pid, "VmHWM") * 1024
        rss = proc_status_kib(p.pid, "VmRSS") * 1024
        scrapes_total = len(scrape_lat) + poller_scrapes[0] + 1
        net_cpu = cpu - scrapes_total * idle_cpu_per_scrape
        res = {
            "rate_target": rate, "lines": n, "marker_lines": marker_lines,
            "write_s": t_write, "rate_achieved": n / t_write, "caught_up_after_s": caught_up_s,
            "counted": value(samples, "postfix_exporter_log_lines_total"),
            "cpu_s": cpu, "cpu_us_per_line": cpu / total * 1e6,
            "marker_polls": poller_scrapes[0],
            "cpu_us_per_line_net_of_scrapes": max(net_cpu, 0) / total * 1e6,
            "idle_cpu_ms_per_scrape": idle_cpu_per_scrape * 1e3,
            "idle_scrape_p50_ms": pct(idle_lat, 50) * 1e3,
            "scrapes": len(scrape_lat),
            "scrape_p50_ms": pct(scrape_lat, 50) * 1e3, "scrape_p99_ms": pct(scrape_lat, 99) * 1e3,
            "scrape_max_ms": max(scrape_lat) * 1e3 if scrape_lat else float("nan"),
            "markers": len(delays),
            "delay_p50_ms": pct(delays, 50) * 1e3, "delay_p99_ms": pct(delays, 99) * 1e3,
            "delay_max_ms": max(delays) * 1e3 if delays else float("nan"),
            "peak_rss_bytes": hwm, "rss_bytes": rss,
        }
        if check:
            # The whole corpus went through: the counts must be exact here too.
            e2 = json.loads(json.dumps(exp))
            e2["ours"]["series"] = [x for x in e2["ours"]["series"]
                                    if x["name"] != "postfix_exporter_log_lines_total"]
            e2["ours"]["series"] += [
                {"name": "postfix_exporter_log_lines_total", "labels": {}, "value": total},
                {"name": "postfix_smtpd_connects_total", "labels": {"service": marker_service},
                 "value": k},
                {"name": "postfix_smtpd_disconnects_total", "labels": {"service": marker_service},
                 "value": k}]
            diffs = promcheck.compare(e2, samples)
            res["check"] = {"ok": not diffs, "diffs": diffs[:50]}
        return res
    finally:
        stop(p)
        out.close()


# ---------------------------------------------------------------- memory
def memory_case(exe, results, work, title, profile, lines, extra_check):
    path, exp = corpus(results, profile, lines)
    warm(path)
    out = os.path.join(work, "mem-%s-%d.prom" % (profile, lines))
    r = run_measured([exe, "--once", "--postfix.logfile_path=" + path,
                      "--postfix.syslog_year=%d" % exp["syslog_year"]], out, env=exporter_env())
    with open(out) as f:
        samples = promcheck.parse_text(f.read())
    diffs = promcheck.compare(exp, samples) + extra_check(exp, samples)
    return {"title": title, "profile": profile, "lines": exp["lines"],
            "peak_rss_bytes": r["peak_rss_bytes"], "cpu_s": r["cpu_s"], "wall_s": r["wall_s"],
            "sessions_tracked": value(samples, "postfix_exporter_sessions_tracked"),
            "evictions_capacity": value(samples, "postfix_exporter_session_evictions_total",
                                        reason="capacity"),
            "evictions_idle": value(samples, "postfix_exporter_session_evictions_total",
                                    reason="idle_timeout"),
            "series": len(samples),
            "check": {"ok": not diffs, "diffs": diffs[:50]}}


def open_sessions_check(exp, samples):
    n = exp["stats"]["open_sessions"]
    held = min(n, DEFAULT_MAX_TRACKED)
    diffs = []
    for name, want in (("postfix_exporter_sessions_tracked", held),
                       ("postfix_smtpd_sessions", held)):
        got = value(samples, name)
        if got != want:
            diffs.append("%s: expected %d, got %g" % (name, want, got))
    got = value(samples, "postfix_exporter_session_evictions_total", reason="capacity")
    if got != n - held:
        diffs.append("evictions{capacity}: expected %d, got %g" % (n - held, got))
    return diffs


def no_extra(exp, samples):
    return []


# ---------------------------------------------------------------- report
def report(res):
    m = res["machine"]
    parts = []
    parts.append("Machine: %s, %d CPUs (%s), %.1f GiB RAM, Linux %s; load average at start "
                 "%.2f. Run %s." % (m["os"], m["nproc"], m["cpu"], m["mem_gib"], m["kernel"],
                                    m["loadavg_at_start"][0], res["when"]))
    rp = res.get("replay")
    if rp:
        rows = []
        for key, tool, mode in (
                ("ours_once", "postfix_sasl_exporter %s" % res["versions"]["ours"], "--once"),
                ("ours_once_mixed", "postfix_sasl_exporter", "--once, BSD + RFC 3339 segments"),
                ("ours_follow", "postfix_sasl_exporter", "follow: append, poll /metrics"),
                ("kumina", "prometheus-postfix-exporter %s" % res["versions"].get("kumina"),
                 "follow: append, poll /metrics"),
                ("mtail", "mtail %s + postfix.mtail" % res["versions"].get("mtail"),
                 "--one_shot")):
            r = rp.get(key)
            if not r:
                continue
            if "error" in r:
                rows.append([tool, mode, "", "", "", "", "", "", "error: " + r["error"]])
                continue
            ck = r["check"]
            if key.startswith("ours"):
                verdict = ("exact (%d series)" % ck["series"] if ck["ok"] and "series" in ck
                           else "exact" if ck["ok"] else "**WRONG**: %d diffs" % len(ck["diffs"]))
            else:
                verdict = ("reached %s" % ", ".join("%s=%s" % (k.replace("postfix_smtpd_", ""),
                                                               fmt_int(v))
                                                    for k, v in ck["what"].items())
                           if ck["ok"] else "differs: " + "; ".join(ck["diffs"][:3]))
            rows.append([tool, mode, fmt_int(r["lines"]), "%.2f" % r["wall_s"], "%.2f" % r["cpu_s"],
                         fmt_rate(r["lines"] / r["wall_s"]),
                         fmt_rate(r["lines"] / r["cpu_s"]) if r["cpu_s"] > 0 else "n/a",
                         "%.1f" % (r["peak_rss_bytes"] / MIB), verdict])
        parts.append("### Replay: %s lines\n\n%s" % (
            fmt_int(rp["ours_once"]["lines"]),
            md_table(["tool", "mode", "lines", "wall s", "CPU s", "lines/wall s", "lines/CPU s",
                      "peak RSS MiB", "counts"], rows)))
        o = rp["ours_once"]
        ratio_rows = []
        for key, label, ours_key in (("kumina", "prometheus-postfix-exporter (both follow)",
                                      "ours_follow"),
                                     ("kumina", "prometheus-postfix-exporter (ours --once)",
                                      "ours_once"),
                                     ("mtail", "mtail --one_shot (ours --once)", "ours_once")):
            t = rp.get(key)
            ours = rp.get(ours_key)
            if not t or "error" in t or not ours:
                continue
            ratio_rows.append([label, "%.1f×" % (t["cpu_s"] / ours["cpu_s"]),
                               "%.1f×" % (t["wall_s"] / ours["wall_s"]),
                               "%.1f×" % (t["peak_rss_bytes"] / ours["peak_rss_bytes"])])
        if ratio_rows:
            parts.append("Ours compared with (how many times more the other tool needs):\n\n" +
                         md_table(["other tool", "CPU time", "wall time", "peak RSS"],
                                  ratio_rows))
        lps = o["lines"] / o["cpu_s"]
        parts.append("Targets: >= 2 M lines per CPU second: **%s** (%s); peak RSS < 16 MiB: "
                     "**%s** (%.1f MiB)." % ("met" if lps >= 2e6 else "NOT met", fmt_rate(lps),
                                             "met" if o["peak_rss_bytes"] < 16 * MIB
                                             else "NOT met", o["peak_rss_bytes"] / MIB))
    lv = res.get("live")
    if lv:
        rows = []
        for r in lv:
            rows.append([fmt_rate(r["rate_target"]) + "/s", fmt_int(r["lines"]),
                         fmt_rate(r["rate_achieved"]) + "/s",
                         "%.2f (%.2f)" % (r["cpu_us_per_line"], r["cpu_us_per_line_net_of_scrapes"]),
                         "%.1f / %.1f" % (r["delay_p50_ms"], r["delay_p99_ms"]),
                         "%.2f / %.2f" % (r["scrape_p50_ms"], r["scrape_p99_ms"]),
                         "%d + %d" % (r["scrapes"], r["marker_polls"]),
                         "%.1f" % (r["peak_rss_bytes"] / MIB),
                         ("exact" if r["check"]["ok"] else "**WRONG**") if "check" in r else
                         "%s / %s lines" % (fmt_int(r["counted"]), fmt_int(r["lines"] + r["marker_lines"]))])
        parts.append("### Live follow (appending while scraping 10×/s)\n\n" + md_table(
            ["rate", "lines", "achieved", "CPU µs/line (net of scrapes)",
             "write→visible p50 / p99 ms",
             "scrape p50 / p99 ms", "scrapes + marker polls", "peak RSS MiB", "counts"], rows))
        worst_delay = max(r["delay_p99_ms"] for r in lv)
        worst_scrape = max(r["scrape_p99_ms"] for r in lv)
        parts.append("Targets: write→visible < 1 s: **%s** (worst p99 %.1f ms); scrape p99 < "
                     "5 ms: **%s** (worst %.2f ms). An idle scrape costs %.2f ms of CPU "
                     "(p50 latency %.2f ms)." % (
                         "met" if worst_delay < 1000 else "NOT met", worst_delay,
                         "met" if worst_scrape < 5 else "NOT met", worst_scrape,
                         lv[0]["idle_cpu_ms_per_scrape"], lv[0]["idle_scrape_p50_ms"]))
    mm = res.get("memory")
    if mm:
        rows = []
        for r in mm:
            rows.append([r["title"], fmt_int(r["lines"]), "%.1f" % (r["peak_rss_bytes"] / MIB),
                         "%.2f" % r["cpu_s"], fmt_int(r["sessions_tracked"]),
                         "%s / %s" % (fmt_int(r["evictions_capacity"]),
                                      fmt_int(r["evictions_idle"])),
                         fmt_int(r["series"]),
                         "exact" if r["check"]["ok"] else "**WRONG**: " + "; ".join(
                             r["check"]["diffs"][:3])])
        parts.append("### Memory under adversarial input (--once, default --sessions.max_tracked "
                     "16384)\n\n" + md_table(
                         ["input", "lines", "peak RSS MiB", "CPU s", "sessions_tracked",
                          "evictions capacity / idle", "series out", "counts"], rows))
    mb = res.get("micro")
    if mb:
        rows = [[b["name"], "%.1f" % b["cpu_ns"], fmt_rate(1e9 / b["cpu_ns"])] for b in mb]
        parts.append("### Micro-benchmarks (bench/parser_bench, CPU ns per line)\n\n" +
                     md_table(["benchmark", "ns/line", "lines/s"], rows))
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------- main
def main(argv):
    ap = argparse.ArgumentParser(description="postfix_sasl_exporter benchmark")
    ap.add_argument("--exe", default=os.path.join(ROOT, "build-bench", "postfix_sasl_exporter"))
    ap.add_argument("--micro", default=os.path.join(ROOT, "build-bench", "parser_bench"),
                    help="parser_bench binary ('' to skip)")
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    ap.add_argument("--lines", type=int, default=2000000)
    ap.add_argument("--reps", type=int, default=3, help="--once repetitions (median reported)")
    ap.add_argument("--parts", default="replay,live,memory,micro")
    ap.add_argument("--rates", default="50000,200000")
    ap.add_argument("--live-seconds", type=float, default=10.0)
    args = ap.parse_args(argv)
    parts = set(args.parts.split(","))
    os.makedirs(args.results, exist_ok=True)
    exe = os.path.abspath(args.exe)
    if not os.access(exe, os.X_OK):
        raise SystemExit("no exporter binary at %s (bench/run.sh builds it)" % exe)
    work = tempfile.mkdtemp(prefix="pse-bench-")
    res = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": machine_info(),
           "versions": {"ours": subprocess.run([exe, "--version"], capture_output=True,
                                               text=True).stdout.strip().split(" ", 1)[-1],
                        "kumina": pkg_version(KUMINA), "mtail": pkg_version("mtail")}}
    try:
        if "replay" in parts:
            path, exp = corpus(args.results, "mix", args.lines)
            warm(path)
            rp = res["replay"] = {}
            log("replay: ours --once x%d ..." % args.reps)
            rp["ours_once"], _ = ours_once(exe, path, exp, work, args.reps)
            log("  %.2f s CPU, check %s" % (rp["ours_once"]["cpu_s"], rp["ours_once"]["check"]["ok"]))
            mpath, mexp = corpus(args.results, "mix", args.lines, seed=2, timestamps="mixed")
            warm(mpath)
            log("replay: ours --once, mixed stamps ...")
            rp["ours_once_mixed"], _ = ours_once(exe, mpath, mexp, work, 1)
            log("replay: ours follow ...")
            rp["ours_follow"] = ours_follow(exe, path, exp, work)
            if shutil.which(KUMINA):
                log("replay: %s follow ..." % KUMINA)
                try:
                    rp["kumina"] = kumina_follow(path, exp, work)
                except SystemExit as e:
                    rp["kumina"] = {"error": str(e)}
            else:
                log("  %s not installed (bench/install-deps.sh); skipped" % KUMINA)
            if shutil.which("mtail"):
                log("replay: mtail --one_shot ...")
                try:
                    rp["mtail"] = mtail_once(path, exp, work)
                except SystemExit as e:
                    rp["mtail"] = {"error": str(e)}
            else:
                log("  mtail not installed (bench/install-deps.sh); skipped")
        if "live" in parts:
            path, exp = corpus(args.results, "mix", args.lines)
            rates = [int(x) for x in args.rates.split(",")]
            need = int(max(rates) * args.live_seconds)
            data, offs = load_lines(path, need)
            res["live"] = []
            for rate in rates:
                log("live: %d lines/s for %.0f s ..." % (rate, args.live_seconds))
                whole = int(rate * args.live_seconds) >= exp["lines"]
                res["live"].append(live_phase(exe, data, offs, exp, rate, args.live_seconds, work,
                                              check=whole))
            del data, offs
        if "memory" in parts:
            res["memory"] = []
            log("memory: baseline, distinct failures, open sessions ...")
            res["memory"].append(memory_case(exe, args.results, work, "mix corpus, 10k lines "
                                             "(baseline)", "mix", 10000, no_extra))
            res["memory"].append(memory_case(exe, args.results, work, "1 M failures, each a "
                                             "new client address and user name",
                                             "distinct-failures", 3000000, no_extra))
            res["memory"].append(memory_case(exe, args.results, work, "100 k sessions never "
                                             "closed", "open-sessions", 100000,
                                             open_sessions_check))
            res["memory"].append(memory_case(exe, args.results, work, "1 M sessions never "
                                             "closed", "open-sessions", 1000000,
                                             open_sessions_check))
        if "micro" in parts and args.micro and os.access(args.micro, os.X_OK):
            log("micro: parser_bench ...")
            p = subprocess.run([args.micro, "--benchmark_format=json",
                                "--benchmark_min_time=0.2"], capture_output=True, text=True)
            if p.returncode == 0:
                doc = json.loads(p.stdout)
                res["micro"] = [{"name": b["name"], "cpu_ns": b["cpu_time"]}
                                for b in doc["benchmarks"] if b.get("time_unit") == "ns"]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res["machine"]["loadavg_at_end"] = os.getloadavg()
    text = report(res)
    with open(os.path.join(args.results, "latest.json"), "w") as f:
        json.dump(res, f, indent=1, default=str)
    with open(os.path.join(args.results, "latest.md"), "w") as f:
        f.write(text)
    print(text)
    ok = all(r.get("check", {}).get("ok", True) for r in
             list(res.get("replay", {}).values()) + res.get("live", []) + res.get("memory", [])
             if isinstance(r, dict) and "error" not in r)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
