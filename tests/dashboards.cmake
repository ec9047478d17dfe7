# Dashboards and Prometheus rules (dashboards/): the shipped files are current
# renderings of the mixin (dashboards/mixin/), promtool's own checks and unit
# tests, a rendering with a non-default configuration, the dashboard/rule
# linter with its negative self-test, and the end-to-end test against real
# Prometheus and Alertmanager.
#
# A missing tool is not a silent pass: pse_script_test registers a test that
# fails naming it (scripts/install-deps.sh --test installs them all).

find_program(PSE_PROMTOOL NAMES promtool)
find_program(PSE_PYTHON3 NAMES python3)
find_program(PSE_JSONNET NAMES jsonnet)
find_program(PSE_PROMETHEUS NAMES prometheus)
# Debian names the binary prometheus-alertmanager; upstream calls it alertmanager.
find_program(PSE_ALERTMANAGER NAMES prometheus-alertmanager alertmanager)

set(PSE_DASHBOARDS_DIR ${PROJECT_SOURCE_DIR}/dashboards)
file(GLOB PSE_RULE_FILES CONFIGURE_DEPENDS ${PSE_DASHBOARDS_DIR}/*.yml)
file(GLOB PSE_RULE_TEST_FILES CONFIGURE_DEPENDS ${PSE_DASHBOARDS_DIR}/tests/*.test.yml)

# Fails with a diff when a shipped file was edited by hand or the mixin
# changed without regenerating (dashboards/mixin/generate.sh).
pse_script_test(NAME dashboards.mixin_generated
                COMMAND sh ${PSE_DASHBOARDS_DIR}/mixin/generate.sh --check
                LABELS dashboards REQUIRES PSE_JSONNET)
pse_script_test(NAME dashboards.mixin_custom_config
                COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/dashboards/mixin_custom_config.sh
                        ${PROJECT_SOURCE_DIR} ${PSE_PROMTOOL} ${PSE_PYTHON3}
                LABELS dashboards REQUIRES PSE_JSONNET PSE_PROMTOOL PSE_PYTHON3)
pse_script_test(NAME dashboards.promtool_check_rules
                COMMAND ${PSE_PROMTOOL} check rules ${PSE_RULE_FILES}
                LABELS dashboards REQUIRES PSE_PROMTOOL)
pse_script_test(NAME dashboards.promtool_test_rules
                COMMAND ${PSE_PROMTOOL} test rules ${PSE_RULE_TEST_FILES}
                LABELS dashboards REQUIRES PSE_PROMTOOL)
pse_script_test(NAME dashboards.check
                COMMAND ${PSE_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/dashboards/check_dashboards.py
                        --root ${PROJECT_SOURCE_DIR}
                LABELS dashboards REQUIRES PSE_PYTHON3)
# Its last case runs generate.sh --check on a hand-edited copy: needs jsonnet.
pse_script_test(NAME dashboards.check_rejects_violations
                COMMAND ${PSE_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/dashboards/check_dashboards_negative.py
                        --root ${PROJECT_SOURCE_DIR}
                LABELS dashboards REQUIRES PSE_PYTHON3 PSE_JSONNET)

# The end-to-end test runs the real exporter binary, so it exists only where
# the binary is built. It starts three servers on loopback and polls them with
# bounded deadlines (a few minutes at most); RUN_SERIAL keeps it from
# competing for the CPU with the rest of the suite.
if(TARGET postfix_sasl_exporter)
  pse_script_test(NAME dashboards.e2e_prometheus_alertmanager
                  COMMAND ${PSE_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/dashboards/e2e_prometheus.py
                          $<TARGET_FILE:postfix_sasl_exporter>
                          --prometheus ${PSE_PROMETHEUS}
                          --alertmanager ${PSE_ALERTMANAGER}
                          --root ${PROJECT_SOURCE_DIR}
                  LABELS e2e TIMEOUT 420
                  REQUIRES PSE_PYTHON3 PSE_PROMETHEUS PSE_ALERTMANAGER
                  PROPERTIES RUN_SERIAL TRUE)
endif()
