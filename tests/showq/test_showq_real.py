#!/usr/bin/env python3
"""The queue metrics against a real Postfix queue.

usage: test_showq_real.py EXPORTER [--keep]

Starts a private Postfix (pickup, cleanup, trivial-rewrite, showq, postlogd;
no queue manager, so accepted mail stays in `incoming`) under a temporary
directory, submits messages of known sizes with sendmail, puts some on hold
with postsuper -h, and checks that the exporter's
postfix_showq_message_size_bytes / _age_seconds{queue} equal what
`postqueue -j` lists (messages and bytes per queue), that Debian's
kumina exporter reading the same socket gives the same size histograms
(when it is installed), and that a missing socket gives postfix_up 0 in a
scrape that still succeeds. Needs root (Postfix runs as postfix/postdrop).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
from psetest import (Daemon, check, http_get, free_port, parse_exposition,  # noqa: E402
                     require_root, require_tool, run_main, wait_for)

MESSAGES = 6
HOLD = 2
SIZE = "postfix_showq_message_size_bytes"
AGE = "postfix_showq_message_age_seconds"


def run(cmd, stdin=None):
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=60)
    check(p.returncode == 0, "%s failed (%d): %s" % (" ".join(cmd), p.returncode,
                                                      p.stderr.decode(errors="replace")))
    return p.stdout.decode(errors="replace")


def write_config(root):
    etc, queue, data = (os.path.join(root, d) for d in ("etc", "queue", "data"))
    for d in (etc, queue, data):
        os.makedirs(d)
    shutil.chown(data, "postfix", "postfix")
    with open(os.path.join(etc, "main.cf"), "w") as f:
        f.write("""\
# Private test instance: no listener, no queue manager, nothing is delivered.
compatibility_level = 3.6
queue_directory = {q}
data_directory = {d}
mail_owner = postfix
setgid_group = postdrop
inet_interfaces = loopback-only
inet_protocols = ipv4
myhostname = localhost
mydestination =
alias_maps =
alias_database =
maillog_file = {r}/maillog
maillog_file_prefixes = {r}
""".format(q=queue, d=data, r=root))
    with open(os.path.join(etc, "master.cf"), "w") as f:
        f.write("""\
pickup    unix n - n 60 1 pickup
cleanup   unix n - n - 0 cleanup
rewrite   unix - - n - - trivial-rewrite
showq     unix n - n - - showq
postlog   unix-dgram n - n - 1 postlogd
""")
    return etc, os.path.join(queue, "public", "showq")


def truth(etc):
    """{queue: (messages, bytes)} from postqueue -j."""
    out = {}
    for line in run(["postqueue", "-c", etc, "-j"]).splitlines():
        m = json.loads(line)
        n, b = out.get(m["queue_name"], (0, 0))
        out[m["queue_name"]] = (n + 1, b + m["message_size"])
    return out


def queue_of(samples, name, queue):
    return (samples.value(name + "_count", queue=queue), samples.value(name + "_sum", queue=queue))


def main(exporter, keep):
    require_root("Postfix runs its daemons as postfix and postdrop")
    for tool in ("postfix", "postqueue", "postsuper", "sendmail"):
        require_tool(tool, "postfix")
    root = tempfile.mkdtemp(prefix="pse-showq-")
    os.chmod(root, 0o755)
    etc, socket_path = write_config(root)
    started = False
    daemons = []
    try:
        run(["postfix", "-c", etc, "check"])
        run(["postfix", "-c", etc, "start"])
        started = True
        wait_for(lambda: os.path.exists(socket_path), "the showq socket")
        for i in range(MESSAGES):
            body = "Subject: m%d\n\n%s\n" % (i, "x" * (1500 * (i + 1)))
            run(["sendmail", "-C", etc, "-f", "a@example.org", "b@example.org"], body.encode())
        # pickup and cleanup move every message to incoming (no qmgr takes it on).
        wait_for(lambda: truth(etc).get("incoming", (0, 0))[0] == MESSAGES,
                 "%d messages in the incoming queue" % MESSAGES, deadline=30)
        ids = [json.loads(l)["queue_id"] for l in run(["postqueue", "-c", etc, "-j"]).splitlines()]
        for qid in ids[:HOLD]:
            run(["postsuper", "-c", etc, "-h", qid])
        want = truth(etc)
        check(want.get("hold", (0, 0))[0] == HOLD, "postsuper -h held %s" % want)

        log = os.path.join(root, "empty.log")
        open(log, "w").close()
        ours = Daemon(exporter, ["--postfix.logfile_path=" + log,
                                 "--postfix.showq_path=" + socket_path], root)
        daemons.append(ours)
        ours.wait_http()
        got = ours.scrape()
        check(got.value("postfix_up", path=socket_path) == 1, "postfix_up is not 1")
        for queue in ("active", "deferred", "hold", "incoming", "maildrop"):
            n, b = want.get(queue, (0, 0))
            check(queue_of(got, SIZE, queue) == (n, b),
                  "%s queue: exporter %s, postqueue -j %s" % (queue, queue_of(got, SIZE, queue), (n, b)))
            check(got.value(AGE + "_count", queue=queue) == n, "%s queue: age count" % queue)

        kumina = shutil.which("prometheus-postfix-exporter")
        if kumina:
            k = Daemon(kumina, ["--postfix.logfile_path=" + log,
                                "--postfix.showq_path=" + socket_path], root, name="kumina")
            daemons.append(k)
            k.wait_for(lambda: k.get("/metrics")[0] == 200, "kumina serving")
            ks = parse_exposition(k.get("/metrics")[2].decode())
            mine = {key: v for key, v in got.items() if key.startswith(SIZE)}
            theirs = {key: v for key, v in ks.items() if key.startswith(SIZE)}
            norm = lambda d: {(round(float(s.split('le="')[1].split('"')[0]), 3) if 'le="' in s and
                               "+Inf" not in s else None, s.split("{")[0],
                               s.split('queue="')[1].split('"')[0]): v for s, v in d.items()}
            check(norm(mine) == norm(theirs), "size histograms differ from kumina's:\n%s\n%s"
                  % (sorted(mine.items()), sorted(theirs.items())))

        missing = Daemon(exporter, ["--postfix.logfile_path=" + log,
                                    "--postfix.showq_path=" + os.path.join(root, "no-showq")],
                         root, name="missing")
        daemons.append(missing)
        missing.wait_http()
        s = missing.scrape()
        check(s.value("postfix_up", path=os.path.join(root, "no-showq")) == 0, "postfix_up is not 0")
        check(s.value(SIZE + "_count", queue="hold") is None, "histograms without a queue")
        missing.wait_for(lambda: "cannot read the Postfix queue" in missing.stderr(), "the log line")
        print("queues: %s" % want)
    finally:
        for d in daemons:
            d.close()
        if started:
            subprocess.run(["postfix", "-c", etc, "stop"], capture_output=True, timeout=60)
        if keep:
            print("kept " + root)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--keep"]
    if len(args) != 1:
        sys.exit(__doc__)
    run_main(main, os.path.abspath(args[0]), "--keep" in sys.argv[1:])
