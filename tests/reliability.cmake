# Reliability tests (label "reliability"): long-running, randomised runs of
# the real exporter that look for rare loss or double counting.
#   ctest --test-dir build -L reliability
# journal_soak.py --long (or --seconds N) runs longer by hand.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
pse_find_tool(PSE_SYSTEMD_JOURNAL_REMOTE systemd-journal-remote
              PATHS /lib/systemd /usr/lib/systemd NO_DEFAULT_PATH)
pse_find_tool(PSE_JOURNALCTL journalctl)

# About 40 s of appending plus the catch-up; TIMEOUT only bounds a hang.
# RUN_SERIAL: it keeps both cores busy, which would slow other tests' waits.
pse_script_test(NAME reliability.journal_soak
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/reliability/journal_soak.py
          $<TARGET_FILE:postfix_sasl_exporter> --seconds 40
  LABELS reliability TIMEOUT 240
  REQUIRES PSE_SYSTEMD_JOURNAL_REMOTE PSE_JOURNALCTL
  PROPERTIES ENVIRONMENT "PSE_JOURNAL_REMOTE=${PSE_SYSTEMD_JOURNAL_REMOTE}" RUN_SERIAL TRUE)
