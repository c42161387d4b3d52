# nnfpga: the two commands (and a few more).
#   make demo    install what is missing, build, train and evaluate on the simulated device
#   make test    install what is missing, build, run every test that fits CI
#   make bench   benchmarks -> build/reports/bench.json
#   make synth   Yosys + nextpnr for each target -> build/reports/synth-<target>.json
#   make asan    build and test with AddressSanitizer + UBSan (build-asan/)
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
MAKEFLAGS += --no-print-directory

.PHONY: all demo test test-all bench synth asan bootstrap configure build clean lint

all: build

bootstrap:
	@scripts/bootstrap

configure: bootstrap
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# The main job on the simulated device: train 784-128-10 on a Fashion-MNIST
# subset with every forward pass on the Verilated RTL, then evaluate the int8
# model on the whole test set there (a full run: docs/host.md, README).
DEMO_DIR ?= $(BUILD)/demo
demo: build
	@mkdir -p $(DEMO_DIR)
	@$(BUILD)/host/nnfpga info --device sim
	@echo
	@echo "== training 784-128-10 (ReLU, Adam) on 12000 Fashion-MNIST images, 2 epochs, forward passes on the simulated device =="
	@$(BUILD)/host/nnfpga train --device sim --layers 784,128,10 --act relu --optimizer adam \
	  --limit 12000 --epochs 2 --test-limit 1000 --batch 64 --seed 1 --out $(DEMO_DIR)/fashion.safetensors
	@echo
	@echo "== the int8 model on the simulated device, full 10000-image test set =="
	@$(BUILD)/host/nnfpga eval --model $(DEMO_DIR)/fashion.safetensors --device sim

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE slow

test-all: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	@cmake --build $(BUILD) --target bench

synth: configure
	@cmake --build $(BUILD) --target synth

lint:
	@verilator --lint-only -Wall -Irtl/core rtl/core/*.v --top-module nnf_gemm

asan: bootstrap
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNNF_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ctest --output-on-failure -j $(JOBS) -LE 'slow|synth'

clean:
	rm -rf $(BUILD) build-asan
