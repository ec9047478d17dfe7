# Installation layout and the Debian package (CPack), included at the end of the
# top-level CMakeLists.txt. See packaging/README.md.
#
#   cmake --install build --prefix /usr [--strip]     install on this machine
#   cd build && cpack -G DEB                          build/postfix-sasl-exporter_<v>-1_<arch>.deb
#
# Layout (prefix /usr, as in the .deb):
#   /usr/bin/postfix_sasl_exporter
#   /usr/lib/systemd/system/postfix-sasl-exporter.service    (ExecStart= follows the prefix)
#   /etc/default/postfix-sasl-exporter                        (conffile; always under /etc)
#   /usr/share/postfix-sasl-exporter/dashboards/*.json        Grafana dashboards
#   /usr/share/postfix-sasl-exporter/rules/*.yml              Prometheus alert/recording rules
#   /usr/share/doc/postfix-sasl-exporter/                     README.md, runbook.md, runbook/, packaging.md
include(GNUInstallDirs)

set(PSE_PACKAGE_NAME postfix-sasl-exporter)
set(PSE_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
    "Directory of the systemd unit; relative paths are under the install prefix")
set(PSE_DEFAULTS_DIR "/etc/default" CACHE PATH
    "Directory of the defaults file read by the unit (EnvironmentFile=); keep it absolute")
set(PSE_PACKAGE_MAINTAINER
    "postfix-sasl-exporter maintainers <maintainers@users.noreply.h-seed-6d552b7b.example>"
    CACHE STRING "Maintainer field of the Debian package")
set(PSE_DATA_DIR "${CMAKE_INSTALL_DATADIR}/${PSE_PACKAGE_NAME}")
set(PSE_DOC_DIR "${CMAKE_INSTALL_DATADIR}/doc/${PSE_PACKAGE_NAME}")

install(TARGETS postfix_sasl_exporter RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The unit names the binary and the docs by absolute path, and the prefix is
# only known at install time (cpack installs with its own prefix), so the unit
# is written then: /usr/bin and /usr/share/doc in the source file are replaced
# by the directories of this installation. It is written straight to its
# destination (no shared temp file: parallel installs with other prefixes
# cannot race) and added to the install manifest.
install(CODE "
  set(_pse_src \"${CMAKE_CURRENT_LIST_DIR}/postfix-sasl-exporter.service\")
  set(_pse_unit_dir \"${PSE_SYSTEMD_UNIT_DIR}\")
  set(_pse_bin_dir \"${CMAKE_INSTALL_BINDIR}\")
  set(_pse_doc_dir \"${PSE_DOC_DIR}\")
  foreach(_pse_var _pse_unit_dir _pse_bin_dir _pse_doc_dir)
    if(NOT IS_ABSOLUTE \"\${\${_pse_var}}\")
      set(\${_pse_var} \"\${CMAKE_INSTALL_PREFIX}/\${\${_pse_var}}\")
    endif()
  endforeach()
  file(READ \"\${_pse_src}\" _pse_unit)
  string(REPLACE \"/usr/bin/postfix_sasl_exporter\" \"\${_pse_bin_dir}/postfix_sasl_exporter\"
         _pse_unit \"\${_pse_unit}\")
  string(REPLACE \"file:/usr/share/doc/${PSE_PACKAGE_NAME}/\" \"file:\${_pse_doc_dir}/\"
         _pse_unit \"\${_pse_unit}\")
  set(_pse_dest \"\$ENV{DESTDIR}\${_pse_unit_dir}/postfix-sasl-exporter.service\")
  message(STATUS \"Installing: \${_pse_dest}\")
  file(WRITE \"\${_pse_dest}\" \"\${_pse_unit}\")
  list(APPEND CMAKE_INSTALL_MANIFEST_FILES \"\${_pse_dest}\")
")

# Like a conffile: a reinstall keeps an existing, possibly edited, defaults file.
install(CODE "
  set(_pse_dir \"${PSE_DEFAULTS_DIR}\")
  if(NOT IS_ABSOLUTE \"\${_pse_dir}\")
    set(_pse_dir \"\${CMAKE_INSTALL_PREFIX}/\${_pse_dir}\")
  endif()
  if(EXISTS \"\$ENV{DESTDIR}\${_pse_dir}/${PSE_PACKAGE_NAME}\")
    message(STATUS \"Keeping: \$ENV{DESTDIR}\${_pse_dir}/${PSE_PACKAGE_NAME} (not overwritten)\")
  else()
    file(INSTALL DESTINATION \"\${_pse_dir}\" TYPE FILE RENAME ${PSE_PACKAGE_NAME}
         FILES \"${CMAKE_CURRENT_LIST_DIR}/postfix-sasl-exporter.default\")
  endif()
")

# Globbed at install time, so new dashboards and rule files ship without
# touching this file. dashboards/tests/ holds promtool tests, not rules;
# dashboards/mixin/ the jsonnet they are generated from.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/dashboards/ DESTINATION ${PSE_DATA_DIR}/dashboards
        FILES_MATCHING PATTERN "*.json" PATTERN "tests" EXCLUDE PATTERN "mixin" EXCLUDE)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/dashboards/ DESTINATION ${PSE_DATA_DIR}/rules
        FILES_MATCHING PATTERN "*.yml" PATTERN "*.yaml" PATTERN "tests" EXCLUDE PATTERN "mixin" EXCLUDE)

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${PSE_DOC_DIR})
install(FILES ${PROJECT_SOURCE_DIR}/docs/runbook.md DESTINATION ${PSE_DOC_DIR} OPTIONAL)
# The runbook's pages, linked from runbook.md as runbook/<page>.md.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/runbook DESTINATION ${PSE_DOC_DIR}
        FILES_MATCHING PATTERN "*.md")
install(FILES ${CMAKE_CURRENT_LIST_DIR}/README.md DESTINATION ${PSE_DOC_DIR} RENAME packaging.md)

# --- Debian package -----------------------------------------------------------
set(PSE_DEB_CONFFILES ${CMAKE_BINARY_DIR}/packaging/deb/conffiles)
file(WRITE ${PSE_DEB_CONFFILES} "${PSE_DEFAULTS_DIR}/${PSE_PACKAGE_NAME}\n")

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME ${PSE_PACKAGE_NAME})
set(CPACK_PACKAGE_VENDOR "postfix-sasl-exporter")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "Prometheus exporter for Postfix SMTP AUTH (SASL), sessions and relay denials")
# CPack puts the summary first and indents these lines (an empty line becomes " .").
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Follows the Postfix mail log (a file, standard input or the systemd journal)
and serves Prometheus metrics on :9154: SASL authentication successes,
failures by mechanism and reason, peaks of concurrent SMTP sessions and
relay-access denials.

Ships a hardened systemd unit, Prometheus alert rules and a Grafana
dashboard.")
# Installs under DESTDIR with the real prefix, so install(CODE) sees /usr and
# the absolute /etc/default destination lands inside the package.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${PSE_PACKAGE_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: from the binary's shared libraries (dpkg-shlibdeps, package dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "prometheus, postfix")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PSE_DEB_CONFFILES}
    ${CMAKE_CURRENT_LIST_DIR}/debian/postinst
    ${CMAKE_CURRENT_LIST_DIR}/debian/prerm
    ${CMAKE_CURRENT_LIST_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# `cpack --config CPackSourceConfig.cmake`: a source tarball without build trees.
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/\\.git/" "/build[^/]*/" "/out/" "node_modules/" "__pycache__/")
include(CPack)
