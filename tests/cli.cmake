# tvkit command tests. cli_unit: the pure parsers, formats and exit mapping (cmocka).
add_executable(cli_test_unit ${CMAKE_CURRENT_LIST_DIR}/cli/test_unit.c)
target_link_libraries(cli_test_unit PRIVATE tvkit_cli ${CMOCKA_LIB})
target_include_directories(cli_test_unit PRIVATE ${CMOCKA_INCLUDE})
add_test(NAME cli_unit COMMAND cli_test_unit)

# End-to-end: tests/cli/e2e.sh CASE drives the built tvkit against a tvkit-sim it starts on a
# free loopback port (and always stops).
if(TARGET tvkit-sim)
  foreach(case help usage history range multi stream quotes record exit options reconnect signal auth silence tty demo man)
    add_test(NAME cli_${case}
      COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/cli/e2e.sh ${case} $<TARGET_FILE:tvkit>
              $<TARGET_FILE:tvkit-sim> ${TVK_PYTHON3} ${CMAKE_SOURCE_DIR})
    set_tests_properties(cli_${case} PROPERTIES TIMEOUT 300)
  endforeach()
endif()
