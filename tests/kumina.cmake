# Drop-in comparison with kumina/postfix_exporter (Debian's
# prometheus-postfix-exporter): one generated log through both, every family
# kumina exposes must match here unless docs/kumina-migration.md says why not.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
pse_find_tool(PSE_KUMINA_EXPORTER prometheus-postfix-exporter PATHS /usr/bin)
pse_script_test(NAME kumina_compat
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/kumina/test_kumina_compat.py
          $<TARGET_FILE:postfix_sasl_exporter> ${PROJECT_SOURCE_DIR}/docs/kumina-migration.md
  LABELS integration TIMEOUT 180 REQUIRES PSE_KUMINA_EXPORTER)
