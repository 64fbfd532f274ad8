# The tvkit command: main.c (dispatch table) plus one cmd_<name>.c per subcommand. It uses the
# public API only, linked statically so the binary runs from the build tree.
file(GLOB TVK_CLI_SRC CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/main.c
     ${CMAKE_CURRENT_LIST_DIR}/cmd_*.c)
add_executable(tvkit ${TVK_CLI_SRC})
target_link_libraries(tvkit PRIVATE tvkit_static)
target_include_directories(tvkit PRIVATE ${TVK_PUBLIC_INCLUDE})
install(TARGETS tvkit RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
