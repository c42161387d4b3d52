#!/usr/bin/env bash
# tests/e2e/fashion_ci.sh NNFPGA TMPDIR [FASHION_DIR]   (about 20 s on two cores)
#
# The CI-sized accuracy figure: 784-128-10 (ReLU, Adam, batch 64, seed 1)
# trained on the first 10,000 Fashion-MNIST training images for 3 epochs with
# every forward pass in int8 on the functional model, then its int8 model
# evaluated there on all 10,000 test images. Deterministic: this build gives
# 82.37 %. The threshold is that figure less a margin of 0.5 points (what a
# different BLAS or CPU may move through float rounding, a few dozen images:
# torch 1.13's Adam running mean instead of 2.x's moves it to 82.42 %), so a
# regression in training, quantization-aware training or the device path
# shows here, in `make test`, and not only in the slow full runs.
set -eu
nnfpga=$1
tmp=$2
data=${3:-/usr/share/datasets/fashion-mnist}
measured=0.8237
margin=0.005
mkdir -p "$tmp"
ck=$tmp/fashion_ci.safetensors
"$nnfpga" train --device model --data "$data" --layers 784,128,10 --act relu --optimizer adam \
  --limit 10000 --epochs 3 --batch 64 --seed 1 --test-limit 0 --quiet --out "$ck" >/dev/null
a=$("$nnfpga" eval --model "$ck" --device model --data "$data" --json |
  grep -oE '"accuracy":[[:space:]]*[0-9.]+' | grep -oE '[0-9.]+$')
echo "fashion_ci: int8 accuracy on the model device $a (measured $measured, threshold $measured - $margin)"
awk -v a="$a" -v m="$measured" -v d="$margin" 'BEGIN { if (!(a >= m - d)) { print "FAIL: below the threshold"; exit 1 } }'
