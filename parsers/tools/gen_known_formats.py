#!/usr/bin/env python3
"""Regenerates the table of smtpd log formats that are known and ignored.

usage: gen_known_formats.py POSTFIX_GIT_DIR OUT_DIR

POSTFIX_GIT_DIR is a clone of the Postfix source history (for example the
vdukhovni/postfix mirror, which tags every release as vX.Y.Z). The script
reads the msg_info() and msg_warn() format strings of smtpd and of the
libraries it logs through, at every release tag in RELEASES, and writes

  OUT_DIR/known_formats_smtpd.inc     smtpd, tls, milter, xsasl, dns, anvil client
  OUT_DIR/known_formats_library.inc   util and global (dictionaries, queue, IPC)
  OUT_DIR/testdata/known_formats.tsv  one instantiated example line per format

Left out, because smtpd logs them only with -v, because they are parsed into
events elsewhere (PARSED), or because they are so generic that they would
make any line look known (fewer than MIN_LETTERS literal letters):
msg_verbose-guarded calls, msg_panic/msg_fatal/msg_error (the parser handles
those prefixes as a whole), and formats built from a macro.
"""
import os
import re
import subprocess
import sys
import tarfile
import io

RELEASES = ["v2.8.0", "v2.9.0", "v2.10.0", "v2.11.0", "v3.0.0", "v3.1.0", "v3.2.0",
            "v3.3.0", "v3.4.0", "v3.5.0", "v3.6.0", "v3.7.0", "v3.8.0", "v3.9.0",
            "v3.10.0", "v3.11.0", "HEAD"]
SMTPD_PATHS = ["postfix/src/smtpd", "postfix/src/tls", "postfix/src/milter",
               "postfix/src/xsasl", "postfix/src/dns", "postfix/src/global/anvil_clnt.c"]
LIBRARY_PATHS = ["postfix/src/util", "postfix/src/global"]
# Files of those directories that smtpd never runs (client side, tests, tools).
SKIP_FILES = re.compile(r"(_test|test_|tls_client|xsasl_cyrus_client|xsasl_client|tlsrpt|"
                        r"tls_proxy_client)")
MIN_LETTERS = 6
# Formats the parser turns into events: they must not also be "known and
# ignored", or a malformed variant of them would hide as noise.
PARSED = [
    "connect from %s", "disconnect from %s%s", "%s: client=%s",
    "%s: SASL %s authentication", "%s: SASL %.100s authentication",
    "%s after %s", "%s: %s after %s", "%s: %s: %s from %s: %s;",
    " limit exceeded: %d from %s for service %s",
    "SASL authentication failure: %s", "SASL authentication problem: %s",
    "SASL: ",
]

# Lines smtpd assembles with vstring_sprintf() before logging them with "%s",
# which the scan above cannot see.
ASSEMBLED = [
    ("info", "%s TLS connection established from %s: %s with cipher %s (%d/%d bits)%s"),
    # Postfix 2.x before the trust level was logged.
    ("info", "TLS connection established from %s: %s with cipher %s (%d/%d bits)"),
    ("info", "proxy-accept: %s: %s;%s"),
    ("info", "proxy-reject: %s: %s;%s"),
]

CALL = re.compile(r"\b(msg_info|msg_warn)\s*\(")


def literals_at(text, i):
    """C string literals concatenated from text[i:], or None."""
    parts = []
    while i < len(text):
        c = text[i]
        if c in " \t\n":
            i += 1
        elif text.startswith("/*", i):
            i = text.index("*/", i) + 2
        elif c == '"':
            k = i + 1
            s = []
            while text[k] != '"':
                if text[k] == "\\":
                    s.append(text[k:k + 2])
                    k += 2
                else:
                    s.append(text[k])
                    k += 1
            parts.append("".join(s))
            i = k + 1
        else:
            break
    return "".join(parts) if parts else None


def unescape(c):
    return (c.replace('\\"', '"').replace("\\\\", "\\").replace("\\t", "\t"))


def formats_in(text):
    for m in CALL.finditer(text):
        before = text[text.rfind("\n", 0, text.rfind("\n", 0, m.start())):m.start()]
        if "msg_verbose" in before or "DEBUG" in before:
            continue
        fmt = literals_at(text, m.end())
        if fmt is None or "\\n" in fmt:
            continue
        yield ("warning" if m.group(1) == "msg_warn" else "info"), unescape(fmt)


def literal_letters(fmt):
    return len(re.sub(r"[^A-Za-z]", "", re.sub(r"%[-.*0-9l]*[a-zA-Z%]", "", fmt)))


def collect(git_dir, paths):
    found = {}
    for tag in RELEASES:
        try:
            blob = subprocess.run(["git", "-C", git_dir, "archive", tag] + paths,
                                  check=True, capture_output=True).stdout
        except subprocess.CalledProcessError:
            continue
        with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
            for member in tar.getmembers():
                if not member.name.endswith(".c") or SKIP_FILES.search(member.name):
                    continue
                text = tar.extractfile(member).read().decode("latin-1")
                if re.search(r"^(int\s+)?main\(", text, re.M) and "/smtpd/" not in member.name:
                    continue
                for sev, fmt in formats_in(text):
                    if literal_letters(fmt) < MIN_LETTERS:
                        continue
                    if any(p in fmt for p in PARSED):
                        continue
                    found.setdefault((sev, fmt), member.name.split("postfix/src/")[1])
    return found


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t") + '"'


def example(fmt):
    out = re.sub(r"%[-.*0-9l]*[sm]", "x", fmt)
    out = re.sub(r"%[-.*0-9l]*[dugxc]", "1", out)
    return out.replace("%%", "%")


def write_inc(path, found, what):
    with open(path, "w") as f:
        f.write("// Generated by parsers/tools/gen_known_formats.py: %s formats of\n"
                "// Postfix %s..%s (msg_info and msg_warn). Do not edit by hand.\n"
                % (what, RELEASES[0], RELEASES[-1]))
        for (sev, fmt) in sorted(found):
            f.write("{%s, %s},\n" % ("true" if sev == "warning" else "false", c_string(fmt)))


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    git_dir, out = sys.argv[1:]
    smtpd = collect(git_dir, SMTPD_PATHS)
    for key in ASSEMBLED:
        smtpd.setdefault(key, "tls/tls_misc.c" if "TLS" in key[1] else "smtpd/smtpd.c")
    library = {k: v for k, v in collect(git_dir, LIBRARY_PATHS).items() if k not in smtpd}
    write_inc(os.path.join(out, "known_formats_smtpd.inc"), smtpd, "smtpd and its TLS/SASL/milter/DNS")
    write_inc(os.path.join(out, "known_formats_library.inc"), library, "util and global library")
    os.makedirs(os.path.join(out, "testdata"), exist_ok=True)
    with open(os.path.join(out, "testdata", "known_formats.tsv"), "w") as f:
        f.write("# source\tevent\tmessage (generated; see tools/gen_known_formats.py)\n")
        for (sev, fmt), src in sorted(list(smtpd.items()) + list(library.items())):
            msg = ("warning: " if sev == "warning" else "") + example(fmt)
            f.write("%s\tignored\t%s\n" % (src, msg))
    print(len(smtpd), "smtpd formats,", len(library), "library formats")


if __name__ == "__main__":
    main()
