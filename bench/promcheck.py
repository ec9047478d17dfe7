#!/usr/bin/env python3
"""Compares Prometheus text output with the expected values gen_corpus.py wrote.

Usage: promcheck.py EXPECTED.json METRICS.txt   (exit 0 when they agree)

Every expected series must have exactly its value; in the families the JSON
lists as complete, every other series must be 0 (pre-created) or absent.
"""

import json
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "pylib"))
import psetest  # noqa: E402


def parse_text(text):
    """{(name, frozenset(labels.items())): float} from the text exposition format
    (psetest's parser: a malformed or repeated sample is an error)."""
    samples = psetest.parse_exposition(text)
    return {(key.split("{", 1)[0], frozenset(samples.labels(key).items())): v
            for key, v in samples.items()}


def key_str(key):
    name, labels = key
    if not labels:
        return name
    return "%s{%s}" % (name, ",".join('%s="%s"' % kv for kv in sorted(labels)))


def compare(expected_doc, samples, section="ours"):
    """Returns a list of human-readable differences (empty when all agree)."""
    exp = expected_doc[section]
    diffs = []
    want = {}
    for s in exp["series"]:
        want[(s["name"], frozenset(s["labels"].items()))] = float(s["value"])
    for key, v in sorted(want.items(), key=lambda kv: key_str(kv[0])):
        got = samples.get(key)
        if got is None and v == 0:
            continue
        if got != v:
            diffs.append("%s: expected %g, got %s" % (key_str(key), v,
                                                      "absent" if got is None else "%g" % got))
    complete = set(exp.get("complete_families", ()))
    for key, v in sorted(samples.items(), key=lambda kv: key_str(kv[0])):
        if key[0] in complete and key not in want and v != 0:
            diffs.append("%s: expected 0 (not in the corpus), got %g" % (key_str(key), v))
    return diffs


def compare_flat(expected_counts, samples):
    """For other tools: {metric name: value}, summed over all label sets."""
    diffs = []
    for name, v in sorted(expected_counts.items()):
        got = sum(val for (n, _), val in samples.items() if n == name)
        if got != v:
            diffs.append("%s: expected %g, got %g" % (name, v, got))
    return diffs


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[0], encoding="utf-8") as f:
        doc = json.load(f)
    with open(argv[1], encoding="utf-8") as f:
        samples = parse_text(f.read())
    diffs = compare(doc, samples)
    for d in diffs:
        print(d)
    print("%d series checked, %d differences" % (len(doc["ours"]["series"]), len(diffs)),
          file=sys.stderr)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
