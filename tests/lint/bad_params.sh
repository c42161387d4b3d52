#!/usr/bin/env bash
# bad_params.sh: an out-of-range nnf_gemm parameter must stop elaboration with
# the documented message (docs/engine.md): an unknown module named
# nnf_gemm_bad_parameter_<what>. Checked in Verilator, and in Icarus when
# iverilog is on PATH. CTest: rtl_bad_params (label rtl).
#
#   tests/lint/bad_params.sh [REPO_ROOT]
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
VERILATOR=${VERILATOR:-verilator}
command -v "$VERILATOR" >/dev/null 2>&1 || { echo "bad_params: $VERILATOR not found (run scripts/bootstrap)" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
core=("$root"/rtl/core/*.v)
fail=0; n=0

# each case: "PARAM=VALUE ... | expected module name suffix"
cases=(
  "ROWS=3 COLS=3|ROWS_must_be_a_power_of_two"
  "ROWS=128 COLS=128|ROWS_must_be_a_power_of_two"
  "ROWS=1 COLS=1|ROWS_must_be_a_power_of_two"
  "ROWS=8 COLS=4|COLS_must_equal_ROWS"
  "ACT_WORDS=1000|ACT_WORDS_must_be_a_power_of_two"
  "W_WORDS=1|W_WORDS_must_be_a_power_of_two"
  "P_WORDS=131072|P_WORDS_must_be_a_power_of_two"
  "ACC_DEPTH=65536|ACC_DEPTH_must_be_a_power_of_two"
)

check() {   # check TOOL CASE EXPECT STATUS
  n=$((n + 1))
  if [ "$4" -ne 0 ] && grep -q "nnf_gemm_bad_parameter_$3" "$tmp/out"; then
    echo "ok   $1: $2 -> nnf_gemm_bad_parameter_$3..."
  else
    echo "FAIL $1: $2 (exit $4) did not stop with nnf_gemm_bad_parameter_$3"
    sed 's/^/     /' "$tmp/out" | head -8
    fail=$((fail + 1))
  fi
}

for c in "${cases[@]}"; do
  params=${c%%|*}; expect=${c##*|}
  vargs=(); iargs=()
  for p in $params; do vargs+=("-G$p"); iargs+=("-Pnnf_gemm.$p"); done
  "$VERILATOR" --lint-only -Wall --Mdir "$tmp/obj" "-I$root/rtl/core" --top-module nnf_gemm "${vargs[@]}" "${core[@]}" >"$tmp/out" 2>&1
  check verilator "$params" "$expect" $?
  if command -v iverilog >/dev/null 2>&1; then
    iverilog -g2005 "-I$root/rtl/core" -o "$tmp/a.out" -s nnf_gemm "${iargs[@]}" "${core[@]}" >"$tmp/out" 2>&1
    check iverilog "$params" "$expect" $?
  fi
done

# and a good configuration still elaborates (the check is not vacuous)
"$VERILATOR" --lint-only -Wall --Mdir "$tmp/obj" "-I$root/rtl/core" --top-module nnf_gemm -GROWS=4 -GCOLS=4 -GACT_WORDS=1024 "${core[@]}" >"$tmp/out" 2>&1
st=$?; n=$((n + 1))
if [ $st -eq 0 ]; then echo "ok   verilator: ROWS=4 COLS=4 ACT_WORDS=1024 elaborates"
else echo "FAIL verilator: a good configuration did not elaborate"; cat "$tmp/out"; fail=$((fail + 1)); fi

echo "$((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
