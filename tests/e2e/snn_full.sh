#!/usr/bin/env bash
# tests/e2e/snn_full.sh NNFPGA TMPDIR  (label slow: a few minutes on two cores)
#
# Issue 5's figure: a 784-128-10 LIF network, T = 25, trained on the host on
# all of Fashion-MNIST, evaluated on the simulated RTL over the 10,000 test
# images: >= 85 % and equal to the host integer reference's accuracy.
set -eu
nnfpga=$1
tmp=$2
mkdir -p "$tmp"
ck=$tmp/snn_full.safetensors
"$nnfpga" train --model snn --layers 784,128,10 --steps 25 --epochs 10 --schedule cosine --seed 1 \
  --test-limit 0 --quiet --out "$ck"
acc() { grep -oE '"accuracy":[[:space:]]*[0-9.]+' | grep -oE '[0-9.]+$'; }
h=$("$nnfpga" eval --model "$ck" --device host --json | acc)
s=$("$nnfpga" eval --model "$ck" --device sim --json | acc)
echo "spiking 784-128-10, T = 25: host integer reference $h, simulated RTL $s"
[ "$h" = "$s" ] || { echo "FAIL: the device and the host reference differ"; exit 1; }
awk -v a="$s" 'BEGIN { if (a < 0.85) { print "FAIL: want >= 0.85"; exit 1 } }'
