# Hardening tests: log injection, hostile and broken input, state caps,
# fuzzing. Label "hardening"; the fuzzer smoke run is also "fuzz".
#
#   ctest --test-dir build -L hardening --output-on-failure
#
# The unit-level tests sit beside the code they attack and are registered by
# their folders (parsers/injection_test.cc, exporter/hostile_input_test.cc);
# the real-binary tests are scripts in tests/hardening/. The sanitizer run of the whole suite is
# scripts/test-sanitize.sh (not part of the default suite; see its header).
find_package(Python3 REQUIRED COMPONENTS Interpreter)
pse_find_tool(PSE_PROMTOOL promtool)
pse_find_tool(PSE_CLANGXX clang++)

set(PSE_HARDENING_DIR ${CMAKE_CURRENT_SOURCE_DIR}/hardening)

# The real binary in --once mode: exit status, exact counts, peak RSS
# (measured by the small maxrss helper, so Python's own pages do not count).
add_executable(hardening_maxrss ${PSE_HARDENING_DIR}/maxrss.cc)
set(PSE_HARDENING_FLAGS --maxrss $<TARGET_FILE:hardening_maxrss>)
if(PSE_SANITIZE)
  list(APPEND PSE_HARDENING_FLAGS --sanitized)
endif()
pse_script_test(NAME hardening.hostile_files
  COMMAND ${Python3_EXECUTABLE} ${PSE_HARDENING_DIR}/hostile_files.py
          $<TARGET_FILE:postfix_sasl_exporter> ${PSE_HARDENING_FLAGS}
  LABELS hardening TIMEOUT 300 REQUIRES PSE_PROMTOOL)
pse_script_test(NAME hardening.state_caps
  COMMAND ${Python3_EXECUTABLE} ${PSE_HARDENING_DIR}/state_caps.py
          $<TARGET_FILE:postfix_sasl_exporter> ${PSE_HARDENING_FLAGS}
  LABELS hardening TIMEOUT 300)

# libFuzzer smoke runs: build the fuzzers with clang under ASan+UBSan in this
# build tree (not the source tree) and fuzz each for 20 s: the syslog line
# and Postfix parsers, and the syslog receiver's stream framing. They share
# the fuzzer build tree, so they never run at the same time.
foreach(target parser framing)
  pse_script_test(NAME hardening.fuzz_${target}
    COMMAND ${PROJECT_SOURCE_DIR}/scripts/fuzz.sh 20 ${target}
    LABELS hardening fuzz TIMEOUT 900 REQUIRES PSE_CLANGXX)
  # Set here, not through PROPERTIES: that list would split the ';'-separated
  # ENVIRONMENT value into separate property names.
  set_tests_properties(hardening.fuzz_${target} PROPERTIES RESOURCE_LOCK pse_fuzz_build ENVIRONMENT
    "BUILD_DIR=${CMAKE_BINARY_DIR}/fuzz-build;CORPUS_DIR=${CMAKE_BINARY_DIR}/fuzz-corpus;ARTIFACT_DIR=${CMAKE_BINARY_DIR}/fuzz-artifacts")
endforeach()
