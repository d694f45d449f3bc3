# ctest aot-example: the AOT-compiled model against the reference interpreter on the same inputs.
# cmake -DEXAMPLE=... -DWEFT_RUN=... -DMODEL=... -DDIR=... -P check.cmake
# Each step must exit 0 (a crash after printing the right words fails), and the comparison
# must say it matches.
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR}/ref)
execute_process(COMMAND ${EXAMPLE} --write-inputs ${DIR} COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${WEFT_RUN} ${MODEL} --input xs=${DIR}/xs.npy --input W=${DIR}/W.npy
                        --input U=${DIR}/U.npy --input h0=${DIR}/h0.npy --input V=${DIR}/V.npy
                        --save-dir ${DIR}/ref
                COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${EXAMPLE} --check ${DIR}/ref OUTPUT_VARIABLE out RESULT_VARIABLE rc)
message("${out}")
if(NOT rc EQUAL 0 OR NOT out MATCHES "matches the reference interpreter")
  message(FATAL_ERROR "weft-example-aot --check exited with '${rc}'")
endif()
