# ctest options_doc: docs/options.md must equal `diviml options-doc` (regenerate with
#   build/diviml options-doc > docs/options.md).
execute_process(COMMAND ${DIVIML} options-doc OUTPUT_VARIABLE generated RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "diviml options-doc failed (${rc})")
endif()
file(READ ${DOC} current)
if(NOT current STREQUAL generated)
  message(FATAL_ERROR "${DOC} is out of date: run `build/diviml options-doc > docs/options.md`")
endif()
