#!/usr/bin/env bash
# tests/e2e/import_cli.sh NNFPGA TMPDIR DATADIR
#
# `nnfpga import` end to end (docs/import.md), on the committed models of
# scripts/gen_import_models.py (DATADIR: tests/data) and Fashion-MNIST:
#   - usage errors exit 2; an unsupported operator, dtype or shape, a
#     truncated file and a missing file exit 3 naming the operator's index,
#     type and name, or the file;
#   - the TFLite int8 MLP imports (its quantization given) and evaluates on
#     the model device and on the simulated RTL with the accuracy of the
#     same accuracy over the first 2,000 test images (0.8545; over all
#     10,000, 0.8374, TFLite's: its FULLY_CONNECTED rounds once, as nnfpga),
#     also on a device without TFLite's double rounding, and infer runs it;
#     the CNN (CONV_2D rounds twice) is refused on such a device;
#   - the ONNX MLP imports with calibration; its float weights on the host
#     score PyTorch's accuracy on those images (0.8705) and its int8 model
#     on the model device stays within 0.5 point of it; with --calib 0 the
#     checkpoint holds the float model only.
set -u
nnfpga=$1
tmp=$2
data=$3
rm -rf "$tmp"
mkdir -p "$tmp"
. "$(dirname "$0")/lib.sh"

imp() { "$nnfpga" import "$@"; }

# 1. usage and refusals
expect 2 "no FILE to import" -- imp --out "$tmp/x.safetensors"
expect 2 "--out FILE is required" -- imp "$data/import_mlp.onnx"
expect 2 "unexpected argument|unknown option" -- imp "$data/import_mlp.onnx" --out "$tmp/x.safetensors" --bogus
expect 0 "usage: nnfpga import FILE" -- imp --help
expect 2 "--calib wants an integer in 0..4096" -- imp "$data/import_mlp.onnx" --out "$tmp/x.safetensors" --calib 5000
expect 3 "import_bad_op.onnx: node 2 'LeakyRelu' \(/2/LeakyRelu\): operator LeakyRelu is not supported" -- \
  imp "$data/import_bad_op.onnx" --out "$tmp/x.safetensors"
expect 3 "import_bad_op.tflite: operator 1 \(MUL 'product'\): operator MUL is not supported" -- \
  imp "$data/import_bad_op.tflite" --out "$tmp/x.safetensors"
expect 3 "import_bad_dtype.tflite: operator 0 \(FULLY_CONNECTED 'y'\): its weights 'w' are FLOAT32, not INT8" -- \
  imp "$data/import_bad_dtype.tflite" --out "$tmp/x.safetensors"
expect 3 "operator 0 \(CONV_2D 'y'\): its weights 'w' are not \[out, kh, kw, 1\] \(kernels 1\.\.32\)" -- \
  imp "$data/import_bad_shape.tflite" --out "$tmp/x.safetensors"
head -c 3000 "$data/import_mlp.tflite" > "$tmp/cut.tflite"
expect 3 "cut.tflite: .*points outside the file \(truncated or corrupt flatbuffer\)" -- \
  imp "$tmp/cut.tflite" --out "$tmp/x.safetensors"
head -c 3000 "$data/import_mlp.onnx" > "$tmp/cut.onnx"
expect 3 "cut.onnx: not an ONNX model or a TFLite flatbuffer \(the protobuf does not parse" -- \
  imp "$tmp/cut.onnx" --out "$tmp/x.safetensors"
expect 3 "nowhere.onnx: No such file" -- imp "$tmp/nowhere.onnx" --out "$tmp/x.safetensors"
for f in bad_op.onnx bad_op.tflite bad_dtype.tflite bad_shape.tflite; do
  imp "$data/import_$f" --out "$tmp/x.safetensors" >/dev/null 2>&1
  [ $? -eq 3 ] || fail "import_$f: not exit 3"
done
[ -e "$tmp/x.safetensors" ] && fail "a refused import wrote its checkpoint"

# 2. the TFLite int8 MLP: its own quantization, exact on both devices
expect 0 '"quantized":[[:space:]]*true' -- imp "$data/import_mlp.tflite" --out "$tmp/tfl.safetensors" --json
for dev in model sim; do
  expect 0 '"accuracy":[[:space:]]*0.8545,' -- \
    "$nnfpga" eval --model "$tmp/tfl.safetensors" --device "$dev" --limit 2000 --json --quiet
done
expect 0 "class" -- "$nnfpga" infer --model "$tmp/tfl.safetensors" --device model --count 3
# its FULLY_CONNECTED layers round once, as nnfpga does: a device without
# TFLite's double rounding (the iCEBreaker's) runs it too
expect 0 '"accuracy":[[:space:]]*0.8545,' -- \
  "$nnfpga" eval --model "$tmp/tfl.safetensors" --device model:tfl_round=0 --limit 2000 --json --quiet
# the CNN's CONV_2D layers round twice: refused there, naming the layer, before anything runs
imp "$data/import_cnn.tflite" --out "$tmp/cnn.safetensors" >/dev/null || fail "import_cnn.tflite did not import"
expect 1 "device model:tfl_round=0 does not round as TFLite \(its INFO lacks feature bit 10, FEAT_TFL_ROUND\): layer 0 \(Conv2d\)" -- \
  "$nnfpga" eval --model "$tmp/cnn.safetensors" --device model:tfl_round=0 --limit 10

# 3. the ONNX MLP: calibrated (1024 training images), within 0.5 point of float
expect 0 "dropped: Softmax \(node 6\)" -- imp "$data/import_mlp.onnx" --out "$tmp/onnx.safetensors"
expect 0 '"accuracy":[[:space:]]*0.8705,' -- \
  "$nnfpga" eval --model "$tmp/onnx.safetensors" --float --limit 2000 --json --quiet
acc=$("$nnfpga" eval --model "$tmp/onnx.safetensors" --device model --limit 2000 --json --quiet |
      tr -d ' \t\n' | grep -o '"accuracy":[0-9.]*' | cut -d: -f2)
awk -v a="${acc:-0}" 'BEGIN { exit !(a >= 0.8655 && a <= 0.8755) }' || fail "ONNX MLP int8 accuracy $acc not within 0.5 point of 0.8705"
expect 0 "quantization: none \(float only\)" -- imp "$data/import_mlp.onnx" --out "$tmp/f.safetensors" --calib 0

[ "$fails" -eq 0 ] && echo "import_cli: all checks passed"
exit $((fails > 0))
