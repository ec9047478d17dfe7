# Queue metrics against a real Postfix queue: tests/showq/test_showq_real.py
# starts a private Postfix (no listener, no queue manager), fills and holds
# its queue, and compares postfix_showq_* with `postqueue -j` and, when
# installed, with kumina's exporter on the same socket. Needs root.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
pse_find_tool(PSE_POSTFIX postfix PATHS /usr/sbin /sbin)
pse_script_test(NAME e2e_showq_real_queue
  COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/showq/test_showq_real.py
          $<TARGET_FILE:postfix_sasl_exporter>
  LABELS e2e TIMEOUT 300 REQUIRES PSE_POSTFIX
  PROPERTIES RUN_SERIAL TRUE)
