# Client tests (cmocka). client_unit: no network (a send hook captures what is sent, server
# messages are built from strings). client_e2e_*: against tvkit-sim started by the test itself.
add_executable(client_test_unit ${CMAKE_CURRENT_LIST_DIR}/client/test_unit.c)
target_link_libraries(client_test_unit PRIVATE tvkit_static OpenSSL::SSL OpenSSL::Crypto
  ZLIB::ZLIB ${WSLAY_LIB} m ${CMOCKA_LIB})
target_include_directories(client_test_unit PRIVATE ${CMOCKA_INCLUDE}
  ${CMAKE_CURRENT_SOURCE_DIR}/src)
add_test(NAME client_unit COMMAND client_test_unit ${TVK_CAPTURES})
set_tests_properties(client_unit PROPERTIES TIMEOUT 120)

# End-to-end against tvkit-sim; expected bars come from the sim's market generator (linked from
# tvkit_sim_core, an independent path from the protocol).
add_executable(client_test_e2e ${CMAKE_CURRENT_LIST_DIR}/client/test_e2e.c
  ${CMAKE_CURRENT_LIST_DIR}/client/simproc.c)
target_link_libraries(client_test_e2e PRIVATE tvkit_static tvkit_sim_core OpenSSL::SSL
  OpenSSL::Crypto ZLIB::ZLIB ${WSLAY_LIB} m ${CMOCKA_LIB})
target_include_directories(client_test_e2e PRIVATE ${CMOCKA_INCLUDE})
add_dependencies(client_test_e2e tvkit-sim)
add_test(NAME client_e2e COMMAND client_test_e2e $<TARGET_FILE:tvkit-sim>)
set_tests_properties(client_e2e PROPERTIES TIMEOUT 300)
