# How every test in this repository is registered. Each folder calls these
# from its own CMakeLists.txt / *.cmake, so one label runs one kind of test:
#
#   unit         C++ tests of one module, no external tool (ctest -L unit)
#   golden       a fixture log through --once, compared with a .prom file
#   integration  the real binary as a daemon, files/journal/HTTP
#   hardening    hostile input, state caps, fuzzing
#   e2e          real Prometheus/Alertmanager/Postfix/Dovecot
#   packaging    install layout, systemd unit, .deb, container image
#   dashboards, helm   the monitoring package and the chart
#
# Missing-tool policy: a test whose tool is missing is still registered and
# fails with a message naming the tool and `scripts/install-deps.sh --test`.
# Nothing skips silently.

# pse_cc_test(NAME <target> SOURCES <src...> [LIBS <lib...>]
#             [LABELS <label...>] [TIMEOUT <s>] [DEFINITIONS <def...>])
#
# One GoogleTest executable linked with gtest_main and the testing/ support
# library; each TEST() becomes one ctest test carrying LABELS (default unit)
# and TIMEOUT (default 60 s; a hang becomes a failure).
function(pse_cc_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;DEFINITIONS" ${ARGN})
  if(NOT T_NAME OR NOT T_SOURCES)
    message(FATAL_ERROR "pse_cc_test: NAME and SOURCES are required")
  endif()
  if(NOT T_LABELS)
    set(T_LABELS unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 60)
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} pse_testing GTest::gmock GTest::gtest_main)
  if(T_DEFINITIONS)
    target_compile_definitions(${T_NAME} PRIVATE ${T_DEFINITIONS})
  endif()
  gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT})
endfunction()

# pse_find_tool(<var> <name...> [PATHS <dir...>])
# find_program() wrapper: <var> is set, or left false for pse_script_test's
# REQUIRES to report.
macro(pse_find_tool var)
  find_program(${var} ${ARGN})
endmacro()

# pse_script_test(NAME <name> COMMAND <cmd...> [LABELS <label...>]
#                 [TIMEOUT <s>] [REQUIRES <var...>] [WORKING_DIRECTORY <dir>]
#                 [PROPERTIES <prop value...>])
#
# A test run by a script or tool. REQUIRES names variables set by
# pse_find_tool (or find_package); when one is false the test is registered
# to fail, naming what is missing and how to install it.
function(pse_script_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT;WORKING_DIRECTORY"
                        "COMMAND;LABELS;REQUIRES;PROPERTIES" ${ARGN})
  if(NOT T_NAME OR NOT T_COMMAND OR NOT T_LABELS)
    message(FATAL_ERROR "pse_script_test: NAME, COMMAND and LABELS are required")
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 300)
  endif()
  set(missing "")
  foreach(var ${T_REQUIRES})
    if(NOT ${var})
      list(APPEND missing ${var})
    endif()
  endforeach()
  if(missing)
    string(REPLACE ";" ", " missing "${missing}")
    add_test(NAME ${T_NAME}
             COMMAND ${CMAKE_COMMAND} -E echo
                     "MISSING TOOL (${missing}): run scripts/install-deps.sh --test, then re-run cmake")
    set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}"
                         FAIL_REGULAR_EXPRESSION "MISSING TOOL")
    return()
  endif()
  if(T_WORKING_DIRECTORY)
    add_test(NAME ${T_NAME} COMMAND ${T_COMMAND} WORKING_DIRECTORY ${T_WORKING_DIRECTORY})
  else()
    add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  endif()
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
                       ${T_PROPERTIES})
endfunction()
