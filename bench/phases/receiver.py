"""The receiver part: the exporter as a syslog server, fed by the compiled
bench/syslog_sender (sendmmsg batches for datagrams, large writes for TCP),
so the sender is never the bottleneck (its own CPU is reported too).

For each transport (unixgram, tcp, udp):
  steady  a fixed rate (default 50,000 messages/s) for a fixed time (30 s),
          sent in bursts every tick (default 1 ms; --receiver-tick-us):
          messages per CPU-second of the exporter process (utime+stime from
          /proc/PID/stat over the run), and drops;
  peak    the offered rate stepped up (x2 from the steady rate, a few seconds
          each) until drops appear: the highest rate without a drop. Where the
          sender cannot keep the pace (achieves under 95 % of the offered
          rate), the search ends at what it achieved, marked sender-bound: a
          lower bound.

The baseline: bench/syslog_floor, a receiver that binds, waits and reads the
way the exporter does (same slots, the same 1 ms delay after a wake-up, none
for a unix datagram queue shorter than 64) and does nothing with a message,
run at the same steady rate. Its messages per CPU-second are what the kernel
lets any receiver reach on this machine; the exporter's share of it is what
parsing and metrics cost on top.

A drop is a message the exporter did not get in time: its own counters
(postfix_exporter_syslog_messages_dropped_total, overrun from SO_RXQ_OVFL
for UDP), messages the sender could not hand over when due (udp: the
kernel refused them; tcp: the sender's one-second buffer was full;
unixgram, where the sender waits like syslog(3): still due at the end), and
messages sent but not received 2 s after the sender stopped.

Messages are the corpus's lines in syslog(3) form ("<22>Mmm dd hh:mm:ss
tag[pid]: msg"), sent in turn, over and over.
"""

import json
import os
import re
import subprocess
import time

from phases.proc import exporter_env, log, proc_cpu_seconds, stop
from phases.scrape import Scraper, settled, value, wait_http
import psetest

QLEN_PATH = "/proc/sys/net/unix/max_dgram_qlen"
RECEIVED = "postfix_exporter_syslog_messages_received_total"
DROPPED = "postfix_exporter_syslog_messages_dropped_total"
_BSD = re.compile(rb"^(\w{3} +\d+ \d\d:\d\d:\d\d) \S+ (.*)$")


def messages_file(corpus_path, work, limit=200000):
    """The corpus's first `limit` lines as syslog(3) messages, one per line."""
    out = os.path.join(work, "syslog-messages.txt")
    n = 0
    with open(corpus_path, "rb") as f, open(out, "wb") as o:
        for line in f:
            m = _BSD.match(line.rstrip(b"\n"))
            if not m:
                continue
            o.write(b"<22>" + m.group(1) + b" " + m.group(2) + b"\n")
            n += 1
            if n >= limit:
                break
    return out, n


def _counts(scraper, transport):
    s = settled(scraper, deadline_s=2.0)
    return value(s, RECEIVED, transport=transport), value(s, DROPPED)


def one_run(exe, sender, msgs, transport, rate, seconds, work, syslog_year, tick_us=1000,
            extra_args=()):
    """One exporter, one sender run at `rate`; returns the figures."""
    sock = os.path.join(work, "recv.sock")
    port = psetest.free_port()
    if transport == "unixgram":
        listen, target = "unixgram://" + sock, sock
    else:
        p = psetest.free_port()
        listen, target = "%s://127.0.0.1:%d" % (transport, p), "127.0.0.1:%d" % p
    argv = [exe, "--syslog.listen-address=" + listen, "--postfix.syslog_year=%d" % syslog_year,
            "--syslog.receive-buffer-size=8MiB", "--web.listen-address=127.0.0.1:%d" % port]
    argv += list(extra_args)
    with open(os.path.join(work, "recv.stderr"), "wb") as err:
        ex = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, env=exporter_env())
    try:
        if not wait_http(port):
            raise SystemExit("receiver: the exporter did not start (see %s)" % work)
        scraper = Scraper(port)
        rx0, drop0 = _counts(scraper, transport)
        cpu0 = proc_cpu_seconds(ex.pid)
        out = subprocess.run([sender, transport, target, msgs, str(rate), str(seconds),
                              str(tick_us)],
                             capture_output=True, text=True, check=True)
        snd = json.loads(out.stdout)
        # Until the exporter has read what was sent, or 2 s of nothing new.
        last, same_since = -1, None
        while True:
            rx, drop = _counts(scraper, transport)
            if rx - rx0 >= snd["sent"]:
                break
            now = time.monotonic()
            if rx != last:
                last, same_since = rx, now
            elif now - same_since > 2.0:
                break
            time.sleep(0.1)
        cpu = proc_cpu_seconds(ex.pid) - cpu0
        scraper.close()
    finally:
        stop(ex)
    received = rx - rx0
    drops = (drop - drop0) + snd["refused"] + max(0, snd["sent"] - received)
    return {"transport": transport, "offered_rate": rate, "seconds": seconds,
            "sent": snd["sent"], "received": received, "drops": int(drops),
            "exporter_cpu_s": cpu, "sender_cpu_s": snd["cpu_s"],
            "msgs_per_cpu_s": received / cpu if cpu > 0 else float("nan"),
            "achieved_rate": received / snd["seconds"] if snd["seconds"] else 0}


def kept_pace(step):
    """The sender sent at least 95 % of the offered rate in a run."""
    return step["achieved_rate"] >= 0.95 * step["offered_rate"]


def floor_run(floor, sender, msgs, transport, rate, seconds, work, qlen, tick_us=1000):
    """bench/syslog_floor in the exporter's place: the kernel's share.
    qlen: net.unix.max_dgram_qlen."""
    if transport == "unixgram":
        target = listen = os.path.join(work, "floor.sock")
    else:
        target = listen = "127.0.0.1:%d" % psetest.free_port()
    # The exporter's 1 ms read-coalescing sleep, except where a unix datagram
    # queue cannot hold a millisecond's burst: the sender would wait.
    delay_us = "0" if transport == "unixgram" and qlen < 64 else "1000"
    fl = subprocess.Popen([floor, transport, listen, delay_us], stdout=subprocess.PIPE, text=True)
    try:
        if fl.stdout.readline().strip() != "ready":
            raise SystemExit("receiver: bench/syslog_floor did not start")
        cpu0 = proc_cpu_seconds(fl.pid)
        out = subprocess.run([sender, transport, target, msgs, str(rate), str(seconds),
                              str(tick_us)], capture_output=True, text=True, check=True)
        snd = json.loads(out.stdout)
        time.sleep(1.0)  # what is queued is read (its delay is 1 ms)
        cpu = proc_cpu_seconds(fl.pid) - cpu0
        fl.terminate()
        received = json.loads(fl.stdout.readline())["received"]
    finally:
        fl.kill()
        fl.wait()
    return {"received": received, "sent": snd["sent"], "cpu_s": cpu,
            "msgs_per_cpu_s": received / cpu if cpu > 0 else float("nan")}


def receiver_part(exe, sender, corpus_path, syslog_year, work, rate=50000, seconds=30.0,
                  step_seconds=5.0, max_rate=3200000, transports=("unixgram", "tcp", "udp"),
                  tick_us=1000, extra_args=(), unix_qlen=0, floor=None):
    """unix_qlen > 0: net.unix.max_dgram_qlen for the run (root; restored after).
    floor: the bench/syslog_floor binary, run once per transport; None: not."""
    with open(QLEN_PATH) as f:
        before = f.read()
    if unix_qlen > 0:
        with open(QLEN_PATH, "w") as f:
            f.write(str(unix_qlen))
    try:
        return _receiver_part(exe, sender, corpus_path, syslog_year, work, rate, seconds,
                              step_seconds, max_rate, transports, tick_us, extra_args, floor)
    finally:
        if unix_qlen > 0:
            with open(QLEN_PATH, "w") as f:
                f.write(before)


def _receiver_part(exe, sender, corpus_path, syslog_year, work, rate, seconds, step_seconds,
                   max_rate, transports, tick_us, extra_args, floor):
    msgs, n = messages_file(corpus_path, work)
    log("receiver: %d distinct messages" % n)
    with open(QLEN_PATH) as f:
        qlen = int(f.read())
    # A unix datagram queue holds this many datagrams (systemd sets 512; the
    # kernel default is 10): a short queue makes the sender wait more often,
    # and every wait is two context switches.
    res = {"steady": [], "peak": {}, "unix_max_dgram_qlen": qlen, "tick_us": tick_us,
           "exporter_args": list(extra_args)}
    for t in transports:
        log("receiver: %s steady %d msgs/s for %.0f s ..." % (t, rate, seconds))
        r = one_run(exe, sender, msgs, t, rate, seconds, work, syslog_year, tick_us, extra_args)
        log("  %.0f msgs per exporter CPU-s, drops %d" % (r["msgs_per_cpu_s"], r["drops"]))
        if floor:
            f = floor_run(floor, sender, msgs, t, rate, seconds, work, qlen, tick_us)
            r["floor"] = f
            log("  bare receiver (bench/syslog_floor): %.0f msgs per CPU-s, received %d of %d"
                % (f["msgs_per_cpu_s"], f["received"], f["sent"]))
        res["steady"].append(r)
        steps, peak, sender_bound = [], 0, False
        offered = rate
        while offered <= max_rate:
            s = one_run(exe, sender, msgs, t, offered, step_seconds, work, syslog_year, tick_us,
                        extra_args)
            log("  %s at %d/s: received %d, drops %d, %.0f msgs/CPU-s" % (
                t, offered, s["received"], s["drops"], s["msgs_per_cpu_s"]))
            steps.append(s)
            if s["drops"] > 0:
                break
            if not kept_pace(s):
                # The sender fell behind (one core of UDP sends): what it
                # achieved without a drop is the figure, a lower bound.
                peak, sender_bound = max(peak, int(s["achieved_rate"])), True
                break
            peak = offered
            offered *= 2
        res["peak"][t] = {"peak_rate_without_drops": peak, "sender_bound": sender_bound,
                          "steps": steps}
    return res
