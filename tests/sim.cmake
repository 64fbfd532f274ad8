# tvkit-sim tests (issue 4): sim_* under ctest. The market/encoder unit test links the sim core;
# the protocol tests start tvkit-sim as a child process on 127.0.0.1 port 0 and talk to it with
# the net client role and the wire reader (never src/client).
add_executable(sim_test_market ${CMAKE_CURRENT_LIST_DIR}/sim/test_market.c)
target_link_libraries(sim_test_market PRIVATE tvkit_sim_core ${CMOCKA_LIB})
target_include_directories(sim_test_market PRIVATE ${CMOCKA_INCLUDE})
add_test(NAME sim_market COMMAND sim_test_market)
set_tests_properties(sim_market PROPERTIES TIMEOUT 120)
