#!/usr/bin/env bash
# tests/e2e/rnn_cli.sh NNFPGA TMPDIR SRCDIR [FASHION_DIR]
#
# The recurrent layers from the command line:
#   - refusals before any data is read (exit 2, the item's index and text):
#     a width that is not whole steps, a missing in= on flat rows, a zero
#     hidden size; the device (exit 1 on the model device) names the layer;
#   - sequential Fashion-MNIST (28 steps of 28 pixels): gru(32),dense(10)
#     trains in float on 3000 images (3 epochs) to well above chance (> 50%), and its
#     checkpoint evaluates (eval --float) to exactly the accuracy the training
#     run reported; the same with quantization-aware training on the host
#     (--device host, the int8 step of docs/rnn.md), evaluated on the host;
#   - a time-series regression (scripts/make_series.py: a noisy sine, 20
#     steps -> the next value): a GRU reads the CSV of one line per window
#     and the CSV of one line per time step (--seq-id) into the same samples,
#     so both runs report the same test MSE, which beats the persistence
#     forecast's (the script's baseline) by far; a ragged steps CSV is
#     refused with the sequence's id.
set -u
nnfpga=$1
tmp=$2
src=$3
data=${4:-/usr/share/datasets/fashion-mnist}
rm -rf "$tmp"
mkdir -p "$tmp"
. "$(dirname "$0")/lib.sh"

t() { "$nnfpga" train --quiet --out "$tmp/x.safetensors" "$@"; }
nodata=(--data "$tmp/none")

# 1. refusals
expect 2 "--arch: layer 0 'gru\(16,in=27\)': its input rows of 784 features are not whole steps of in=27 features" -- \
  t "${nodata[@]}" --float --arch "gru(16,in=27),dense(10)"
expect 2 "--arch: layer 2 'lstm\(8\)': needs in= \(the features of one step\) for flat rows of 10 features" -- \
  t "${nodata[@]}" --float --arch "flatten,dense(10),lstm(8),dense(10)"
expect 2 "--arch: layer 0 'rnn\(0\)': RNN: hidden size 0, not 1..65535" -- t "${nodata[@]}" --float --arch "rnn(0),dense(10)"
expect 2 "--arch: layer 0 'rnn\(8,act=gelu\)': act is tanh or relu, not 'gelu'" -- \
  t "${nodata[@]}" --float --arch "rnn(8,act=gelu),dense(10)"
expect 1 "layer 0 'gru\(16,in=28\)': recurrent layers train with --float or --device host \(a device's forward keeps nothing for the backward through time\); eval --device runs them on the device" -- \
  t --data "$data" --limit 64 --epochs 1 --test-limit 0 --arch "gru(16),dense(10)"

# 2. sequential Fashion-MNIST
ck=$tmp/gru.safetensors
out=$("$nnfpga" train --float --data "$data" --limit 3000 --epochs 3 --lr 0.01 --test-limit 1000 --seed 3 \
  --arch "gru(32),dense(10)" --out "$ck" 2>&1) || fail "train gru: $out"
acc=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' <<<"$out")
echo "sequential Fashion-MNIST, gru(32),dense(10), 3000 images, 3 epochs: test accuracy ${acc:-?}%"
awk -v a="${acc:-0}" 'BEGIN { exit !(a > 50) }' || fail "gru(32) reached ${acc:-?}% (want > 50%): $out"
ev=$("$nnfpga" eval --model "$ck" --float --data "$data" --limit 1000 2>&1) || fail "eval: $ev"
grep -q "accuracy ${acc}%" <<<"$ev" || fail "eval --float of the checkpoint: '$ev', training reported ${acc}%"

# ... and with quantization-aware training on the host (docs/rnn.md's int8
# step in fake quantization): its checkpoint keeps the step's ranges, so
# eval --device host gives the accuracy the training run reported
ckq=$tmp/gru_q.safetensors
out=$("$nnfpga" train --device host --data "$data" --limit 3000 --epochs 3 --lr 0.01 --test-limit 1000 --seed 3 \
  --arch "gru(32),dense(10)" --out "$ckq" 2>&1) || fail "train gru --device host: $out"
accq=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' <<<"$out")
echo "sequential Fashion-MNIST, gru(32),dense(10), QAT (--device host), 3000 images, 3 epochs: test accuracy ${accq:-?}%"
awk -v a="${accq:-0}" 'BEGIN { exit !(a > 50) }' || fail "gru(32) QAT reached ${accq:-?}% (want > 50%): $out"
ev=$("$nnfpga" eval --model "$ckq" --device host --data "$data" --limit 1000 2>&1) || fail "eval --device host: $ev"
grep -q "accuracy ${accq}%" <<<"$ev" || fail "eval --device host of the checkpoint: '$ev', training reported ${accq}%"

# 3. time series, both CSV formats
py=python3
"$py" "$src/scripts/make_series.py" "$tmp/seq" --steps 20 --length 2000 >/dev/null || fail "make_series"
"$py" "$src/scripts/make_series.py" "$tmp/steps" --steps 20 --length 2000 --format steps >/dev/null || fail "make_series steps"
base=$(sed -n 's/.*persistence MSE: train [0-9.e-]*, test \([0-9.e-]*\)$/\1/p' "$tmp/seq/baseline.txt")
reg=(--float --task regression --targets 1 --label-col -1 --input-shape 20 --arch "gru(16,in=1),dense(1)" --epochs 8 --seed 2)
o1=$(t "${reg[@]}" --train-csv "$tmp/seq/train.csv" --test-csv "$tmp/seq/test.csv" 2>&1) || fail "train (sequence CSV): $o1"
o2=$(t "${reg[@]}" --train-csv "$tmp/steps/train.csv" --test-csv "$tmp/steps/test.csv" --seq-id 0 2>&1) ||
  fail "train (steps CSV): $o2"
m1=$(sed -n 's/^test MSE \([0-9.e-]*\),.*/\1/p' <<<"$o1")
m2=$(sed -n 's/^test MSE \([0-9.e-]*\),.*/\1/p' <<<"$o2")
echo "noisy sine, gru(16): test MSE ${m1:-?} (one line per window), ${m2:-?} (one line per step); persistence ${base:-?}"
[ -n "$m1" ] && [ "$m1" = "$m2" ] || fail "the two CSV formats gave different test MSEs: '$m1' vs '$m2'"
awk -v m="${m1:-1}" -v b="${base:-0}" 'BEGIN { exit !(m < b / 2) }' || fail "gru MSE ${m1:-?} does not beat persistence ${base:-?} by 2x"
printf 'id,x,target\na,1,0\na,2,0\nb,3,1\n' >"$tmp/ragged.csv"
expect 3 "ragged.csv: sequence 'b' \(lines 4-4\) has 1 step, not 2 as sequence 'a' \(lines 2-3\)" -- \
  t "${reg[@]}" --train-csv "$tmp/ragged.csv" --test-limit 0 --seq-id 0

[ $fails -eq 0 ] && echo "rnn_cli: all checks passed"
exit $((fails > 0))
