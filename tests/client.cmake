# Client tests (cmocka). client_unit: no network (a send hook captures what is sent, server
# messages are built from strings). client_e2e_*: against tvkit-sim started by the test itself.
add_executable(client_test_unit ${CMAKE_CURRENT_LIST_DIR}/client/test_unit.c)
target_link_libraries(client_test_unit PRIVATE tvkit_static OpenSSL::SSL OpenSSL::Crypto
  ZLIB::ZLIB ${WSLAY_LIB} m ${CMOCKA_LIB})
target_include_directories(client_test_unit PRIVATE ${CMOCKA_INCLUDE}
  ${CMAKE_CURRENT_SOURCE_DIR}/src)
add_test(NAME client_unit COMMAND client_test_unit)
set_tests_properties(client_unit PROPERTIES TIMEOUT 120)
