# Packaging tests (label "packaging"): the `cmake --install` layout and the
# systemd unit (systemd-analyze verify / security), the sd_notify/watchdog
# protocol the unit relies on, the Debian package built with CPack, and the
# container image built and run with buildah.
#   ctest --test-dir build -L packaging
find_package(Python3 REQUIRED COMPONENTS Interpreter)
pse_find_tool(PSE_SYSTEMD_ANALYZE systemd-analyze)
pse_find_tool(PSE_DPKG_SHLIBDEPS dpkg-shlibdeps)
pse_find_tool(PSE_DPKG_DEB dpkg-deb)
pse_find_tool(PSE_OBJDUMP objdump)
pse_find_tool(PSE_BUILDAH buildah)
set(PSE_PACKAGING_TESTS ${CMAKE_CURRENT_SOURCE_DIR}/packaging)

pse_script_test(NAME packaging_systemd_unit
  COMMAND ${Python3_EXECUTABLE} ${PSE_PACKAGING_TESTS}/test_systemd_unit.py
          ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR}
  LABELS packaging TIMEOUT 120 REQUIRES PSE_SYSTEMD_ANALYZE
  PROPERTIES RESOURCE_LOCK pse_build_tree_install)
pse_script_test(NAME packaging_sd_notify
  COMMAND ${Python3_EXECUTABLE} ${PSE_PACKAGING_TESTS}/test_sd_notify.py
          $<TARGET_FILE:postfix_sasl_exporter> ${PROJECT_SOURCE_DIR}/packaging/postfix-sasl-exporter.service
  LABELS packaging TIMEOUT 120)
# cpack first brings the build tree up to date (its "preinstall" step).
pse_script_test(NAME packaging_deb
  COMMAND ${Python3_EXECUTABLE} ${PSE_PACKAGING_TESTS}/test_deb.py
          ${CMAKE_BINARY_DIR} ${PROJECT_SOURCE_DIR} $<TARGET_FILE:postfix_sasl_exporter>
  LABELS packaging TIMEOUT 900 REQUIRES PSE_DPKG_SHLIBDEPS PSE_DPKG_DEB PSE_OBJDUMP
  PROPERTIES RESOURCE_LOCK pse_build_tree_install)
# buildah's blob-info cache (/var/lib/containers) is shared by the machine.
pse_script_test(NAME packaging_container
  COMMAND ${Python3_EXECUTABLE} ${PSE_PACKAGING_TESTS}/test_container.py
          $<TARGET_FILE:postfix_sasl_exporter> ${PROJECT_SOURCE_DIR}
  LABELS packaging TIMEOUT 300 REQUIRES PSE_BUILDAH
  PROPERTIES RUN_SERIAL TRUE)
# A Debian 12 root (debootstrap, cached in /var/tmp/pse-systemd-boot) booted
# with systemd-nspawn: the unit under a real systemd (Type=notify, watchdog
# restart with counters continuing, DynamicUser, journal access). The first
# run downloads the root (minutes); later runs boot it in seconds.
pse_find_tool(PSE_SYSTEMD_NSPAWN systemd-nspawn)
pse_find_tool(PSE_DEBOOTSTRAP debootstrap)
pse_script_test(NAME packaging_systemd_boot
  COMMAND ${Python3_EXECUTABLE} ${PSE_PACKAGING_TESTS}/test_systemd_boot.py
          $<TARGET_FILE:postfix_sasl_exporter> ${PROJECT_SOURCE_DIR}/packaging/postfix-sasl-exporter.service
  LABELS packaging TIMEOUT 1200 REQUIRES PSE_SYSTEMD_NSPAWN PSE_DEBOOTSTRAP
  PROPERTIES RUN_SERIAL TRUE)
