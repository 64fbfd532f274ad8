# `make install` into a temporary prefix, then the examples built against the installed copy via
# pkg-config (shared and static) and via the CMake package.
set(TVK_INSTALL_SAN_FLAGS "")
if(TVK_SANITIZE)
  set(TVK_INSTALL_SAN_FLAGS "-fsanitize=address,undefined")
endif()
add_test(NAME install_examples
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/tests/install/test_install.sh
          ${CMAKE_BINARY_DIR} ${CMAKE_CURRENT_SOURCE_DIR} "${TVK_INSTALL_SAN_FLAGS}")
set_tests_properties(install_examples PROPERTIES TIMEOUT 300 RUN_SERIAL TRUE)
