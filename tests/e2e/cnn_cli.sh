#!/usr/bin/env bash
# tests/e2e/cnn_cli.sh NNFPGA TMPDIR
#
# `nnfpga train --arch` end to end on Fashion-MNIST subsets:
#   - architectures that do not compose, unknown layers and bad numbers are
#     refused before any data is read: exit 2, the layer's index and text;
#     --arch with --layers or --model snn, a malformed --input-shape: exit 2;
#     an input shape that is not the data's: exit 3;
#   - a small CNN trains (fake quantization on the host, and on the model
#     device); its checkpoint, reloaded, evaluates on the host with exactly the
#     accuracy the training run reported (the same fake-quant forward), and on
#     the model device (int8) within a point of it;
#   - a device without FEAT_CONV (model:conv=0) refuses the CNN (exit 1,
#     the message names FEAT_CONV and the layer) and still runs an MLP;
#   - eval / infer --arch run an untrained network on a device (its cost,
#     its fit: the refusals with their messages);
#   - nnfpga tune --arch searches the training of one CNN; its refusals.
set -u
nnfpga=$1
tmp=$2
rm -rf "$tmp"
mkdir -p "$tmp"
. "$(dirname "$0")/lib.sh"

t() { "$nnfpga" train --quiet --out "$tmp/x.safetensors" "$@"; }

# 1. refusals at parse time (no data is read: --data points nowhere)
nodata=(--data "$tmp/none")
expect 2 "--arch: layer 3 'conv\(8,7\)': a 7 x 7 kernel is larger than the 6 x 6 input map padded by 0" -- \
  t "${nodata[@]}" --arch "conv(8,5),maxpool(2),maxpool(2),conv(8,7),flatten,dense(10)"
expect 2 "--arch: layer 1 'dense\(10\)': its input is a 8 x 26 x 26 map; flatten it first" -- \
  t "${nodata[@]}" --arch "conv(8,3),dense(10)"
expect 2 "--arch: layer 5 'maxpool\(2\)': a 2 x 2 kernel is larger than the 1 x 1 input map padded by 0" -- \
  t "${nodata[@]}" --arch "conv(4,1),maxpool(2),maxpool(2),maxpool(2),maxpool(2),maxpool(2),flatten,dense(10)"
expect 2 "--arch: layer 2 'pool\(2\)': unknown layer 'pool'" -- t "${nodata[@]}" --arch "conv(4,3),relu,pool(2)"
expect 2 "--arch: layer 0 'conv\(4,3,stride=two\)': stride wants a number, not 'two'" -- \
  t "${nodata[@]}" --arch "conv(4,3,stride=two)"
expect 2 "--arch: layer 0 'conv\(0,3\)': a Conv2d has 1..65535 output channels" -- t "${nodata[@]}" --arch "conv(0,3)"
expect 2 "--arch: layer 1 'avgpool\(3,pad=2\)': a AvgPool2d's padding is at most half its kernel" -- \
  t "${nodata[@]}" --arch "conv(4,3),avgpool(3,pad=2)"
expect 2 "--arch: layer 0 'conv\(4\)': needs kernel" -- t "${nodata[@]}" --arch "conv(4)"
expect 2 "--arch: architecture ends with a comma" -- t "${nodata[@]}" --arch "conv(4,3),"
expect 2 "--arch: layer 1 'conv\(4,3\)': its input is flattened" -- t "${nodata[@]}" --arch "flatten,conv(4,3)"
expect 2 "--arch gives the whole network: not with --layers" -- t "${nodata[@]}" --arch "flatten,dense(10)" --layers 784,10
expect 2 "--arch gives the whole network: not with --model snn" -- t "${nodata[@]}" --arch "flatten,dense(10)" --model snn
expect 2 "--input-shape wants C,H,W \(e.g. 1,28,28\) or N \(flat rows\), not '28,28'" -- \
  t "${nodata[@]}" --arch "flatten,dense(10)" --input-shape 28,28
expect 3 "--arch conv\(4,3\),relu,flatten,dense\(10\) takes 2352 inputs but the training data has 784 features" -- \
  t --arch "conv(4,3),relu,flatten,dense(10)" --input-shape 3,28,28 --limit 50 --test-limit 0 --epochs 1
h=$("$nnfpga" train --help)
for item in "conv(OUT,K,stride=S,pad=P,bias=0|1,groups=G)" "dwconv(K,...)" "zeropad(L,R,T,B)"; do
  grep -qF "$item" <<<"$h" || fail "train --help lacks the --arch grammar's $item"
done

# 2. a small CNN: host fake quantization, then the model device (hardware in the loop)
arch="conv(6,5,pad=2),relu,maxpool(2),conv(8,3,stride=2),relu,avgpool(2,stride=1,pad=1),flatten,dense(10)"
out=$("$nnfpga" train --quiet --arch "$arch" --device host --limit 2000 --test-limit 300 --epochs 2 \
  --out "$tmp/cnn.safetensors" 2>&1) || fail "host training failed: $out"
acc=$(sed -n 's/^test accuracy \([0-9.]*\)%.*/\1/p' <<<"$out")
awk -v a="$acc" 'BEGIN{exit !(a >= 50)}' || fail "the CNN learned nothing on the host: $out"
ev=$("$nnfpga" eval --quiet --model "$tmp/cnn.safetensors" --device host --limit 300 2>&1) || fail "eval failed: $ev"
grep -qE "^accuracy $acc% \([0-9]+ of 300 images\)" <<<"$ev" || fail "eval on the host is not the training's $acc%: $ev"
ev=$("$nnfpga" eval --quiet --model "$tmp/cnn.safetensors" --device model --limit 300 2>&1) || fail "eval failed: $ev"
dev_acc=$(sed -n 's/^accuracy \([0-9.]*\)%.*/\1/p' <<<"$ev")
awk -v a="$acc" -v d="$dev_acc" 'BEGIN{exit !(d - a <= 1 && a - d <= 1)}' ||
  fail "int8 on the model device $dev_acc%, fake quant $acc%: $ev"
out=$("$nnfpga" train --quiet --arch "$arch" --device model --limit 300 --test-limit 100 --epochs 1 \
  --out "$tmp/cnn_dev.safetensors" 2>&1) || fail "training on the model device failed: $out"
grep -q "forward passes on model" <<<"$out" || fail "device training output: $out"

# flat rows (--input-shape N): dense first, and its checkpoint is an MLP's (no input_shape)
expect 0 "test accuracy" -- "$nnfpga" train --quiet --arch "dense(32),relu,dense(10)" --input-shape 784 --device model \
  --limit 300 --test-limit 100 --epochs 1 --out "$tmp/flat.safetensors"
expect 0 "accuracy" -- "$nnfpga" eval --quiet --model "$tmp/flat.safetensors" --device model --limit 50
expect 2 "--arch: layer 0 'conv\(4,3\)': its input is flattened" -- t "${nodata[@]}" --arch "conv(4,3)" --input-shape 784

# 3. a device without FEAT_CONV
expect 1 "device model:conv=0 does not run CONV / POOL \(its INFO lacks feature bit 4, FEAT_CONV\): layer 0 \(Conv2d\(1,6,kernel_size=5,stride=1,padding=2\)\) needs them" -- \
  "$nnfpga" eval --quiet --model "$tmp/cnn.safetensors" --device model:conv=0 --limit 10
expect 0 "accuracy" -- "$nnfpga" train --quiet --arch "flatten,dense(16),relu,dense(10)" --device model:conv=0 \
  --limit 200 --test-limit 50 --epochs 1 --out "$tmp/mlp.safetensors"
expect 2 "model: unknown option \"conv=9\" \(options, comma-separated: conv=0\|1, ew=0\|1, row=0\|1, dw=0\|1, luts=1\|2\|4\|8, rel=0\|1, tfl_round=0\|1, banks=0..8, w_words=N, p_words=N, act_words=N: powers of two\)" -- "$nnfpga" eval --model "$tmp/cnn.safetensors" --device model:conv=9

# 4. eval / infer --arch: an untrained network on a device (what it costs, whether it fits)
a2="conv(8,3,pad=1),relu,maxpool(2),conv(8,3,pad=1),relu,maxpool(2),flatten,dense(10)"
expect 0 "^accuracy [0-9.]+% \([0-9]+ of 50 images\).*on model" -- "$nnfpga" eval --quiet --arch "$a2" --device model --limit 50
grep -q '"macs":[[:space:]]*[1-9]' <<<"$("$nnfpga" eval --quiet --json --arch "$a2" --limit 20)" ||
  fail "eval --arch --json has no MACs"
expect 0 "^1: class [0-9] \(label [0-9]\) logits" -- "$nnfpga" infer --arch "$a2" --count 2
expect 1 "layer 4 \(Linear\) after Flatten: the device runs it as a conv over the whole 8 x 14 x 14 map" -- \
  "$nnfpga" eval --quiet --arch "conv(8,3,pad=1),relu,maxpool(2),flatten,dense(10)" --limit 10
expect 1 "device model:conv=0 does not run CONV / POOL" -- "$nnfpga" infer --arch "$a2" --device model:conv=0
expect 2 "--model and --arch both give the network: one of them" -- \
  "$nnfpga" eval --model "$tmp/cnn.safetensors" --arch "$a2"
expect 2 "nnfpga infer: --arch: layer 1 'dense\(10\)': its input is a 8 x 26 x 26 map; flatten it first" -- \
  "$nnfpga" infer --arch "conv(8,3),dense(10)"
"$nnfpga" eval --help | grep -q "instead of --model: an untrained network" || fail "eval --help lacks --arch"

# 5. nnfpga tune --arch: every trial trains that network; best.json's command trains it
expect 0 "best: trial [0-9]+, validation accuracy [0-9.]+%: lr [0-9.e-]+, batch 64, optimizer adam" -- \
  "$nnfpga" tune --dir "$tmp/tune" --arch "conv(4,3),relu,maxpool(2),flatten,dense(10)" --lr 1e-3,3e-3 --limit 600 \
  --epochs 1 --device host --quiet
grep -q "\"train_command\":[[:space:]]*\"nnfpga train --arch 'conv(4,3),relu,maxpool(2),flatten,dense(10)' --input-shape 1,28,28" \
  "$tmp/tune/best.json" || fail "tune best.json: $(cat "$tmp/tune/best.json")"
expect 2 "nnfpga tune: --arch: layer 1 'dense\(10\)': its input is a 4 x 26 x 26 map; flatten it first" -- \
  "$nnfpga" tune --dir "$tmp/tune2" --arch "conv(4,3),dense(10)"
expect 2 "nnfpga tune: --arch gives the whole network: not with --hidden" -- \
  "$nnfpga" tune --dir "$tmp/tune2" --arch "conv(4,3),flatten,dense(10)" --hidden 64

[ "$fails" -eq 0 ] && echo "cnn_cli: all checks passed"
exit $((fails > 0))
