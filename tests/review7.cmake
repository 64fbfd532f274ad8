# Review of 7c86275..a5d101e (session 7). review7_client_*: the client's compact QUOTE queue
# items, quote ERROR items, routing and tvk_quote_to_json (no network); review7_wire_ends: every
# reader of src/wire/scan.h on documents cut at every byte and ending in every kind of byte, in
# heap blocks of exactly their size (ASan sees a read past the end).
add_executable(review7_test_client ${CMAKE_CURRENT_LIST_DIR}/client/test_review7.c)
target_link_libraries(review7_test_client PRIVATE tvkit_static OpenSSL::SSL OpenSSL::Crypto
  ZLIB::ZLIB ${WSLAY_LIB} m ${CMOCKA_LIB})
target_include_directories(review7_test_client PRIVATE ${CMOCKA_INCLUDE}
  ${CMAKE_CURRENT_SOURCE_DIR}/src)
foreach(pair
    "queue:test_review7_queue_*"
    "routing:test_review7_routing_*"
    "json_room:test_review7_json_room"
    "error_text:test_review7_error_text_*"
    "json_limit:test_review7_json_limit")
  string(REPLACE ":" ";" kv "${pair}")
  list(GET kv 0 k)
  list(GET kv 1 v)
  add_test(NAME review7_client_${k} COMMAND review7_test_client "${v}")
  set_tests_properties(review7_client_${k} PROPERTIES TIMEOUT 120)
endforeach()

add_executable(review7_test_wire_ends ${CMAKE_CURRENT_LIST_DIR}/wire/test_review7_ends.c)
target_link_libraries(review7_test_wire_ends PRIVATE tvkit_wire ${CMOCKA_LIB} m)
target_include_directories(review7_test_wire_ends PRIVATE ${CMOCKA_INCLUDE}
  ${CMAKE_CURRENT_SOURCE_DIR}/src)
add_test(NAME review7_wire_ends COMMAND review7_test_wire_ends)
set_tests_properties(review7_wire_ends PROPERTIES TIMEOUT 300)

# Against tvkit-sim started by the test: tvk_quotes_add on a connection found lost while
# sending; the texts of connection events queued during a blocking wait.
if(TARGET tvkit-sim)
  add_executable(review7_test_client_lost ${CMAKE_CURRENT_LIST_DIR}/client/test_review7_lost.c
    ${CMAKE_CURRENT_LIST_DIR}/client/simproc.c)
  target_link_libraries(review7_test_client_lost PRIVATE tvkit_static OpenSSL::SSL
    OpenSSL::Crypto ZLIB::ZLIB ${WSLAY_LIB} m ${CMOCKA_LIB})
  target_include_directories(review7_test_client_lost PRIVATE ${CMOCKA_INCLUDE})
  add_dependencies(review7_test_client_lost tvkit-sim)
  add_test(NAME review7_client_add_lost
    COMMAND review7_test_client_lost $<TARGET_FILE:tvkit-sim> "test_review7_add_*")
  add_test(NAME review7_client_reconnect_texts
    COMMAND review7_test_client_lost $<TARGET_FILE:tvkit-sim> "test_review7_reconnecting_*")
  set_tests_properties(review7_client_add_lost review7_client_reconnect_texts
    PROPERTIES TIMEOUT 120)
endif()
