# Packaging tests (label "packaging"): the `cmake --install` layout and the
# systemd unit (systemd-analyze verify / security), the sd_notify/watchdog
# protocol the unit relies on, the Debian package built with CPack, and the
# container image built and run with buildah.
#   ctest --test-dir build -L packaging
find_package(Python3 REQUIRED COMPONENTS Interpreter)
set(PSE_PACKAGING_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/packaging)

add_test(NAME packaging_systemd_unit
  COMMAND ${Python3_EXECUTABLE} ${PSE_PACKAGING_TESTS}/test_systemd_unit.py
          ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR})
add_test(NAME packaging_sd_notify
  COMMAND ${Python3_EXECUTABLE} ${PSE_PACKAGING_TESTS}/test_sd_notify.py
          $<TARGET_FILE:postfix_sasl_exporter> ${PROJECT_SOURCE_DIR}/packaging/postfix-sasl-exporter.service)
add_test(NAME packaging_deb
  COMMAND ${Python3_EXECUTABLE} ${PSE_PACKAGING_TESTS}/test_deb.py
          ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR} $<TARGET_FILE:postfix_sasl_exporter>)
add_test(NAME packaging_container
  COMMAND ${Python3_EXECUTABLE} ${PSE_PACKAGING_TESTS}/test_container.py
          $<TARGET_FILE:postfix_sasl_exporter> ${PROJECT_SOURCE_DIR})

set_tests_properties(packaging_systemd_unit PROPERTIES LABELS packaging TIMEOUT 120
  RESOURCE_LOCK pse_build_tree_install)
set_tests_properties(packaging_sd_notify PROPERTIES LABELS packaging TIMEOUT 120)
# cpack first brings the build tree up to date (its "preinstall" step).
set_tests_properties(packaging_deb PROPERTIES LABELS packaging TIMEOUT 900
  RESOURCE_LOCK pse_build_tree_install)
# buildah's blob-info cache (/var/lib/containers) is shared by the machine.
set_tests_properties(packaging_container PROPERTIES LABELS packaging TIMEOUT 300 RUN_SERIAL TRUE)
