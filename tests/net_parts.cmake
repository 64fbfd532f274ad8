# tvk_ws_send_parts (pre-compressed parts spliced into the permessage-deflate stream): net_parts.
# Loopback server in the test; clients: ours and python3-websockets (tests/net/parts_client.py).
add_executable(net_parts ${CMAKE_CURRENT_SOURCE_DIR}/tests/net/test_parts.c)
target_link_libraries(net_parts PRIVATE tvk_net_testutil)
add_test(NAME net_parts COMMAND net_parts)
set_tests_properties(net_parts PROPERTIES TIMEOUT 120
  ENVIRONMENT "TVK_PYTHON3=${TVK_PYTHON3};TVK_NET_DIR=${CMAKE_CURRENT_SOURCE_DIR}/tests/net")
