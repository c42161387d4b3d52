#!/usr/bin/env bash
# tests/e2e/tiny.sh NNFPGA TMPDIR DATADIR [CONFIGS]
#
# The MLPerf Tiny look-alikes of scripts/gen_tiny_models.py (DATADIR:
# tests/data/tiny; docs/tiny.md) end to end:
#   - the autoencoder (AD) imports as it is and its int8 outputs equal TFLite's
#     reference kernels' (ad_expected.bin, the interpreter's) on every sample,
#     on the host's integer forward, the functional model and the simulated RTL
#     of every configuration in CONFIGS (default: sim and the boards but the
#     iCEBreaker, whose 16-word program memory cannot hold the streamed
#     program: refused with the count, docs/tiny.md);
#   - `infer --int8` prints those outputs, in the file's order;
#   - bad input: a file that is no whole number of samples, a missing one,
#     --expect of another length or without --int8, --int8 beside --csv, an
#     expected output that differs (exit 1, naming the first difference);
#   - KWS and VWW bit-exact on host, model and sim (KWS on the 85F too; the
#     25F's ACT is refused with the words it needs);
#   - IC (ResNet-8, a residual graph) bit-exact on host, model and sim; a
#     board without EW refuses its Add by name.
set -u
nnfpga=$1
tmp=$2
data=$3
configs=${4:-sim,sim:board=ulx3s,sim:board=ulx3s-85f,sim:board=orangecrab}
rm -rf "$tmp"
mkdir -p "$tmp"
. "$(dirname "$0")/lib.sh"

ad=$tmp/ad.safetensors
expect 0 "imported .*ad.tflite \(tflite, 10 operators\): Linear\(640,128\),ReLU,.*Linear\(128,640\)" -- \
  "$nnfpga" import "$data/ad.tflite" --out "$ad"

# 1. bit-exact with TFLite's reference kernels: 64 samples x 640 outputs
exact="bit-exact: 64 of 64 samples, 40960 of 40960 outputs equal"
for dev in host model ${configs//,/ }; do
  expect 0 "$exact" -- "$nnfpga" infer --model "$ad" --device "$dev" --int8 "$data/ad_input.bin" \
    --expect "$data/ad_expected.bin"
done
expect 1 "the program needs 68 instructions; device sim:board=icebreaker has 16" -- "$nnfpga" infer --model "$ad" \
  --device sim:board=icebreaker --int8 "$data/ad_input.bin" --expect "$data/ad_expected.bin"
# a slice of the samples, compared with the same slice of the expected outputs
expect 0 "bit-exact: 5 of 5 samples, 3200 of 3200 outputs equal" -- "$nnfpga" infer --model "$ad" --device sim \
  --int8 "$data/ad_input.bin" --expect "$data/ad_expected.bin" --first 7 --count 5
# the JSON: the counts, the figures of a clocked device, where the weights live
j=$("$nnfpga" infer --model "$ad" --device sim --int8 "$data/ad_input.bin" --expect "$data/ad_expected.bin" --json)
[ "$(json_num outputs_equal <<<"$j")" = 40960 ] || fail "JSON outputs_equal: $j"
[ "$(json_num samples_equal <<<"$j")" = 64 ] || fail "JSON samples_equal: $j"
[ "$(json_num macs_per_inference <<<"$j")" = 264192 ] || fail "JSON macs_per_inference (264,192 for AD): $j"
cpi=$(json_num cycles_per_inference <<<"$j")
awk -v c="$cpi" 'BEGIN { exit !(c > 4128) }' || fail "cycles_per_inference $cpi not above the ideal 4128: $j"
# the array's busy cycles: at least the ideal (all its MACs), at most every cycle
bpi=$(json_num busy_cycles_per_inference <<<"$j")
awk -v b="$bpi" -v c="$cpi" 'BEGIN { exit !(b >= 4128 && b <= c) }' ||
  fail "busy_cycles_per_inference $bpi not within [4128, $cpi]: $j"
spi=$(json_num stall_cycles_per_inference <<<"$j")
awk -v s="$spi" -v c="$cpi" 'BEGIN { exit !(s >= 0 && s <= c) }' ||
  fail "stall_cycles_per_inference $spi not within [0, $cpi]: $j"
grep -q '"streamed_layers":' <<<"$j" || fail "JSON lacks the weights' placement: $j"
grep -q '"first_difference":null' <<<"$(tr -d ' \t\n' <<<"$j")" || fail "JSON first_difference not null: $j"

# 2. infer --int8 prints each sample's outputs: sample 3's are the expected ones
want=$(od -An -v -t d1 -j $((3 * 640)) -N 640 "$data/ad_expected.bin" | tr -s ' \n' ' ' | sed 's/^ //; s/ $//')
got=$("$nnfpga" infer --model "$ad" --device model --int8 "$data/ad_input.bin" --first 3 --count 1)
[ "$got" = "3: outputs $want" ] || fail "infer --int8 sample 3: '$got', want '3: outputs $want'"

# 3. bad input
head -c 639 "$data/ad_input.bin" >"$tmp/short.bin"
expect 3 "--int8 .*short.bin holds 639 bytes: not a whole number of 640-byte samples \(the model's inputs\)" -- \
  "$nnfpga" infer --model "$ad" --int8 "$tmp/short.bin"
expect 3 "--int8 $tmp/none.bin: No such file" -- "$nnfpga" infer --model "$ad" --int8 "$tmp/none.bin"
: >"$tmp/empty.bin"
expect 3 "holds 0 bytes" -- "$nnfpga" infer --model "$ad" --int8 "$tmp/empty.bin"
head -c $((63 * 640)) "$data/ad_expected.bin" >"$tmp/exp63.bin"
expect 3 "--expect .*exp63.bin holds 63 samples' outputs, --int8 .*ad_input.bin 64 samples" -- \
  "$nnfpga" infer --model "$ad" --int8 "$data/ad_input.bin" --expect "$tmp/exp63.bin"
expect 2 "--expect goes with --int8" -- "$nnfpga" infer --model "$ad" --expect "$data/ad_expected.bin"
expect 2 "--int8 replaces --data and --csv" -- "$nnfpga" infer --model "$ad" --int8 "$data/ad_input.bin" \
  --csv "$tmp/x.csv"
expect 2 "--first 64 but .*ad_input.bin holds 64 samples" -- "$nnfpga" infer --model "$ad" \
  --int8 "$data/ad_input.bin" --first 64
# one output changed: sample 2, output 5
python3 - "$data/ad_expected.bin" "$tmp/bad_expected.bin" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[2 * 640 + 5] = (b[2 * 640 + 5] + 1) % 256
open(sys.argv[2], "wb").write(b)
EOF
for pat in "DIFFERENT: 63 of 64 samples, 40959 of 40960 outputs equal" "first difference: sample 2 output 5: -?[0-9]+, expected -?[0-9]+"; do
  expect 1 "$pat" -- "$nnfpga" infer --model "$ad" --device model --int8 "$data/ad_input.bin" \
    --expect "$tmp/bad_expected.bin"
done

# 4. KWS (DS-CNN: a 10 x 4 first conv run space-to-depth, depthwise convs,
# TFLite's uneven SAME padding, a whole-map average pool) and VWW
# (MobileNetV1: 27 convs, depthwise at stride 2) import as they are and equal
# the reference kernels on every sample; KWS on the 85F too. The 25F boards'
# 2,048 ACT words hold no two of KWS's 1,000-word maps beside its inputs.
kws=$tmp/kws.safetensors
expect 0 "imported .*kws.tflite \(tflite, 13 operators\): ZeroPad2d\(\(0,0,0,1\)\),Conv2d\(1,64,kernel_size=\(10,4\),stride=2,padding=\(4,1\)\),ReLU,Conv2d\(64,64,kernel_size=3,stride=1,padding=1,groups=64\),.*AdaptiveAvgPool2d\(1\),Flatten,Linear\(64,12\),Softmax\(dim=1\)" -- \
  "$nnfpga" import "$data/kws.tflite" --out "$kws"
for dev in host model sim sim:board=ulx3s-85f; do
  expect 0 "bit-exact: 16 of 16 samples, 192 of 192 outputs equal" -- "$nnfpga" infer --model "$kws" --device "$dev" \
    --int8 "$data/kws_input.bin" --expect "$data/kws_expected.bin"
done
expect 1 "a batch of 1 needs [0-9]+ ACT words; device sim:board=ulx3s has 2048" -- "$nnfpga" infer --model "$kws" \
  --device sim:board=ulx3s --int8 "$data/kws_input.bin" --expect "$data/kws_expected.bin"
vww=$tmp/vww.safetensors
expect 0 "imported .*vww.tflite \(tflite, 31 operators\): ZeroPad2d\(\(0,1,0,1\)\),Conv2d\(3,8,kernel_size=3,stride=2,padding=0\),ReLU,Conv2d\(8,8,kernel_size=3,stride=1,padding=1,groups=8\)" -- \
  "$nnfpga" import "$data/vww.tflite" --out "$vww"
for dev in host model sim; do
  expect 0 "bit-exact: 4 of 4 samples, 8 of 8 outputs equal" -- "$nnfpga" infer --model "$vww" --device "$dev" \
    --int8 "$data/vww_input.bin" --expect "$data/vww_expected.bin"
done

# 5. IC (ResNet-8: three residual blocks, two with a strided 1x1 conv
# shortcut) imports as a graph, each ADD an Add with its fused ReLU, and
# equals the reference kernels on host, model and sim; a board without EW
# refuses its first Add by name, never running it on the host
ic=$tmp/ic.safetensors
expect 0 "imported .*ic.tflite \(tflite, 16 operators\): Conv2d\(3,16,kernel_size=3,stride=1,padding=1\),ReLU,.*,Add\(1\),ReLU,ZeroPad2d\(\(0,1,0,1\)\),.*,Conv2d\(16,32,kernel_size=1,stride=2,padding=0,from=6\),Add\(10\),ReLU,.*,Linear\(64,10\),Softmax\(dim=1\)" -- \
  "$nnfpga" import "$data/ic.tflite" --out "$ic"
for dev in host model sim; do
  expect 0 "bit-exact: 16 of 16 samples, 160 of 160 outputs equal" -- "$nnfpga" infer --model "$ic" --device "$dev" \
    --int8 "$data/ic_input.bin" --expect "$data/ic_expected.bin"
done
expect 1 "device sim:board=ulx3s-85f does not run EW \(its INFO lacks feature bit 7, FEAT_EW\): layer 5 \(Add\(1\)\) needs an EW ADD" -- \
  "$nnfpga" infer --model "$ic" --device sim:board=ulx3s-85f --int8 "$data/ic_input.bin" --expect "$data/ic_expected.bin"

if [ "$fails" -ne 0 ]; then
  echo "tiny: $fails failure(s)"
  exit 1
fi
echo "tiny: AD bit-exact with TFLite's reference kernels on host, model and $configs, KWS, VWW and IC too; refusals as documented"
