#!/usr/bin/env bash
# tests/e2e/quantize_cli.sh NNFPGA TMPDIR DATADIR
#
# `nnfpga quantize` end to end (docs/import.md "Post-training
# quantization"), on the committed ONNX MLP (DATADIR: tests/data) imported
# as a float checkpoint, and Fashion-MNIST:
#   - usage errors exit 2 (missing --model / --out, --calib out of 1..4096,
#     a bad --observer, a bad --device), bad input exits 3 (a missing or
#     already quantized checkpoint, missing data), naming what is wrong, and
#     write nothing;
#   - min/max: the checkpoint is the one `import --calib 1024` writes (both
#     run nnf_calib), so eval gives the same accuracy; the float accuracy is
#     PyTorch's on those images (0.8705 over the first 2,000), the JSON has
#     every field and the drop is float - int8 in points;
#   - percentile: the default P (99.99) in the JSON, int8 within 1 point of
#     float; the simulated RTL gives the model's int8 accuracy exactly.
set -u
nnfpga=$1
tmp=$2
data=$3
rm -rf "$tmp"
mkdir -p "$tmp"
. "$(dirname "$0")/lib.sh"

q() { "$nnfpga" quantize "$@"; }

"$nnfpga" import "$data/import_mlp.onnx" --calib 0 --out "$tmp/float.safetensors" >/dev/null || fail "import --calib 0"
"$nnfpga" import "$data/import_mlp.onnx" --calib 1024 --out "$tmp/imported.safetensors" >/dev/null || fail "import"

# 1. usage and bad input
expect 0 "usage: nnfpga quantize --model" -- q --help
expect 0 "--observer O +how each activation.s range" -- q --help
expect 2 "--model FILE is required" -- q --out "$tmp/x.safetensors"
expect 2 "--out FILE is required" -- q --model "$tmp/float.safetensors"
expect 2 "--calib wants an integer in 1..4096" -- q --model "$tmp/float.safetensors" --out "$tmp/x.safetensors" --calib 0
expect 2 "--calib wants an integer in 1..4096" -- q --model "$tmp/float.safetensors" --out "$tmp/x.safetensors" --calib 4097
expect 2 "--observer: observer 'max': minmax, percentile or percentile:P" -- \
  q --model "$tmp/float.safetensors" --out "$tmp/x.safetensors" --observer max
expect 2 "--observer: observer 'percentile:50': P of percentile:P is a number in \(50, 100\]" -- \
  q --model "$tmp/float.safetensors" --out "$tmp/x.safetensors" --observer percentile:50
expect 2 "unexpected argument '--bogus'" -- q --model "$tmp/float.safetensors" --out "$tmp/x.safetensors" --bogus
expect 3 "nowhere.safetensors: No such file" -- q --model "$tmp/nowhere.safetensors" --out "$tmp/x.safetensors"
expect 3 "imported.safetensors: is quantized already \(quantize takes a float checkpoint" -- \
  q --model "$tmp/imported.safetensors" --out "$tmp/x.safetensors"
expect 3 "nnfpga quantize: /nonexistent: neither train-images-idx3-ubyte.gz nor train-images-idx3-ubyte found" -- \
  q --model "$tmp/float.safetensors" --out "$tmp/x.safetensors" --data /nonexistent
[ -e "$tmp/x.safetensors" ] && fail "a refused quantize wrote its checkpoint"
expect 2 "bogus" -- q --model "$tmp/float.safetensors" --out "$tmp/y.safetensors" --device bogus --eval 10

# 2. min/max: the import's checkpoint, and the report
out=$(q --model "$tmp/float.safetensors" --out "$tmp/mm.safetensors" --eval 2000 --json) || fail "quantize minmax: $out"
for k in model out observer calibration calib_images device images float_accuracy float_loss int8_accuracy int8_loss \
         accuracy_drop_points; do
  grep -q "\"$k\":" <<<"$out" || fail "quantize --json lacks $k: $out"
done
grep -q '"observer":[[:space:]]*"min/max"' <<<"$out" || fail "observer not min/max: $out"
grep -q '"calibration":[[:space:]]*"min/max of 1024 training images of' <<<"$out" || fail "calibration: $out"
[ "$(json_num float_accuracy <<<"$out")" = "0.8705" ] || fail "float accuracy $(json_num float_accuracy <<<"$out"), want 0.8705"
[ "$(json_num images <<<"$out")" = "2000" ] || fail "images: $out"
fa=$(json_num float_accuracy <<<"$out") qa=$(json_num int8_accuracy <<<"$out") drop=$(json_num accuracy_drop_points <<<"$out")
awk -v f="$fa" -v q="$qa" -v d="$drop" 'BEGIN { exit !(d - 100 * (f - q) < 1e-9 && 100 * (f - q) - d < 1e-9) }' ||
  fail "accuracy_drop_points $drop is not 100 * ($fa - $qa)"
ia=$("$nnfpga" eval --model "$tmp/imported.safetensors" --limit 2000 --json --quiet | json_num accuracy)
ea=$("$nnfpga" eval --model "$tmp/mm.safetensors" --limit 2000 --json --quiet | json_num accuracy)
[ "$ia" = "$qa" ] && [ "$ea" = "$qa" ] || fail "import --calib 1024 ($ia), eval ($ea) and quantize ($qa) disagree"
expect 0 "drop: [0-9.-]+ points" -- q --model "$tmp/float.safetensors" --out "$tmp/mm2.safetensors" --eval 100 --quiet
cmp -s "$tmp/mm.safetensors" "$tmp/mm2.safetensors" || fail "two min/max runs wrote different checkpoints"

# 3. percentile (default P), and the simulated RTL
out=$(q --model "$tmp/float.safetensors" --out "$tmp/p.safetensors" --observer percentile --eval 2000 --json) ||
  fail "quantize percentile: $out"
grep -q '"observer":[[:space:]]*"percentile 99.99"' <<<"$out" || fail "observer not percentile 99.99: $out"
awk -v d="$(json_num accuracy_drop_points <<<"$out")" 'BEGIN { exit !(d > -1 && d < 1) }' || fail "percentile drop: $out"
m=$(q --model "$tmp/float.safetensors" --out "$tmp/p1.safetensors" --observer percentile:99.9 --eval 300 --json | json_num int8_accuracy)
s=$(q --model "$tmp/float.safetensors" --out "$tmp/p2.safetensors" --observer percentile:99.9 --eval 300 --json \
      --device sim | json_num int8_accuracy)
[ -n "$m" ] && [ "$m" = "$s" ] || fail "percentile:99.9 int8 accuracy: model $m, sim $s"

[ "$fails" -eq 0 ] && echo "quantize_cli: all checks passed"
exit $((fails > 0))
