"""What --state.file costs: our exporter follows a file that gets corpus lines
appended at a fixed rate while a separate process scrapes it 10 times a
second, in three variants: without --state.file; with it as shipped (saves
every 2 s and before a scrape, at most one scrape-time save per
--state.min_save_interval = 1 s); and with --state.min_save_interval=0s,
where every one of the 10 scrapes a second saves first (temp file, fsync,
rename). The runs alternate and the median by CPU time of each variant is
reported, with the difference in CPU per line and in scrape latency. Every
run must count exactly the lines written."""

import os
import subprocess
import time

from phases.feeder import PacedWriter, ScrapeLoop, wait_counted
from phases.proc import exporter_env, log, pct, proc_cpu_seconds, proc_status_kib, stop
from phases.scrape import free_port, value, wait_http


def one_run(exe, data, offs, n, rate, syslog_year, work, state, tag, scrapes_per_s=10):
    log_path = os.path.join(work, "statefile-%s.log" % tag)
    open(log_path, "wb").close()
    state_path = os.path.join(work, "statefile-%s.state" % tag)
    port = free_port()
    argv = [exe, "--postfix.logfile_path=" + log_path, "--postfix.syslog_year=%d" % syslog_year,
            "--web.listen-address=127.0.0.1:%d" % port]
    if state:
        argv.append("--state.file=" + state_path)
    if state == "every":
        argv.append("--state.min_save_interval=0s")
    out = open(os.path.join(work, "statefile-%s.out" % tag), "wb")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=exporter_env())
    try:
        if not wait_http(port):
            raise SystemExit("exporter did not start (statefile %s)" % tag)
        time.sleep(0.3)
        scrapes = ScrapeLoop(port, per_s=scrapes_per_s)
        cpu0 = proc_cpu_seconds(p.pid)
        t0 = time.perf_counter()
        writer = PacedWriter(log_path, data, offs, n, rate).start()
        writer.join(n / rate * 3 + 60)
        samples = wait_counted(port, n)
        wall = time.perf_counter() - t0
        sc = scrapes.stop()
        cpu = proc_cpu_seconds(p.pid) - cpu0
        counted = value(samples, "postfix_exporter_log_lines_total")
        lat = sc["latencies_s"]
        return {"state_file": state, "lines": n, "rate_target": rate,
                "write_s": writer.elapsed_s, "wall_s": wall, "cpu_s": cpu,
                "lines_per_cpu_s": n / cpu if cpu > 0 else float("nan"),
                "cpu_us_per_line": cpu / n * 1e6,
                "scrapes": len(lat), "scrape_errors": sc["errors"],
                "scrape_p50_ms": pct(lat, 50) * 1e3, "scrape_p99_ms": pct(lat, 99) * 1e3,
                "peak_rss_bytes": proc_status_kib(p.pid, "VmHWM") * 1024,
                "state_file_bytes": os.path.getsize(state_path) if state else 0,
                "counted": counted, "check": {"ok": counted == n,
                                              "diffs": [] if counted == n else
                                              ["log_lines_total: expected %d, got %g"
                                               % (n, counted)]}}
    finally:
        stop(p)
        out.close()


def statefile_part(exe, data, offs, exp, rate, seconds, reps, work, scrapes_per_s=10):
    n = min(int(rate * seconds), len(offs) - 1)
    variants = ((False, "without"), (True, "with"), ("every", "every_scrape"))
    runs = {key: [] for _, key in variants}
    for i in range(reps):
        for state, key in variants:
            log("statefile: %s, %d lines/s for %.0f s (run %d of %d) ..."
                % (key, rate, n / rate, i + 1, reps))
            runs[key].append(one_run(exe, data, offs, n, rate, exp["syslog_year"], work, state,
                                     "%d-%s" % (i, key), scrapes_per_s))
    res = {}
    for _, key in variants:
        rs = sorted(runs[key], key=lambda r: r["cpu_s"])
        best = dict(rs[len(rs) // 2])  # median by CPU time
        best["runs"] = runs[key]
        best["check"] = {"ok": all(r["check"]["ok"] for r in rs),
                         "diffs": [d for r in rs for d in r["check"]["diffs"]]}
        res[key] = best
    w = res["without"]
    for key in ("with", "every_scrape"):
        s = res[key]
        res["delta" if key == "with" else "delta_every_scrape"] = {
            "cpu_us_per_line": s["cpu_us_per_line"] - w["cpu_us_per_line"],
            "cpu_pct": (s["cpu_s"] / w["cpu_s"] - 1) * 100 if w["cpu_s"] > 0 else 0,
            "scrape_p50_ms": s["scrape_p50_ms"] - w["scrape_p50_ms"],
            "scrape_p99_ms": s["scrape_p99_ms"] - w["scrape_p99_ms"]}
    return res
