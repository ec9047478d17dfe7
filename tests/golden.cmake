# Golden tests: every tests/golden/<name>.prom with its fixture tests/fixtures/[*/]<name>.log.
# Regenerate one after checking its diff:
#   tests/golden/run_golden.py build/postfix_sasl_exporter tests/fixtures/X.log tests/golden/X.prom --update
find_package(Python3 REQUIRED COMPONENTS Interpreter)
pse_find_tool(PSE_PROMTOOL promtool)
file(GLOB PSE_GOLDEN_FILES ${CMAKE_CURRENT_SOURCE_DIR}/golden/*.prom)
foreach(golden ${PSE_GOLDEN_FILES})
  get_filename_component(name ${golden} NAME_WLE)
  file(GLOB_RECURSE fixture ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/${name}.log)
  list(LENGTH fixture n)
  if(NOT n EQUAL 1)
    message(FATAL_ERROR "golden ${golden}: want exactly one fixtures/**/${name}.log, found ${n}")
  endif()
  pse_script_test(NAME golden_${name}
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/golden/run_golden.py
            $<TARGET_FILE:postfix_sasl_exporter> ${fixture} ${golden}
    LABELS golden TIMEOUT 120 REQUIRES PSE_PROMTOOL)
endforeach()
