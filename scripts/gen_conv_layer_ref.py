#!/usr/bin/python3
"""gen_conv_layer_ref.py - reference outputs and gradients of small
conv / pool / flatten / linear stacks from PyTorch, for
tests/host/test_conv_layers.c.

Run with Debian's python3-torch (torch 1.13, /usr/bin/python3):
    /usr/bin/python3 scripts/gen_conv_layer_ref.py [out.json]
Default output: tests/data/conv_layer_ref.json in this script's repo.

Each case is an nn.Sequential in float32 whose architecture string is what
libnnf's layers describe themselves as (valid constructor calls of torch.nn,
so this script builds the net by evaluating them), a fixed input x
[B, C, H, W], the parameters (seeded), the output y, an upstream gradient g
and, for the scalar (y * g).sum(), the gradients of x and of every
parameter (state_dict names). The cases cover stride 2, padding, a 1x1
kernel, conv without bias, max pooling with padding, average pooling with
padding (count_include_pad=False), global average pooling, and channel counts
that are not multiples of 8; and a graph, "residual": two ResNet-8 blocks, an
identity shortcut (Add(1)) and a 1x1 stride-2 conv shortcut reading an
earlier output (from=6) joined by Add(10). Entries with from=K and Add(K)
are run by scripts/torch_check.py's Graph (split_from takes from=K out of an
entry; the rest is still evaluated as a torch.nn constructor call). Float32
values are written with %.9g.
"""
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_check import graph_types, split_arch, split_from  # noqa: E402  (the one parse of an architecture string)

CASES = [
    ("strided", [2, 3, 9, 9],
     "Conv2d(3,5,kernel_size=3,stride=2,padding=1),ReLU,Conv2d(5,6,kernel_size=1,stride=1,padding=0),"
     "MaxPool2d(kernel_size=3,stride=2,padding=1),"
     "AvgPool2d(kernel_size=2,stride=1,padding=1,count_include_pad=False),"
     "Conv2d(6,4,kernel_size=3,stride=1,padding=2,bias=False),Flatten,Linear(144,3)"),
    ("global", [3, 3, 8, 8],
     "Conv2d(3,9,kernel_size=3,stride=1,padding=1),ReLU6,AdaptiveAvgPool2d(1),Flatten,Linear(9,4)"),
    ("lenet", [2, 1, 12, 12],
     "Conv2d(1,6,kernel_size=5,stride=1,padding=2),ReLU,MaxPool2d(kernel_size=2,stride=2,padding=0),"
     "Conv2d(6,10,kernel_size=3,stride=2,padding=1),Tanh,AvgPool2d(kernel_size=3,stride=1,padding=1,"
     "count_include_pad=False),Flatten,Linear(90,5)"),
    # uneven padding, a rectangular kernel with strides and padding per axis,
    # a depthwise conv and a grouped one (docs/conv.md "Depthwise and rectangular")
    ("depthwise", [2, 4, 9, 8],
     "ZeroPad2d((0,1,0,1)),Conv2d(4,6,kernel_size=(3,2),stride=(2,1),padding=(1,0)),ReLU,"
     "Conv2d(6,6,kernel_size=3,stride=1,padding=1,groups=6),ReLU6,"
     "Conv2d(6,12,kernel_size=(1,3),stride=1,padding=(0,1),groups=3,bias=False),Flatten,Linear(480,3)"),
    # a residual graph (docs/tiny.md "Residual graphs"): a block with an
    # identity shortcut (layer 5 adds layer 1's output), then a stride-2
    # block whose shortcut, a 1x1 stride-2 conv, reads layer 6's output
    # (from=6) and is joined by Add(10)
    ("residual", [2, 3, 8, 8],
     "Conv2d(3,4,kernel_size=3,stride=1,padding=1),ReLU,Conv2d(4,4,kernel_size=3,stride=1,padding=1),ReLU,"
     "Conv2d(4,4,kernel_size=3,stride=1,padding=1),Add(1),ReLU,ZeroPad2d((0,1,0,1)),"
     "Conv2d(4,6,kernel_size=3,stride=2,padding=0),ReLU,Conv2d(6,6,kernel_size=3,stride=1,padding=1),"
     "Conv2d(4,6,kernel_size=1,stride=2,padding=0,from=6),Add(10),ReLU,AdaptiveAvgPool2d(1),Flatten,Linear(6,3)"),
]


def build(arch):
    """torch_check's Graph (an nn.Sequential; a chain runs as one) of the
    entries: from=K taken out by split_from, Add(K) its Add, the rest
    evaluated as torch.nn constructor calls."""
    Add, Graph = graph_types(torch)
    mods = []
    for item in split_arch(arch):
        item, src = split_from(item)
        name = item if "(" in item else item + "()"
        mods.append(eval(name if name.startswith("Add(") else "nn." + name, {"nn": nn, "Add": Add}))
        if src is not None:
            mods[-1].nnf_from = src
    return Graph(*mods)


def f32(t):
    return [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "data", "conv_layer_ref.json")
    torch.manual_seed(14)
    cases = []
    for name, shape, arch in CASES:
        net = build(arch)
        with torch.no_grad():
            for p in net.parameters():
                p.uniform_(-0.6, 0.6)
        x = (torch.rand(*shape) * 2 - 1).requires_grad_(True)
        y = net(x)
        g = torch.rand(*y.shape) * 2 - 1
        (y * g).sum().backward()
        case = {"name": name, "architecture": arch, "input_shape": shape, "x": f32(x), "y": f32(y),
                "g": f32(g), "dx": f32(x.grad), "params": {}, "grads": {}}
        for pname, p in net.named_parameters():
            case["params"][pname] = f32(p)
            case["grads"][pname] = f32(p.grad)
        cases.append(case)
    with open(out, "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
