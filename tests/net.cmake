# Transport tests (issue 3): net_* under ctest. Servers run on 127.0.0.1 and are started and
# stopped by the tests themselves.
add_library(tvk_net_testutil STATIC ${CMAKE_CURRENT_SOURCE_DIR}/tests/net/util.c)
target_include_directories(tvk_net_testutil PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/tests/net
  ${TVK_PUBLIC_INCLUDE} ${CMAKE_CURRENT_SOURCE_DIR}/src ${WSLAY_INCLUDE} ${CMOCKA_INCLUDE})
target_link_libraries(tvk_net_testutil PUBLIC tvkit_net ${CMOCKA_LIB})

function(tvk_net_test name src)
  add_executable(${name} ${CMAKE_CURRENT_SOURCE_DIR}/tests/net/${src})
  target_link_libraries(${name} PRIVATE tvk_net_testutil)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES TIMEOUT 120
    ENVIRONMENT "TVK_PYTHON3=${TVK_PYTHON3};TVK_NODE=${TVK_NODE};TVK_NET_DIR=${CMAKE_CURRENT_SOURCE_DIR}/tests/net;TVK_NODE_DIR=${CMAKE_CURRENT_SOURCE_DIR}/tests/node")
endfunction()

tvk_net_test(net_loop test_loop.c)
tvk_net_test(net_interop test_interop.c)
tvk_net_test(net_faults test_faults.c)
tvk_net_test(net_tls test_tls.c)
tvk_net_test(net_flow test_flow.c)
