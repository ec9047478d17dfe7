"""The parts of bench/bench.py, one module per job: proc (running and
measuring processes), scrape (HTTP client), corpora (generated logs), replay
and others (whole-corpus runs of ours and of the other tools), live, memory,
statefile, crash, attack (the parts) and report (the Markdown tables)."""
