# ctest aot-example: the AOT-compiled model against the reference interpreter on the same inputs.
# cmake -DEXAMPLE=... -DWEFT_RUN=... -DMODEL=... -DDIR=... -P check.cmake
file(REMOVE_RECURSE ${DIR})
file(MAKE_DIRECTORY ${DIR}/ref)
execute_process(COMMAND ${EXAMPLE} --write-inputs ${DIR} COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${WEFT_RUN} ${MODEL} --input xs=${DIR}/xs.npy --input W=${DIR}/W.npy
                        --input U=${DIR}/U.npy --input h0=${DIR}/h0.npy --input V=${DIR}/V.npy
                        --save-dir ${DIR}/ref
                COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND ${EXAMPLE} --check ${DIR}/ref COMMAND_ERROR_IS_FATAL ANY)
