#!/usr/bin/env bash
# tests/e2e/fashion_full.sh NNFPGA TMPDIR  (label slow: about 8 minutes on two cores)
#
# The README's figures for the MLP, by the README's commands: 784-128-10
# (ReLU, Adam, batch 64, seed 1) trained on all of Fashion-MNIST with every
# forward pass in int8 on the model device for 20 epochs, its int8 model
# evaluated on the simulated RTL over the 10,000 test images, its own float
# weights on the host, and the same network trained in float (--float).
# Each run is deterministic on a given build and machine; each figure must
# reach the published one less 0.3 points (30 images, for another CPU's BLAS
# kernels), and the int8 model must lie within 0.5 points of its float
# weights. These figures are sensitive to the last bits of the arithmetic:
# torch 2.x's lerp_ running mean in Adam instead of 1.13's mul_ + add_ moved
# them from 89.11 / 88.98 % (the 1.13 formulas, re-measured) to 88.54 /
# 88.65 %. So a change of rounding anywhere in training can fail this test
# without a bug: then re-measure, and publish the new figures here and in
# README.md together.
set -eu
nnfpga=$1
tmp=$2
mkdir -p "$tmp"
# published in README.md (update both together)
pub_int8=0.8854
pub_own_float=0.8865
pub_float=0.8937
margin=0.003
ck=$tmp/fashion_full.safetensors
fk=$tmp/fashion_float.safetensors
"$nnfpga" train --device model --layers 784,128,10 --act relu --optimizer adam --epochs 20 \
  --batch 64 --seed 1 --test-limit 0 --quiet --out "$ck" >/dev/null
"$nnfpga" train --float --layers 784,128,10 --act relu --optimizer adam --epochs 20 \
  --batch 64 --seed 1 --test-limit 0 --quiet --out "$fk" >/dev/null
acc() { grep -oE '"accuracy":[[:space:]]*[0-9.]+' | grep -oE '[0-9.]+$'; }
q=$("$nnfpga" eval --model "$ck" --device sim --json | acc)
f=$("$nnfpga" eval --model "$ck" --float --json | acc)
ff=$("$nnfpga" eval --model "$fk" --float --json | acc)
echo "int8 on sim: $q (published $pub_int8), its float weights: $f (published $pub_own_float)," \
  "trained in float: $ff (published $pub_float)"
awk -v q="$q" -v f="$f" -v ff="$ff" -v pq="$pub_int8" -v pf="$pub_own_float" -v pff="$pub_float" \
  -v m="$margin" 'BEGIN {
  ok = 1
  if (!(q >= pq - m)) { print "FAIL: int8 on sim below the published figure less " m; ok = 0 }
  if (!(f >= pf - m)) { print "FAIL: its float weights below the published figure less " m; ok = 0 }
  if (!(ff >= pff - m)) { print "FAIL: float training below the published figure less " m; ok = 0 }
  if (!(q - f <= 0.005 && f - q <= 0.005)) { print "FAIL: int8 not within 0.005 of its float weights"; ok = 0 }
  exit !ok }'
