# Hardening tests (issue 8): log injection, hostile and broken input, state
# caps, fuzzing. Label "hardening"; the fuzzer smoke run is also "fuzz".
#
#   ctest --test-dir build -L hardening --output-on-failure
#
# The unit-level tests sit beside the code they attack and are registered by
# their folders (parsers/injection_test.cc, exporter/hostile_input_test.cc);
# the real-binary tests are scripts in tests/hardening/. The sanitizer run of the whole suite is
# scripts/test-sanitize.sh (not part of the default suite; see its header).
find_package(Python3 REQUIRED COMPONENTS Interpreter)

set(PSE_HARDENING_DIR ${CMAKE_CURRENT_SOURCE_DIR}/hardening)

# The real binary in --once mode: exit status, exact counts, peak RSS
# (measured by the small maxrss helper, so Python's own pages do not count).
add_executable(hardening_maxrss ${PSE_HARDENING_DIR}/maxrss.cc)
set(PSE_HARDENING_FLAGS --maxrss $<TARGET_FILE:hardening_maxrss>)
if(PSE_SANITIZE)
  list(APPEND PSE_HARDENING_FLAGS --sanitized)
endif()
add_test(NAME hardening.hostile_files
         COMMAND ${Python3_EXECUTABLE} ${PSE_HARDENING_DIR}/hostile_files.py
                 $<TARGET_FILE:postfix_sasl_exporter> ${PSE_HARDENING_FLAGS})
add_test(NAME hardening.state_caps
         COMMAND ${Python3_EXECUTABLE} ${PSE_HARDENING_DIR}/state_caps.py
                 $<TARGET_FILE:postfix_sasl_exporter> ${PSE_HARDENING_FLAGS})
set_tests_properties(hardening.hostile_files hardening.state_caps PROPERTIES
                     LABELS hardening TIMEOUT 300)

# libFuzzer smoke run: builds the fuzzer with clang under ASan+UBSan in this
# build tree (not the source tree) and fuzzes for 20 s. Only where clang is
# installed (scripts/install-deps.sh --test installs it).
find_program(PSE_CLANGXX clang++)
if(PSE_CLANGXX)
  add_test(NAME hardening.fuzz_parser
           COMMAND ${PROJECT_SOURCE_DIR}/scripts/fuzz.sh 20)
  set_tests_properties(hardening.fuzz_parser PROPERTIES
                       LABELS "hardening;fuzz" TIMEOUT 900
                       ENVIRONMENT "BUILD_DIR=${CMAKE_BINARY_DIR}/fuzz-build;CORPUS_DIR=${CMAKE_BINARY_DIR}/fuzz-corpus;ARTIFACT_DIR=${CMAKE_BINARY_DIR}/fuzz-artifacts")
endif()
