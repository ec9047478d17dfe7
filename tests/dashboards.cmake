# Dashboards and Prometheus rules (dashboards/): promtool's own checks and unit
# tests, the dashboard/rule linter with its negative self-test, and the
# end-to-end test against real Prometheus and Alertmanager.
#
# A missing tool is not a silent pass: each test that needs it is registered
# to fail with a message naming the tool (scripts/install-deps.sh --test
# installs them all).

find_program(PSE_PROMTOOL NAMES promtool)
find_program(PSE_PYTHON3 NAMES python3)
find_program(PSE_PROMETHEUS NAMES prometheus)
# Debian names the binary prometheus-alertmanager; upstream calls it alertmanager.
find_program(PSE_ALERTMANAGER NAMES prometheus-alertmanager alertmanager)

set(PSE_DASHBOARDS_DIR ${PROJECT_SOURCE_DIR}/dashboards)
file(GLOB PSE_RULE_FILES CONFIGURE_DEPENDS ${PSE_DASHBOARDS_DIR}/*.yml)
file(GLOB PSE_RULE_TEST_FILES CONFIGURE_DEPENDS ${PSE_DASHBOARDS_DIR}/tests/*.test.yml)

function(pse_missing_tool_test name tool)
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} -E echo
                   "${tool} not found: run scripts/install-deps.sh --test and re-run cmake")
  # The echo exits 0; make the test fail on its message instead.
  set_tests_properties(${name} PROPERTIES FAIL_REGULAR_EXPRESSION "not found")
endfunction()

if(PSE_PROMTOOL)
  add_test(NAME dashboards.promtool_check_rules
           COMMAND ${PSE_PROMTOOL} check rules ${PSE_RULE_FILES})
  add_test(NAME dashboards.promtool_test_rules
           COMMAND ${PSE_PROMTOOL} test rules ${PSE_RULE_TEST_FILES})
else()
  pse_missing_tool_test(dashboards.promtool_check_rules promtool)
  pse_missing_tool_test(dashboards.promtool_test_rules promtool)
endif()

if(PSE_PYTHON3)
  add_test(NAME dashboards.check
           COMMAND ${PSE_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/dashboards/check_dashboards.py
                   --root ${PROJECT_SOURCE_DIR})
  add_test(NAME dashboards.check_rejects_violations
           COMMAND ${PSE_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/dashboards/check_dashboards_negative.py
                   --root ${PROJECT_SOURCE_DIR})
else()
  pse_missing_tool_test(dashboards.check python3)
  pse_missing_tool_test(dashboards.check_rejects_violations python3)
endif()

# The end-to-end test runs the real exporter binary, so it exists only where
# the binary is built. It starts three servers on loopback and polls them with
# bounded deadlines (a few minutes at most); RUN_SERIAL keeps it from
# competing for the CPU with the rest of the suite.
if(TARGET postfix_sasl_exporter)
  if(PSE_PYTHON3 AND PSE_PROMETHEUS AND PSE_ALERTMANAGER)
    add_test(NAME dashboards.e2e_prometheus_alertmanager
             COMMAND ${PSE_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/dashboards/e2e_prometheus.py
                     $<TARGET_FILE:postfix_sasl_exporter>
                     --prometheus ${PSE_PROMETHEUS}
                     --alertmanager ${PSE_ALERTMANAGER}
                     --root ${PROJECT_SOURCE_DIR})
    set_tests_properties(dashboards.e2e_prometheus_alertmanager PROPERTIES
                         TIMEOUT 420 RUN_SERIAL TRUE LABELS "e2e")
  else()
    pse_missing_tool_test(dashboards.e2e_prometheus_alertmanager
                          "python3, prometheus or prometheus-alertmanager")
  endif()
endif()
