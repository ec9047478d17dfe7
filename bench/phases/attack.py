"""Scrape latency under a connection attack on the exporter's own port
(loopback only, bounded in time). A forked attacker process holds `silent`
TCP connections that never send a byte and `trickle` connections that send
one byte of a never-ending request header per second; when the exporter
closes one, the attacker opens it again after a second (a real attacker
reconnects; the delay bounds the churn). Meanwhile the bench scrapes
/metrics, each time on a new connection (which must get through the accept
queue like everyone else), then on one kept-alive connection as Prometheus
does. The same scrapes without the attack are the baseline. Nothing is
asserted: the figures are latency percentiles, failed scrapes and what the
attacker saw (connections held, closed by the exporter, reopened).

The exporter runs with its defaults (--web.max-connections, read-header
timeout); it reads a 10k-line corpus first so the exposition is full size.
RLIMIT_NOFILE of the bench process (and so of the attacker and the
exporter, which inherit it) is raised to fit the attacker's sockets."""

import errno
import multiprocessing
import resource
import selectors
import socket
import subprocess
import time

from phases.proc import exporter_env, log, pct, proc_cpu_seconds, stop
from phases.scrape import Scraper, free_port, wait_http

_TRICKLE_HEAD = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
_REOPEN_S = 1.0


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = need if hard == resource.RLIM_INFINITY else min(need, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class _Slot:
    __slots__ = ("trickle", "sock", "connected", "sent", "reopen_at", "next_byte")

    def __init__(self, trickle):
        self.trickle = trickle
        self.sock = None
        self.connected = False
        self.sent = 0
        self.reopen_at = 0.0
        self.next_byte = 0.0


def _attacker(port, silent, trickle, stop_evt, ready_evt, conn):
    sel = selectors.DefaultSelector()
    slots = [_Slot(False) for _ in range(silent)] + [_Slot(True) for _ in range(trickle)]
    st = {"opened": 0, "open_errors": 0, "established": 0, "closed_by_exporter": 0,
          "trickled_bytes": 0, "held_samples": []}

    def open_slot(s, now):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        err = sock.connect_ex(("127.0.0.1", port))
        st["opened"] += 1
        if err not in (0, errno.EINPROGRESS):
            sock.close()
            st["open_errors"] += 1
            s.reopen_at = now + _REOPEN_S
            return
        s.sock, s.connected, s.sent = sock, False, 0
        sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE, s)

    def close_slot(s, now, by_exporter):
        sel.unregister(s.sock)
        s.sock.close()
        s.sock = None
        if by_exporter:
            st["closed_by_exporter"] += 1
        s.connected = False
        s.reopen_at = now + _REOPEN_S

    now = time.monotonic()
    for s in slots:
        open_slot(s, now)
    next_sample = now + 1.0
    # Ready two seconds after every slot was opened once: the exporter closes
    # awaiting connections as newcomers arrive, so "all held" never comes.
    ready_at = time.monotonic() + 2.0
    while not stop_evt.is_set():
        for key, ev in sel.select(timeout=0.05):
            s = key.data
            now = time.monotonic()
            if not s.connected and ev & selectors.EVENT_WRITE:
                if s.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    close_slot(s, now, True)
                    continue
                s.connected = True
                s.next_byte = now + 1.0
                st["established"] += 1
                sel.modify(s.sock, selectors.EVENT_READ, s)
            elif ev & selectors.EVENT_READ:
                try:
                    data = s.sock.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    close_slot(s, now, True)
        now = time.monotonic()
        held = 0
        for s in slots:
            if s.sock is None:
                if now >= s.reopen_at:
                    open_slot(s, now)
                continue
            if not s.connected:
                continue
            held += 1
            if s.trickle and now >= s.next_byte:
                b = (_TRICKLE_HEAD[s.sent:s.sent + 1] if s.sent < len(_TRICKLE_HEAD) else b"a")
                try:
                    s.sock.send(b)
                    s.sent += 1
                    st["trickled_bytes"] += 1
                except OSError:
                    close_slot(s, now, True)
                    continue
                s.next_byte = now + 1.0
        if now >= next_sample:
            st["held_samples"].append(held)
            next_sample += 1.0
        if now >= ready_at:
            ready_evt.set()
    for s in slots:
        if s.sock is not None:
            s.sock.close()
    conn.send(st)
    conn.close()


def _scrapes(port, n, per_s, keep_alive):
    lat, errors = [], 0
    sc = Scraper(port)
    for _ in range(n):
        t0 = time.perf_counter()
        try:
            _, dt = sc.get(timeout=10.0)
            # Fresh connection: the latency includes connect and accept.
            lat.append(dt if keep_alive else time.perf_counter() - t0)
        except OSError:
            errors += 1
        if not keep_alive:
            sc.close()
            sc = Scraper(port)
        time.sleep(max(0.0, 1.0 / per_s - (time.perf_counter() - t0)))
    sc.close()
    return {"scrapes": len(lat), "errors": errors, "p50_ms": pct(lat, 50) * 1e3,
            "p99_ms": pct(lat, 99) * 1e3, "max_ms": max(lat) * 1e3 if lat else float("nan")}


def _measure(port, pid, scrapes, per_s):
    cpu0 = proc_cpu_seconds(pid)
    t0 = time.perf_counter()
    res = {"fresh": _scrapes(port, scrapes, per_s, False),
           "keep_alive": _scrapes(port, scrapes, per_s, True)}
    res["exporter_cpu_pct"] = (proc_cpu_seconds(pid) - cpu0) / (time.perf_counter() - t0) * 100
    return res


def attack_part(exe, small_path, small_exp, silent, trickle, scrapes, work, per_s=5):
    limit = raise_nofile(silent + trickle + 1024)
    port = free_port()
    out = open(work + "/attack.out", "wb")
    p = subprocess.Popen([exe, "--postfix.logfile_path=" + small_path,
                          "--postfix.logfile_from_beginning",
                          "--postfix.syslog_year=%d" % small_exp["syslog_year"],
                          "--web.listen-address=127.0.0.1:%d" % port],
                         stdout=out, stderr=subprocess.STDOUT, env=exporter_env())
    res = {"silent": silent, "trickle": trickle, "scrapes_each": scrapes, "per_s": per_s,
           "nofile_limit": limit, "reopen_after_s": _REOPEN_S}
    try:
        if not wait_http(port):
            raise SystemExit("exporter did not start (attack)")
        time.sleep(0.5)
        log("attack: %d scrapes x2 without attack ..." % scrapes)
        res["baseline"] = _measure(port, p.pid, scrapes, per_s)
        ctx = multiprocessing.get_context("fork")
        stop_evt, ready_evt = ctx.Event(), ctx.Event()
        rx, tx = ctx.Pipe(duplex=False)
        att = ctx.Process(target=_attacker, args=(port, silent, trickle, stop_evt, ready_evt, tx),
                          daemon=True)
        log("attack: %d silent + %d trickling connections, %d scrapes x2 ..."
            % (silent, trickle, scrapes))
        t_start = time.perf_counter()
        att.start()
        tx.close()
        try:
            ready_evt.wait(20)  # bounded; measure anyway
            res["attack_ramp_s"] = time.perf_counter() - t_start
            res["attack"] = _measure(port, p.pid, scrapes, per_s)
        finally:
            stop_evt.set()
            st = rx.recv() if rx.poll(20) else {}
            att.join(10)
            if att.is_alive():
                att.kill()
        dur = time.perf_counter() - t_start
        held = st.get("held_samples") or [0]
        res["attacker"] = {"seconds": dur, "opened": st.get("opened", 0),
                           "open_errors": st.get("open_errors", 0),
                           "closed_by_exporter": st.get("closed_by_exporter", 0),
                           "trickled_bytes": st.get("trickled_bytes", 0),
                           "held_mean": sum(held) / len(held), "held_min": min(held)}
        res["exporter_alive"] = p.poll() is None
    finally:
        stop(p)
        out.close()
    return res
