# The event queue (client): compact QUOTE items, quote ERROR items and their texts, dropping the
# queued items of removed or closed quote sets, the queue bound, routing by session id and
# symbol, tvk_quote_to_json's room and limit (no network: a send hook, packets fed as strings);
# and, against a tvkit-sim the test starts, tvk_quotes_add on a connection found lost while
# sending and the texts of connection events queued during a blocking wait.
add_executable(client_test_events ${CMAKE_CURRENT_LIST_DIR}/client/test_events.c)
target_link_libraries(client_test_events PRIVATE tvkit_static OpenSSL::SSL OpenSSL::Crypto
  ZLIB::ZLIB ${WSLAY_LIB} m ${CMOCKA_LIB})
target_include_directories(client_test_events PRIVATE ${CMOCKA_INCLUDE}
  ${CMAKE_CURRENT_SOURCE_DIR}/src)
foreach(pair
    "queue:test_events_queue_*"
    "routing:test_events_routing_*"
    "json_room:test_events_json_room"
    "error_text:test_events_error_text_*"
    "json_limit:test_events_json_limit")
  string(REPLACE ":" ";" kv "${pair}")
  list(GET kv 0 k)
  list(GET kv 1 v)
  add_test(NAME client_events_${k} COMMAND client_test_events "${v}")
  set_tests_properties(client_events_${k} PROPERTIES TIMEOUT 120)
endforeach()

if(TARGET tvkit-sim)
  add_executable(client_test_events_lost ${CMAKE_CURRENT_LIST_DIR}/client/test_events_lost.c
    ${CMAKE_CURRENT_LIST_DIR}/client/simproc.c)
  target_link_libraries(client_test_events_lost PRIVATE tvkit_static OpenSSL::SSL
    OpenSSL::Crypto ZLIB::ZLIB ${WSLAY_LIB} m ${CMOCKA_LIB})
  target_include_directories(client_test_events_lost PRIVATE ${CMOCKA_INCLUDE})
  add_dependencies(client_test_events_lost tvkit-sim)
  add_test(NAME client_events_add_lost
    COMMAND client_test_events_lost $<TARGET_FILE:tvkit-sim> "test_events_add_*")
  add_test(NAME client_events_reconnect_texts
    COMMAND client_test_events_lost $<TARGET_FILE:tvkit-sim> "test_events_reconnecting_*")
  set_tests_properties(client_events_add_lost client_events_reconnect_texts
    PROPERTIES TIMEOUT 120)
endif()
