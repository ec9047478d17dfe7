#!/usr/bin/env python3
"""Seeds the corpora of scripts/fuzz.sh (see its header).

usage: fuzz_seeds.py ROOT CORPUS_ROOT

Writes CORPUS_ROOT/parser/ and CORPUS_ROOT/framing/, each input named by the
SHA-1 of its content (libFuzzer's own naming), so re-seeding is idempotent.
"""
import glob
import hashlib
import os
import sys


def parser_seeds(root):
    seeds = []
    for path in sorted(glob.glob(os.path.join(root, "tests/fixtures/**/*.log"), recursive=True)):
        with open(path, "rb") as f:
            seeds += [line for line in f.read().split(b"\n") if line]
    with open(os.path.join(root, "tests/hardening/fuzz_seeds.txt"), "rb") as f:
        seeds += [line for line in f.read().split(b"\n") if line and not line.startswith(b"#")]
    for path in sorted(glob.glob(os.path.join(root, "tests/hardening/fuzz_regressions/*"))):
        if os.path.basename(path) != "README.md":
            with open(path, "rb") as f:
                seeds.append(f.read())
    return seeds


def framing_seeds(root):
    """The framing fuzzer's input: one byte choosing the read size, then the
    stream. Runs of real lines in both framings, and broken frames."""
    lines = []
    for path in sorted(glob.glob(os.path.join(root, "tests/fixtures/forms/*.log"))):
        with open(path, "rb") as f:
            lines += [line for line in f.read().split(b"\n") if line]
    streams = []
    for i in range(0, min(len(lines), 60), 3):
        run = lines[i:i + 3]
        streams.append(b"".join(b"%d %s" % (len(m), m) for m in run))
        streams.append(b"".join(m + b"\n" for m in run))
    streams += [
        b"10737418240 <13>x",        # an octet count of 10 GB
        b"99999999999999999999 x",   # a count longer than any limit
        b"30 <13>half a frame",      # half-sent frame
        b"0 \n",                     # zero count
        b"5 abc\n\x00\n5 abcde",     # NUL in newline framing, then a count
        b"\n\n\n<13>only newlines\n",
        b"12 <13>exactly12" + b"\n" * 3,
        b"7" * 70 + b" x",
        b"x" * 200 + b"\nshort\n",   # over the limit, then a good message
    ]
    seeds = []
    for s in streams:
        for chunk in (0, 1, 6, 16):
            seeds.append(bytes([chunk]) + s)
    return seeds


def write(corpus, seeds, what):
    added = 0
    for s in seeds:
        name = os.path.join(corpus, hashlib.sha1(s).hexdigest())
        if not os.path.exists(name):
            with open(name, "wb") as f:
                f.write(s)
            added += 1
    print("fuzz.sh: %s: %d seed inputs (%d new) in %s" % (what, len(seeds), added, corpus),
          file=sys.stderr)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    root, corpus_root = sys.argv[1], sys.argv[2]
    sys.dont_write_bytecode = True
    write(os.path.join(corpus_root, "parser"), parser_seeds(root), "parser")
    write(os.path.join(corpus_root, "framing"), framing_seeds(root), "framing")


if __name__ == "__main__":
    main()
