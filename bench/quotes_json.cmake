# bench_quotes_json: the client's quote path in process (feed, merge, tvk_quote_to_json) without
# a socket. Not run by ctest: `build/bench_quotes_json [runs] [packets] [symbols]`;
# bench/quotes_json.sh runs it side by side with a build of an older commit.
add_executable(bench_quotes_json ${CMAKE_CURRENT_LIST_DIR}/quotes_json.c)
target_link_libraries(bench_quotes_json PRIVATE tvkit_static OpenSSL::SSL OpenSSL::Crypto
  ZLIB::ZLIB ${WSLAY_LIB} m)
target_include_directories(bench_quotes_json PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
