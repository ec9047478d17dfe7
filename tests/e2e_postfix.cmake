# End-to-end against a real Postfix: tests/e2e_postfix/run_e2e.py (the runner;
# its docstring maps the modules beside it)
# starts a private Postfix 3.x instance (three smtpd services and postscreen
# in front of a fourth, on 127.0.0.1 high ports; postlogd maillog_file;
# virtual delivery, and smtp relay to a loopback sink that accepts, defers
# and bounces; an access map and header_checks that reject) and an auth-only
# Dovecot under a temporary directory, drives them with a scripted SMTP
# client, and checks that the exporter, following the maillog live, reports
# exactly what the client did, sessions, SASL and mail flow alike.
# e2e_real_postfix_syslog runs the same scenario with the same expectations,
# but Postfix logs through syslog(3) (maillog_file empty) to the exporter's
# --syslog.listen-address unixgram socket: every postfix command runs in a
# private mount namespace (unshare) whose /dev/log, in an overlay of /dev,
# is that socket bind-mounted; the host's /dev/log is untouched.
# Needs root and the packages from scripts/install-deps.sh --test (postfix,
# dovecot-core, openssl; util-linux, overlayfs for the syslog variant);
# without them the test fails and says so.
# Run by hand (as root):
#   python3 tests/e2e_postfix/run_e2e.py build/postfix_sasl_exporter [--syslog] [--keep]
find_package(Python3 REQUIRED COMPONENTS Interpreter)
pse_find_tool(PSE_POSTFIX postfix PATHS /usr/sbin /sbin)
pse_find_tool(PSE_DOVECOT dovecot PATHS /usr/sbin /sbin)
pse_find_tool(PSE_OPENSSL openssl)
pse_find_tool(PSE_UNSHARE unshare)
# TIMEOUT only bounds a hang (a run takes well under a minute; each wait
# inside has its own deadline). RUN_SERIAL: it binds ports and starts
# servers, and on two cores it should not compete with the other suites.
pse_script_test(NAME e2e_real_postfix
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/e2e_postfix/run_e2e.py
          $<TARGET_FILE:postfix_sasl_exporter>
  LABELS e2e TIMEOUT 600 REQUIRES PSE_POSTFIX PSE_DOVECOT PSE_OPENSSL
  PROPERTIES RUN_SERIAL TRUE)
pse_script_test(NAME e2e_real_postfix_syslog
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/e2e_postfix/run_e2e.py
          $<TARGET_FILE:postfix_sasl_exporter> --syslog
  LABELS e2e TIMEOUT 600 REQUIRES PSE_POSTFIX PSE_DOVECOT PSE_OPENSSL PSE_UNSHARE
  PROPERTIES RUN_SERIAL TRUE)
