# `make install` (cmake --install): the shared and static library, the headers, chorus.pc and a
# CMake package (find_package(chorus) -> chorus::chorus), under CMAKE_INSTALL_PREFIX / DESTDIR.
include(CMakePackageConfigHelpers)

install(TARGETS chorus chorus_headers EXPORT chorusTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS chorus_static ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS chorus_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES include/chorus/chorus.h include/chorus/book.h ${CHORUS_GENERATED}/chorus/chorus_version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/chorus)
install(FILES LICENSE DESTINATION ${CMAKE_INSTALL_DOCDIR})

# CMake package: chorusConfig.cmake + chorusConfigVersion.cmake + the exported targets.
set(CHORUS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/chorus)
install(EXPORT chorusTargets NAMESPACE chorus:: DESTINATION ${CHORUS_CMAKE_DIR})
configure_package_config_file(cmake/chorusConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/chorusConfig.cmake INSTALL_DESTINATION ${CHORUS_CMAKE_DIR})
# A program built against 0.x needs 0.x; from 1.0 on, any 1.y with y >= the one asked for.
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/chorusConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/chorusConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/chorusConfigVersion.cmake
        DESTINATION ${CHORUS_CMAKE_DIR})

# pkg-config: Libs for the shared library; Requires.private/Libs.private for `--static`.
set(CHORUS_PC_REQUIRES_PRIVATE "")
foreach(p ${CHORUS_PKGS})
  string(APPEND CHORUS_PC_REQUIRES_PRIVATE " ${p}")
endforeach()
set(CHORUS_PC_LIBS_PRIVATE "")
foreach(l ${ESPEAK_LIB} ${CHORUS_EXTRA_LIBS} pthread m)
  get_filename_component(n "${l}" NAME_WE)
  string(REGEX REPLACE "^lib" "" n "${n}")
  string(APPEND CHORUS_PC_LIBS_PRIVATE " -l${n}")
endforeach()
# prefix relative to the .pc file (pkg-config's ${pcfiledir}), so the file stays right whatever
# prefix `cmake --install --prefix` or DESTDIR puts it under.
file(RELATIVE_PATH CHORUS_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
string(REGEX REPLACE "/$" "" CHORUS_PC_TO_PREFIX "${CHORUS_PC_TO_PREFIX}")
configure_file(cmake/chorus.pc.in ${CMAKE_CURRENT_BINARY_DIR}/chorus.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/chorus.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
