#!/usr/bin/env bash
# tests/e2e/demo_run.sh DEMO_SH NNFPGA OUTDIR [LIMIT EPOCHS EVAL_LIMIT]
#
# Runs `make demo`'s script (scripts/demo.sh) as make demo does and checks
# what it prints: the device's INFO, training that reports a test accuracy,
# a checkpoint, and the evaluation on the simulated RTL with the accuracy on
# exactly EVAL_LIMIT images, the cycles per image and the utilization.
#   smoke (tiny limits, `make test`: 1024 images, one epoch, 200 test
#     images): accuracy >= 50 %, five times chance (measured 57.0 %), which a
#     pipeline that lost its training or its data does not reach;
#   full (no limits given: make demo's own, label slow): accuracy >= the
#     README's figure, 82.4 %, less 0.5 points.
set -u
demo=$1
nnfpga=$2
out=$3
shift 3
eval_limit=${3:-10000}
if [ $# -eq 0 ]; then want=0.819; else want=0.50; fi
log=$out.log
mkdir -p "$out"
bash "$demo" "$nnfpga" "$out" "$@" >"$log" 2>&1
rc=$?
cat "$log"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
[ $rc -eq 0 ] || fail "scripts/demo.sh exited $rc"
grep -qiE "array|rows|cols" "$log" || fail "no device INFO"
grep -q "test accuracy" "$log" || fail "training reported no test accuracy"
[ -s "$out/fashion.safetensors" ] || fail "no checkpoint"
line=$(grep -E "^accuracy [0-9.]+% \([0-9]+ of $eval_limit images\)" "$log") || fail "no accuracy on $eval_limit images"
grep -qE "^device: [0-9.]+ cycles per image, utilization [0-9.]+" "$log" || fail "no cycles per image and utilization"
acc=$(grep -oE "^accuracy [0-9.]+" <<<"$line" | grep -oE "[0-9.]+$")
awk -v a="${acc:-0}" -v w="$want" 'BEGIN { exit !(a / 100 >= w) }' || fail "accuracy ${acc:-?} % is below $want"
[ $fails -eq 0 ] && echo "demo_run: all checks passed (accuracy $acc %, want >= $want)"
exit $((fails > 0))
