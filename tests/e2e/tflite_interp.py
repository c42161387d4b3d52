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
a final SOFTMAX reads; else the output) must be equal, every one. A model
that ends in SOFTMAX keeps it (a Softmax layer, on the host after the
device): its int8 probabilities, from `nnfpga infer --int8` of the same
images at the model's input quantization, must equal the interpreter's
SOFTMAX output, every one. The optimized kernels' disagreements are counted
and printed, not asserted.

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


def nnfpga_softmax(nnfpga, model, tmp, xq):
    """The int8 outputs of `nnfpga infer --int8` (the Softmax's) for int8 inputs xq."""
    ck = os.path.join(tmp, os.path.basename(model) + ".safetensors")
    path = os.path.join(tmp, os.path.basename(model) + ".int8")
    xq.astype(np.int8).tofile(path)
    out = subprocess.run([nnfpga, "infer", "--model", ck, "--device", "model", "--int8", path, "--json"],
                         check=True, capture_output=True, text=True).stdout
    return np.array([s["outputs"] for s in json.loads(out)], np.int64)


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
        self.soft = soft[0]["outputs"][0] if soft else None  # its int8 probabilities
        # the int8 tensor the layers read: a float input's QUANTIZE output, or the input
        first = [o for o in ops if o["op_name"] != "DELEGATE"][0]
        self.qin = first["outputs"][0] if first["op_name"] == "QUANTIZE" else self.inp["index"]

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
        self.xq = self.it.get_tensor(self.qin).reshape(-1).astype(np.int8)
        self.probs = self.it.get_tensor(self.soft).reshape(-1).astype(np.int64) if self.soft is not None else None
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
        theirs, xq, probs = [], [], []
        for p in images:
            theirs.append(ref.run(p))
            xq.append(ref.xq)
            probs.append(ref.probs)
        theirs = np.stack(theirs)
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
        if ref.soft is not None:  # the kept SOFTMAX: its int8 probabilities
            got, want = nnfpga_softmax(nnfpga, model, tmp, np.stack(xq)), np.stack(probs)
            differ = int((got != want).sum()) if got.shape == want.shape else -1
            print(f"{name}: {want.size} int8 SOFTMAX outputs over {count} images (nnfpga infer --int8): {differ} differ "
                  f"from TFLite's reference kernels")
            if differ:
                print(f"FAIL {name}: SOFTMAX outputs, shapes {got.shape} and {want.shape}")
                bad += 1
    print("PASS" if not bad else f"FAIL {bad} model(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
