# End-to-end against a real Postfix (issue 9): tests/e2e_postfix/run_e2e.py
# starts a private Postfix 3.x instance (three smtpd services on 127.0.0.1
# high ports, postlogd maillog_file) and an auth-only Dovecot under a temporary
# directory, drives them with a scripted SMTP client, and checks that the
# exporter, following the maillog live, reports exactly what the client did.
# Needs root and the packages from scripts/install-deps.sh --test (postfix,
# dovecot-core, openssl); without them it exits 77 and ctest reports a skip.
# Run by hand (as root):
#   python3 tests/e2e_postfix/run_e2e.py build/postfix_sasl_exporter [--keep]
if(TARGET postfix_sasl_exporter)
  find_package(Python3 REQUIRED COMPONENTS Interpreter)
  add_test(NAME e2e_real_postfix
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/e2e_postfix/run_e2e.py
            $<TARGET_FILE:postfix_sasl_exporter>)
  # TIMEOUT only bounds a hang (the run takes well under a minute; each wait
  # inside has its own deadline). RUN_SERIAL: it binds ports and starts
  # servers, and on two cores it should not compete with the other suites.
  set_tests_properties(e2e_real_postfix PROPERTIES
    LABELS e2e TIMEOUT 600 RUN_SERIAL TRUE SKIP_RETURN_CODE 77)
endif()
