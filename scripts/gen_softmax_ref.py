#!/usr/bin/python3
"""gen_softmax_ref.py - TFLite's int8 SOFTMAX on random and corner rows, the
reference values of the model's softmax (docs/numerics.md, "Softmax";
tests/unit/test_attn_numerics.c).

Each case is a one-operator TFLite model (int8 input at a scale and zero
point, SOFTMAX with a beta, int8 output at 1/256 and -128, as TFLite
requires) written by gen_import_models.py's flatbuffer writer, run by
ai-edge-litert's interpreter with the reference kernels
(OpResolverType.BUILTIN_REF): its outputs are the expected values. The
optimized kernels' outputs (BUILTIN) are compared too and the number of
elements where they differ from the reference is recorded (not tested).

Writes tests/data/softmax_ref.json (--out elsewhere). Run with Debian's
python3 (bootstrap installs ai-edge-litert there):

    /usr/bin/python3 scripts/gen_softmax_ref.py
"""
import argparse
import json
import os
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_import_models import OPT_SOFTMAX, TT_INT8, TFLite  # noqa: E402

from ai_edge_litert.interpreter import Interpreter, OpResolverType  # noqa: E402

SEED = 20260426


def softmax_model(rows, n, scale, zp, beta):
    m = TFLite()
    x = m.tensor("x", [rows, n], TT_INT8, scale=[np.float32(scale)], zp=[zp])
    y = m.tensor("y", [rows, n], TT_INT8, scale=[np.float32(1 / 256)], zp=[-128])
    m.op("SOFTMAX", [x], [y], (OPT_SOFTMAX, [(0, "Float32", float(beta))]))
    return m.build([x], [y], description="nnfpga gen_softmax_ref.py")


def run(model_bytes, x, resolver):
    with tempfile.NamedTemporaryFile(suffix=".tflite") as f:
        f.write(model_bytes)
        f.flush()
        it = Interpreter(model_path=f.name, experimental_op_resolver_type=resolver)
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        return it.get_tensor(it.get_output_details()[0]["index"]).copy()


def rows_for(rng, n, kind):
    if kind == "random":
        return rng.integers(-128, 128, size=(3, n))
    if kind == "narrow":  # logits within a few steps of each other (attention's usual rows)
        c = rng.integers(-100, 100)
        return np.clip(c + rng.integers(-6, 7, size=(3, n)), -128, 127)
    if kind == "equal":
        return np.stack([np.full(n, v) for v in (-128, 0, 127)])
    if kind == "saturated":  # -128 and 127 only, and one peak over a floor
        r0 = rng.choice([-128, 127], size=n)
        r1 = np.full(n, -128)
        r1[rng.integers(0, n)] = 127
        r2 = np.full(n, 127)
        r2[rng.integers(0, n)] = -128
        return np.stack([r0, r1, r2])
    raise ValueError(kind)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data", "softmax_ref.json"))
    args = ap.parse_args()
    rng = np.random.default_rng(SEED)
    # (input scale, beta): attention's logits (about 0.02 .. 0.2), the MLPerf
    # models' final logits, a tiny scale (every difference counts), and beta *
    # scale large enough that TFLite caps the multiplier at 2^31 - 1
    params = [(0.0625, 1.0), (0.1, 1.0), (0.02, 1.0), (0.2, 1.0), (0.5, 1.0), (1.0, 1.0), (0.05, 2.0),
              (0.25, 0.5), (0.003, 1.0), (1 / 256, 1.0), (0.15, 1.0), (3.0, 1.0), (40.0, 1.0)]
    kinds = ["random", "narrow", "equal", "saturated"]
    cases, opt_diff, total = [], 0, 0
    for ci, (scale, beta) in enumerate(params):
        for kind in kinds:
            for n in sorted({1, 2, int(rng.integers(3, 40)), int(rng.integers(40, 301)), 300 if ci % 3 == 0 else 28}):
                zp = int(rng.integers(-128, 128))
                x = rows_for(rng, n, kind).astype(np.int8)
                model = softmax_model(x.shape[0], n, scale, zp, beta)
                ref = run(model, x, OpResolverType.BUILTIN_REF)
                opt = run(model, x, OpResolverType.BUILTIN)
                opt_diff += int((ref != opt).sum())
                total += ref.size
                cases.append({"scale": float(np.float32(scale)), "beta": float(np.float32(beta)), "zp": zp,
                              "kind": kind, "n": n, "x": x.astype(int).tolist(), "y": ref.astype(int).tolist()})
    out = {
        "generator": "scripts/gen_softmax_ref.py",
        "tflite": "ai-edge-litert " + __import__("importlib.metadata").metadata.version("ai-edge-litert"),
        "seed": SEED,
        "optimized_kernel_differs": opt_diff,
        "elements": total,
        "cases": cases,
    }
    with open(args.out, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(cases)} cases, {total} outputs; the optimized kernel differs on {opt_diff}")


if __name__ == "__main__":
    main()
