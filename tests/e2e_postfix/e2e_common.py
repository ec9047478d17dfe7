"""Constants and small helpers shared by the modules of the real-Postfix
end-to-end test (run_e2e.py is the entry point; its docstring has the map).

Importing this module puts tests/pylib on sys.path, so the other modules can
`import psetest` and `import pseproc` after it.
"""
import os
import sys

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pylib"))
import psetest  # noqa: E402

LOCAL_DOMAIN = "e2e.test"
EXTERNAL_DOMAIN = "example.org"  # RFC 2606; relay to it must always be denied.
USERS = {"alice": "alice-secret-1", "bob@e2e.test": "bob secret 2"}
# Simultaneous sessions per service in the burst phase; distinct so a swapped
# label shows. Below smtpd_client_connection_count_limit and the process limit.
# Largest last: anvil's final report then carries the largest per-client count.
BURST = {"smtp": 5, "smtps": 6, "submission": 7}
DEADLINE = 60.0  # seconds for any single wait


def log(msg):
    print("[e2e] " + msg, flush=True)


def wait_for(predicate, what, deadline=DEADLINE):
    return psetest.wait_for(predicate, what, deadline=deadline, interval=0.1)
