#!/usr/bin/python3
"""gen_loss_ref.py - reference losses, dropout, L1 and gradient clipping
from PyTorch, for tests/host/test_losses.c.

Run with Debian's python3-torch (torch 1.13, /usr/bin/python3):
    /usr/bin/python3 scripts/gen_loss_ref.py [out.json]
Default output: tests/data/loss_ref.json in this script's repo.

Every case is float32, reduction 'mean', as libnnf computes it:
  ce          torch.nn.CrossEntropyLoss on logits [B, C] and int labels
  bce_multi   torch.nn.BCEWithLogitsLoss on logits [B, L] and targets in [0, 1]
              (multi-label), logits up to |z| = 1e4 (where exp overflows float)
  bce_binary  the same on one logit per row, targets the labels 0 / 1
  mse         torch.nn.MSELoss        mae  torch.nn.L1Loss (some exact zeros)
  huber       torch.nn.HuberLoss(delta) for delta 1 and 0.5
Each records the inputs, `loss` (the forward value) and `grad` (the
gradient of the loss with respect to the logits / predictions).

  dropout     torch.nn.functional.dropout(x, p, training=True) under
              torch.manual_seed: x, p, the mask torch drew (y != 0; x has no
              zeros), y, an upstream gradient dy and x.grad. libnnf draws its
              own masks from its generator; the test applies torch's mask
              through libnnf's rule (nnf_dropout_apply) and compares y and dx.
  l1          params (two tensors, some exact zeros) with a gradient already
              there (g0), then (l1 * sum_p p.abs().sum()).backward(): the
              penalty and the gradients after.
  clip        torch.nn.utils.clip_grad_norm_(params, max_norm) (norm 2,
              eps 1e-6): grads before, the returned total norm, grads after;
              one case that clips, one that does not.
Float32 values are written with %.9g (exact through strtod + (float)).
"""
import json
import os
import sys

import torch
import torch.nn.functional as F


def f32(t):
    """A float32 tensor as a list of exact decimal strings' floats."""
    return [float("%.9g" % v) for v in t.detach().reshape(-1).tolist()]


def loss_case(name, fn, z, t, **extra):
    z = z.clone().float().requires_grad_(True)
    loss = fn(z, t)
    loss.backward()
    case = {"name": name, "shape": list(z.shape), "input": f32(z), "loss": float("%.9g" % loss.item()),
            "grad": f32(z.grad)}
    case["target"] = t.reshape(-1).tolist() if t.dtype == torch.int64 else f32(t)
    case.update(extra)
    return case


def main():
    torch.manual_seed(1234)
    g = torch.Generator().manual_seed(99)
    cases = []
    # cross-entropy: ordinary and large logits
    z = torch.randn(6, 5, generator=g) * 3
    z[1, 2], z[2, 0], z[3, 4] = 80.0, -60.0, 1e3
    y = torch.tensor([0, 2, 1, 4, 3, 2])
    cases.append(loss_case("ce", torch.nn.CrossEntropyLoss(), z, y, loss_kind="ce"))
    # BCE with logits, multi-label: fractional targets too, large magnitudes
    z = torch.randn(5, 4, generator=g) * 4
    z[0, :] = torch.tensor([30.0, -30.0, 100.0, -100.0])
    z[1, :] = torch.tensor([1e4, -1e4, 88.5, -88.5])
    t = (torch.rand(5, 4, generator=g) > 0.5).float()
    t[0, :] = torch.tensor([0.0, 1.0, 1.0, 0.0])   # confident and wrong on 0, 1; right on 2, 3
    t[2, 1] = 0.3
    cases.append(loss_case("bce_multi", torch.nn.BCEWithLogitsLoss(), z, t, loss_kind="bce"))
    # BCE binary: one logit per row, labels as targets
    z = torch.tensor([[0.0], [2.5], [-1.25], [40.0], [-40.0], [0.001], [-17.0], [9.0]])
    lab = torch.tensor([1, 0, 0, 1, 1, 0, 0, 1])
    cases.append(loss_case("bce_binary", torch.nn.BCEWithLogitsLoss(), z, lab.float().reshape(8, 1),
                           loss_kind="bce", labels=lab.tolist()))
    # regression losses
    p = torch.randn(4, 3, generator=g)
    t = torch.randn(4, 3, generator=g)
    t[0, 0] = p[0, 0]  # an exact zero difference
    t[2, 1] = p[2, 1]
    cases.append(loss_case("mse", torch.nn.MSELoss(), p, t, loss_kind="mse"))
    cases.append(loss_case("mae", torch.nn.L1Loss(), p, t, loss_kind="mae"))
    p2 = p * 2
    p2[0, 0], p2[2, 1] = t[0, 0] + 1.0, t[2, 1] - 0.5   # exactly at delta 1 and 0.5
    cases.append(loss_case("huber_1", torch.nn.HuberLoss(delta=1.0), p2, t, loss_kind="huber", delta=1.0))
    cases.append(loss_case("huber_0.5", torch.nn.HuberLoss(delta=0.5), p2, t, loss_kind="huber", delta=0.5))

    dropout = []
    for i, pr in enumerate((0.1, 0.3, 0.5, 0.9)):
        torch.manual_seed(7 + i)
        x = (torch.rand(200, generator=g) + 0.1) * torch.sign(torch.randn(200, generator=g))
        x = x.requires_grad_(True)
        yv = F.dropout(x, pr, training=True)
        dy = torch.randn(200, generator=g)
        yv.backward(dy)
        dropout.append({"p": pr, "x": f32(x), "mask": [int(v) for v in (yv != 0).tolist()], "y": f32(yv),
                        "dy": f32(dy), "dx": f32(x.grad)})

    l1 = []
    for coef in (1e-3, 0.05):
        ws = [torch.randn(3, 4, generator=g), torch.randn(4, generator=g)]
        ws[0][1, 1] = 0.0
        ws[1][2] = 0.0
        ws = [w.requires_grad_(True) for w in ws]
        g0 = [torch.randn(w.shape, generator=g) * 0.1 for w in ws]
        for w, gg in zip(ws, g0):
            w.grad = gg.clone()
        pen = coef * sum(w.abs().sum() for w in ws)
        pen.backward()
        l1.append({"l1": coef, "sizes": [w.numel() for w in ws], "w": sum((f32(w) for w in ws), []),
                   "g0": sum((f32(x) for x in g0), []), "penalty": float("%.9g" % pen.item()),
                   "grad": sum((f32(w.grad) for w in ws), [])})

    clip = []
    # the last case: a total norm near eps, where the + 1e-6 matters
    for max_norm, scale in ((1.0, 1.0), (100.0, 1.0), (0.5, 1e3), (1e-6, 1e-6)):
        ws = [torch.zeros(5, 3, requires_grad=True), torch.zeros(5, requires_grad=True),
              torch.zeros(7, requires_grad=True)]
        for w in ws:
            w.grad = torch.randn(w.shape, generator=g) * scale
        before = sum((f32(w.grad) for w in ws), [])
        total = torch.nn.utils.clip_grad_norm_(ws, max_norm)
        clip.append({"max_norm": max_norm, "sizes": [w.numel() for w in ws], "grad": before,
                     "total_norm": float("%.9g" % total.item()), "clipped": sum((f32(w.grad) for w in ws), [])})

    out = {"torch": torch.__version__, "losses": cases, "dropout": dropout, "l1": l1, "clip": clip}
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data", "loss_ref.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {path} (torch {torch.__version__})")


if __name__ == "__main__":
    main()
