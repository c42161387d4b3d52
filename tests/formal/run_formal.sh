#!/usr/bin/env bash
# run_formal.sh: one formal proof of one RTL module with Yosys + yosys-smtbmc
# (z3), no SymbiYosys. docs/formal.md says what each proof shows.
#
#   run_formal.sh --top MODULE --mode bmc|prove --depth N --work DIR
#                 [--solver z3|cvc4] [--set PARAM=VALUE]... [--mutate SCRIPT.sed] [--expect-fail]
#                 [--multiclock]
#                 file.v...
#
# The files are read with `read_verilog -formal` (FORMAL is defined, so each
# module's property block at the end of its file is in), parameters set with
# chparam, then prep, async2sync, dffunmap and write_smt2.
#
# --multiclock (a module with two clock domains, nnf_afifo): clk2fflogic
# makes every clock a free input sampled on the solver's global step, so the
# proof covers any ratio and phase of the clocks and any order of their
# edges. Debian's z3 and cvc4 stall on the SMT-LIB that clk2fflogic gives
# (z3 grew to 14 GB before its first step), so these proofs run in Yosys'
# own SAT engine instead (`sat`, MiniSAT, on the bit-blasted design after
# memory_map): `-tempinduct -tempinduct-baseonly` for the bounded proof
# (step by step, far faster than one `-seq N` problem), `-tempinduct` for
# the induction; the presat check is a `sat` run that must find a trace
# satisfying every assumption for N steps. Free formal inputs in these
# modules are undriven wires made ports by `setundef -expose`.
#
#   bmc    a bounded proof: no assertion fails in the first N cycles from
#          reset (--presat first checks that the assumptions are satisfiable
#          at every step, so a proof cannot pass vacuously).
#   prove  the same bounded base case, then k-induction of depth N: every N
#          consecutive cycles that satisfy the assertions are followed by
#          one that does too; together, the assertions hold forever.
#
# --solver: z3 by default. Debian's z3 4.8.12 takes exponential time merely
# to read some of Yosys' transition functions (it expands the nested
# define-funs; nnf_uart_rx's 11 registers already take minutes), so those
# proofs use cvc4 (Debian's too; scripts/bootstrap installs both).
#
# --mutate applies a sed script (tests/formal/mutants/*.sed) to a copy of the
# FIRST file (in DIR) and proves that instead; the script must change the file (else the mutant
# would be vacuous and this fails). --expect-fail inverts the verdict: the run
# passes only when the bounded proof finds a counterexample ("Assert failed"),
# i.e. the properties catch the planted bug. A mutant is always run as a
# bounded proof, so its failure is a real trace from reset, never merely an
# induction step that could not be closed, and with FORMAL_PORTS_ONLY
# defined: the strengthening assertions on internal registers (inside
# `ifndef FORMAL_PORTS_ONLY) are left out, so it must break a property of
# the module's ports.
set -u

top= mode=bmc depth=20 work= mutate= expect_fail=0 solver=z3 multiclock=0
sets=() files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --top) top=$2; shift 2 ;;
    --mode) mode=$2; shift 2 ;;
    --depth) depth=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --solver) solver=$2; shift 2 ;;
    --set) sets+=("$2"); shift 2 ;;
    --mutate) mutate=$2; shift 2 ;;
    --expect-fail) expect_fail=1; shift ;;
    --multiclock) multiclock=1; shift ;;
    -*) echo "run_formal: unknown option $1" >&2; exit 2 ;;
    *) files+=("$1"); shift ;;
  esac
done
if [ -z "$top" ] || [ -z "$work" ] || [ ${#files[@]} -eq 0 ]; then
  echo "usage: run_formal.sh --top M --mode bmc|prove --depth N --work DIR [--set P=V] [--mutate S.sed] [--expect-fail] files.v" >&2
  exit 2
fi
case "$mode" in bmc|prove) ;; *) echo "run_formal: mode must be bmc or prove" >&2; exit 2 ;; esac
for t in yosys yosys-smtbmc "$solver"; do
  command -v "$t" >/dev/null 2>&1 || { echo "run_formal: $t not found (scripts/bootstrap installs it)" >&2; exit 2; }
done

mkdir -p "$work" || exit 2
rm -f "$work"/*.smt2 "$work"/*.vcd "$work"/*.log

# include directories: those of the given files (a mutant's copy lives in
# DIR, its `include files do not)
incs=
for f in "${files[@]}"; do
  d=$(cd "$(dirname "$f")" && pwd)
  case " $incs " in *" -I$d "*) ;; *) incs="$incs -I$d" ;; esac
done

if [ -n "$mutate" ]; then
  orig=${files[0]}
  copy=$work/$(basename "$orig")
  sed -f "$mutate" "$orig" >"$copy" || exit 2
  if cmp -s "$orig" "$copy"; then
    echo "run_formal: the mutant $mutate changes nothing in $orig" >&2
    exit 1
  fi
  echo "run_formal: mutant of $orig:"
  diff "$orig" "$copy" | sed 's/^/  /'
  files[0]=$copy
fi

chp=
for s in "${sets[@]+"${sets[@]}"}"; do
  chp="$chp chparam -set ${s%%=*} ${s#*=} $top;"
done

defs=
[ $expect_fail -eq 1 ] && defs=-DFORMAL_PORTS_ONLY
if [ $multiclock -eq 1 ]; then
  # Yosys' SAT engine (see above). $1: the sat options; the log in $work/$2.
  satrun() {
    yosys -l "$work/$2" -p "read_verilog -sv -formal $defs$incs ${files[*]}; $chp prep -top $top; memory_map; opt -fast; clk2fflogic; setundef -undriven -expose; opt_clean; sat $1 -set-assumes -set-init-def -set-def-inputs -show-public" >/dev/null 2>&1
  }
  ok=0
  if [ $expect_fail -eq 1 ]; then
    # one N-step problem: a model (the counterexample) is found fast
    satrun "-seq $depth -prove-asserts" bmc.log
    if grep -q "model found: FAIL" "$work/bmc.log"; then
      echo "run_formal: $top mutant FAILS its bounded proof, as it must (trace in $work/bmc.log)"
      exit 0
    fi
    echo "run_formal: $top mutant was NOT caught by a ${depth}-step bounded proof:" >&2
    grep -E "SUCCESS|FAIL|ERROR" "$work/bmc.log" | tail -n 5 >&2
    exit 1
  fi
  satrun "-seq $depth" presat.log
  if ! grep -q "model found" "$work/presat.log" || grep -q "no model found" "$work/presat.log"; then
    echo "run_formal: $top: the assumptions admit no ${depth}-step trace (a proof would be vacuous)" >&2
    grep -E "ERROR|model" "$work/presat.log" | tail -n 5 >&2
    exit 1
  fi
  satrun "-tempinduct -tempinduct-baseonly -prove-asserts -maxsteps $depth" bmc.log
  if ! grep -q "proved base case for $depth steps: SUCCESS" "$work/bmc.log"; then
    echo "run_formal: $top bounded proof (depth $depth) FAILED (the failing trace is in $work/bmc.log):" >&2
    grep -E "SUCCESS|FAIL|ERROR" "$work/bmc.log" | tail -n 5 >&2
    exit 1
  fi
  echo "run_formal: $top bounded proof, $depth global steps from reset, any clock ratio: PASSED"
  if [ "$mode" = prove ]; then
    satrun "-tempinduct -prove-asserts -maxsteps $depth" induction.log
    if ! grep -q "Induction step proven: SUCCESS" "$work/induction.log"; then
      echo "run_formal: $top induction (up to depth $depth) FAILED (log: $work/induction.log):" >&2
      grep -E "SUCCESS|FAIL|ERROR|failed" "$work/induction.log" | tail -n 5 >&2
      exit 1
    fi
    echo "run_formal: $top induction: PASSED (the properties hold in every reachable state, any clock ratio)"
  fi
  exit 0
fi

ys="read_verilog -sv -formal $defs$incs ${files[*]}; $chp prep -top $top; async2sync; dffunmap; write_smt2 -wires $work/$top.smt2"
if ! yosys -q -l "$work/yosys.log" -p "$ys" >/dev/null; then
  echo "run_formal: yosys failed:" >&2
  tail -n 20 "$work/yosys.log" >&2
  exit 1
fi

# The source lines of the assertions that failed ("Assert failed in M:
# file:L1.C1-L2.C2 (...)"; Yosys 0.23's span ends on the assertion's line).
show_failed_lines() {
  grep -o "Assert failed in [^ ]* [^ ]*" "$1" | sed 's/^Assert failed in [^ ]* //' | sort -u |
  while IFS= read -r loc; do
    f=${loc%:*}; r=${loc##*:}; r=${r#*-}; l1=${r%%.*}
    [ -f "$f" ] && echo "  failing property: $(basename "$f"):$l1: $(sed -n "${l1}p" "$f" | sed 's/^ *//')"
  done
}

# bounded proof from reset (a mutant's needs no --presat: a counterexample
# is never vacuous)
bmc() {
  presat=--presat
  [ $expect_fail -eq 1 ] && presat=
  yosys-smtbmc --noprogress -s "$solver" $presat -t "$depth" --dump-vcd "$work/bmc.vcd" "$work/$top.smt2" >"$work/bmc.log" 2>&1
}
# k-induction
ind() {
  yosys-smtbmc --noprogress -s "$solver" -i -t "$depth" --dump-vcd "$work/induction.vcd" "$work/$top.smt2" >"$work/induction.log" 2>&1
}

if [ $expect_fail -eq 1 ]; then
  bmc; rc=$?
  if [ $rc -ne 0 ] && grep -q "Assert failed" "$work/bmc.log"; then
    echo "run_formal: $top mutant FAILS its bounded proof, as it must:"
    grep -E "Assert failed|BMC failed|Status" "$work/bmc.log" | head -n 5 | sed 's/^/  /'
    show_failed_lines "$work/bmc.log"
    exit 0
  fi
  echo "run_formal: $top mutant was NOT caught by a ${depth}-cycle bounded proof (rc $rc):" >&2
  tail -n 15 "$work/bmc.log" >&2
  exit 1
fi

bmc; rc=$?
if [ $rc -ne 0 ] || ! grep -q "Status: PASSED" "$work/bmc.log"; then
  echo "run_formal: $top bounded proof (depth $depth) FAILED (trace: $work/bmc.vcd):" >&2
  tail -n 25 "$work/bmc.log" >&2
  show_failed_lines "$work/bmc.log" >&2
  exit 1
fi
echo "run_formal: $top bounded proof, $depth cycles from reset: PASSED"
if [ "$mode" = prove ]; then
  ind; rc=$?
  if [ $rc -ne 0 ] || ! grep -q "Status: PASSED" "$work/induction.log"; then
    echo "run_formal: $top induction (depth $depth) FAILED (trace: $work/induction.vcd):" >&2
    tail -n 25 "$work/induction.log" >&2
    show_failed_lines "$work/induction.log" >&2
    exit 1
  fi
  echo "run_formal: $top ${depth}-induction: PASSED (the properties hold in every reachable state)"
fi
exit 0
