# Followed log files, stdin and FIFOs (exporter/sources/file_source.h).
# Only the Source interface from the rest of the program: no metrics, no parsers.
add_library(pse_file_source file_source.cc)
target_include_directories(pse_file_source PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(pse_file_source
  PUBLIC absl::status absl::statusor absl::strings absl::time)

if(PSE_BUILD_TESTS)
  pse_cc_test(NAME file_source_test SOURCES file_source_test.cc LIBS pse_file_source)
endif()
