"""Load for the daemon parts (statefile, crash): a paced writer that appends
corpus lines to a followed file at a fixed rate from a thread, a scrape loop
in a process of its own that keeps scraping at a fixed rate through exporter
restarts (failed scrapes are counted, not fatal) and records what each scrape
saw of the line counter, and a bounded wait for the counter to catch up.

The writer only appends whole lines, so every prefix of the file is a prefix
of the corpus. The scrape loop runs in its own process so that the writer
thread and the part's own signalling cannot delay it (as in live.py)."""

import multiprocessing
import os
import re
import threading
import time

from phases.scrape import Scraper, settled, value
import promcheck

_LINES = re.compile(r"^postfix_exporter_log_lines_total (\S+)$", re.M)


class PacedWriter:
    """Appends data[offs[0]:offs[n]] to `path` at `rate` lines/s in 2 ms steps,
    from a thread. `written` is the number of lines appended so far."""

    def __init__(self, path, data, offs, n, rate):
        self.path, self.data, self.offs, self.n, self.rate = path, data, offs, n, rate
        self.written = 0
        self.elapsed_s = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            t0 = time.perf_counter()
            while self.written < self.n:
                target = min(self.n, int(self.rate * (time.perf_counter() - t0)))
                if target > self.written:
                    os.write(fd, self.data[self.offs[self.written]:self.offs[target]])
                    self.written = target
                time.sleep(0.002)
            self.elapsed_s = time.perf_counter() - t0
        finally:
            os.close(fd)

    def running(self):
        return self._thread.is_alive()

    def join(self, timeout):
        self._thread.join(timeout)


def _scrape_loop(port, per_s, stop_evt, conn):
    s = Scraper(port)
    lat, seen, errors = [], [], 0
    nxt = time.perf_counter()
    while not stop_evt.is_set():
        try:
            text, dt = s.get(timeout=5.0)
            lat.append(dt)
            m = _LINES.search(text)
            if m:
                seen.append(float(m.group(1)))
        except OSError:
            errors += 1  # the exporter is restarting
        nxt += 1.0 / per_s
        d = nxt - time.perf_counter()
        if d > 0:
            time.sleep(d)
        else:
            nxt = time.perf_counter()
    s.close()
    conn.send({"latencies_s": lat, "lines_seen": seen, "errors": errors})
    conn.close()


class ScrapeLoop:
    """Scrapes /metrics `per_s` times a second (gzip, keep-alive, reconnecting)
    in a forked process until stop(), which returns {"latencies_s",
    "lines_seen" (log_lines_total of each scrape in order), "errors",
    "went_backwards" (scrapes whose line count was lower than the one before)}."""

    def __init__(self, port, per_s=10):
        ctx = multiprocessing.get_context("fork")
        self._stop = ctx.Event()
        self._rx, tx = ctx.Pipe(duplex=False)
        self._proc = ctx.Process(target=_scrape_loop, args=(port, per_s, self._stop, tx),
                                 daemon=True)
        self._proc.start()
        tx.close()

    def stop(self):
        self._stop.set()
        res = self._rx.recv() if self._rx.poll(20) else {"latencies_s": [], "lines_seen": [],
                                                          "errors": 0}
        self._proc.join(10)
        if self._proc.is_alive():
            self._proc.kill()
        seen = res["lines_seen"]
        res["went_backwards"] = sum(1 for a, b in zip(seen, seen[1:]) if b < a)
        return res


def wait_counted(port, lines, deadline_s=60.0):
    """Scrapes until log_lines_total >= lines (or the deadline), then returns
    the samples of two agreeing scrapes (scrape.settled)."""
    s = Scraper(port)
    end = time.monotonic() + deadline_s
    try:
        while time.monotonic() < end:
            try:
                text, _ = s.get(timeout=5.0)
                if value(promcheck.parse_text(text), "postfix_exporter_log_lines_total") >= lines:
                    break
            except OSError:
                pass
            time.sleep(0.02)
        return settled(s)
    finally:
        s.close()
