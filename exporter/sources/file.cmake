# Followed log files, stdin and FIFOs (exporter/sources/file_source.h), split
# into its parts: line framing, the position checkpoint, rotated-file
# discovery and inotify. Only the Source interface from the rest of the
# program (and pse_util's file helpers): no metrics, no parsers.
add_library(pse_file_source
  file_source.cc input_stream.cc line_framer.cc position_file.cc rotated_files.cc
  inotify_watch.cc)
target_include_directories(pse_file_source PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(pse_file_source
  PUBLIC absl::status absl::statusor absl::strings absl::time
  PRIVATE pse_util)

if(PSE_BUILD_TESTS)
  pse_cc_test(NAME file_source_test SOURCES file_source_test.cc file_source_rotation_test.cc
                                          file_source_position_test.cc
    LIBS pse_file_source)
  pse_cc_test(NAME file_source_parts_test
    SOURCES line_framer_test.cc position_file_test.cc rotated_files_test.cc
    LIBS pse_file_source pse_util)
endif()
