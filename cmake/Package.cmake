# Installation and the CMake package (included by the top CMakeLists.txt):
#
#   bin/                tape-opt, tape-run, tape-compile, tape-lsp-server
#   lib/                libtape.so.<TAPE_ABI_VERSION> (C and C++ runtime API),
#                       the compiler's static libraries
#   include/            tape-c/, tape/Runtime (libtape.so's API), the
#                       dialect (headers, ODS, generated .inc), the passes
#                       of each layer, the pipelines, InitTape.h, Version.h
#   lib/cmake/tape/     find_package(tape <version>): tapeConfig.cmake,
#                       tapeConfigVersion.cmake, tapeTargets*.cmake
#
# Test-only libraries (test/lib) and test tools are not installed.
# test/Package/installed_package.sh checks all of this on an installed copy.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(TAPE_CMAKE_PACKAGE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/tape)

# The exported targets, tape::<name>: libtape.so, and the libraries a tool
# of one's own links to register the tape dialect, its passes and its
# pipelines (tape/InitTape.h; examples/my-opt), with everything they link.
set(TAPE_EXPORTED_LIBRARIES
  tape
  TapeRegistration
  TapeDialect
  TapeAnalysis
  TapeDifferentiationRules
  TapeTransforms
  TapeConversion
  TapeCodegenCPU
  TapeABI
  TapePipelines
  )
foreach(lib IN LISTS TAPE_EXPORTED_LIBRARIES)
  target_include_directories(${lib} INTERFACE
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
endforeach()
install(TARGETS ${TAPE_EXPORTED_LIBRARIES} EXPORT tapeTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT tapeTargets NAMESPACE tape::
        DESTINATION ${TAPE_CMAKE_PACKAGE_DIR})

install(TARGETS tape-opt tape-run tape-compile tape-lsp-server
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Headers. libtape.so's: the C API and the C++ runtime API.
install(DIRECTORY include/tape-c DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES include/tape/Runtime/Model.h include/tape/Runtime/Tensor.h
              include/tape/Runtime/Status.h include/tape/Runtime/Dataset.h
              include/tape/Runtime/Checkpoint.h include/tape/Runtime/Npy.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tape/Runtime)
install(FILES include/tape/Pipelines/Options.h
              include/tape/Pipelines/Pipelines.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tape/Pipelines)
install(FILES include/tape/InitTape.h ${PROJECT_BINARY_DIR}/include/tape/Version.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tape)
# The compiler libraries': the dialect with its ODS (for dialects that
# implement its interfaces), each layer's passes, and what TableGen
# generated for them.
install(DIRECTORY include/tape/Dialect
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tape
        FILES_MATCHING PATTERN "*.h" PATTERN "*.td")
install(FILES include/tape/Conversion/Passes.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tape/Conversion)
install(FILES include/tape/Codegen/CPU/Passes.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tape/Codegen/CPU)
install(FILES include/tape/ABI/Passes.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tape/ABI)
install(DIRECTORY ${PROJECT_BINARY_DIR}/include/tape/
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tape
        FILES_MATCHING PATTERN "*.inc" PATTERN "CMakeFiles" EXCLUDE)

# find_package(tape): the config finds MLIR (find_dependency) and imports
# the targets; the version file accepts a request for a compatible version
# (TAPE_VERSION_COMPATIBILITY in the top CMakeLists.txt).
configure_package_config_file(cmake/tapeConfig.cmake.in
  ${PROJECT_BINARY_DIR}/lib/cmake/tape/tapeConfig.cmake
  INSTALL_DESTINATION ${TAPE_CMAKE_PACKAGE_DIR})
write_basic_package_version_file(
  ${PROJECT_BINARY_DIR}/lib/cmake/tape/tapeConfigVersion.cmake
  VERSION ${PROJECT_VERSION}
  COMPATIBILITY ${TAPE_VERSION_COMPATIBILITY})
install(FILES ${PROJECT_BINARY_DIR}/lib/cmake/tape/tapeConfig.cmake
              ${PROJECT_BINARY_DIR}/lib/cmake/tape/tapeConfigVersion.cmake
        DESTINATION ${TAPE_CMAKE_PACKAGE_DIR})
