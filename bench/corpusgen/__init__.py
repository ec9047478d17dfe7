"""The modules of bench/gen_corpus.py (its command line and Gen live there):
model (constants, Model, Clock), writer (random source, pids, line heap and
session primitives), noise, sessions, sasl (scenarios), profiles (main loops)
and expected (the expected-values document)."""
