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
# model on the test set there (scripts/demo.sh; a full run: docs/host.md,
# README). The limits are variables so that `make test`'s smoke run
# (e2e_demo_smoke) runs the same script with tiny ones.
DEMO_DIR ?= $(BUILD)/demo
DEMO_LIMIT ?= 12000
DEMO_EPOCHS ?= 2
DEMO_EVAL_LIMIT ?= 10000
demo: build
	@scripts/demo.sh $(BUILD)/host/nnfpga $(DEMO_DIR) $(DEMO_LIMIT) $(DEMO_EPOCHS) $(DEMO_EVAL_LIMIT)

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
