#!/bin/bash
# trace_cli.sh - waveforms from the command line (docs/cli.md, Waveforms):
# --trace / --trace-window on nnfpga infer, eval and train with the simulated
# RTL, each FST read back by check_trace (tests/e2e/check_trace.c); the
# driver's sim:trace= and sim:module= options; and every refusal with its
# exit code and message.
#
#   trace_cli.sh NNFPGA CHECK_TRACE TMPDIR DATADIR ULX3S_MODULE FAKE_ABI1_MODULE FAKE_NONE_MODULE
set -u
nnfpga=$1 check=$2 tmp=$3 data=$4 board_mod=$5 abi1_mod=$6 none_mod=$7
. "$(dirname "$0")/lib.sh"
rm -rf "$tmp"
mkdir -p "$tmp"
cd "$tmp" || exit 1
ck=$data/ckpt_v1_mlp.safetensors

# check_trace FILE ARGS...: its checks pass (its output kept in FILE.check)
check() {
  local f=$1
  shift
  "$check" "$f" "$@" >"$f.check" 2>&1 || fail "check_trace $f $*: $(cat "$f.check")"
}
# the cycle range of nnfpga's "trace FILE: cycles A..B" line
range() { grep -oE 'cycles [0-9]+\.\.[0-9]+' "$1" | head -1 | cut -d' ' -f2; }

# ---- infer: a window at the start, one open-ended, one past the run ------------------
"$nnfpga" infer --model "$ck" --device sim --count 2 >plain.out 2>plain.err || fail "infer sim: $(cat plain.err)"
"$nnfpga" infer --model "$ck" --device sim --count 2 --trace start.fst --trace-window 0:3000 >start.out 2>start.err ||
  fail "infer --trace start.fst: $(cat start.err)"
cmp -s plain.out start.out || fail "tracing changed infer's output: $(diff plain.out start.out)"
# the trace opens after the simulator's power-on reset (cycles 0..3): from 4
[ "$(range start.err)" = "4..3000" ] || fail "infer's trace line: $(cat start.err)"
grep -q "trace start.fst: cycles 4..3000 (2996 cycles; FST times 8..6000)" start.err || fail "trace line: $(cat start.err)"
check start.fst --start 8 --end 6000 --sync
# from cycle 5000 to the end of the run (the run's last cycle, printed)
"$nnfpga" infer --model "$ck" --device sim --count 2 --trace open.fst --trace-window 5000: >open.out 2>open.err ||
  fail "infer --trace-window 5000:: $(cat open.err)"
cmp -s plain.out open.out || fail "tracing changed infer's output (open window)"
r=$(range open.err)
from=${r%..*} to=${r#*..}
[ "$from" = 5000 ] && [ "$to" -gt 5000 ] || fail "open window's range '$r': $(cat open.err)"
check open.fst --start 10000 --end $((2 * to))
# a window after the run: an FST without a time step, said so
expect 0 "trace late.fst: no cycle in the window \(the device ran to cycle $to\)" -- \
  "$nnfpga" infer --model "$ck" --device sim --count 2 --trace late.fst --trace-window 900000000:
[ -s late.fst ] || fail "late.fst not written"
# --json (an array): no trace line
"$nnfpga" infer --model "$ck" --device sim --count 1 --json --trace j.fst >j.out 2>j.err || fail "infer --json --trace"
[ -s j.err ] && fail "infer --json --trace printed on stderr: $(cat j.err)"
[ -s j.fst ] || fail "j.fst not written"

# ---- eval, the whole run: COUNTERS against the trace ---------------------------------
"$nnfpga" eval --model "$ck" --device sim --limit 8 --json >eplain.json || fail "eval sim"
"$nnfpga" eval --model "$ck" --device sim --limit 8 --json --trace whole.fst >whole.json 2>whole.err ||
  fail "eval --trace whole.fst: $(cat whole.err)"
[ -s whole.err ] && fail "eval --json --trace printed on stderr: $(cat whole.err)"
grep -q '"file":[[:space:]]*"whole.fst"' whole.json || fail "eval's JSON lacks the trace's file: $(cat whole.json)"
tfrom=$(sed -n '/"trace"/,/}/p' whole.json | json_num from)
tto=$(sed -n '/"trace"/,/}/p' whole.json | json_num to)
[ "$tfrom" = 4 ] && [ -n "$tto" ] || fail "eval's JSON trace from '$tfrom' to '$tto'"
# tracing changes nothing the device reports
for k in accuracy cycles link_bytes_in_per_image link_bytes_out_per_image; do
  [ "$(json_num $k <eplain.json)" = "$(json_num $k <whole.json)" ] || fail "eval --trace changed $k"
done
check whole.fst --start 8 --end $((2 * tto)) --sync --whole
# eval's figures are the last two COUNTERS answers: the trace agrees with both
delta=$(grep '^counters delta' whole.fst.check | tail -1)
dcyc=$(awk '{print $4}' <<<"$delta") dbin=$(awk '{print $6}' <<<"$delta")
[ "$dcyc" = "$(json_num cycles <whole.json)" ] || fail "trace's cycles '$dcyc' vs eval's: $delta"
bin=$(awk -v p="$(json_num link_bytes_in_per_image <whole.json)" -v n="$(json_num images <whole.json)" \
  'BEGIN { printf "%.0f", p * n }')
[ "$dbin" = "$bin" ] || fail "trace's bytes in '$dbin' vs eval's link bytes $bin: $delta"
# eval in text: the line on stderr; --quiet: none
expect 0 "trace t.fst: cycles 4\.\.$tto \(" -- "$nnfpga" eval --model "$ck" --device sim --limit 8 --trace t.fst
"$nnfpga" eval --model "$ck" --device sim --limit 8 --quiet --trace q.fst >q.out 2>q.err || fail "eval --quiet --trace"
[ -s q.err ] && fail "eval --quiet --trace printed on stderr: $(cat q.err)"

# ---- the driver's URI: info on sim:trace= (INFO and COUNTERS, whole) ---------------------
expect 0 "counters" -- "$nnfpga" info --device sim:trace=info.fst
check info.fst --start 8 --sync --whole

# ---- a board's module by its path (sim:module=), traced --------------------------------
"$nnfpga" info --device sim:board=ulx3s >board.info 2>&1 || fail "info sim:board=ulx3s: $(cat board.info)"
"$nnfpga" info --device "sim:module=$board_mod" >module.info 2>&1 || fail "info sim:module=: $(cat module.info)"
diff <(grep -v '^device' board.info) <(grep -v '^device' module.info) >/dev/null ||
  fail "sim:module= and sim:board=ulx3s differ: $(diff board.info module.info)"
(cd "$(dirname "$board_mod")" && "$nnfpga" info --device "sim:module=$(basename "$board_mod")") >rel.info 2>&1 ||
  fail "sim:module= with a name in the current folder: $(cat rel.info)"
"$nnfpga" infer --model "$ck" --device "sim:module=$board_mod" --count 2 --trace mod.fst --trace-window 0:4000 \
  >mod.out 2>mod.err || fail "infer on sim:module= --trace: $(cat mod.err)"
cmp -s plain.out mod.out || fail "the ulx3s module's logits differ: $(diff plain.out mod.out)"
check mod.fst --start 8 --end 8000 --sync

# ---- train on the simulated RTL -------------------------------------------------------
"$nnfpga" train --device sim --layers 784,8,10 --limit 64 --test-limit 16 --epochs 1 --batch 32 --json \
  --out tr.safetensors --trace train.fst --trace-window 100:20000 >train.json 2>train.err ||
  fail "train --trace: $(cat train.err)"
[ "$(sed -n '/"trace"/,/}/p' train.json | json_num to)" = 20000 ] || fail "train's JSON trace: $(cat train.json)"
check train.fst --start 200 --end 40000
expect 2 "--trace needs the RTL simulator .*not --device model" -- "$nnfpga" train --limit 64 --trace x.fst

# ---- refusals ------------------------------------------------------------------------
m=(--model "$ck" --count 1)
expect 2 "--trace needs the RTL simulator .*not --device model" -- "$nnfpga" infer "${m[@]}" --device model --trace x.fst
expect 2 "--trace needs the RTL simulator .*not --device host" -- "$nnfpga" eval --model "$ck" --device host --trace x.fst
expect 2 "--trace needs the RTL simulator .*not --float" -- "$nnfpga" infer "${m[@]}" --float --device sim --trace x.fst
expect 2 "--trace needs the RTL simulator" -- "$nnfpga" infer "${m[@]}" --device serial:/dev/null --trace x.fst
for w in 5:3 5:5 5 :5 a:9 -1:5 1:2x 1e3:5000; do
  expect 2 "--trace-window wants FROM:TO or FROM: .*not '$w'" -- "$nnfpga" infer "${m[@]}" --device sim --trace x.fst \
    --trace-window "$w"
done
expect 2 "--trace-window needs --trace" -- "$nnfpga" infer "${m[@]}" --device sim --trace-window 0:10
expect 2 "--trace 'a,b.fst': the path has a comma" -- "$nnfpga" infer "${m[@]}" --device sim --trace a,b.fst
expect 2 "give the trace once" -- "$nnfpga" infer "${m[@]}" --device sim:trace=y.fst --trace x.fst
expect 3 "trace=$tmp/no/such/dir/x.fst: cannot write the FST there \(No such file or directory\)" -- \
  "$nnfpga" infer "${m[@]}" --device sim --trace "$tmp/no/such/dir/x.fst"
[ -e x.fst ] && fail "a refused command wrote x.fst"
# the driver's options
expect 2 'unknown option "b.fst" after trace=a: a path in a sim URI cannot hold a comma' -- \
  "$nnfpga" info --device sim:trace=a,b.fst
expect 2 "trace_from= and trace_to= need trace=PATH" -- "$nnfpga" info --device sim:trace_from=5
expect 2 "window is empty: trace_from=9 is not below trace_to=3" -- \
  "$nnfpga" info --device sim:trace=x.fst,trace_from=9,trace_to=3
expect 2 "trace_to=abc wants a cycle number" -- "$nnfpga" info --device sim:trace=x.fst,trace_to=abc
expect 2 "trace= given twice" -- "$nnfpga" info --device sim:trace=x.fst,trace=y.fst
expect 2 "trace= needs a path" -- "$nnfpga" info --device sim:trace=
expect 2 'unknown option "tracefile=x" \(options, comma-separated: .*module=PATH.*trace=PATH' -- \
  "$nnfpga" info --device sim:tracefile=x
expect 2 "board= and module= both name the configuration" -- "$nnfpga" info --device "sim:module=$board_mod,board=ulx3s"
expect 1 "sim: module=/nonexistent.so: cannot load it \(/nonexistent.so: cannot open shared object file" -- \
  "$nnfpga" info --device sim:module=/nonexistent.so
expect 1 "$abi1_mod is not a simulator module of this build \(its ABI is 1, this build's [0-9]+" -- \
  "$nnfpga" info --device "sim:module=$abi1_mod"
expect 1 "$none_mod is not a simulator module of this build \(no nnfsim_module_api in it\)" -- \
  "$nnfpga" info --device "sim:module=$none_mod"
[ -e x.fst ] && fail "a refused URI wrote x.fst"

# the help of every command names the options
for c in eval infer train; do
  expect 0 "--trace FILE.fst .*--trace-window FROM:TO" -- bash -c "'$nnfpga' $c --help | tr '\n' ' '"
done

[ "$fails" -eq 0 ] && echo "trace_cli: all passed"
exit $((fails > 0))
