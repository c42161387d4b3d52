#!/usr/bin/env bash
# tests/e2e/attn_cli.sh NNFPGA TMPDIR [FASHION_DIR]
#
# The attention layers on a device from the command line:
#   - a small encoder (token embedding, positional embedding, a pre-norm GELU
#     encoder layer of 4 heads, mean pooling, a Linear) trains with
#     quantization-aware training on the host (--device host) on sequential
#     Fashion-MNIST (28 tokens of 28 pixels) to well above chance (> 50%);
#   - its checkpoint evaluates on the functional model (--device model) and
#     on the Verilated RTL (--device sim) to exactly the count of correct
#     images the host's integer forward gives (eval --device host --int):
#     the device computes what the host's INT forward defines;
#   - eval --arch with --device sim prints the device's cycles per image;
#   - refusals: training with the forward on a device (exit 1, naming the
#     layer); a device without the ROW and ACTW instructions (exit 1, the
#     layer and the missing feature bits).
set -u
nnfpga=$1
tmp=$2
data=${3:-/usr/share/datasets/fashion-mnist}
rm -rf "$tmp"
mkdir -p "$tmp"
. "$(dirname "$0")/lib.sh"

arch="embed(16),posembed(28),encoder(16,4,ff=32,act=gelu,norm_first=1),meanpool,dense(10)"
ck=$tmp/enc.safetensors
out=$("$nnfpga" train --device host --data "$data" --limit 4000 --epochs 2 --lr 0.003 --test-limit 0 --seed 5 \
  --arch "$arch" --out "$ck" 2>&1) || fail "train --device host: $out"

correct() { sed -n 's/^accuracy [0-9.]*% (\([0-9]*\) of \([0-9]*\) images.*/\1 of \2/p' <<<"$1"; }
host=$("$nnfpga" eval --model "$ck" --device host --int --data "$data" --limit 200 2>&1) || fail "eval --int: $host"
want=$(correct "$host")
echo "host INT: ${want:-?} images correct"
n=${want%% of*}
[ -n "$want" ] && [ "${n:-0}" -gt 100 ] || fail "the host's INT forward got ${want:-?} (want more than 100 of 200): $host"
for dev in model sim; do
  ev=$("$nnfpga" eval --model "$ck" --device "$dev" --data "$data" --limit 200 2>&1) || fail "eval --device $dev: $ev"
  got=$(correct "$ev")
  echo "$dev: ${got:-?} images correct"
  [ "$got" = "$want" ] || fail "eval --device $dev: ${got:-?} correct, the host's INT forward ${want}: $ev"
done

ev=$("$nnfpga" eval --arch "$arch" --input-shape 1x28x28 --device sim --data "$data" --limit 4 2>&1) ||
  fail "eval --arch on sim: $ev"
grep -qE "device: [0-9.]+ cycles per image" <<<"$ev" || fail "eval --arch on sim printed no cycles: $ev"

expect 1 "layer 0 \(TokenLinear\(28,16\)\): attention layers train with --float or --device host" -- \
  "$nnfpga" train --device model --data "$data" --limit 64 --epochs 1 --test-limit 0 --arch "$arch" --out "$tmp/x.safetensors"
expect 1 "layer 2 \(TransformerEncoderLayer\(16,4,.*\)\): device model:row=0 does not run it: its INFO lacks feature bits 11 and 12 \(FEAT_ROW, FEAT_ACTW\)" -- \
  "$nnfpga" eval --model "$ck" --device model:row=0 --data "$data" --limit 8

[ "$fails" -eq 0 ] || exit 1
echo "attn_cli: ok"
