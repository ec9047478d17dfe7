"""The generated corpora: generated once per profile, size, seed and stamp
style and cached in the results directory under a name that includes a hash
of the generator's sources (a changed generator regenerates), read into the
page cache, or loaded into memory with line offsets for paced writers."""

import hashlib
import json
import os
import subprocess
import sys
import time

from phases.proc import MIB, log

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def generator_hash():
    """Hash of the generator's sources: its command line and every corpusgen module."""
    h = hashlib.sha256()
    gen_dir = os.path.join(BENCH, "corpusgen")
    for path in [os.path.join(BENCH, "gen_corpus.py")] + sorted(
            os.path.join(gen_dir, n) for n in os.listdir(gen_dir) if n.endswith(".py")):
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:12]


def corpus(results, profile, lines, seed=1, timestamps="bsd"):
    """Generates (or reuses) a corpus; returns (log path, expected dict)."""
    name = "corpus-%s-%d-s%d-%s-%s" % (profile, lines, seed, timestamps, generator_hash())
    path = os.path.join(results, name + ".log")
    exp = os.path.join(results, name + ".json")
    if not (os.path.exists(path) and os.path.exists(exp)):
        for old in os.listdir(results):  # keep one generation of each kind
            if old.startswith("corpus-%s-%d-s%d-%s-" % (profile, lines, seed, timestamps)):
                os.unlink(os.path.join(results, old))
        log("generating %s ..." % name)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, os.path.join(BENCH, "gen_corpus.py"), "--profile", profile,
                        "--seed", str(seed), "--lines", str(lines), "--timestamps", timestamps,
                        "--out", path + ".tmp", "--expected", exp + ".tmp"], check=True)
        os.rename(path + ".tmp", path)
        os.rename(exp + ".tmp", exp)
        log("  %.1f s" % (time.perf_counter() - t0))
    with open(exp) as f:
        return path, json.load(f)


def warm(path):
    with open(path, "rb") as f:
        while f.read(8 * MIB):
            pass


def load_lines(path, limit):
    with open(path, "rb") as f:
        data = f.read()
    offs = [0]
    pos = 0
    find = data.find
    while len(offs) <= limit:
        nl = find(b"\n", pos)
        if nl < 0:
            break
        pos = nl + 1
        offs.append(pos)
    return data, offs
