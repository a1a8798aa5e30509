# Regenerates the ODS reference docs into OUT and compares them with the
# committed copies in docs/. Run by ctest as `docs-up-to-date`.
set(td ${SRC}/include/tape/Dialect/Tape)
file(MAKE_DIRECTORY ${OUT})
foreach(entry
    "TapeOps.td;-gen-dialect-doc -dialect=tape;Dialect.md"
    "Passes.td;-gen-pass-doc;Passes.md"
    "TapeInterfaces.td;-gen-op-interface-docs;OpInterfaces.md"
    "TapeInterfaces.td;-gen-attr-interface-docs;AttrInterfaces.md"
    "../../Conversion/Passes.td;-gen-pass-doc;ConversionPasses.md"
    "../../Codegen/CPU/Passes.td;-gen-pass-doc;CPUPasses.md"
    "../../ABI/Passes.td;-gen-pass-doc;ABIPasses.md")
  list(GET entry 0 file)
  list(GET entry 1 gen)
  separate_arguments(gen)
  list(GET entry 2 md)
  execute_process(
    COMMAND ${TBLGEN} ${gen} -I ${SRC}/include -I ${MLIR_INCLUDE}
            ${td}/${file} -o ${OUT}/${md}
    RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "mlir-tblgen ${gen} ${file} failed")
  endif()
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files
                  ${OUT}/${md} ${SRC}/docs/${md} RESULT_VARIABLE diff)
  if(NOT diff EQUAL 0)
    message(FATAL_ERROR "docs/${md} is out of date: run `ninja -C build tape-doc` and commit it")
  endif()
endforeach()
