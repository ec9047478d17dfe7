# Followed log files, stdin and FIFOs (exporter/sources/file_source.h).
# Only the Source interface from the rest of the program: no metrics, no parsers.
add_library(pse_file_source file_source.cc)
target_include_directories(pse_file_source PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(pse_file_source
  PUBLIC absl::status absl::statusor absl::strings absl::time)

if(PSE_BUILD_TESTS)
  add_executable(file_source_test file_source_test.cc)
  target_link_libraries(file_source_test PRIVATE pse_file_source GTest::gmock GTest::gtest_main)
  # A broken Wait() shows as a hang: the timeout turns it into a failure.
  gtest_discover_tests(file_source_test DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT 60)
endif()
