#!/usr/bin/python3
"""gen_optim_ref.py - reference optimizer trajectories from PyTorch.

Runs torch.optim.{SGD, Adagrad, RMSprop, Adam, AdamW} (single-tensor code
path: foreach=False) on a fixed float32 parameter vector with a fixed
sequence of float32 gradients and records the parameters after every step.
tests/host/test_optim.c replays the same cases with libnnf's nnf_optim and
compares every element.

Run with a current PyTorch (tests/data/optim_ref.json was made with torch
2.15.0, the PyPI wheel, in a throwaway virtual environment:
    python3 -m venv /tmp/torchenv && /tmp/torchenv/bin/pip install torch numpy
    /tmp/torchenv/bin/python scripts/gen_optim_ref.py [out.json]
tests/data/optim_ref_torch1.13.json with Debian 12's python3-torch 1.13,
/usr/bin/python3). Default output: tests/data/optim_ref.json next to this
script's repo root.

PyTorch's float32 sqrt on the CPU is not correctly rounded in every build:
measured here, torch 2.15's PyPI wheel (built with MKL, whose vector math
the elementwise sqrt goes through) differs from the correctly rounded root
on 17 % of random inputs, by up to 0.75 ulp; Debian's torch 1.13 (no MKL)
equals it everywhere. So every case is run twice: as
PyTorch computes it (`params`), and with Tensor.sqrt / sqrt_ / torch.sqrt
replaced by the correctly rounded square root (`params_cr_sqrt`; every
other op is PyTorch's own). libnnf must equal the second bit for bit.

File layout:
    torch     torch.__version__ that produced the file
    mkl       torch.backends.mkl.is_available()
    sqrt_off  fraction of 100000 random float32 inputs whose torch.sqrt is
              not the correctly rounded square root
    sizes     the parameter vector is registered as len(sizes) tensors
    init      initial parameters (float32)
    grads     grads[t] is the gradient for step t (float32, whole vector)
    cases     [{name, optimizer, hyper: {PyTorch name: value},
                lr_change: [step, lr] or null (lr set before that step),
                params: params[t] = whole vector after step t,
                params_cr_sqrt: the same with a correctly rounded sqrt}]
Float32 values are written with the shortest decimal that round-trips
through strtod + (float), checked here, or %.9g otherwise (always exact).
"""
import contextlib
import json
import math
import os
import sys

import numpy as np
import torch

STEPS = 20
SIZES = [8, 5]  # two tensors, 13 elements
INIT = [float(np.float32(v)) for v in
        (0.5, -1.25, 2.0, 0.0, -0.75, 3.5, -0.1, 1e-3,
         -4.0, 0.3, 1.7, -2.2, 0.05)]

# Gradient = STEP_SCALE[t] * ELEM_SHAPE[i] * wobble(t, i) * sign(t, i).
# Large steps first, then small ones, so Adam's second moment shrinks and
# amsgrad's running maximum matters; later bursts change it again.
STEP_SCALE = [2.0, 1.5, 3.0, 0.8, 1.2, 0.05, 0.02, 0.1, 0.03, 0.01,
              0.5, 4.0, 0.002, 0.07, 1.0, 0.25, 0.015, 2.5, 0.04, 0.6]
ELEM_SHAPE = [1.0, -0.5, 0.25, -2.0, 0.0, 1.5, -0.1, 3.0,
              -0.75, 0.01, 0.6, -1.2, 0.35]


def grad_value(t, i):
    wobble = 1.0 + 0.1 * ((7 * t + 3 * i) % 5 - 2)
    sign = -1.0 if (t + 2 * i) % 3 == 0 else 1.0
    return STEP_SCALE[t] * ELEM_SHAPE[i] * wobble * sign


GRADS = [[float(np.float32(grad_value(t, i))) for i in range(len(INIT))]
         for t in range(STEPS)]

# PyTorch defaults (torch 1.13 documentation); SGD has no default lr in
# 1.13, libnnf uses torch 2.x's 1e-3.
DEFAULTS = {
    "sgd": dict(lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                nesterov=False),
    "adagrad": dict(lr=1e-2, lr_decay=0.0, weight_decay=0.0,
                    initial_accumulator_value=0.0, eps=1e-10),
    "rmsprop": dict(lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0,
                    momentum=0.0, centered=False),
    "adam": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                 weight_decay=0.0, amsgrad=False),
    "adamw": dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                  weight_decay=1e-2, amsgrad=False),
}

# (name, optimizer, non-default hyperparameters, lr_change or None)
CASES = [
    ("sgd_defaults", "sgd", {}, None),
    ("sgd_plain", "sgd", dict(lr=0.1), None),
    ("sgd_momentum", "sgd", dict(lr=0.05, momentum=0.9), [10, 0.02]),
    ("sgd_dampening_wd", "sgd",
     dict(lr=0.05, momentum=0.8, dampening=0.3, weight_decay=0.01), None),
    ("sgd_nesterov_wd", "sgd",
     dict(lr=0.03, momentum=0.9, nesterov=True, weight_decay=0.05), None),
    ("adagrad_defaults", "adagrad", {}, None),
    ("adagrad_lr_decay", "adagrad", dict(lr=0.1, lr_decay=0.05), None),
    ("adagrad_wd_init", "adagrad",
     dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5),
     None),
    ("adagrad_all", "adagrad",
     dict(lr=0.05, lr_decay=0.01, weight_decay=0.01,
          initial_accumulator_value=0.1, eps=1e-3), [12, 0.2]),
    ("rmsprop_defaults", "rmsprop", {}, None),
    ("rmsprop_alpha_eps", "rmsprop", dict(lr=0.01, alpha=0.9, eps=1e-4), None),
    ("rmsprop_momentum_wd", "rmsprop",
     dict(lr=0.01, momentum=0.9, weight_decay=0.1), None),
    ("rmsprop_centered", "rmsprop", dict(lr=0.01, centered=True), None),
    ("rmsprop_centered_momentum", "rmsprop",
     dict(lr=0.005, alpha=0.95, eps=1e-4, weight_decay=0.01, momentum=0.5,
          centered=True), [8, 0.01]),
    ("adam_defaults", "adam", {}, None),
    ("adam_betas_eps", "adam", dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-4),
     None),
    ("adam_wd", "adam", dict(lr=0.01, weight_decay=0.1), [15, 0.003]),
    ("adam_amsgrad", "adam", dict(lr=0.01, beta2=0.9, amsgrad=True), None),
    ("adam_amsgrad_wd", "adam",
     dict(lr=0.02, beta1=0.5, beta2=0.95, weight_decay=0.05, amsgrad=True),
     None),
    ("adamw_defaults", "adamw", {}, None),
    ("adamw_wd", "adamw", dict(lr=0.01, weight_decay=0.1), [10, 0.05]),
    ("adamw_amsgrad", "adamw",
     dict(lr=0.02, beta2=0.9, weight_decay=0.05, amsgrad=True), None),
    ("adamw_no_wd", "adamw", dict(lr=0.01, beta1=0.7, weight_decay=0.0), None),
]


def make_optimizer(kind, params, h):
    if kind == "sgd":
        return torch.optim.SGD(params, lr=h["lr"], momentum=h["momentum"],
                               dampening=h["dampening"],
                               weight_decay=h["weight_decay"],
                               nesterov=h["nesterov"], foreach=False)
    if kind == "adagrad":
        return torch.optim.Adagrad(
            params, lr=h["lr"], lr_decay=h["lr_decay"],
            weight_decay=h["weight_decay"],
            initial_accumulator_value=h["initial_accumulator_value"],
            eps=h["eps"], foreach=False)
    if kind == "rmsprop":
        return torch.optim.RMSprop(params, lr=h["lr"], alpha=h["alpha"],
                                   eps=h["eps"], weight_decay=h["weight_decay"],
                                   momentum=h["momentum"],
                                   centered=h["centered"], foreach=False)
    cls = torch.optim.Adam if kind == "adam" else torch.optim.AdamW
    return cls(params, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"],
               weight_decay=h["weight_decay"], amsgrad=h["amsgrad"],
               foreach=False)


def cr_sqrt(t):
    """The correctly rounded float32 square root: sqrt in float64, then one
    rounding to float32 (exact, as 53 >= 2 * 24 + 2)."""
    return torch.from_numpy(np.sqrt(t.detach().numpy().astype(np.float64)).astype(np.float32))


@contextlib.contextmanager
def correctly_rounded_sqrt():
    saved = (torch.Tensor.sqrt, torch.Tensor.sqrt_, torch.sqrt)

    def sqrt_(t):
        t.copy_(cr_sqrt(t))
        return t
    torch.Tensor.sqrt = cr_sqrt
    torch.Tensor.sqrt_ = sqrt_
    torch.sqrt = cr_sqrt
    try:
        yield
    finally:
        torch.Tensor.sqrt, torch.Tensor.sqrt_, torch.sqrt = saved


def sqrt_off():
    """Fraction of random float32 inputs where torch.sqrt is not correctly rounded."""
    rng = np.random.default_rng(1)
    x = (np.abs(rng.standard_normal(100000)) * np.exp(rng.uniform(-20, 20, 100000))).astype(np.float32)
    t = torch.from_numpy(x).sqrt().numpy()
    return float(np.mean(t != cr_sqrt(torch.from_numpy(x)).numpy()))


def run(kind, hyper, lr_change, exact_sqrt=False):
    """Trajectory (STEPS lists of float32 values) for one configuration."""
    if exact_sqrt:
        with correctly_rounded_sqrt():
            return run(kind, hyper, lr_change)
    h = dict(DEFAULTS[kind], **hyper)
    flat = torch.tensor(INIT, dtype=torch.float32)
    params = [t.clone() for t in torch.split(flat, SIZES)]
    opt = make_optimizer(kind, params, h)
    traj = []
    for t in range(STEPS):
        if lr_change is not None and t == lr_change[0]:
            for group in opt.param_groups:
                group["lr"] = lr_change[1]
        g = torch.split(torch.tensor(GRADS[t], dtype=torch.float32), SIZES)
        for p, gp in zip(params, g):
            p.grad = gp.clone()
        opt.step()
        traj.append(torch.cat([p.detach() for p in params]).tolist())
    return traj


def max_rel_diff(a, b):
    worst = 0.0
    for ra, rb in zip(a, b):
        for x, y in zip(ra, rb):
            worst = max(worst, abs(x - y) / max(abs(y), 1e-7))
    return worst


def check_sensitive(name, kind, hyper, lr_change, traj):
    """Every non-default setting must move the trajectory far beyond the
    C test's tolerance, so an implementation ignoring it would fail."""
    for key in hyper:
        if key == "lr" or hyper[key] == DEFAULTS[kind][key]:
            continue
        other = dict(hyper)
        other[key] = DEFAULTS[kind][key]
        if kind == "sgd" and other.get("nesterov") and (
                other.get("momentum", 0) <= 0 or other.get("dampening", 0)):
            continue  # torch refuses this combination
        d = max_rel_diff(run(kind, other, lr_change), traj)
        if os.environ.get("VERBOSE"):
            print("  %s: without %s: %.3g" % (name, key, d))
        assert d > 1e-4, "%s: %s barely matters (%g)" % (name, key, d)
    if lr_change is not None:
        d = max_rel_diff(run(kind, hyper, None), traj)
        assert d > 1e-4, "%s: lr change barely matters (%g)" % (name, d)


def f32_text(x):
    """Decimal text that yields exactly float32 x via strtod then (float)."""
    assert math.isfinite(x)
    v = np.float32(x)
    assert float(v) == x, "not a float32 value"
    for s in (str(v), "%.9g" % x):
        if np.float32(float(s)) == v:
            return s.replace("e+", "e")
    raise AssertionError("no round-trip text for %r" % x)


def f32_list(values):
    return "[" + ",".join(f32_text(v) for v in values) + "]"


def write_json(path, cases):
    """Compact JSON: one line per vector, float32 values exact."""
    out = ['{"torch":%s,' % json.dumps(torch.__version__),
           '"mkl":%s,' % json.dumps(torch.backends.mkl.is_available()),
           '"sqrt_off":%.4f,' % sqrt_off(),
           '"steps":%d,' % STEPS,
           '"sizes":%s,' % json.dumps(SIZES),
           '"init":%s,' % f32_list(INIT),
           '"grads":[\n' + ",\n".join(f32_list(g) for g in GRADS) + "],",
           '"cases":[']
    entries = []
    for name, kind, hyper, lr_change, traj, exact in cases:
        head = '{"name":%s,"optimizer":%s,"hyper":%s,"lr_change":%s,' % (
            json.dumps(name), json.dumps(kind), json.dumps(hyper),
            json.dumps(lr_change))
        entries.append(head + '"params":[\n' +
                       ",\n".join(f32_list(p) for p in traj) + "],\n" +
                       '"params_cr_sqrt":[\n' +
                       ",\n".join(f32_list(p) for p in exact) + "]}")
    out.append(",\n".join(entries) + "]}\n")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(out))
    os.replace(path + ".tmp", path)


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        root, "tests", "data", "optim_ref.json")
    torch.set_num_threads(1)
    assert len(INIT) == sum(SIZES) == len(ELEM_SHAPE)
    assert len(STEP_SCALE) == STEPS
    results = []
    for name, kind, hyper, lr_change in CASES:
        traj = run(kind, hyper, lr_change)
        check_sensitive(name, kind, hyper, lr_change, traj)
        exact = run(kind, hyper, lr_change, exact_sqrt=True)
        results.append((name, kind, hyper, lr_change, traj, exact))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json(path, results)
    with open(path) as f:
        back = json.load(f)
    assert len(back["cases"]) == len(CASES)
    print("%s: %d cases x %d steps x %d values, %d bytes" %
          (path, len(CASES), STEPS, len(INIT), os.path.getsize(path)))


if __name__ == "__main__":
    main()
