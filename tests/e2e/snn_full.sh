#!/usr/bin/env bash
# tests/e2e/snn_full.sh NNFPGA TMPDIR  (label slow: a few minutes on two cores)
#
# The README's spiking figure, by the README's command: a 784-128-10 LIF
# network, T = 25, trained on the host on all of Fashion-MNIST for 10 epochs
# with a cosine schedule (seed 1), evaluated on the simulated RTL over the
# 10,000 test images: equal to the host integer reference's accuracy, and
# at least the published figure less 0.3 points (30 images, for another
# CPU's BLAS kernels; the run is deterministic on a given build). Like the
# MLP's (fashion_full.sh), the figure moves with the last bits of training:
# torch 2.x's Adam running mean moved it from 88.51 % to 88.32 %; after such
# a change re-measure and publish here, in README.md and docs/snn.md.
set -eu
nnfpga=$1
tmp=$2
mkdir -p "$tmp"
pub=0.8832   # published in README.md and docs/snn.md (update together)
margin=0.003
ck=$tmp/snn_full.safetensors
"$nnfpga" train --model snn --layers 784,128,10 --steps 25 --epochs 10 --schedule cosine --seed 1 \
  --test-limit 0 --quiet --out "$ck"
acc() { grep -oE '"accuracy":[[:space:]]*[0-9.]+' | grep -oE '[0-9.]+$'; }
h=$("$nnfpga" eval --model "$ck" --device host --json | acc)
s=$("$nnfpga" eval --model "$ck" --device sim --json | acc)
echo "spiking 784-128-10, T = 25: host integer reference $h, simulated RTL $s (published $pub)"
[ "$h" = "$s" ] || { echo "FAIL: the device and the host reference differ"; exit 1; }
awk -v a="$s" -v p="$pub" -v m="$margin" 'BEGIN { if (!(a >= p - m)) { print "FAIL: below the published figure less " m; exit 1 } }'
