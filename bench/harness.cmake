# Benchmark harness (bench/run.sh, `make bench`): the measuring wrapper, and a ctest smoke test
# that runs the whole harness in quick mode with tiny sizes so that it does not rot. It checks
# only that every case ran and RESULTS is well formed; timings are never asserted.
add_executable(tvk-benchrun ${CMAKE_CURRENT_LIST_DIR}/lib/benchrun.c)

if(TVK_BUILD_TESTS)
  enable_testing()
  add_test(NAME bench_smoke
    COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/lib/smoke.sh ${CMAKE_BINARY_DIR})
  # 77: node or a benchmarked binary is missing; the script says which.
  set_tests_properties(bench_smoke PROPERTIES TIMEOUT 300 SKIP_RETURN_CODE 77)
endif()
