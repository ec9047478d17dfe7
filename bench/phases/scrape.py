"""The HTTP client side of the benchmark: Scraper (a keep-alive client that
asks like Prometheus, gzip included, and times each scrape), waiting for a
listener, settling on two agreeing scrapes, and summing a family's samples."""

import gzip
import http.client
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "pylib"))
import promcheck  # noqa: E402
import psetest  # noqa: E402
from psetest import free_port  # noqa: E402  (re-exported to the parts)

__all__ = ["Scraper", "free_port", "settled", "value", "wait_http"]


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
    """True once `path` answers 200 on `port`, False at the deadline."""
    s = Scraper(port, path, gzip_ok=False)

    def answers():
        try:
            s.get(timeout=1.0)
        except http.client.HTTPException as e:
            raise OSError(str(e))  # psetest.wait_for: OSError means "not yet"
        return True

    try:
        psetest.wait_for(answers, "%s on port %d" % (path, port), deadline_s)
        return True
    except psetest.TestFailure:
        return False
    finally:
        s.close()


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
