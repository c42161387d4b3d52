#!/usr/bin/python3
"""gen_torch_seq.py - the PyTorch nn.Sequential state_dict that `nnfpga import
--arch` is tested on (docs/import.md, "PyTorch nn.Sequential").

Writes into tests/data/torch_seq/ (the default; --out DIR elsewhere):

  mlp.safetensors  the state_dict of
                     nn.Sequential(Flatten, Linear(784, 64), ReLU, Dropout(0.1),
                                   Linear(64, 32), Tanh, Linear(32, 10))
                   trained one epoch on Fashion-MNIST (Adam, lr 1e-3, batch 64,
                   seed 1), written by safetensors.torch.save_file: the keys
                   1.weight, 1.bias, 4.weight, 4.bias, 6.weight, 6.bias, F32
  mlp.json         the matching --arch ("flatten,dense(64),relu,dropout(0.1),
                   dense(32),tanh,dense(10)"), PyTorch's float32 logits of the
                   first 32 test images (row-major, 32 x 10) (inputs: pixels / 255 in float32, as
                   nnfpga's IDX reader makes them), its float accuracy on the
                   10,000 test images, the torch version

The tests (tests/host/test_import_torch.c, tests/e2e/quantize_cli.sh) need
neither PyTorch nor this script. Run with Debian's python3 (torch 1.13) and
PyPI's safetensors (scripts/bootstrap installs both, and the flatbuffers
that scripts/gen_import_models.py, whose IDX reader this uses, imports),
about 5 s on two cores:

    /usr/bin/python3 scripts/gen_torch_seq.py
"""
import argparse
import json
import os

import numpy as np
import torch
from safetensors.torch import save_file

from gen_import_models import DATA, idx  # the IDX reader (scripts/ is on sys.path)

ARCH = "flatten,dense(64),relu,dropout(0.1),dense(32),tanh,dense(10)"
NREF = 32


def images(split):
    x = torch.from_numpy(idx(f"{DATA}/{split}-images-idx3-ubyte.gz").copy()).float() / 255.0
    y = torch.from_numpy(idx(f"{DATA}/{split}-labels-idx1-ubyte.gz").astype(np.int64))
    return x.unsqueeze(1), y  # (N, 1, 28, 28): the network flattens


def model():
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Dropout(0.1),
                               torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10))


def train(m, x, y):
    torch.manual_seed(1)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    m.train()
    for i in torch.randperm(len(x)).split(64):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(x[i]), y[i]).backward()
        opt.step()
    m.eval()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data", "torch_seq"))
    a = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(1)
    xtr, ytr = images("train")
    xte, yte = images("t10k")
    m = model()
    train(m, xtr, ytr)
    with torch.no_grad():
        acc = int((m(xte).argmax(1) == yte).sum()) / len(yte)
        logits = m(xte[:NREF])
    os.makedirs(a.out, exist_ok=True)
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, os.path.join(a.out, "mlp.safetensors"))
    ref = {
        "arch": ARCH,
        "input_shape": "1,28,28",
        "images": NREF,
        "logits": [float(v) for v in logits.flatten().tolist()],  # row-major, images x 10
        "test_accuracy": acc,
        "torch": torch.__version__,
    }
    with open(os.path.join(a.out, "mlp.json"), "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print(f"float accuracy {acc:.4f} on {len(xte)} test images; wrote {a.out}/mlp.safetensors, mlp.json")


if __name__ == "__main__":
    main()
