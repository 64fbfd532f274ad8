# The reader's fast packet head and the SSE2 string scan against byte-wise models of what they
# must accept and reject (same errors, offsets and texts), in exact-size blocks for ASan.
add_executable(wire_test_fast_paths ${CMAKE_CURRENT_LIST_DIR}/wire/test_fast_paths.c)
target_link_libraries(wire_test_fast_paths PRIVATE tvkit_wire ${CMOCKA_LIB})
target_include_directories(wire_test_fast_paths PRIVATE ${CMOCKA_INCLUDE}
  ${CMAKE_CURRENT_SOURCE_DIR}/src)
add_test(NAME wire_fast_paths COMMAND wire_test_fast_paths)
set_tests_properties(wire_fast_paths PROPERTIES TIMEOUT 300)
