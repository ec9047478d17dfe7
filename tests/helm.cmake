# Helm chart tests (helm/postfix-sasl-exporter), without a cluster or a helm
# binary:
#   helm.render.build   builds tests/helm/render (Go text/template + Debian's
#                       sprig, i.e. Helm's template engine) into the build dir
#   helm.render.unit    go test of the harness itself
#   helm.node_modules   checks tests/helm/node_modules (kubernetes-models,
#                       prometheus-operator models, ajv), which
#                       `scripts/install-deps.sh --test` installs with npm ci
#   helm.selfcheck      proves the checks below can fail
#   helm.chart.default, helm.chart.<name> for every ci/<name>-values.yaml,
#   helm.parent_chart   render, validate every object against the
#                       Kubernetes / Prometheus-operator schemas and assert
#                       the sidecar shape (tests/helm/validate.mjs)
# Run them with: ctest --test-dir BUILD -L helm --output-on-failure
#
# Missing tools do not skip anything: the tests are registered anyway and
# fail, naming the command that installs what is missing.

set(PSE_HELM_CHART ${CMAKE_SOURCE_DIR}/helm/postfix-sasl-exporter)
set(PSE_HELM_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/helm)
set(PSE_HELM_BIN ${CMAKE_CURRENT_BINARY_DIR}/helm)
set(PSE_HELM_RENDER ${PSE_HELM_BIN}/helm-render)
set(PSE_HELM_OUT ${PSE_HELM_BIN}/out)

find_program(PSE_GO_EXECUTABLE go)
find_program(PSE_NODE_EXECUTABLE node)
find_program(PSE_NPM_EXECUTABLE npm)

function(pse_helm_missing_tool_test name what)
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} -E echo
                   "${what} not found: run scripts/install-deps.sh --test")
  set_tests_properties(${name} PROPERTIES LABELS helm
                       FAIL_REGULAR_EXPRESSION "not found")
endfunction()

# Build the harness offline from Debian's Go packages (GOPATH mode: sprig and
# its dependencies live in /usr/share/gocode; no module proxy, no network).
if(PSE_GO_EXECUTABLE)
  add_test(NAME helm.render.build
           COMMAND ${CMAKE_COMMAND} -E env
                   GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off
                   GOTOOLCHAIN=local GOCACHE=${PSE_HELM_BIN}/go-cache
                   ${PSE_GO_EXECUTABLE} build -o ${PSE_HELM_RENDER} .
           WORKING_DIRECTORY ${PSE_HELM_TESTS}/render)
  set_tests_properties(helm.render.build PROPERTIES
                       FIXTURES_SETUP helm_render LABELS helm TIMEOUT 300)
  # The harness's own behaviour against Helm's (tpl, required, coalescing,
  # symlinks, .helmignore, strict YAML, kubeVersion).
  add_test(NAME helm.render.unit
           COMMAND ${CMAKE_COMMAND} -E env
                   GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off
                   GOTOOLCHAIN=local GOCACHE=${PSE_HELM_BIN}/go-cache
                   ${PSE_GO_EXECUTABLE} test -count=1 .
           WORKING_DIRECTORY ${PSE_HELM_TESTS}/render)
  set_tests_properties(helm.render.unit PROPERTIES
                       FIXTURES_REQUIRED helm_render LABELS helm TIMEOUT 300)
else()
  pse_helm_missing_tool_test(helm.render.build "go (golang-go, golang-github-masterminds-sprig-dev)")
  set_tests_properties(helm.render.build PROPERTIES FIXTURES_SETUP helm_render)
endif()

if(PSE_NODE_EXECUTABLE AND PSE_NPM_EXECUTABLE)
  # npm ls fails on a missing or out-of-date tree (compared with the lock).
  add_test(NAME helm.node_modules
           COMMAND ${PSE_NPM_EXECUTABLE} ls --prefix ${PSE_HELM_TESTS} --depth=0)
  set_tests_properties(helm.node_modules PROPERTIES
                       FIXTURES_SETUP helm_npm LABELS helm TIMEOUT 60
                       FAIL_REGULAR_EXPRESSION "missing|invalid|extraneous")
else()
  pse_helm_missing_tool_test(helm.node_modules "node/npm (nodejs, npm)")
  set_tests_properties(helm.node_modules PROPERTIES FIXTURES_SETUP helm_npm)
endif()

function(pse_helm_test name)
  if(PSE_NODE_EXECUTABLE)
    add_test(NAME ${name}
             COMMAND ${PSE_NODE_EXECUTABLE} ${PSE_HELM_TESTS}/validate.mjs
                     --render ${PSE_HELM_RENDER} --out ${PSE_HELM_OUT}
                     --dashboards ${CMAKE_SOURCE_DIR}/dashboards ${ARGN})
  else()
    pse_helm_missing_tool_test(${name} "node (nodejs)")
  endif()
  set_tests_properties(${name} PROPERTIES
                       FIXTURES_REQUIRED "helm_render;helm_npm" LABELS helm TIMEOUT 120)
endfunction()

pse_helm_test(helm.selfcheck --chart ${PSE_HELM_CHART} --case selfcheck --selfcheck)
pse_helm_test(helm.chart.default --chart ${PSE_HELM_CHART} --case default)
file(GLOB PSE_HELM_CI_VALUES CONFIGURE_DEPENDS ${PSE_HELM_CHART}/ci/*-values.yaml)
foreach(values ${PSE_HELM_CI_VALUES})
  get_filename_component(case ${values} NAME)
  string(REGEX REPLACE "-values\\.yaml$" "" case ${case})
  pse_helm_test(helm.chart.${case} --chart ${PSE_HELM_CHART} --case ${case} --values ${values})
endforeach()
pse_helm_test(helm.parent_chart --chart ${PSE_HELM_TESTS}/parent-chart
              --subchart postfix-sasl-exporter --case parent-chart)
