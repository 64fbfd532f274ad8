# History answers read without tokens by the series against the tokenized path (no network).
add_executable(client_test_bars ${CMAKE_CURRENT_LIST_DIR}/client/test_bars.c)
target_link_libraries(client_test_bars PRIVATE tvkit_static OpenSSL::SSL OpenSSL::Crypto
  ZLIB::ZLIB ${WSLAY_LIB} m ${CMOCKA_LIB})
target_include_directories(client_test_bars PRIVATE ${CMOCKA_INCLUDE}
  ${CMAKE_CURRENT_SOURCE_DIR}/src)
add_test(NAME client_bars COMMAND client_test_bars)
set_tests_properties(client_bars PROPERTIES TIMEOUT 120)
