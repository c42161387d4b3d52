#!/usr/bin/env bash
# scripts/demo.sh NNFPGA OUTDIR [LIMIT EPOCHS EVAL_LIMIT]  -  what `make demo` runs
#
# Train 784-128-10 (ReLU, Adam, batch 64, seed 1) on the first LIMIT
# Fashion-MNIST training images (default 12000) for EPOCHS epochs (default 2)
# with every forward pass in int8 on the simulated RTL (--device sim), then
# evaluate the int8 model there on the first EVAL_LIMIT test images (default
# all 10000): accuracy, cycles per image and array utilization.
# The Makefile passes DEMO_LIMIT, DEMO_EPOCHS and DEMO_EVAL_LIMIT; the CTest
# e2e_demo_smoke runs this same script with tiny limits, e2e_demo_full (slow)
# with the defaults, and checks the README's figure.
set -eu
nnfpga=$1
out=$2
limit=${3:-12000}
epochs=${4:-2}
eval_limit=${5:-10000}
test_limit=$((eval_limit < 1000 ? eval_limit : 1000))
mkdir -p "$out"
"$nnfpga" info --device sim
echo
echo "== training 784-128-10 (ReLU, Adam) on $limit Fashion-MNIST images, $epochs epochs, forward passes on the simulated device =="
"$nnfpga" train --device sim --layers 784,128,10 --act relu --optimizer adam \
  --limit "$limit" --epochs "$epochs" --test-limit "$test_limit" --batch 64 --seed 1 --out "$out/fashion.safetensors"
echo
echo "== the int8 model on the simulated device, $eval_limit test images =="
"$nnfpga" eval --model "$out/fashion.safetensors" --device sim --limit "$eval_limit"
