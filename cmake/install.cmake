# make install: headers, libtvkit.a, libtvkit.so (with SONAME), tvkit.pc and a CMake package.
install(DIRECTORY include/tvkit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS tvkit_static tvkit_shared EXPORT tvkitTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT tvkitTargets NAMESPACE tvkit:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tvkit)

include(CMakePackageConfigHelpers)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/tvkitConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/tvkitConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tvkit)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/tvkitConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tvkitConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/tvkitConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/tvkit)

# Path from <prefix>/<libdir>/pkgconfig back up to <prefix>.
file(RELATIVE_PATH TVK_PC_UP /x/${CMAKE_INSTALL_LIBDIR}/pkgconfig /x)
configure_file(${CMAKE_CURRENT_LIST_DIR}/tvkit.pc.in ${CMAKE_CURRENT_BINARY_DIR}/tvkit.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/tvkit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
