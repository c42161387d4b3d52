# run_fuzz.cmake - run one libFuzzer target briefly, for CTest.
#   cmake -DFUZZER=exe -DSEEDS=dir -DWORK=dir -DRUNS=n -DMAX_SECONDS=s
#         [-DMAX_LEN=bytes (default 4096)] [-DEXTRA="more libFuzzer flags"] -P run_fuzz.cmake
# WORK is emptied first and takes the inputs the fuzzer finds (the seed
# directory is only read). A fixed seed and a run count make the run
# repeatable; MAX_SECONDS only guards against a slow machine. A crash leaves
# its input as WORK-crash-<hash> and fails the test.
foreach(v FUZZER SEEDS WORK RUNS MAX_SECONDS)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "run_fuzz.cmake: -D${v}=... is required")
  endif()
endforeach()
if(NOT DEFINED MAX_LEN)
  set(MAX_LEN 4096)
endif()
separate_arguments(extra_flags UNIX_COMMAND "${EXTRA}")
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
execute_process(
  COMMAND ${FUZZER} -seed=1 -runs=${RUNS} -max_total_time=${MAX_SECONDS} -timeout=10
          -rss_limit_mb=2048 -max_len=${MAX_LEN} -print_final_stats=1 ${extra_flags} -artifact_prefix=${WORK}-crash-
          ${WORK} ${SEEDS}
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (exit ${rc}); see the report above and ${WORK}-crash-*")
endif()
