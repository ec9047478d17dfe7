"""Crash figures for --state.file: a corpus of exactly rate x seconds lines is
appended at a steady rate to a file our exporter follows, while a separate
process scrapes 10 times a second; meanwhile the exporter is killed (SIGKILL,
then in a second run SIGTERM) a number of times at spread-out moments and
restarted at once with the same --state.file. At the end every series is
compared with the corpus's exact expected values: lines lost (the line
counter below the lines written) and lines counted twice (above) should both
be 0, and so should the other differences. Scrapes that saw the line counter
go backwards (a restart that lost counts already shown) are reported too.

Kill moments: evenly spread over the stream with a deterministic jitter, so
they fall at different points relative to the exporter's 2-second save."""

import os
import random
import signal
import subprocess
import time

import promcheck
from phases.feeder import PacedWriter, ScrapeLoop, wait_counted
from phases.proc import exporter_env, log, pct
from phases.scrape import free_port, value, wait_http


def _start(argv, out):
    return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=exporter_env())


def crash_run(exe, data, offs, exp, rate, kills, sig, work):
    n = exp["lines"]
    tag = signal.Signals(sig).name
    log_path = os.path.join(work, "crash-%s.log" % tag)
    open(log_path, "wb").close()
    state_path = os.path.join(work, "crash-%s.state" % tag)
    port = free_port()
    argv = [exe, "--postfix.logfile_path=" + log_path,
            "--postfix.syslog_year=%d" % exp["syslog_year"],
            "--web.listen-address=127.0.0.1:%d" % port, "--state.file=" + state_path]
    out = open(os.path.join(work, "crash-%s.out" % tag), "ab")
    p = _start(argv, out)
    rng = random.Random(sig)
    exits, restart_s = [], []
    try:
        if not wait_http(port):
            raise SystemExit("exporter did not start (crash %s)" % tag)
        scrapes = ScrapeLoop(port, per_s=10)
        seconds = n / rate
        t0 = time.perf_counter()
        writer = PacedWriter(log_path, data, offs, n, rate).start()
        for i in range(kills):
            at = t0 + seconds * (i + 1) / (kills + 1) + rng.uniform(-0.4, 0.4)
            time.sleep(max(0.0, at - time.perf_counter()))
            t_sig = time.perf_counter()
            p.send_signal(sig)
            try:
                exits.append(p.wait(timeout=15))
            except subprocess.TimeoutExpired:
                p.kill()
                exits.append("no exit in 15 s: SIGKILL")
                p.wait()
            p = _start(argv, out)
            # Time from the signal until the new process answers; the writer goes on.
            if wait_http(port, deadline_s=15.0):
                restart_s.append(time.perf_counter() - t_sig)
        writer.join(seconds * 3 + 60)
        samples = wait_counted(port, n)
        sc = scrapes.stop()
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        out.close()
    counted = value(samples, "postfix_exporter_log_lines_total")
    diffs = promcheck.compare(exp, samples)
    return {"signal": tag, "kills": kills, "lines": n, "rate_target": rate,
            "write_s": writer.elapsed_s, "counted": counted,
            "lines_lost": max(0, n - counted), "lines_double_counted": max(0, counted - n),
            "series_differing": len(diffs), "exit_statuses": exits,
            "restart_to_http_p50_ms": pct(restart_s, 50) * 1e3,
            "restart_to_http_max_ms": max(restart_s) * 1e3 if restart_s else float("nan"),
            "scrapes": len(sc["latencies_s"]), "scrape_errors": sc["errors"],
            "scrapes_went_backwards": sc["went_backwards"],
            "check": {"ok": not diffs, "series": len(exp["ours"]["series"]),
                      "diffs": diffs[:50]}}


def crash_part(exe, data, offs, exp, rate, kills, work):
    res = []
    for sig in (signal.SIGKILL, signal.SIGTERM):
        log("crash: %d x %s during %s lines at %d lines/s ..."
            % (kills, signal.Signals(sig).name, "{:,}".format(exp["lines"]), rate))
        res.append(crash_run(exe, data, offs, exp, rate, kills, sig, work))
    return res
