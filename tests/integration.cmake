# Integration tests: the real postfix_sasl_exporter binary in daemon mode,
# scraped over HTTP (tests/integration/*.py, Python 3 standard library only).
#   test_daemon_file.py    following a file, rotation, restarts, signals, HTTP
#   test_config_errors.py  flags, config files, exit status 2, log formats
#   test_journal.py        real journal files made by systemd-journal-remote
#   test_accounts.py       --triage.top_usernames: hashed/plain labels, key, restart
# Run one by hand:
#   python3 tests/integration/test_daemon_file.py build/postfix_sasl_exporter [-k rotation]
# or all of them: ctest --test-dir build -L integration
find_package(Python3 REQUIRED COMPONENTS Interpreter)
pse_find_tool(PSE_SYSTEMD_JOURNAL_REMOTE systemd-journal-remote
              PATHS /lib/systemd /usr/lib/systemd NO_DEFAULT_PATH)

foreach(name daemon_file config_errors journal accounts)
  set(requires "")
  set(properties "")
  if(name STREQUAL journal)
    set(requires PSE_SYSTEMD_JOURNAL_REMOTE)
    set(properties ENVIRONMENT "PSE_JOURNAL_REMOTE=${PSE_SYSTEMD_JOURNAL_REMOTE}")
  endif()
  # TIMEOUT only bounds a hang; every wait inside has its own deadline.
  pse_script_test(NAME integration.${name}
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_${name}.py
            $<TARGET_FILE:postfix_sasl_exporter>
    LABELS integration TIMEOUT 300 REQUIRES ${requires} PROPERTIES ${properties})
endforeach()
