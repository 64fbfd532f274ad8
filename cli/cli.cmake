# The tvkit command: main.c plus the static library tvkit_cli (everything else in cli/: the
# subcommands, parsers and formatters), so that unit tests and fuzz targets can link the parsers
# (cli/parse.h) and formatters without main(). It uses the public API only.
file(GLOB TVK_CLI_SRC CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.c)
list(REMOVE_ITEM TVK_CLI_SRC ${CMAKE_CURRENT_LIST_DIR}/main.c)
add_library(tvkit_cli STATIC ${TVK_CLI_SRC})
target_include_directories(tvkit_cli PUBLIC ${TVK_PUBLIC_INCLUDE} ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(tvkit_cli PUBLIC tvkit_static OpenSSL::SSL OpenSSL::Crypto ZLIB::ZLIB
                      ${WSLAY_LIB} m)
add_executable(tvkit ${CMAKE_CURRENT_LIST_DIR}/main.c)
target_link_libraries(tvkit PRIVATE tvkit_cli)
install(TARGETS tvkit RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
