# tvkit-sim tests (issue 4): sim_* under ctest. The market/encoder unit test links the sim core;
# the protocol tests start tvkit-sim as a child process on 127.0.0.1 port 0 and talk to it with
# the net client role and the wire reader (never src/client).
add_executable(sim_test_market ${CMAKE_CURRENT_LIST_DIR}/sim/test_market.c)
target_link_libraries(sim_test_market PRIVATE tvkit_sim_core ${CMOCKA_LIB})
target_include_directories(sim_test_market PRIVATE ${CMOCKA_INCLUDE})
add_test(NAME sim_market COMMAND sim_test_market)
set_tests_properties(sim_market PROPERTIES TIMEOUT 120)

add_library(tvk_sim_harness STATIC ${CMAKE_CURRENT_LIST_DIR}/sim/harness.c)
target_include_directories(tvk_sim_harness PUBLIC ${CMAKE_CURRENT_LIST_DIR}/sim ${CMOCKA_INCLUDE})
target_link_libraries(tvk_sim_harness PUBLIC tvkit_net tvkit_wire ${CMOCKA_LIB} m)

function(tvk_sim_test name src)
  add_executable(sim_test_${name} ${CMAKE_CURRENT_LIST_DIR}/sim/${src})
  target_link_libraries(sim_test_${name} PRIVATE tvk_sim_harness)
  add_dependencies(sim_test_${name} tvkit-sim)
  add_test(NAME sim_${name} COMMAND sim_test_${name} ${TVK_CAPTURES})
  set_tests_properties(sim_${name} PROPERTIES TIMEOUT 300
    ENVIRONMENT "TVK_SIM_BIN=$<TARGET_FILE:tvkit-sim>;TVK_CAPTURES=${TVK_CAPTURES}")
endfunction()

tvk_sim_test(protocol test_protocol.c)
tvk_sim_test(faults test_faults.c)
tvk_sim_test(modes test_modes.c)
# The answer cache: its API directly (sim core) and through a running sim (harness).
tvk_sim_test(cache test_cache.c)
target_link_libraries(sim_test_cache PRIVATE tvkit_sim_core)

# A real client not written here: the npm package @mathieuc/tradingview, unmodified, against the
# sim (12,000 daily bars via request_more_data, quotes for 20 symbols). Skipped (exit 77) only
# when node or the package is missing.
if(TVK_NODE)
  add_test(NAME sim_node_tradingview
    COMMAND ${TVK_NODE} ${CMAKE_CURRENT_LIST_DIR}/node/sim_tradingview.js $<TARGET_FILE:tvkit-sim>)
else()
  add_test(NAME sim_node_tradingview
    COMMAND sh -c "echo 'SKIP: node is not installed (scripts/install-deps.sh installs it)'; exit 77")
endif()
set_tests_properties(sim_node_tradingview PROPERTIES TIMEOUT 120 SKIP_RETURN_CODE 77)
