# run_insn_check.cmake - one nnf_insn_check case set (CTest driver, cmake -P):
#   1. gen_insn_check writes CASES random GEMM / LIF / CONV / POOL field
#      sets with the functional model's verdicts and sizes;
#   2. tb_insn_check (Verilator --binary) checks every one against the RTL;
#   3. when IVL_VVP and IVL_TB are set, the same testbench under Icarus
#      (vvp) does too, and the two must print the same cycle counts and
#      acceptance counts.
# Variables: GEN CFG (ROWS,ACT,W,P,STATE) SEED CASES VTB DIR, optional
# IVL_VVP (vvp) and IVL_TB (the compiled testbench).
foreach(v GEN CFG SEED CASES VTB DIR)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_insn_check.cmake: ${v} not set")
  endif()
endforeach()
file(MAKE_DIRECTORY ${DIR})
string(REPLACE "," ";" cfg "${CFG}")
set(cases ${DIR}/cases_${SEED}.hex)
execute_process(COMMAND ${GEN} ${cfg} ${SEED} ${CASES} ${cases} RESULT_VARIABLE rc OUTPUT_VARIABLE gen)
message(STATUS "${gen}")
if(rc)
  message(FATAL_ERROR "gen_insn_check failed (${rc})")
endif()

function(run_tb what)
  execute_process(COMMAND ${ARGN} +cases=${cases} +n=${CASES}
                  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  message(STATUS "${what}:\n${out}${err}")
  if(rc OR NOT out MATCHES "tb_insn_check: PASS" OR out MATCHES "ERROR|FAIL")
    message(FATAL_ERROR "${what}: the RTL differs from the model (${rc})")
  endif()
  string(REGEX MATCH "cycles [^\n]*\n[^\n]*accepted [^\n]*" summary "${out}")
  set(summary_${what} "${summary}" PARENT_SCOPE)
endfunction()

run_tb(verilator ${VTB})
if(DEFINED IVL_VVP AND DEFINED IVL_TB)
  run_tb(icarus ${IVL_VVP} -n ${IVL_TB})
  if(NOT summary_verilator STREQUAL summary_icarus)
    message(FATAL_ERROR "Verilator and Icarus differ:\n${summary_verilator}\n${summary_icarus}")
  endif()
endif()
