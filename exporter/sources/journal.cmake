# Journal source: Postfix's entries from the systemd journal (sd-journal).
# Included by exporter/sources/CMakeLists.txt.
add_library(pse_journal_source ${CMAKE_CURRENT_LIST_DIR}/journal_source.cc
  ${CMAKE_CURRENT_LIST_DIR}/journal_entry.cc)
target_include_directories(pse_journal_source PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(pse_journal_source
  PUBLIC pse_parsers absl::status absl::statusor absl::strings absl::time
  PRIVATE pse_util PkgConfig::SYSTEMD)

if(PSE_BUILD_TESTS)
  # The tests build real journal files from export-format text without a
  # running journald (Debian package systemd-journal-remote, a test
  # dependency): label integration, so `ctest -L unit` needs only the build
  # dependencies.
  find_program(PSE_SYSTEMD_JOURNAL_REMOTE systemd-journal-remote
    PATHS /lib/systemd /usr/lib/systemd NO_DEFAULT_PATH)
  if(NOT PSE_SYSTEMD_JOURNAL_REMOTE)
    message(WARNING "systemd-journal-remote not found: journal_source_test will fail "
                    "(install it with scripts/install-deps.sh --test)")
    set(PSE_SYSTEMD_JOURNAL_REMOTE /lib/systemd/systemd-journal-remote)
  endif()
  pse_cc_test(NAME journal_source_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/journal_source_test.cc
            ${CMAKE_CURRENT_LIST_DIR}/journal_source_position_test.cc
            ${CMAKE_CURRENT_LIST_DIR}/journal_source_rotation_test.cc
    LIBS pse_journal_source absl::strings absl::time
    LABELS integration
    DEFINITIONS PSE_JOURNAL_REMOTE="${PSE_SYSTEMD_JOURNAL_REMOTE}"
                PSE_JOURNAL_FIXTURES="${PROJECT_SOURCE_DIR}/tests/fixtures/journal")
endif()
