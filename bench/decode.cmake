# bench_decode: decoding throughput (captures and a synthetic 1 M-packet quote stream) next to a
# memchr-only framing baseline. Not run by ctest: `build/bench_decode <captures dir>`.
add_executable(bench_decode ${CMAKE_CURRENT_LIST_DIR}/decode.c)
target_link_libraries(bench_decode PRIVATE tvkit_wire)
