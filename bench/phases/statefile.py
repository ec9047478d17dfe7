"""What --state.file costs: our exporter follows a file that gets corpus lines
appended at a fixed rate while a separate process scrapes it 10 times a
second, once without and once with --state.file. With it, the exporter saves
counters, sessions and read position every 2 s and before each scrape (temp
file, fsync, rename), so at 10 scrapes/s it saves about 10 times a second.
The runs alternate (without, with, without, ...) and the median by CPU time
of each variant is reported, with the difference in CPU per line and in
scrape latency. Every run must count exactly the lines written."""

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
    runs = {False: [], True: []}
    for i in range(reps):
        for state in (False, True):
            log("statefile: %s --state.file, %d lines/s for %.0f s (run %d of %d) ..."
                % ("with" if state else "without", rate, n / rate, i + 1, reps))
            runs[state].append(one_run(exe, data, offs, n, rate, exp["syslog_year"], work, state,
                                       "%d-%d" % (i, state), scrapes_per_s))
    res = {}
    for state, key in ((False, "without"), (True, "with")):
        rs = sorted(runs[state], key=lambda r: r["cpu_s"])
        best = dict(rs[len(rs) // 2])  # median by CPU time
        best["runs"] = runs[state]
        best["check"] = {"ok": all(r["check"]["ok"] for r in rs),
                         "diffs": [d for r in rs for d in r["check"]["diffs"]]}
        res[key] = best
    w, s = res["without"], res["with"]
    res["delta"] = {"cpu_us_per_line": s["cpu_us_per_line"] - w["cpu_us_per_line"],
                    "cpu_pct": (s["cpu_s"] / w["cpu_s"] - 1) * 100 if w["cpu_s"] > 0 else 0,
                    "scrape_p50_ms": s["scrape_p50_ms"] - w["scrape_p50_ms"],
                    "scrape_p99_ms": s["scrape_p99_ms"] - w["scrape_p99_ms"]}
    return res
