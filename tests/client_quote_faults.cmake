# The quote book under allocation failure at every allocation of a change (malloc, calloc and
# realloc wrapped at link time: only the library's calls go through the wrappers), edge values
# and names on the plain and tokenized paths, the field and size bounds, the symbol index after
# a failed add or remove, queued events of removed or closed sets.
add_executable(client_test_quote_faults ${CMAKE_CURRENT_LIST_DIR}/client/test_quote_faults.c)
target_link_libraries(client_test_quote_faults PRIVATE tvkit_static OpenSSL::SSL OpenSSL::Crypto
  ZLIB::ZLIB ${WSLAY_LIB} m ${CMOCKA_LIB}
  -Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=realloc)
target_include_directories(client_test_quote_faults PRIVATE ${CMOCKA_INCLUDE}
  ${CMAKE_CURRENT_SOURCE_DIR}/src)
add_test(NAME client_quote_faults COMMAND client_test_quote_faults)
set_tests_properties(client_quote_faults PROPERTIES TIMEOUT 300)
