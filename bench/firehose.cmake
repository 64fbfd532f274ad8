# bench_firehose: tvkit-sim's --firehose production rate (target >= 2 M qsd packets/s on one
# core) next to an encode-every-packet baseline, a memcpy upper bound, and the end-to-end rate
# over loopback. Not run by ctest: `build/bench_firehose [packets] [symbols] [runs] [sim]`.
add_executable(bench_firehose ${CMAKE_CURRENT_LIST_DIR}/firehose.c)
target_link_libraries(bench_firehose PRIVATE tvkit_sim_core)
target_compile_definitions(bench_firehose PRIVATE TVK_SIM_PATH="$<TARGET_FILE:tvkit-sim>")
add_dependencies(bench_firehose tvkit-sim)
