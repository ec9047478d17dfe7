#!/usr/bin/env python3
"""Drop-in test against the real kumina/postfix_exporter (Debian's
prometheus-postfix-exporter, 0.3.0).

usage: test_kumina_compat.py EXPORTER MIGRATION_DOC [--keep DIR]

One generated log with every daemon both exporters read (default syslog_name
"postfix": kumina sees nothing else) goes through kumina (a daemon tailing a
file, on a free loopback port, stopped afterwards) and through ours (a daemon reading the file from its start).
For every postfix_* family kumina exposes, ours must have it with the same
type and with at least kumina's label names. What else is required is the
doc's `compare` column, the one list of deliberate differences:
  equal         every kumina sample (histogram buckets, sums and counts
                included) equals the sum of ours over the labels we add
                (`service`), and ours has no non-zero series kumina lacks;
  superset      ours counts every line kumina counts, and more (the log has
                lines of both kinds): each kumina sample <= ours, projected;
  differs       same name, type and label names; values differ (the doc says why);
  not exported  kumina's family has no counterpart here.

kumina seeks to the end of its file when it starts, so it is fed probe lines
(an opendkim line: a family we do not export) until it counts one, then the
log; the log ends with a sentinel connect, and kumina has read everything once
its connect count reaches the log's.
"""
import os
import re
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from psetest import (Daemon, check, free_port, http_get, log_line,  # noqa: E402
                     parse_exposition, require_tool, run_main, wait_for)

KUMINA = "/usr/bin/prometheus-postfix-exporter"
# Every family kumina 0.3.0 can expose but the queue histograms (no showq
# here): the generated log must make kumina show each of them.
KUMINA_FAMILIES = {
    "postfix_cleanup_messages_processed_total", "postfix_cleanup_messages_rejected_total",
    "postfix_cleanup_messages_not_accepted_total", "postfix_lmtp_delivery_delay_seconds",
    "postfix_pipe_delivery_delay_seconds", "postfix_smtp_delivery_delay_seconds",
    "postfix_qmgr_messages_inserted_receipients", "postfix_qmgr_messages_inserted_size_bytes",
    "postfix_qmgr_messages_removed_total", "postfix_smtp_tls_connections_total",
    "postfix_smtpd_tls_connections_total", "postfix_smtp_deferred_messages_total",
    "postfix_smtp_status_deferred", "postfix_smtp_connection_timed_out_total",
    "postfix_smtpd_connects_total", "postfix_smtpd_disconnects_total",
    "postfix_smtpd_forward_confirmed_reverse_dns_errors_total",
    "postfix_smtpd_connections_lost_total", "postfix_smtpd_messages_processed_total",
    "postfix_smtpd_messages_rejected_total", "postfix_smtpd_sasl_authentication_failures_total",
    "postfix_unsupported_log_entries_total", "opendkim_signatures_added_total", "postfix_up",
}


def generate():
    """(log text, number of smtpd connect lines)."""
    lines = []
    t = [0]

    def add(program, pid, msg):
        t[0] += 1
        lines.append(log_line(t[0], program, pid, msg))

    connects = 0
    for i in range(12):
        qid = "4A%08X" % (0x1000 + i)
        client = "c%d.example[192.0.2.%d]" % (i, 10 + i)
        add("postfix/postscreen", 90, "CONNECT from [192.0.2.%d]:4000%d to [192.0.2.1]:25" % (10 + i, i))
        add("postfix/postscreen", 90, ("PASS NEW" if i % 2 else "PASS OLD") + " [192.0.2.%d]:4000%d" % (10 + i, i))
        add("postfix/smtpd", 100 + i, "connect from " + client)
        connects += 1
        if i % 3 == 0:
            add("postfix/smtpd", 100 + i, "warning: hostname c%d.example does not resolve to address "
                "192.0.2.%d: Name or service not known" % (i, 10 + i))
        trust = ["Anonymous", "Untrusted", "Trusted", "Verified"][i % 4]
        proto, cipher, bits = (("TLSv1.3", "TLS_AES_256_GCM_SHA384", "256") if i % 2 else
                               ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "128"))
        add("postfix/smtpd", 100 + i, "%s TLS connection established from %s: %s with cipher %s "
            "(%s/%s bits)" % (trust, client, proto, cipher, bits, bits))
        if i % 4 == 1:
            add("postfix/smtpd", 100 + i, "warning: %s: SASL LOGIN authentication failed: "
                "UGFzc3dvcmQ6" % client)
        if i % 5 == 4:
            add("postfix/smtpd", 100 + i, "NOQUEUE: reject: RCPT from %s: 554 5.7.1 <x@y.example>: "
                "Relay access denied; from=<a@b.example> to=<x@y.example> proto=ESMTP helo=<h>" % client)
            add("postfix/smtpd", 100 + i, "NOQUEUE: reject: RCPT from %s: 450 4.1.8 <a@b.example>: "
                "Sender address rejected: Domain not found; from=<a@b.example> to=<x@y.example> "
                "proto=ESMTP helo=<h>" % client)
        if i % 6 == 5:
            add("postfix/smtpd", 100 + i, "lost connection after EHLO from " + client)
            add("postfix/smtpd", 100 + i, "disconnect from %s ehlo=1 commands=1" % client)
            continue
        sasl = ", sasl_method=PLAIN, sasl_username=u%d@example.org" % i if i % 2 else ""
        add("postfix/smtpd", 100 + i, "%s: client=%s%s" % (qid, client, sasl))
        add("postfix/cleanup", 200, "%s: message-id=<m%d@example.org>" % (qid, i))
        if i == 7:
            add("postfix/cleanup", 200, "%s: reject: header Subject: spam from %s; from=<a@b.example> "
                "to=<r@example.org> proto=ESMTP helo=<h>: 5.7.1 no spam" % (qid, client))
            add("postfix/smtpd", 100 + i, "disconnect from %s ehlo=1 mail=1 rcpt=1 data=0/1 quit=1 "
                "commands=4/5" % client)
            continue
        if i == 8:
            add("postfix/cleanup", 200, "%s: milter-reject: END-OF-MESSAGE from %s: 5.7.1 virus; "
                "from=<a@b.example> to=<r@example.org> proto=ESMTP helo=<h>" % (qid, client))
            add("postfix/smtpd", 100 + i, "disconnect from %s ehlo=1 mail=1 rcpt=1 data=0/1 quit=1 "
                "commands=4/5" % client)
            continue
        nrcpt = 1 + i % 3
        add("postfix/qmgr", 300, "%s: from=<s%d@example.org>, size=%d, nrcpt=%d (queue active)"
            % (qid, i, 800 + 1700 * i * i, nrcpt))
        add("postfix/smtpd", 100 + i, "disconnect from %s ehlo=1 mail=1 rcpt=%d data=1 quit=1 commands=5"
            % (client, nrcpt))
        for r in range(nrcpt):
            rcpt = "r%d-%d@dest%d.example" % (i, r, i % 3)
            # The recipients of one delivery attempt share its delays.
            delays = "0.%02d/0.0%d/0.%d/%d.%02d" % (i, i % 4, i % 10, i % 3, 7 * i % 100)
            kind = i % 7
            if kind == 0:
                add("postfix/smtp", 400 + i, "%s: to=<%s>, relay=mx%d.example[198.51.100.%d]:25, delay=1.1, "
                    "delays=%s, dsn=2.0.0, status=sent (250 2.0.0 Ok)" % (qid, rcpt, i, i, delays))
            elif kind == 1:
                add("postfix/smtp", 400 + i, "%s: to=<%s>, relay=mx%d.example[198.51.100.%d]:25, delay=5, "
                    "delays=%s, dsn=4.7.0, status=deferred (host said: 421 try later)"
                    % (qid, rcpt, i, i, delays))
            elif kind == 2:
                add("postfix/lmtp", 500, "%s: to=<%s>, relay=mail.example.org[private/dovecot-lmtp], "
                    "delay=0.2, delays=%s, dsn=2.0.0, status=sent (250 2.0.0 Saved)" % (qid, rcpt, delays))
            elif kind == 3:
                add("postfix/pipe", 600, "%s: to=<%s>, relay=%s, delay=0.3, delays=%s, dsn=2.0.0, "
                    "status=sent (delivered via service)" % (qid, rcpt, ["dovecot", "spamc"][r % 2], delays))
            elif kind == 4:
                add("postfix/local", 700, "%s: to=<%s>, relay=local, delay=0.1, delays=%s, dsn=2.0.0, "
                    "status=sent (delivered to mailbox)" % (qid, rcpt, delays))
            else:
                add("postfix/virtual", 800, "%s: to=<%s>, relay=virtual, delay=0.1, delays=%s, dsn=5.1.1, "
                    "status=bounced (unknown user)" % (qid, rcpt, delays))
                add("postfix/bounce", 900, "%s: sender non-delivery notification: 5B%08X" % (qid, i))
        if i % 6 != 1:
            add("postfix/qmgr", 300, "%s: removed" % qid)
    add("postfix/smtp", 450, "connect to mx9.example[198.51.100.9]:25: Connection timed out")
    add("postfix/smtp", 450, "connect to mx9.example[198.51.100.99]:25: Connection refused")
    add("postfix/smtp", 451, "Verified TLS connection established to mx0.example[198.51.100.0]:25: "
        "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)")
    add("postfix/smtp", 452, "Untrusted TLS connection established to mx6.example[198.51.100.6]:25: "
        "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)")
    add("postfix/qmgr", 300, "4AFFFFFFFF: from=<old@example.org>, status=expired, returned to sender")
    add("postfix/bounce", 900, "4AFFFFFFFF: sender delay notification: 5BFFFFFFFF")
    # Lines this exporter counts and kumina does not (`superset` families).
    add("postfix/smtpd", 198, "connect from extra.example[192.0.2.249]")
    connects += 1
    add("postfix/smtpd", 198, "NOQUEUE: reject: MAIL from extra.example[192.0.2.249]: 550 5.7.1 "
        "<a@b.example>: Sender address rejected: Access denied; from=<a@b.example> proto=ESMTP helo=<h>")
    add("postfix/smtpd", 198, "warning: extra.example[192.0.2.249]: SASL LOGIN authentication aborted")
    add("postfix/smtpd", 198, "lost connection after DATA (0 bytes) from extra.example[192.0.2.249]")
    add("postfix/smtpd", 198, "disconnect from extra.example[192.0.2.249] ehlo=1 auth=0/1 mail=1 "
        "rcpt=1 data=0/1 commands=3/5")
    add("postfix/anvil", 50, "statistics: max connection count 3 for (smtp:192.0.2.10) at May 14 10:00:10")
    add("postfix/smtpd", 199, "connect from sentinel.example[192.0.2.250]")
    connects += 1
    return "".join(lines), connects


def doc_table(path):
    """{family: compare} from the rows '| `name` | ... | compare |' of the
    migration doc's first table (before its first '## ' heading)."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("## "):
                break
            m = re.match(r"^\|\s*`((?:postfix|opendkim)_[a-z_]+)`\s*\|.*\|\s*([a-z ]+?)\s*\|\s*$", line)
            if m:
                out[m.group(1)] = m.group(2)
    check(out, "no family table in " + path)
    for name, compare in out.items():
        check(compare in ("equal", "superset", "differs", "not exported"),
              "%s: compare column must be equal|superset|differs|not exported, not %r"
              % (name, compare))
    return out


def types_of(text):
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))


def family_of(sample_name, types):
    for suffix in ("_bucket", "_sum", "_count", ""):
        base = sample_name[:len(sample_name) - len(suffix)] if suffix else sample_name
        if sample_name.endswith(suffix) and base in types:
            return base
    return sample_name


def norm(labels):
    """Label pairs with `le` as a number: Go writes 1e+06 where we write 1000000."""
    return tuple(sorted((n, repr(float(v)) if n == "le" else v) for n, v in labels.items()))


def compare(k_text, o_text, table):
    k_types, o_types = types_of(k_text), types_of(o_text)
    k, o = parse_exposition(k_text), parse_exposition(o_text)
    problems = []
    families = sorted(f for f in k_types if f.startswith(("postfix_", "opendkim_")))
    check(families, "kumina exposed no postfix family")
    for fam in families:
        if fam not in table:
            problems.append("%s: kumina exports it, the migration doc does not list it" % fam)
            continue
        if table[fam] == "not exported":
            continue
        if o_types.get(fam) != k_types[fam]:
            problems.append("%s: type %s here, %s in kumina" % (fam, o_types.get(fam), k_types[fam]))
            continue
        k_samples = {key: v for key, v in k.items() if family_of(k._parts[key][0], k_types) == fam}
        o_samples = {key: v for key, v in o.items() if family_of(o._parts[key][0], o_types) == fam}
        if not o_samples:
            problems.append("%s: no series here" % fam)
            continue
        o_names = set().union(*(set(o.labels(key)) for key in o_samples))
        for key in k_samples:
            missing = set(k.labels(key)) - o_names
            if missing:
                problems.append("%s: label(s) %s missing here" % (fam, sorted(missing)))
                break
        if table[fam] not in ("equal", "superset"):
            continue
        superset = table[fam] == "superset"
        # Ours projected on kumina's label names, summed over what we add.
        projected = {}
        for key, v in o_samples.items():
            name, labels = o._parts[key]
            k_names = None
            for kk in k_samples:
                if k._parts[kk][0] == name:
                    k_names = set(k.labels(kk))
                    break
            if k_names is None:
                k_names = set()
            pk = (name, norm({n: labels[n] for n in k_names if n in labels}))
            projected[pk] = projected.get(pk, 0.0) + v
        for key, v in k_samples.items():
            name, labels = k._parts[key]
            pk = (name, norm(labels))
            got = projected.pop(pk, 0.0)
            if superset:
                if got < v:
                    problems.append("%s: kumina %s, here only %s" % (key, v, got))
            elif abs(got - v) > 1e-9 * max(1.0, abs(v)):
                problems.append("%s: kumina %s, here %s" % (key, v, got))
        for pk, v in projected.items():
            if superset:
                break
            if v != 0:
                problems.append("%s%s: %s here, absent in kumina" % (pk[0], dict(pk[1]), v))
    check(not problems, "differences from kumina not listed in the migration doc:\n  "
          + "\n  ".join(problems))
    return families


def kumina_scrape(log_text, connects, workdir):
    kumina = require_tool(KUMINA, "prometheus-postfix-exporter")
    path = os.path.join(workdir, "mail.log")
    open(path, "w").close()
    port = free_port()
    url = "http://127.0.0.1:%d/metrics" % port
    with open(os.path.join(workdir, "kumina.err"), "wb") as err:
        proc = subprocess.Popen([kumina, "--postfix.logfile_path=" + path,
                                 "--web.listen-address=127.0.0.1:%d" % port,
                                 "--postfix.showq_path=" + os.path.join(workdir, "no-showq")],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
    try:
        def scrape():
            try:
                status, _, body = http_get(url)
            except OSError:
                return None
            return body.decode() if status == 200 else None

        wait_for(scrape, "kumina serving " + url)
        probe = log_line(0, "opendkim", 1, "0PROBE: DKIM-Signature field added (s=p, d=probe.example)")

        def probed():
            with open(path, "a") as f:
                f.write(probe)
            return "opendkim_signatures_added_total" in (scrape() or "")

        wait_for(probed, "kumina reading its log file", interval=0.5)
        with open(path, "a") as f:
            f.write(log_text)

        # A scrape taken while kumina is still busy can lack its vector
        # families (seen with Debian's 0.3.0-4): wait until the log is read,
        # every family the log exercises is there, and two scrapes agree.
        last = [None]

        def done():
            text = scrape()
            if not text:
                return None
            got = parse_exposition(text).value("postfix_smtpd_connects_total")
            ready = got == connects and KUMINA_FAMILIES <= set(types_of(text))
            ours = [l for l in text.splitlines() if l.startswith(("postfix_", "opendkim_"))]
            stable = ready and ours == last[0]
            last[0] = ours
            return text if stable else None

        return wait_for(done, "kumina counting %d connects with all of %s"
                        % (connects, sorted(KUMINA_FAMILIES)), deadline=60, interval=0.3)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def ours_scrape(exporter, path, connects, workdir):
    """Ours as a daemon like kumina (reading the file from its start), with
    the same missing showq socket, so postfix_up{path} compares too."""
    d = Daemon(exporter, ["--postfix.logfile_path=" + path, "--postfix.logfile_from_beginning",
                          "--postfix.syslog_year=2024",
                          "--postfix.showq_path=" + os.path.join(workdir, "no-showq")], workdir)
    try:
        d.wait_http()

        def done():
            status, _, body = d.get("/metrics")
            if status != 200:
                return None
            text = body.decode()
            got = parse_exposition(text).total("postfix_smtpd_connects_total")
            return text if got == connects else None

        return d.wait_for(done, "the exporter counting %d connects" % connects, deadline=60)
    finally:
        d.close()


def main(exporter, doc, keep=None):
    table = doc_table(doc)
    log_text, connects = generate()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = keep or tmp
        os.makedirs(workdir, exist_ok=True)
        k_text = kumina_scrape(log_text, connects, workdir)
        ours_log = os.path.join(workdir, "ours.log")
        with open(ours_log, "w") as f:
            f.write(log_text)
        o_text = ours_scrape(exporter, ours_log, connects, workdir)
        if keep:
            open(os.path.join(keep, "kumina.prom"), "w").write(k_text)
            open(os.path.join(keep, "ours.prom"), "w").write(o_text)
        families = compare(k_text, o_text, table)
        print("compared %d kumina families" % len(families))


if __name__ == "__main__":
    args = sys.argv[1:]
    keep = None
    if "--keep" in args:
        i = args.index("--keep")
        keep = os.path.abspath(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    run_main(main, os.path.abspath(args[0]), os.path.abspath(args[1]), keep)
