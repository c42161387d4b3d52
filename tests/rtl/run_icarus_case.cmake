# run_icarus_case.cmake - one Icarus smoke case (CTest driver, cmake -P):
#   1. gen_icarus_case writes the operation list and, from the functional
#      model, the expected output;
#   2. the RTL runs it under Icarus (vvp tb_gemm.vvp);
#   3. the output must equal the model's byte for byte;
#   4. the Verilated engine runs the same list (rtl_ops_replay): same bytes,
#      and the same cycle / busy / MAC counters as Icarus, cycle for cycle.
# Variables: GEN VVP TB REPLAY CASE DIR, optional OUTNAME (file names; default
# CASE). CASE is gen_icarus_case's arguments before the two files, spaces
# between them (e.g. "--config 4 4096 2048 16 32 random 7").
foreach(v GEN VVP TB REPLAY CASE DIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_icarus_case.cmake: ${v} not set")
  endif()
endforeach()
if(NOT DEFINED OUTNAME)
  set(OUTNAME ${CASE})
endif()
file(MAKE_DIRECTORY ${DIR})
set(ops ${DIR}/${OUTNAME}.ops.hex)
set(exp ${DIR}/${OUTNAME}.expected.hex)
set(out ${DIR}/${OUTNAME}.icarus.hex)
set(out2 ${DIR}/${OUTNAME}.verilator.hex)
file(REMOVE ${ops} ${exp} ${out} ${out2})

string(REPLACE " " ";" case_args "${CASE}")
execute_process(COMMAND ${GEN} ${case_args} ${ops} ${exp} RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "gen_icarus_case ${CASE} failed (${rc})")
endif()

execute_process(COMMAND ${VVP} -n ${TB} +ops=${ops} +out=${out}
                RESULT_VARIABLE rc OUTPUT_VARIABLE icarus ERROR_VARIABLE icarus_err)
message(STATUS "icarus: ${icarus}${icarus_err}")
if(rc OR NOT icarus MATCHES "cycles [0-9]+ busy [0-9]+ macs [0-9]+" OR icarus MATCHES "ERROR")
  message(FATAL_ERROR "the testbench failed (${rc})")
endif()
string(REGEX MATCH "cycles [0-9]+ busy [0-9]+ macs [0-9]+" icarus_counts "${icarus}")

function(compare_outputs got what)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${exp} ${got} RESULT_VARIABLE differ)
  if(NOT differ)
    file(STRINGS ${exp} e)
    list(LENGTH e ne)
    message(STATUS "${what}: ${ne} lines equal to the model's")
    return()
  endif()
  # they differ: find the first differing line
  file(STRINGS ${exp} e)
  file(STRINGS ${got} g)
  list(LENGTH e ne)
  list(LENGTH g ng)
  if(NOT ne EQUAL ng)
    message(FATAL_ERROR "${what}: ${ng} output lines, the model expects ${ne}")
  endif()
  math(EXPR last "${ne} - 1")
  foreach(i RANGE ${last})
    list(GET e ${i} a)
    list(GET g ${i} b)
    if(NOT a STREQUAL b)
      message(FATAL_ERROR "${what}: output line ${i} (byte ${i} read, in ${OUTNAME}.ops.hex order) is '${b}', the model says '${a}'")
    endif()
  endforeach()
  message(FATAL_ERROR "${what}: the output differs from the model's")
endfunction()
compare_outputs(${out} "Icarus")

execute_process(COMMAND ${REPLAY} ${ops} ${out2} RESULT_VARIABLE rc OUTPUT_VARIABLE verilator)
message(STATUS "verilator: ${verilator}")
if(rc)
  message(FATAL_ERROR "rtl_ops_replay failed (${rc})")
endif()
compare_outputs(${out2} "Verilator")
string(REGEX MATCH "cycles [0-9]+ busy [0-9]+ macs [0-9]+" verilator_counts "${verilator}")
if(NOT icarus_counts STREQUAL verilator_counts)
  message(FATAL_ERROR "counters differ: Icarus '${icarus_counts}', Verilator '${verilator_counts}'")
endif()
