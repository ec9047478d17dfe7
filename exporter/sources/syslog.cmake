# The syslog receiver (exporter/sources/syslog_receiver.h): listeners on unix
# datagram/stream sockets, UDP and TCP, stream framing, its health metrics;
# and CompositeSource, which reads it alongside a file or the journal.
# Included by exporter/sources/CMakeLists.txt.
add_library(pse_syslog_source
  ${CMAKE_CURRENT_LIST_DIR}/syslog_receiver.cc ${CMAKE_CURRENT_LIST_DIR}/syslog_address.cc
  ${CMAKE_CURRENT_LIST_DIR}/syslog_framing.cc ${CMAKE_CURRENT_LIST_DIR}/syslog_metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/multi_source.cc ${CMAKE_CURRENT_LIST_DIR}/syslog_echo.cc)
target_include_directories(pse_syslog_source PUBLIC ${PROJECT_SOURCE_DIR})
target_link_libraries(pse_syslog_source
  PUBLIC pse_parsers absl::status absl::statusor absl::strings absl::time prometheus-cpp::core
  PRIVATE pse_util)

if(PSE_BUILD_TESTS)
  pse_cc_test(NAME syslog_source_test
    SOURCES ${CMAKE_CURRENT_LIST_DIR}/syslog_framing_test.cc
            ${CMAKE_CURRENT_LIST_DIR}/syslog_receiver_test.cc
            ${CMAKE_CURRENT_LIST_DIR}/multi_source_test.cc
            ${CMAKE_CURRENT_LIST_DIR}/syslog_echo_test.cc
    LIBS pse_syslog_source pse_pipeline)
endif()

if(PSE_BUILD_FUZZERS)
  # Stream framing under libFuzzer (octet counting, newline framing, splits).
  add_executable(syslog_framing_fuzzer ${CMAKE_CURRENT_LIST_DIR}/syslog_framing_fuzzer.cc
    ${CMAKE_CURRENT_LIST_DIR}/syslog_framing.cc)
  target_include_directories(syslog_framing_fuzzer PRIVATE ${PROJECT_SOURCE_DIR})
  target_compile_options(syslog_framing_fuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(syslog_framing_fuzzer PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(syslog_framing_fuzzer PRIVATE absl::strings)
endif()
