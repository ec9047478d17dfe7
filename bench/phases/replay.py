"""Replay of a whole corpus by our exporter: --once (median of several runs,
output checked series by series) and follow mode (append everything to a
followed file, poll /metrics until the counts are reached). follow_replay()
also drives the Go exporter (others.py)."""

import os
import subprocess
import time

import promcheck
from phases.proc import MIB, exporter_env, proc_cpu_seconds, proc_status_kib, run_measured, stop
from phases.scrape import Scraper, free_port, settled, value, wait_http


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
