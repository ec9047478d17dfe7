# Helm chart tests (helm/postfix-sasl-exporter) with the real `helm` v4 and
# no cluster:
#   helm.node_modules   checks tests/helm/node_modules against the lock file
#                       (kubernetes-models, prometheus-operator models, ajv,
#                       yaml, and the npm package that carries helm)
#   helm.version        the helm unpacked from that package is a v4
#   helm.lint.default, helm.lint.<name> for every ci/<name>-values.yaml,
#   helm.lint.parent_chart
#                       `helm lint --strict` (warnings fail)
#   helm.selfcheck      proves the checks below can fail
#   helm.chart.default, helm.chart.<name> for every ci/<name>-values.yaml,
#   helm.chart.parent_chart
#                       `helm template`, then validate every object against
#                       the Kubernetes / Prometheus-operator schemas and
#                       assert the sidecar shape (tests/helm/validate.mjs)
# Run them with: ctest --test-dir BUILD -L helm --output-on-failure
#
# `scripts/install-deps.sh --test` installs node_modules (npm ci) and unpacks
# helm into tests/helm/node_modules/.helm/. Missing tools do not skip
# anything: the tests are registered anyway and fail, naming that command.

set(PSE_HELM_CHART ${CMAKE_SOURCE_DIR}/helm/postfix-sasl-exporter)
set(PSE_HELM_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/helm)
set(PSE_HELM_OUT ${CMAKE_CURRENT_BINARY_DIR}/helm/out)

pse_find_tool(PSE_NODE_EXECUTABLE node)
pse_find_tool(PSE_NPM_EXECUTABLE npm)
# Only the helm pinned by tests/helm/package-lock.json, never one on PATH.
pse_find_tool(PSE_HELM_EXECUTABLE helm
              PATHS ${PSE_HELM_TESTS}/node_modules/.helm NO_DEFAULT_PATH)

# helm keeps its cache and config in the build tree: no user configuration
# (repositories, plugins) leaks into a test.
set(PSE_HELM_ENV ${CMAKE_COMMAND} -E env
    HELM_CACHE_HOME=${PSE_HELM_OUT}/helm-home/cache
    HELM_CONFIG_HOME=${PSE_HELM_OUT}/helm-home/config
    HELM_DATA_HOME=${PSE_HELM_OUT}/helm-home/data)

# npm ls fails on a missing or out-of-date tree (compared with the lock).
pse_script_test(NAME helm.node_modules
                COMMAND ${PSE_NPM_EXECUTABLE} ls --prefix ${PSE_HELM_TESTS} --depth=0
                LABELS helm TIMEOUT 60 REQUIRES PSE_NPM_EXECUTABLE
                PROPERTIES FIXTURES_SETUP helm_tools
                           FAIL_REGULAR_EXPRESSION "missing|invalid|extraneous")
pse_script_test(NAME helm.version
                COMMAND ${PSE_HELM_EXECUTABLE} version --template "{{.Version}}"
                LABELS helm TIMEOUT 60 REQUIRES PSE_HELM_EXECUTABLE
                PROPERTIES FIXTURES_SETUP helm_tools PASS_REGULAR_EXPRESSION "^v4\\.")

# helm.lint.<case> and helm.chart.<case> for one values scenario.
function(pse_helm_case case)
  cmake_parse_arguments(C "" "CHART;VALUES;SUBCHART" "LINT_ARGS" ${ARGN})
  set(lint_values "")
  set(values_args "")
  if(C_VALUES)
    set(lint_values -f ${C_VALUES})
    set(values_args --values ${C_VALUES})
  endif()
  set(subchart_args "")
  if(C_SUBCHART)
    set(subchart_args --subchart ${C_SUBCHART})
  endif()
  pse_script_test(NAME helm.lint.${case}
                  COMMAND ${PSE_HELM_ENV} ${PSE_HELM_EXECUTABLE} lint --strict
                          ${C_CHART} ${lint_values} ${C_LINT_ARGS}
                  LABELS helm TIMEOUT 120 REQUIRES PSE_HELM_EXECUTABLE
                  PROPERTIES FIXTURES_REQUIRED helm_tools)
  pse_script_test(NAME helm.chart.${case}
                  COMMAND ${PSE_NODE_EXECUTABLE} ${PSE_HELM_TESTS}/validate.mjs
                          --helm ${PSE_HELM_EXECUTABLE} --out ${PSE_HELM_OUT}
                          --dashboards ${CMAKE_SOURCE_DIR}/dashboards
                          --chart ${C_CHART} --case ${case} ${values_args} ${subchart_args}
                  LABELS helm TIMEOUT 120 REQUIRES PSE_NODE_EXECUTABLE PSE_HELM_EXECUTABLE
                  PROPERTIES FIXTURES_REQUIRED helm_tools)
endfunction()

pse_script_test(NAME helm.selfcheck
                COMMAND ${PSE_NODE_EXECUTABLE} ${PSE_HELM_TESTS}/validate.mjs
                        --helm ${PSE_HELM_EXECUTABLE} --out ${PSE_HELM_OUT}
                        --chart ${PSE_HELM_CHART} --case selfcheck --selfcheck
                LABELS helm TIMEOUT 120 REQUIRES PSE_NODE_EXECUTABLE PSE_HELM_EXECUTABLE
                PROPERTIES FIXTURES_REQUIRED helm_tools)
pse_helm_case(default CHART ${PSE_HELM_CHART})
file(GLOB PSE_HELM_CI_VALUES CONFIGURE_DEPENDS ${PSE_HELM_CHART}/ci/*-values.yaml)
foreach(values ${PSE_HELM_CI_VALUES})
  get_filename_component(case ${values} NAME)
  string(REGEX REPLACE "-values\\.yaml$" "" case ${case})
  pse_helm_case(${case} CHART ${PSE_HELM_CHART} VALUES ${values})
endforeach()
pse_helm_case(parent_chart CHART ${PSE_HELM_TESTS}/parent-chart
              SUBCHART postfix-sasl-exporter LINT_ARGS --with-subcharts)
