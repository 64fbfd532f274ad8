# The quote book's one text per symbol: every field's json, json_len and num and the snapshot
# line against a model of thousands of random changes (no network: packets fed as strings).
add_executable(client_test_quote_body ${CMAKE_CURRENT_LIST_DIR}/client/test_quote_body.c)
target_link_libraries(client_test_quote_body PRIVATE tvkit_static OpenSSL::SSL OpenSSL::Crypto
  ZLIB::ZLIB ${WSLAY_LIB} m ${CMOCKA_LIB})
target_include_directories(client_test_quote_body PRIVATE ${CMOCKA_INCLUDE}
  ${CMAKE_CURRENT_SOURCE_DIR}/src)
add_test(NAME client_quote_body COMMAND client_test_quote_body)
set_tests_properties(client_quote_body PROPERTIES TIMEOUT 120)
