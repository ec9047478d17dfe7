# The syslog receiver with the real binary (tests/syslog/*.py, Python 3
# standard library only):
#   syslog.receiver  a fixture log sent over unixgram, tcp (octet-counted and
#                    newline) and udp gives exactly the metrics of --once on
#                    the file; socket mode, stale socket, echo, errors
#   syslog.hosts     --syslog.host-label: two hosts over udp and tcp each get
#                    the file's numbers; --syslog.max-hosts folds the rest
#                    into host="other"
#   syslog.bad_input garbage and oversized datagrams, a 10 GB octet count, a
#                    half-sent frame, 10,000 connections at once, a silent
#                    client, --syslog.echo into a pipe nobody reads: counted or
#                    refused, VmRSS bounded, scrapes and other clients served
#   syslog.peers     util-linux logger (unix socket RFC 3164, TCP octet-counted
#                    and UDP RFC 5424) and a real rsyslogd forwarding over TCP
# Run one by hand:
#   python3 tests/syslog/test_syslog_peers.py build/postfix_sasl_exporter [-k rsyslog]
find_package(Python3 REQUIRED COMPONENTS Interpreter)
pse_find_tool(PSE_LOGGER logger)
pse_find_tool(PSE_RSYSLOGD rsyslogd PATHS /usr/sbin /sbin)

pse_script_test(NAME syslog.receiver
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/syslog/test_syslog_receiver.py
          $<TARGET_FILE:postfix_sasl_exporter>
  LABELS integration TIMEOUT 300)
pse_script_test(NAME syslog.hosts
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/syslog/test_syslog_hosts.py
          $<TARGET_FILE:postfix_sasl_exporter>
  LABELS integration TIMEOUT 300)
pse_script_test(NAME syslog.bad_input
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/syslog/test_syslog_bad_input.py
          $<TARGET_FILE:postfix_sasl_exporter>
  LABELS integration hardening TIMEOUT 300)
pse_script_test(NAME syslog.peers
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/syslog/test_syslog_peers.py
          $<TARGET_FILE:postfix_sasl_exporter>
  LABELS integration TIMEOUT 300 REQUIRES PSE_LOGGER PSE_RSYSLOGD)
