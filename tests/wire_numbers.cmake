# The number writers (tvk_fmt_double, tvk_fmt_int) byte for byte against printf's definition
# and the previous writer, over millions of values; the tokenizer's two number paths (short
# numbers, byte by byte) against each other, the JSON grammar and strtod.
foreach(name fmt scan_number)
  add_executable(wire_test_${name} ${CMAKE_CURRENT_LIST_DIR}/wire/test_${name}.c)
  target_link_libraries(wire_test_${name} PRIVATE tvkit_wire ${CMOCKA_LIB} m)
  target_include_directories(wire_test_${name} PRIVATE ${CMOCKA_INCLUDE})
  add_test(NAME wire_${name} COMMAND wire_test_${name})
  set_tests_properties(wire_${name} PROPERTIES TIMEOUT 300)
endforeach()
