#!/usr/bin/env python3
"""scripts/torch_check.py - load an nnfpga checkpoint in PyTorch, unconverted.

    /usr/bin/python3 scripts/torch_check.py CHECKPOINT [--nnfpga PATH] [--data DIR] [--limit N]

Loads CHECKPOINT with safetensors.torch.load_file, builds the network its
metadata describes as a torch.nn.Sequential (`layers`), loads the float
weights with load_state_dict(strict=True), evaluates it on the Fashion-MNIST
test set with PyTorch, and compares the accuracy with `nnfpga eval --float`
on the same images: both are float forwards of the same weights, so they must
agree to within a handful of images whose top two logits are closer than
float rounding (at most 0.1 % of the images).

Exit codes: 0 agree, 1 disagree or the file does not load, 77 PyTorch or
safetensors absent (CTest's skip code; `scripts/bootstrap --bench` installs them).
"""
import argparse
import gzip
import json
import struct
import subprocess
import sys


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndims = data[3]
    dims = struct.unpack(">" + "I" * ndims, data[4:4 + 4 * ndims])
    return dims, data[4 + 4 * ndims:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--nnfpga", help="compare with `nnfpga eval --float` (path of nnfpga)")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--limit", type=int, default=10000)
    args = ap.parse_args()
    try:
        import torch
        from safetensors.torch import load_file
    except ImportError as e:
        print(f"torch_check: skipped, {e} (scripts/bootstrap --bench installs it)")
        return 77
    tensors = load_file(args.checkpoint)
    with open(args.checkpoint, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        meta = json.loads(f.read(n))["__metadata__"]
    sizes = [int(s) for s in meta["layers"].split(",")]
    acts = {"relu": torch.nn.ReLU, "relu6": torch.nn.ReLU6, "sigmoid": torch.nn.Sigmoid,
            "tanh": torch.nn.Tanh, "none": torch.nn.Identity}
    mods = []
    for i in range(len(sizes) - 1):
        mods.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            mods.append(acts[meta["activation"]]())
    model = torch.nn.Sequential(*mods)
    state = {k[len("layers."):]: v for k, v in tensors.items() if k.startswith("layers.")}
    model.load_state_dict(state, strict=True)
    (count, rows, cols), pixels = read_idx(f"{args.data}/t10k-images-idx3-ubyte.gz")
    _, labels = read_idx(f"{args.data}/t10k-labels-idx1-ubyte.gz")
    count = min(count, args.limit)
    x = torch.frombuffer(bytearray(pixels[:count * rows * cols]), dtype=torch.uint8)
    x = x.reshape(count, rows * cols).float() / 255.0
    y = torch.tensor(list(labels[:count]))
    with torch.no_grad():
        acc = (model(x).argmax(1) == y).float().mean().item()
    print(f"torch_check: {args.checkpoint} loads in PyTorch {torch.__version__}; "
          f"float accuracy {100 * acc:.2f}% on {count} images")
    if args.nnfpga:
        out = subprocess.run([args.nnfpga, "eval", "--model", args.checkpoint, "--float", "--data", args.data,
                              "--limit", str(count), "--json"], check=True, capture_output=True, text=True)
        theirs = json.loads(out.stdout)["accuracy"]
        print(f"torch_check: nnfpga eval --float gives {100 * theirs:.2f}%")
        if abs(theirs - acc) * count > max(1, count // 1000):
            print("torch_check: FAIL, the float forwards disagree")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
