#!/usr/bin/env python3
"""tests/e2e/tflite_interp.py NNFPGA DATADIR TMPDIR MNISTDIR [COUNT]

An imported TFLite int8 model runs bit for bit like TFLite's own interpreter
(docs/import.md, "Exactness"): for each committed TFLite model of
scripts/gen_import_models.py (DATADIR: tests/data), `nnfpga import` it,
`nnfpga infer --device model --json` the first COUNT Fashion-MNIST test
images (default 500), and run the same images through the interpreter from
PyPI's ai-edge-litert (installed by scripts/bootstrap) with TFLite's
reference kernels (OpResolverType.BUILTIN_REF: the definition; the optimized
kernels disagree with them on some int8 inputs). The int8 logits (the tensor
the final SOFTMAX reads, nnfpga drops that SOFTMAX; else the output) must be
equal, every one. The optimized kernels' disagreements are counted and
printed, not asserted.

Exit 0 pass, 1 fail, 77 skip (no ai_edge_litert: ctest's SKIP_RETURN_CODE).
"""
import gzip
import json
import os
import subprocess
import sys

try:
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
except ImportError as e:  # bootstrap installs it; only a machine without it skips
    print(f"SKIP: ai_edge_litert not importable ({e}); scripts/bootstrap installs it")
    sys.exit(77)

MODELS = ["import_mlp.tflite", "import_cnn.tflite", "import_tanh.tflite"]


def idx_images(mnist, count):
    for name in ("t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"):
        path = os.path.join(mnist, name)
        if os.path.exists(path):
            raw = (gzip.open if name.endswith(".gz") else open)(path, "rb").read()
            n, h, w = (int.from_bytes(raw[i:i + 4], "big") for i in (4, 8, 12))
            return np.frombuffer(raw, np.uint8, offset=16).reshape(n, h * w)[:count]
    sys.exit(f"FAIL: no Fashion-MNIST test images in {mnist}")


def nnfpga_logits(nnfpga, model, tmp, mnist, count):
    ck = os.path.join(tmp, os.path.basename(model) + ".safetensors")
    subprocess.run([nnfpga, "import", model, "--out", ck], check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run([nnfpga, "infer", "--model", ck, "--device", "model", "--data", mnist,
                          "--count", str(count), "--json"], check=True, capture_output=True, text=True).stdout
    return np.array([s["logits"] for s in json.loads(out)], np.int64)


class Ref:
    """One model under the interpreter: the int8 tensor nnfpga's outputs are."""

    def __init__(self, model, resolver):
        self.it = Interpreter(model_path=model, experimental_op_resolver_type=resolver,
                              experimental_preserve_all_tensors=True)
        self.it.allocate_tensors()
        self.inp = self.it.get_input_details()[0]
        ops = self.it._get_ops_details()
        soft = [o for o in ops if o["op_name"] == "SOFTMAX"]
        self.want = soft[0]["inputs"][0] if soft else self.it.get_output_details()[0]["index"]

    def run(self, pixels):
        d = self.inp
        if d["dtype"] == np.float32:
            x = (pixels.astype(np.float32) / np.float32(255)).reshape(d["shape"])
        else:  # an int8 input: the pixels at the model's own quantization (checked below)
            s, zp = d["quantization"]
            q = np.round(pixels.astype(np.float64) / 255 / s) + zp
            x = np.clip(q, -128, 127).astype(np.int8).reshape(d["shape"])
        self.it.set_tensor(d["index"], x)
        self.it.invoke()
        return self.it.get_tensor(self.want).reshape(-1).astype(np.int64)


def main():
    nnfpga, data, tmp, mnist = sys.argv[1:5]
    count = int(sys.argv[5]) if len(sys.argv) > 5 else 500
    os.makedirs(tmp, exist_ok=True)
    images = idx_images(mnist, count)
    bad = 0
    for name in MODELS:
        model = os.path.join(data, name)
        ours = nnfpga_logits(nnfpga, model, tmp, mnist, count)
        ref, opt = Ref(model, OpResolverType.BUILTIN_REF), Ref(model, OpResolverType.BUILTIN)
        theirs = np.stack([ref.run(p) for p in images])
        fast = np.stack([opt.run(p) for p in images])
        if ours.shape != theirs.shape:
            print(f"FAIL {name}: nnfpga gives {ours.shape} logits, the interpreter {theirs.shape}")
            bad += 1
            continue
        differ = int((ours != theirs).sum())
        print(f"{name}: {ours.size} int8 logits over {count} images: {differ} differ from TFLite's reference "
              f"kernels; the optimized kernels differ from those in {int((fast != theirs).sum())}")
        if differ:
            i = int(np.argwhere(ours != theirs)[0][0])
            print(f"FAIL {name}: image {i}: nnfpga {ours[i].tolist()}, TFLite {theirs[i].tolist()}")
            bad += 1
    print("PASS" if not bad else f"FAIL {bad} model(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
