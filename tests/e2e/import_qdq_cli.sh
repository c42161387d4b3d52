#!/usr/bin/env bash
# tests/e2e/import_qdq_cli.sh NNFPGA TMPDIR DATADIR
#
# `nnfpga import` of ONNX int8 models end to end (docs/import.md, "ONNX int8
# (QDQ and QOperator)"), on the committed files of scripts/gen_import_qdq.py
# (DATADIR: tests/data) and Fashion-MNIST:
#   - each refused model of import_qbad/ exits 3 with its message
#     (import_qbad/expected.json) and writes no checkpoint;
#   - the QDQ MLP (uint8 activations), the QDQ CNN (int8) and the QOperator
#     CNN import with their quantization given and evaluate on the model
#     device with the accuracy of the script's integer reference of nnfpga's
#     arithmetic over the first 2,000 test images (import_qdq_ref.json:
#     0.866, 0.8335, 0.8335; ONNX Runtime's predictions are the same on all
#     10,000), and infer runs them.
set -u
nnfpga=$1
tmp=$2
data=$3
rm -rf "$tmp"
mkdir -p "$tmp"
. "$(dirname "$0")/lib.sh"

imp() { "$nnfpga" import "$@"; }

# 1. refusals: exit 3, the file, the node's index, type and name, why
for f in "$data"/import_qbad/*.onnx; do
  name=$(basename "$f" .onnx)
  msg=$(sed -n "s/^ \"$name\": \"\(.*\)\",\{0,1\}$/\1/p" "$data/import_qbad/expected.json")
  [ -n "$msg" ] || fail "$name: no message in expected.json"
  pat=$(printf '%s' "$msg" | sed 's/[][().*^$|?+{}\\]/\\&/g')
  expect 3 "^nnfpga import: $f: $pat\$" -- imp "$f" --out "$tmp/bad.safetensors"
done
[ -e "$tmp/bad.safetensors" ] && fail "a refused import wrote its checkpoint"

# 2. the int8 models: the file's quantization, nnfpga's reference accuracy
for m in qdq_mlp:0.866 qdq_cnn:0.8335 qop_cnn:0.8335; do
  name=${m%%:*}
  acc=${m#*:}
  expect 0 '"quantized":[[:space:]]*true' -- imp "$data/import_$name.onnx" --out "$tmp/$name.safetensors" --json
  expect 0 "\"accuracy\":[[:space:]]*$acc," -- \
    "$nnfpga" eval --model "$tmp/$name.safetensors" --device model --limit 2000 --json --quiet
done
expect 0 "dropped: DequantizeLinear \(node 8\)" -- imp "$data/import_qop_cnn.onnx" --out "$tmp/q.safetensors"
expect 0 "class" -- "$nnfpga" infer --model "$tmp/qop_cnn.safetensors" --device model --count 3

[ "$fails" -eq 0 ] && echo "import_qdq_cli: all checks passed"
exit $((fails > 0))
