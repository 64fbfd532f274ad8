# The history answer read without tokens (src/wire/bars.c) against the generic path: captures,
# generated answers, mutated variants. Gets the captures directory as its argument.
add_executable(wire_test_bars ${CMAKE_CURRENT_LIST_DIR}/wire/test_bars.c)
target_link_libraries(wire_test_bars PRIVATE tvkit_wire ${CMOCKA_LIB} m)
target_include_directories(wire_test_bars PRIVATE ${CMOCKA_INCLUDE})
add_test(NAME wire_bars COMMAND wire_test_bars ${TVK_CAPTURES})
set_tests_properties(wire_bars PROPERTIES TIMEOUT 300)
