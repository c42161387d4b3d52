#!/usr/bin/env python3
"""bench/train_step.py - the host training step, nnfpga against PyTorch.

Both sides do the same work: forward, backward (softmax cross-entropy) and one
Adam step of a 784-128-10 ReLU MLP on a batch of 64 random images, in float32,
on one thread, after 20 warm-up steps; each reports the median of N steps.
nnfpga's figure comes from `nnfpga bench --device none --json`. The result is
merged into the bench JSON under "train_step": {nnfpga_us, torch_us, ratio};
without PyTorch (Debian's python3-torch, installed by `scripts/bootstrap
--bench` for /usr/bin/python3) the entry says so and nnfpga's figure stays.

    /usr/bin/python3 bench/train_step.py --nnfpga build/host/nnfpga --json build/reports/bench.json
"""
import argparse
import json
import statistics
import subprocess
import sys
import time

import bench_json


def torch_step_us(steps):
    import torch  # noqa: imported here so that its absence is reported, not fatal

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(64, 784)
    y = torch.randint(0, 10, (64,))
    times = []
    for s in range(-20, steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        if s >= 0:
            times.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(times), torch.__version__


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nnfpga", required=True, help="path of the nnfpga executable")
    ap.add_argument("--json", help="bench JSON file to merge the entry into")
    ap.add_argument("--steps", type=int, default=500)
    args = ap.parse_args()

    out = subprocess.run([args.nnfpga, "bench", "--device", "none", "--steps", str(args.steps), "--json"],
                         check=True, capture_output=True, text=True).stdout
    entry = json.loads(out)["train_step"]
    try:
        torch_us, version = torch_step_us(args.steps)
        entry["torch_us"] = torch_us
        entry["torch_version"] = version
        entry["ratio"] = entry["nnfpga_us"] / torch_us
        print(f"train_step: nnfpga {entry['nnfpga_us']:.1f} us, PyTorch {version} {torch_us:.1f} us, "
              f"ratio {entry['ratio']:.3f} (goal <= 0.5)")
    except ImportError as e:
        entry["torch_us"] = None
        entry["ratio"] = None
        entry["torch"] = f"absent ({e}); run scripts/bootstrap"
        print(f"train_step: nnfpga {entry['nnfpga_us']:.1f} us; PyTorch absent, no ratio "
              "(scripts/bootstrap installs it)")
    if args.json:
        bench_json.merge(args.json, "train_step", entry)
    return 0


if __name__ == "__main__":
    sys.exit(main())
