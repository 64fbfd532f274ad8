# tvkit command tests. cli_unit: the pure parsers, formats and exit mapping (cmocka).
add_executable(cli_test_unit ${CMAKE_CURRENT_LIST_DIR}/cli/test_unit.c)
target_link_libraries(cli_test_unit PRIVATE tvkit_cli ${CMOCKA_LIB})
target_include_directories(cli_test_unit PRIVATE ${CMOCKA_INCLUDE})
add_test(NAME cli_unit COMMAND cli_test_unit)
