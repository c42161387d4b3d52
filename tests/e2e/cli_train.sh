#!/usr/bin/env bash
# tests/e2e/cli_train.sh NNFPGA TMPDIR [FASHION_DIR]
#
# The nnfpga command end to end: train on a Fashion-MNIST subset with the
# forward pass on the model backend, evaluate on the model and on the
# simulated RTL (same int8 model: the same accuracy and loss, to the digit),
# infer, CSV data, and every kind of bad input with its exit code and message.
set -u
nnfpga=$1
tmp=$2
data=${3:-/usr/share/datasets/fashion-mnist}
mkdir -p "$tmp"
. "$(dirname "$0")/lib.sh"


ck=$tmp/cli.safetensors
expect 0 "test accuracy" -- "$nnfpga" train --device model --data "$data" --limit 2000 --epochs 2 \
  --test-limit 500 --seed 3 --out "$ck" --quiet
[ -s "$ck" ] || fail "no checkpoint"
lines=$(wc -l <"$tmp/cli.csv")
[ "$lines" -eq 3 ] || fail "CSV has $lines lines, want a header and 2 epochs"
head -1 "$tmp/cli.csv" | grep -q '^epoch,loss,train_accuracy,val_accuracy,test_accuracy,lr,seconds$' || fail "CSV header"

# the same seed gives the same checkpoint, byte for byte
"$nnfpga" train --device model --data "$data" --limit 2000 --epochs 2 --test-limit 500 --seed 3 \
  --out "$tmp/cli2.safetensors" --quiet >/dev/null 2>&1
cmp -s "$ck" "$tmp/cli2.safetensors" || fail "same seed, different checkpoint"

# model and simulated RTL: the same int8 results
m=$("$nnfpga" eval --model "$ck" --device model --data "$data" --limit 700 --json) || fail "eval model"
s=$("$nnfpga" eval --model "$ck" --device sim --data "$data" --limit 700 --json) || fail "eval sim"
am=$(grep -E '"(accuracy|loss)"' <<<"$m"); as=$(grep -E '"(accuracy|loss)"' <<<"$s")
[ "$am" = "$as" ] || fail "model and sim disagree: $am vs $as"
grep -qE '"cycles_per_image":[[:space:]]*[0-9]' <<<"$s" || fail "sim eval lacks cycles_per_image: $s"
grep -qE '"images":[[:space:]]*700' <<<"$s" || fail "sim eval images"
expect 0 '"class"' -- "$nnfpga" infer --model "$ck" --device sim --data "$data" --first 5 --count 3 --json

# a spiking network: trained on the host; the simulated RTL (which shares no
# code with the host) gives the host integer reference's output spike counts,
# image by image, and so does the model device
sk=$tmp/snn.safetensors
expect 0 "test accuracy" -- "$nnfpga" train --model snn --data "$data" --limit 2000 --epochs 1 --steps 6 \
  --test-limit 300 --out "$sk" --quiet
sh=$("$nnfpga" infer --model "$sk" --device host --data "$data" --count 300 --json) || fail "snn infer host"
ss=$("$nnfpga" infer --model "$sk" --device sim --data "$data" --count 300 --json) || fail "snn infer sim"
sm=$("$nnfpga" infer --model "$sk" --device model --data "$data" --count 300 --json) || fail "snn infer model"
[ "$(grep -c '"spike_counts"' <<<"$sh")" -eq 300 ] || fail "snn: want 300 images of spike counts from the host"
[ "$ss" = "$sh" ] || fail "snn: the simulated RTL's spike counts differ from the host's: $(diff <(echo "$sh") <(echo "$ss") | head -8)"
[ "$sm" = "$sh" ] || fail "snn: the model device's spike counts differ from the host's"
# not a silent network: many images spike, into more than one class
nz=$(tr -d ' \t\n' <<<"$sh" | grep -oE '"spike_counts":\[[0-9,]*\]' | grep -cE '[1-9]')
nc=$(grep -oE '"class":[[:space:]]*[0-9]+' <<<"$sh" | sort -u | wc -l)
[ "$nz" -ge 250 ] && [ "$nc" -ge 5 ] || fail "snn: $nz of 300 images spike, into $nc classes"
expect 0 '"spike_counts"' -- "$nnfpga" infer --model "$sk" --device model --data "$data" --count 2 --json
expect 2 "time steps" -- "$nnfpga" train --model snn --steps 0 --data "$data"
expect 2 "reset" -- "$nnfpga" train --model snn --reset sideways --data "$data"
expect 2 "beta" -- "$nnfpga" train --model snn --beta 1.5 --data "$data"

# training features: validation split, schedule, init, plot
expect 0 "test accuracy" -- "$nnfpga" train --device host --data "$data" --limit 1500 --epochs 3 --val-split 0.2 \
  --patience 5 --schedule cosine --warmup-steps 10 --init kaiming_uniform --plot "$tmp/curve.svg" \
  --out "$tmp/feat.safetensors" --quiet
grep -q '^<svg' "$tmp/curve.svg" || fail "plot: no SVG"
[ "$(grep -c '<polyline' "$tmp/curve.svg")" -ge 4 ] || fail "plot: want loss, train, validation and test lines"
grep -q '"init":"kaiming_uniform mode=fan_in"' "$tmp/feat.safetensors" || fail "init not recorded in the checkpoint"
expect 2 "val-split" -- "$nnfpga" train --patience 3 --data "$data"
expect 2 "schedule" -- "$nnfpga" train --schedule zigzag --data "$data"
expect 2 "init" -- "$nnfpga" train --init lecun --data "$data"

# CSV data: 784 features, label first
awk 'BEGIN{srand(1); printf "label"; for(j=0;j<784;j++) printf ",p%d", j; printf "\n"; for(i=0;i<200;i++){ l=i%10; printf "%d", l; for(j=0;j<784;j++) printf ",%.3f", (j%10==l)?0.9:rand()*0.2; printf "\n"}}' >"$tmp/d.csv"
expect 0 "test accuracy" -- "$nnfpga" train --device host --train-csv "$tmp/d.csv" --test-csv "$tmp/d.csv" \
  --epochs 3 --out "$tmp/csv.safetensors" --quiet

# bad usage: exit 2
expect 2 "layer list" -- "$nnfpga" train --layers 784,,10 --data "$data"
expect 2 "unknown activation" -- "$nnfpga" train --act gelu --data "$data"
expect 2 "unknown optimizer" -- "$nnfpga" train --optimizer lamb --data "$data"
expect 2 "nesterov" -- "$nnfpga" train --optimizer sgd --nesterov --data "$data"
expect 2 "momentum" -- "$nnfpga" train --optimizer adam --momentum 0.9 --data "$data"
expect 2 "integer" -- "$nnfpga" train --epochs 0 --data "$data"
expect 2 "unknown option" -- "$nnfpga" train --frobnicate 3 --data "$data"
expect 2 "required" -- "$nnfpga" eval
expect 2 "unknown command" -- "$nnfpga" fly
# a malformed --device URI is bad usage in every command that opens one
expect 2 "unknown device" -- "$nnfpga" info --device bogus:x
# info names INFO's feature bits: the model and the RTL both run CONV/POOL;
# the model PACK and CONV's fused pooling too
expect 0 "^features +gemm lut lif conv pack conv_pool ew rel banks tfl_round row actw dw$" -- "$nnfpga" info --device model
expect 0 "^features +gemm lut lif conv pack conv_pool ew rel banks tfl_round row actw dw$" -- "$nnfpga" info --device sim
expect 0 "^features +gemm lut lif conv pack conv_pool ew rel banks tfl_round dw$" -- "$nnfpga" info --device model:row=0
expect 0 "^features +gemm lut lif conv pack conv_pool ew rel banks tfl_round dw$" -- "$nnfpga" info --device model:luts=2
expect 0 "^features +gemm lut lif conv pack conv_pool ew rel banks tfl_round row actw$" -- "$nnfpga" info --device model:dw=0
expect 0 '"features":.*"conv"' -- "$nnfpga" info --device model --json
expect 2 "unknown device" -- "$nnfpga" train --device bogus:x --data "$data" --limit 100 --epochs 1 --out "$tmp/x.safetensors"
expect 2 "unknown device" -- "$nnfpga" eval --model "$ck" --device bogus:x --data "$data" --limit 10
expect 2 "unknown device" -- "$nnfpga" infer --model "$ck" --device bogus:x --data "$data"
expect 2 "baud" -- "$nnfpga" eval --model "$ck" --device serial:/dev/ttyUSB9@12345 --data "$data" --limit 10
# bad input: exit 3
expect 3 "takes 100 inputs" -- "$nnfpga" train --layers 100,10 --device model --data "$data" --limit 100 --test-limit 0 --out "$tmp/x.safetensors"
expect 3 "classes" -- "$nnfpga" train --layers 784,5 --device model --data "$data" --limit 100 --test-limit 0 --out "$tmp/x.safetensors"
expect 3 "found|No such file" -- "$nnfpga" train --data "$tmp/nowhere" --device model
head -c 1000 "$ck" >"$tmp/trunc.safetensors"
expect 3 "safetensors|header|truncated|size" -- "$nnfpga" eval --model "$tmp/trunc.safetensors" --device model --data "$data"
printf 'not a checkpoint at all' >"$tmp/junk.safetensors"
expect 3 "" -- "$nnfpga" eval --model "$tmp/junk.safetensors" --device model --data "$data"
printf 'label,a,b\n1,0.5,0.25\n' >"$tmp/short.csv"
expect 3 "features" -- "$nnfpga" eval --model "$ck" --device model --csv "$tmp/short.csv"
mkdir -p "$tmp/badgz"
for f in train-images-idx3-ubyte t10k-images-idx3-ubyte train-labels-idx1-ubyte t10k-labels-idx1-ubyte; do
  head -c 5000 "$data/$f.gz" >"$tmp/badgz/$f.gz"
done
expect 3 "truncated|gzip" -- "$nnfpga" eval --model "$ck" --device model --data "$tmp/badgz"
# device missing: exit 1
expect 1 "" -- "$nnfpga" eval --model "$ck" --device serial:/nonexistent/ttyUSB9 --data "$data" --limit 10
# a checkpoint whose float weights were edited no longer matches its int8 tensors
cp "$ck" "$tmp/edited.safetensors"
hlen=$(od -An -t u8 -N 8 "$ck" | tr -d ' ')
begin=$(head -c $((8 + hlen)) "$ck" | tail -c "$hlen" | grep -o '"0.weight":{[^}]*}' | grep -o 'data_offsets":\[[0-9]*' | grep -o '[0-9]*$')
# weight 100 of row 0 becomes a large float (0x47000000 = 32768.0): its channel's scale changes
printf '\x00\x00\x00\x47' | dd of="$tmp/edited.safetensors" bs=1 seek=$((8 + hlen + begin + 400)) conv=notrunc status=none
expect 3 "do not match" -- "$nnfpga" eval --model "$tmp/edited.safetensors" --device model --data "$data" --limit 10
[ $fails -eq 0 ] && echo "cli_train: all checks passed"
exit $((fails > 0))
