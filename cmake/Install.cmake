# cmake --install: headers, libraries, the tools and a CMake package (find_package(weft)).
# Kept in one place so that adding a library is one line here (weft_install_library).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(WEFT_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/weft)
set(WEFT_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/weft)

# Installs library `target` as weft::<export_name> in export set `set`. Headers are included
# as "runtime/Aot.h", so the installed include root is <prefix>/include/weft.
function(weft_install_library target export_name set)
  if(NOT TARGET ${target})
    return()
  endif()
  set_target_properties(${target} PROPERTIES
    EXPORT_NAME ${export_name}
    INTERFACE_INCLUDE_DIRECTORIES
      "$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>;$<INSTALL_INTERFACE:${WEFT_INSTALL_INCLUDEDIR}>")
  install(TARGETS ${target} EXPORT ${set} ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
endfunction()

weft_install_library(weft_runtime runtime weftRuntimeTargets)
weft_install_library(weft_train train weftRuntimeTargets)
foreach(lib ir eval transforms analysis frontend passes autodiff backend backends reference cpu cuda)
  weft_install_library(weft_${lib} ${lib} weftCompilerTargets)
endforeach()

# The tools go with the runtime's export set: weft_add_model needs weft::weftc even where the
# compiler libraries' LLVM development files are absent.
foreach(tool weftc weft-opt weft-run)
  if(TARGET ${tool})
    install(TARGETS ${tool} EXPORT weftRuntimeTargets RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

install(DIRECTORY ir runtime frontend passes backends
        DESTINATION ${WEFT_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h" PATTERN "*.def")

install(EXPORT weftRuntimeTargets NAMESPACE weft:: DESTINATION ${WEFT_INSTALL_CMAKEDIR})
if(TARGET weft_cpu)
  install(EXPORT weftCompilerTargets NAMESPACE weft:: DESTINATION ${WEFT_INSTALL_CMAKEDIR})
endif()
configure_package_config_file(cmake/weftConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/weftConfig.cmake INSTALL_DESTINATION ${WEFT_INSTALL_CMAKEDIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/weftConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/weftConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/weftConfigVersion.cmake cmake/WeftAddModel.cmake
        DESTINATION ${WEFT_INSTALL_CMAKEDIR})
