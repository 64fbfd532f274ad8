# The differential fuzz target of the history answer read without tokens (tests/fuzz/fuzz_bars.c),
# kept out of tests/fuzz.cmake's lists: fuzz_replay_bars replays tests/fuzz/regress/bars and the
# json target's seeds (the captures' messages) in the normal suite; with -DTVK_FUZZ=ON and clang,
# fuzz_bars is the libFuzzer binary (run it as docs/FUZZING.md says, e.g.
# build-libfuzzer/fuzz_bars -dict=tests/fuzz/json.dict corpus/ build-libfuzzer/fuzz-seeds/json).
add_executable(fuzz_replay_bars ${CMAKE_CURRENT_LIST_DIR}/fuzz/standalone.c
  ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_bars.c)
target_include_directories(fuzz_replay_bars PRIVATE ${CMAKE_CURRENT_LIST_DIR}/fuzz)
target_link_libraries(fuzz_replay_bars PRIVATE tvkit_wire m)
add_test(NAME fuzz_regress_bars
  COMMAND fuzz_replay_bars ${CMAKE_CURRENT_LIST_DIR}/fuzz/regress/bars ${CMAKE_BINARY_DIR}/fuzz-seeds/json)
set_tests_properties(fuzz_regress_bars PROPERTIES FIXTURES_REQUIRED tvk_fuzz_seeds TIMEOUT 600)

if(TVK_FUZZ AND CMAKE_C_COMPILER_ID MATCHES "Clang")
  add_executable(fuzz_bars ${CMAKE_CURRENT_LIST_DIR}/fuzz/fuzz_bars.c)
  target_include_directories(fuzz_bars PRIVATE ${CMAKE_CURRENT_LIST_DIR}/fuzz)
  target_link_libraries(fuzz_bars PRIVATE tvkit_wire m)
  target_compile_options(fuzz_bars PRIVATE -fsanitize=fuzzer)
  target_link_options(fuzz_bars PRIVATE -fsanitize=fuzzer)
endif()
