# Wire layer tests (cmocka): framing, JSON, numbers, builders, views, the real captures, and the
# tvkit decode command. Each gets the captures directory as its argument.
foreach(name frame json number build views captures robust qsd)
  add_executable(wire_test_${name} ${CMAKE_CURRENT_LIST_DIR}/wire/test_${name}.c)
  target_link_libraries(wire_test_${name} PRIVATE tvkit_wire ${CMOCKA_LIB})
  target_include_directories(wire_test_${name} PRIVATE ${CMOCKA_INCLUDE})
  add_test(NAME wire_${name} COMMAND wire_test_${name} ${TVK_CAPTURES})
  set_tests_properties(wire_${name} PROPERTIES TIMEOUT 300)
endforeach()

add_test(NAME wire_cli_decode
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/wire/test_cli_decode.sh $<TARGET_FILE:tvkit>
          ${TVK_CAPTURES} ${TVK_PYTHON3})
set_tests_properties(wire_cli_decode PROPERTIES TIMEOUT 300)
