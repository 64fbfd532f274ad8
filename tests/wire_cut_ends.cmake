# Every reader of src/wire/scan.h on documents cut at every byte and ended by every kind of byte,
# in heap blocks of exactly their size (ASan sees a read past the end): verdicts of the plain
# readers against the generic path, numbers against strtod.
add_executable(wire_test_cut_ends ${CMAKE_CURRENT_LIST_DIR}/wire/test_cut_ends.c)
target_link_libraries(wire_test_cut_ends PRIVATE tvkit_wire ${CMOCKA_LIB} m)
target_include_directories(wire_test_cut_ends PRIVATE ${CMOCKA_INCLUDE}
  ${CMAKE_CURRENT_SOURCE_DIR}/src)
add_test(NAME wire_cut_ends COMMAND wire_test_cut_ends)
set_tests_properties(wire_cut_ends PROPERTIES TIMEOUT 300)
