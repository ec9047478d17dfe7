# Reliability (label "reliability"): the real binary following a file
# through kill -9 / SIGTERM during a stream, rename and copytruncate rotation
# under a steady writer, rotations while stopped or down, and unusable state
# files, with exact totals and no counter going backwards (--state.file);
# and a million distinct failed logins in bounded memory.
#   python3 tests/reliability/test_crash_restart.py build/postfix_sasl_exporter [-k NAME]
find_package(Python3 REQUIRED COMPONENTS Interpreter)
pse_script_test(NAME reliability.crash_restart
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/reliability/test_crash_restart.py
          $<TARGET_FILE:postfix_sasl_exporter>
  LABELS reliability TIMEOUT 600 PROPERTIES RUN_SERIAL TRUE)

# One million failed logins from distinct addresses and user names: exact
# count, bounded peak RSS (measured by the hardening maxrss helper; counts
# only under the sanitizers).
set(PSE_RELIABILITY_RSS --maxrss $<TARGET_FILE:hardening_maxrss>)
if(PSE_SANITIZE)
  set(PSE_RELIABILITY_RSS --sanitized --failures 200000)
endif()
pse_script_test(NAME reliability.million_failures
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/reliability/million_failures.py
          $<TARGET_FILE:postfix_sasl_exporter> ${PSE_RELIABILITY_RSS}
  LABELS reliability TIMEOUT 600)
