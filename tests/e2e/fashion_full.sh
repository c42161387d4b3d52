#!/usr/bin/env bash
# tests/e2e/fashion_full.sh NNFPGA TMPDIR  (label slow: about 5 minutes on two cores)
#
# The issue's figure: 784-128-10 trained on all of Fashion-MNIST with every
# forward pass in int8 on the model backend, 20 epochs of Adam; its int8 model
# evaluated on the simulated RTL over the 10,000 test images must reach
# >= 88.5 % and lie within 0.5 points of the same network's float accuracy.
set -eu
nnfpga=$1
tmp=$2
mkdir -p "$tmp"
ck=$tmp/fashion_full.safetensors
"$nnfpga" train --device model --layers 784,128,10 --act relu --optimizer adam --epochs 20 \
  --batch 64 --seed 1 --test-limit 0 --quiet --out "$ck"
q=$("$nnfpga" eval --model "$ck" --device sim --json)
f=$("$nnfpga" eval --model "$ck" --float --json)
acc() { grep -oE '"accuracy":[[:space:]]*[0-9.]+' | grep -oE '[0-9.]+$'; }
qa=$(acc <<<"$q")
fa=$(acc <<<"$f")
echo "int8 on sim: $qa, float: $fa"
awk -v q="$qa" -v f="$fa" 'BEGIN { ok = (q >= 0.885) && (f - q <= 0.005) && (q - f <= 0.005);
  if (!ok) print "FAIL: want int8 >= 0.885 and within 0.005 of float"; exit !ok }'
