# weft_add_model(<target> <model.wir> [PIPELINE <passes>] [CPU <name>] [FEATURES <list>]
#                [GPU <sm>] [BIND <NAME=N>...])
#
# Compiles every function of an IR file ahead of time with weftc, at build time, into an object
# and a C header (<target>.h, in the target's include path), and makes <target> a static
# library of that object which links weft's runtime (and only it: no LLVM). A program then
# does `#include "<target>.h"` and `target_link_libraries(app PRIVATE <target>)`.
#
#   PIPELINE  passes weftc runs first (weftc's --pipeline; default `optimize`, "" runs none)
#   CPU       native (default: the building machine) or an LLVM CPU such as x86-64-v3
#   FEATURES  extra target features, e.g. +avx2,-fma
#   GPU       also embed each function's GPU code for this SM (weftc --gpu; sm_80, sm_90)
#   BIND      dims the GPU code is specialized to (weftc --bind), e.g. B=64
#
# Works in weft's own tree (targets weftc, weft_runtime) and from an installed weft
# (find_package(weft): weft::weftc, weft::runtime).
function(weft_add_model target model)
  cmake_parse_arguments(PARSE_ARGV 2 arg "" "PIPELINE;CPU;FEATURES;GPU" "BIND")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "weft_add_model(${target}): unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(TARGET weft::weftc)
    set(weftc weft::weftc)
  elseif(TARGET weftc)
    set(weftc weftc)
  else()
    message(FATAL_ERROR "weft_add_model(${target}): no weftc (find_package(weft) first)")
  endif()
  cmake_path(ABSOLUTE_PATH model BASE_DIRECTORY ${CMAKE_CURRENT_SOURCE_DIR}
             OUTPUT_VARIABLE model_path)
  set(cpu native)
  if(DEFINED arg_CPU)
    set(cpu ${arg_CPU})
  endif()
  set(flags --cpu=${cpu})
  if(DEFINED arg_FEATURES)
    list(APPEND flags --features=${arg_FEATURES})
  endif()
  if(DEFINED arg_PIPELINE)
    list(APPEND flags --pipeline=${arg_PIPELINE})
  endif()
  if(DEFINED arg_GPU)
    list(APPEND flags --gpu=${arg_GPU})
  endif()
  foreach(bind IN LISTS arg_BIND)
    list(APPEND flags --bind ${bind})
  endforeach()
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/${target}.weft)
  set(object ${dir}/${target}.o)
  set(header ${dir}/${target}.h)
  add_custom_command(OUTPUT ${object} ${header}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND ${weftc} ${model_path} -o ${object} --header ${header} ${flags}
    DEPENDS ${weftc} ${model_path}
    COMMENT "weftc: compiling ${model} ahead of time"
    VERBATIM)
  set_source_files_properties(${object} PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  add_library(${target} STATIC ${object} ${header})
  set_target_properties(${target} PROPERTIES LINKER_LANGUAGE C)
  target_include_directories(${target} PUBLIC ${dir})
  if(TARGET weft::runtime)
    target_link_libraries(${target} PUBLIC weft::runtime)
  else()
    target_link_libraries(${target} PUBLIC weft_runtime)
  endif()
endfunction()
