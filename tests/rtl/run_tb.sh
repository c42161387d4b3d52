#!/bin/sh
# run_tb.sh SIM WORKDIR TOP FILE...: build a self-checking Verilog testbench
# (top module TOP) with SIM (icarus or verilator) in WORKDIR and run it; pass
# when it prints a line starting "PASS" and none starting "FAIL".
set -eu
sim=$1; work=$2; top=$3; shift 3
rm -rf "$work"; mkdir -p "$work"
case "$sim" in
  icarus)
    iverilog -g2005 -Wall -o "$work/tb.vvp" -s "$top" "$@"
    vvp -n "$work/tb.vvp" > "$work/out.txt" ;;
  verilator)
    verilator --binary -Wno-fatal -Wno-lint -Wno-style -O2 --Mdir "$work" --top-module "$top" \
      -o tb "$@" > "$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
    "$work/tb" > "$work/out.txt" ;;
  *) echo "run_tb.sh: unknown simulator '$sim' (icarus or verilator)" >&2; exit 2 ;;
esac
cat "$work/out.txt"
if grep -q '^FAIL' "$work/out.txt" || ! grep -q '^PASS' "$work/out.txt"; then
  echo "run_tb.sh: $top failed under $sim" >&2
  exit 1
fi
