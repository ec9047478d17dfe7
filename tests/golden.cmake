# Golden tests: every tests/fixtures/<name>.log that has tests/golden/<name>.prom.
# Regenerate one after checking its diff:
#   tests/golden/run_golden.py build/postfix_sasl_exporter tests/fixtures/X.log tests/golden/X.prom --update
find_package(Python3 REQUIRED COMPONENTS Interpreter)
file(GLOB PSE_GOLDEN_FILES ${CMAKE_CURRENT_SOURCE_DIR}/golden/*.prom)
foreach(golden ${PSE_GOLDEN_FILES})
  get_filename_component(name ${golden} NAME_WE)
  add_test(NAME golden_${name}
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/golden/run_golden.py
            $<TARGET_FILE:postfix_sasl_exporter>
            ${CMAKE_CURRENT_SOURCE_DIR}/fixtures/${name}.log ${golden})
endforeach()
