#!/usr/bin/env bash
# tests/e2e/import_torch_cli.sh NNFPGA TMPDIR DATADIR
#
# `nnfpga import FILE --arch A` end to end (docs/import.md "PyTorch
# nn.Sequential"), on tests/data/torch_seq/mlp.safetensors
# (scripts/gen_torch_seq.py) and Fashion-MNIST:
#   - a state_dict without --arch, --arch with an ONNX file, --input-shape
#     without --arch and a bad --arch exit 2; an architecture whose
#     parameters the file does not hold (a missing tensor, an extra one, a
#     wrong shape), an nnfpga checkpoint and a truncated file exit 3, naming
#     the tensor; nothing is written;
#   - the float checkpoint (--calib 0) scores PyTorch's accuracy on the
#     10,000 test images (mlp.json's test_accuracy, 0.8395) and quantize
#     takes it; with --calib the int8 model runs on the model device within
#     1 point of float.
set -u
nnfpga=$1
tmp=$2
data=$3
rm -rf "$tmp"
mkdir -p "$tmp"
. "$(dirname "$0")/lib.sh"

imp() { "$nnfpga" import "$@"; }
sd=$data/torch_seq/mlp.safetensors
arch="flatten,dense(64),relu,dropout(0.1),dense(32),tanh,dense(10)"

# 1. refusals
expect 2 "mlp.safetensors: a PyTorch state_dict \(safetensors\) holds no architecture: give it with --arch" -- \
  imp "$sd" --out "$tmp/x.safetensors"
expect 2 "import_mlp.onnx: not a safetensors file \(--arch is for a PyTorch nn.Sequential state_dict" -- \
  imp "$data/import_mlp.onnx" --arch "$arch" --out "$tmp/x.safetensors"
expect 2 "--input-shape goes with --arch" -- imp "$sd" --input-shape 784 --out "$tmp/x.safetensors"
expect 2 "--arch: layer 1 'dense\(0\)'" -- imp "$sd" --arch "flatten,dense(0)" --out "$tmp/x.safetensors"
expect 3 "mlp.safetensors: no tensor '8.weight' \(layer 8 of --arch, Linear\(10,5\), has a weight\)" -- \
  imp "$sd" --arch "$arch,relu,dense(5)" --out "$tmp/x.safetensors"
expect 3 "mlp.safetensors: tensor '6.bias' is no parameter of --arch" -- \
  imp "$sd" --arch "flatten,dense(64),relu,dropout(0.1),dense(32)" --out "$tmp/x.safetensors"
expect 3 "mlp.safetensors: tensor '1.weight' is \[64, 784\], but layer 1 \(Linear\(784,60\)\) has weight \[60, 784\]" -- \
  imp "$sd" --arch "flatten,dense(60),relu,dropout(0.1),dense(32),tanh,dense(10)" --out "$tmp/x.safetensors"
head -c 5000 "$sd" > "$tmp/cut.safetensors"
expect 3 "cut.safetensors: tensor '.*': data ends at [0-9]+, beyond the data area" -- \
  imp "$tmp/cut.safetensors" --arch "$arch" --out "$tmp/x.safetensors"
[ -e "$tmp/x.safetensors" ] && fail "a refused import wrote its checkpoint"

# 2. the float model is PyTorch's; calibrated, the int8 model is close
expect 0 '"format":[[:space:]]*"safetensors"' -- imp "$sd" --arch "$arch" --calib 0 --out "$tmp/f.safetensors" --json
expect 3 "f.safetensors: an nnfpga checkpoint already" -- imp "$tmp/f.safetensors" --arch "$arch" --out "$tmp/x.safetensors"
want=$(json_num test_accuracy < "$data/torch_seq/mlp.json")
fa=$("$nnfpga" eval --model "$tmp/f.safetensors" --float --json --quiet | json_num accuracy)
[ "$fa" = "$want" ] || fail "float accuracy $fa, PyTorch's $want"
expect 0 "drop: " -- "$nnfpga" quantize --model "$tmp/f.safetensors" --out "$tmp/q.safetensors" --eval 500 --quiet
expect 0 "quantization: percentile 99.9 of 512 training images" -- \
  imp "$sd" --arch "$arch" --calib 512 --observer percentile:99.9 --out "$tmp/p.safetensors"
qa=$("$nnfpga" eval --model "$tmp/p.safetensors" --json --quiet | json_num accuracy)
awk -v f="$fa" -v q="${qa:-0}" 'BEGIN { exit !(f - q < 0.01 && q - f < 0.01) }' || fail "int8 $qa not within 1 point of $fa"

[ "$fails" -eq 0 ] && echo "import_torch_cli: all checks passed"
exit $((fails > 0))
