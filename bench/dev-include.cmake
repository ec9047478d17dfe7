# Builds bench/ in a build directory before the top-level CMakeLists.txt adds
# it itself: configure with
#   -DPSE_BUILD_BENCHMARKS=ON
#   -DCMAKE_PROJECT_postfix_sasl_exporter_INCLUDE=<repo>/bench/dev-include.cmake
# CMake runs this file right after project(); the deferred call runs at the
# end of the top-level file, when the library targets exist (CMake does not
# allow add_subdirectory there, so bench/CMakeLists.txt is include()d; it uses
# CMAKE_CURRENT_LIST_DIR for that reason). It does nothing once the top level
# has added bench/ itself (parser_bench already defined).
function(_pse_bench_add_if_missing)
  if(PSE_BUILD_BENCHMARKS AND NOT TARGET parser_bench)
    include("${CMAKE_SOURCE_DIR}/bench/CMakeLists.txt")
  endif()
endfunction()
cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL _pse_bench_add_if_missing)
