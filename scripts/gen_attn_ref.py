#!/usr/bin/python3
"""gen_attn_ref.py - reference outputs and gradients of the attention layers
from PyTorch, for tests/host/test_attn.c.

Run with Debian's python3-torch (torch 1.13, /usr/bin/python3):
    /usr/bin/python3 scripts/gen_attn_ref.py [out.json]
Default output: tests/data/attn_ref.json in this script's repo.

Each case is a torch.nn.Sequential of the modules scripts/attn_modules.py
builds from the entries libnnf describes its layers as (`describe`; `arch`
is the users' grammar, nnf_arch.c): LayerNorm, GELU (erf and tanh),
MultiheadAttention with 1 and 4 heads, TransformerEncoderLayer post-norm
and pre-norm with ReLU and GELU, and two 2-layer stacks (token embedding,
positional embedding, mean pooling; and a class token, a final LayerNorm
and the class token's output), each ending in a Linear head. In float32,
in eval mode (dropout 0; with gradients on, PyTorch takes its reference
path, not the fused inference kernels). Its parameters start from
PyTorch's initialisation, seeded, and are then moved by 0.1 N(0, 1) (so
LayerNorm's ones and zeros and attention's zero biases are not special);
an input x [B, T * I] (standard normal, GELU's 3 N(0, 1)), the output y,
an upstream gradient dy and, for the scalar (y * dy).sum(), the gradients
of x and of every parameter under the Sequential's state_dict names.
Float32 values are written with %.9g (exact round trip).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attn_modules import attn_module  # noqa: E402

B, T = 3, 5

ENC = ("TransformerEncoderLayer({d},{h},dim_feedforward={f},dropout=0.0,activation='{a}',layer_norm_eps=1e-05,"
       "batch_first=True,norm_first={n})")


def enc(d, h, f, a, n):
    return ENC.format(d=d, h=h, f=f, a=a, n="True" if n else "False")


CASES = [
    # name, grammar, describe (the layers' entries), I (a token's input features)
    ("layernorm", "layernorm(6)", ["LayerNorm(6,eps=1e-05)"], 6),
    ("layernorm_eps", "layernorm(6,eps=0.01)", ["LayerNorm(6,eps=0.01)"], 6),
    ("gelu", "gelu", ["GELU"], 4),
    ("gelu_tanh", "gelu(approx=tanh)", ["GELU(approximate='tanh')"], 4),
    ("mha_1head", "mha(8,1)", ["MultiheadAttention(8,1,batch_first=True)"], 8),
    ("mha_4heads", "mha(8,4)", ["MultiheadAttention(8,4,batch_first=True)"], 8),
    ("enc_post_relu", "encoder(8,2,ff=16)", [enc(8, 2, 16, "relu", 0)], 8),
    ("enc_pre_relu", "encoder(8,2,ff=16,norm_first=1)", [enc(8, 2, 16, "relu", 1)], 8),
    ("enc_post_gelu", "encoder(8,4,ff=12,act=gelu)", [enc(8, 4, 12, "gelu", 0)], 8),
    ("enc_pre_gelu", "encoder(8,4,ff=12,act=gelu,norm_first=1)", [enc(8, 4, 12, "gelu", 1)], 8),
    ("stack_meanpool",
     "embed(8,in=4),posembed(6),encoder(8,4,ff=16),encoder(8,4,ff=16,act=gelu,norm_first=1),meanpool,dense(3)",
     ["TokenLinear(4,8)", "PositionalEmbedding(6,8)", enc(8, 4, 16, "relu", 0), enc(8, 4, 16, "gelu", 1),
      "TokenPool(8,mode='mean')", "Linear(8,3)"], 4),
    ("stack_clstoken",
     "embed(8,in=4),clstoken,posembed(6),encoder(8,2,ff=16,act=gelu),encoder(8,2,ff=16,norm_first=1),layernorm,"
     "clspool,dense(3)",
     ["TokenLinear(4,8)", "ClassToken(8)", "PositionalEmbedding(6,8)", enc(8, 2, 16, "gelu", 0),
      enc(8, 2, 16, "relu", 1), "LayerNorm(8,eps=1e-05)", "TokenPool(8,mode='cls')", "Linear(8,3)"], 4),
]


def flat(t):
    return [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]


def module(entry):
    name, _, args = entry.partition("(")
    args = args[:-1] if args.endswith(")") else args
    if name == "Linear":
        i, o = (int(v) for v in args.split(","))
        return torch.nn.Linear(i, o)
    m = attn_module(torch, name, args)
    assert m is not None, entry
    return m


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "data", "attn_ref.json")
    torch.manual_seed(26)
    cases = []
    for name, arch, describe, I in CASES:
        model = torch.nn.Sequential(*[module(e) for e in describe]).float().eval()
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.1 * torch.randn_like(p))
        x = torch.randn(B, T * I) * (3 if name.startswith("gelu") else 1)
        x.requires_grad_(True)
        y = model(x)
        dy = torch.randn_like(y)
        (y * dy).sum().backward()
        cases.append({
            "name": name, "arch": arch, "describe": ",".join(describe),
            "B": B, "T": T, "I": I,
            "x": flat(x), "y": flat(y), "dy": flat(dy), "dx": flat(x.grad),
            "params": {k: flat(v) for k, v in model.state_dict().items()},
            "grads": {k: flat(p.grad) for k, p in model.named_parameters()},
        })
    with open(out, "w") as f:
        json.dump({"generator": "scripts/gen_attn_ref.py", "torch": torch.__version__, "cases": cases}, f, indent=0)
        f.write("\n")
    print(f"gen_attn_ref: {len(cases)} cases -> {out} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
