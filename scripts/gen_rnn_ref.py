#!/usr/bin/python3
"""gen_rnn_ref.py - reference outputs and gradients of the recurrent layers
from PyTorch, for tests/host/test_rnn.c.

Run with Debian's python3-torch (torch 1.13, /usr/bin/python3):
    /usr/bin/python3 scripts/gen_rnn_ref.py [out.json]
Default output: tests/data/rnn_ref.json in this script's repo.

Each case is one torch.nn.RNN (nonlinearity tanh or relu), GRU or LSTM with
batch_first=True, one layer, one direction, zero initial states, in float32:
its parameters (torch's default initialisation, seeded; state_dict names),
an input x [B, T, I] (standard normal), the output y (the last hidden state
output[:, -1], [B, H], or every step's, output [B, T, H], flattened as
libnnf's rows are), an upstream gradient dy of y's shape and, for the scalar
(y * dy).sum(), the gradients of x and of every parameter. `arch` is the
grammar item (nnf_arch.c) and `describe` what libnnf's layer writes in a
checkpoint. Float32 values are written with %.9g (exact round trip).
"""
import json
import os
import sys

import torch
from torch import nn

B, T, I, H = 3, 5, 4, 6

CASES = [
    # name, module, grammar item, describe
    ("rnn_tanh", lambda: nn.RNN(I, H, nonlinearity="tanh", batch_first=True), "rnn"),
    ("rnn_relu", lambda: nn.RNN(I, H, nonlinearity="relu", batch_first=True), "rnn"),
    ("gru", lambda: nn.GRU(I, H, batch_first=True), "gru"),
    ("lstm", lambda: nn.LSTM(I, H, batch_first=True), "lstm"),
]


def flat(t):
    return [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "tests", "data", "rnn_ref.json")
    torch.manual_seed(15)
    cases = []
    for name, make, item in CASES:
        for seq in (0, 1):
            m = make().float()
            x = torch.randn(B, T, I, requires_grad=True)
            out_all, _ = m(x)
            y = out_all if seq else out_all[:, -1]
            dy = torch.randn_like(y)
            (y * dy).sum().backward()
            act = ",act=relu" if name == "rnn_relu" else ""
            nl = {"rnn_tanh": ",nonlinearity='tanh'", "rnn_relu": ",nonlinearity='relu'"}.get(name, "")
            kind = {"rnn_tanh": "RNN", "rnn_relu": "RNN", "gru": "GRU", "lstm": "LSTM"}[name]
            case = {
                "name": f"{name}{'_seq' if seq else ''}",
                "arch": f"{item}({H},in={I}{act}{',seq=1' if seq else ''})",
                "describe": f"{kind}({I},{H}{nl},batch_first=True{',seq=1' if seq else ''})",
                "B": B, "T": T, "I": I, "H": H, "seq": seq,
                "x": flat(x), "y": flat(y), "dy": flat(dy), "dx": flat(x.grad),
                "params": {k: flat(v) for k, v in m.state_dict().items()},
                "grads": {k: flat(p.grad) for k, p in m.named_parameters()},
            }
            if name == "rnn_relu":
                # the smallest |pre-activation| over all steps (in float64)
                with torch.no_grad():
                    md = m.double()
                    h = torch.zeros(B, H, dtype=torch.float64)
                    mn = float("inf")
                    for t in range(T):
                        a = x.double()[:, t] @ md.weight_ih_l0.T + md.bias_ih_l0 + h @ md.weight_hh_l0.T + md.bias_hh_l0
                        mn = min(mn, a.abs().min().item())
                        h = a.clamp(min=0)
                case["min_abs_preact"] = mn
                assert mn > 1e-4, f"a ReLU pre-activation at {mn}: pick another seed"
            cases.append(case)
    with open(out, "w") as f:
        json.dump({"generator": "scripts/gen_rnn_ref.py", "torch": torch.__version__, "cases": cases}, f, indent=0)
        f.write("\n")
    print(f"gen_rnn_ref: {len(cases)} cases -> {out} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
