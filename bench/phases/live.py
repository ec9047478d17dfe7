"""Live follow: lines appended at a fixed rate to a file our exporter follows
while a separate process scrapes 10 times a second; CPU per line, the
write-to-visible delay of marker lines and scrape latency percentiles."""

import json
import multiprocessing
import os
import re
import subprocess
import threading
import time

import promcheck
from phases.proc import exporter_env, pct, proc_cpu_seconds, proc_status_kib, stop
from phases.scrape import Scraper, free_port, settled, value, wait_http


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
