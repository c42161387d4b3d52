#!/usr/bin/python3
"""gen_import_models.py - the models `nnfpga import` is tested on, and their
reference outputs (docs/import.md).

Writes into tests/data/ (the default; --out DIR elsewhere):

  import_mlp.onnx     a Fashion-MNIST MLP trained here in PyTorch (Flatten, Gemm,
                      Relu, Tanh, Softmax), exported by torch.onnx.export
  import_cnn.onnx     a small untrained CNN over 1x28x28 (Conv, Relu, MaxPool,
                      Clip = ReLU6, AveragePool, Sigmoid, GlobalAveragePool,
                      Reshape, MatMul + Add)
  import_mlp.tflite   an int8 MLP (the PyTorch MLP's twin, post-training quantized
                      here as TFLite's converter does: per-channel symmetric
                      weights, asymmetric activations): QUANTIZE, RESHAPE,
                      FULLY_CONNECTED (+RELU), LOGISTIC, per-tensor last layer,
                      SOFTMAX, DEQUANTIZE
  import_cnn.tflite   an int8 CNN over (1, 28, 28, 1): CONV_2D (SAME, RELU),
                      MAX_POOL_2D, CONV_2D (VALID), AVERAGE_POOL_2D, RESHAPE,
                      FULLY_CONNECTED
  import_tanh.tflite  an int8 784-16-10 MLP with TANH, its input int8 (no QUANTIZE)
  import_residual.onnx, import_residual_ref.json   a small untrained ResNet (Conv,
                      Relu, MaxPool, an identity block and a strided block with a
                      1x1 shortcut joined by Add, GlobalAveragePool, Flatten, Gemm)
                      and PyTorch's float logits (--residual-only: these alone)
  import_bad_op.onnx, import_bad_op.tflite   one unsupported operator each
  import_bad_dtype.tflite, import_bad_shape.tflite   float weights; weights of 2 input channels over 1
  import_bad/*.tflite, import_bad/expected.json      one defect each, and the message
                      each must be refused with
  import_ref.json     inputs (pixels) and reference outputs: PyTorch's float
                      logits for the ONNX models; for the TFLite models the int8
                      logits of TFLite's reference kernels (requantization by
                      doubling high multiply + rounding shift: two roundings)
                      and of nnfpga's contract (one rounding), and the figures

The TFLite files are written by nnf_tflite.py (the flatbuffer builder of PyPI's
`flatbuffers` with the field numbers of TFLite's schema.fbs, no TensorFlow); the int8
arithmetic of the reference is written below from TFLite's reference kernels
(fully_connected.h, conv.h, pooling.h, MultiplyByQuantizedMultiplier,
LUTPopulate). Run with Debian's python3 (torch 1.13):

    /usr/bin/python3 scripts/gen_import_models.py
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys

import numpy as np
import torch

# the TFLite flatbuffer writer, shared with gen_tiny_models.py (and re-exported
# here for gen_softmax_ref.py, which imports it from this module)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nnf_tflite import (OPT_CONV, OPT_FC, OPT_POOL, OPT_RESHAPE, OPT_SOFTMAX, TT_FLOAT32, TT_INT8,  # noqa: E402
                        TT_INT32, TFLite, act_tensor, shape_tensor)

DATA = "/usr/share/datasets/fashion-mnist"


def idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    nd = b[3]
    dims = struct.unpack(">" + "I" * nd, b[4:4 + 4 * nd])
    return np.frombuffer(b, np.uint8, offset=4 + 4 * nd).reshape(dims)


def fashion():
    tr = idx(f"{DATA}/train-images-idx3-ubyte.gz"), idx(f"{DATA}/train-labels-idx1-ubyte.gz")
    te = idx(f"{DATA}/t10k-images-idx3-ubyte.gz"), idx(f"{DATA}/t10k-labels-idx1-ubyte.gz")
    return tr, te


def train(model, x, y, epochs, seed):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    n = x.shape[0]
    for _ in range(epochs):
        perm = torch.randperm(n)
        for i in range(0, n, 64):
            j = perm[i:i + 64]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x[j]), y[j])
            loss.backward()
            opt.step()
    model.eval()
    return model


# ---- TFLite's int8 arithmetic (the reference side) --------------------------------

def quantize_multiplier(real):
    """TFLite's QuantizeMultiplier: (m0, shift), real ~= m0 * 2^(shift - 31)."""
    if real == 0:
        return 0, 0
    q, e = math.frexp(real)
    m = int(math.floor(abs(q) * 2**31 + 0.5))  # TfLiteRound: half away from zero (q > 0)
    if m == 2**31:
        m //= 2
        e += 1
    return m, e


def requant_double(acc, m0, shift):
    """MultiplyByQuantizedMultiplier: SaturatingRoundingDoublingHighMul, then
    RoundingDivideByPOT (TFLite's default path, two roundings)."""
    acc = acc.astype(np.int64)
    left = max(shift, 0)
    right = max(-shift, 0)
    a = acc * (1 << left)
    ab = a * m0
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    s = ab + nudge
    high = np.where(s >= 0, s // (1 << 31), -((-s) // (1 << 31)))  # C division: toward zero
    high = np.clip(high, -2**31, 2**31 - 1)
    if right == 0:
        return high
    mask = (1 << right) - 1
    rem = high & mask
    thr = (mask >> 1) + (high < 0)
    return (high >> right) + (rem > thr)


# TFLite's interpreter (ai-edge-litert 2.3.0, reference and optimized
# kernels alike, measured by tests/e2e/tflite_interp.py) requantizes CONV_2D
# with its two roundings (requant_double) but FULLY_CONNECTED with one
# (requant_single): its "tflite" references below follow it layer by layer.
FC_DOUBLE = False


def requant_single(acc, m0, shift):
    """nnfpga's contract (docs/numerics.md): (acc * m0 + 2^(k-1)) >> k, k = 31 - shift."""
    k = 31 - shift
    return (acc.astype(np.int64) * m0 + (1 << (k - 1))) >> k


def lut(s_in, zp_in, s_out, zp_out, f):
    """LUTPopulate<int8_t>: float arithmetic as TFLite's."""
    v = np.arange(-128, 128, dtype=np.int32)
    deq = np.float32(s_in) * (v - zp_in).astype(np.float32)
    tr = f(deq).astype(np.float32)
    r = tr * np.float32(1.0 / np.float32(s_out))
    rr = np.where(r >= 0, np.floor(r + np.float32(0.5)), -np.floor(-r + np.float32(0.5)))
    return np.clip(rr + zp_out, -128, 127).astype(np.int32)  # index v + 128


def sigmoid32(x):
    return (np.float32(1) / (np.float32(1) + np.exp(-x))).astype(np.float32)


def qparams(lo, hi):
    """An asymmetric int8 activation quantization of [lo, hi] (widened to 0)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    s = np.float32((hi - lo) / 255.0)
    zp = int(np.clip(-128 - round(lo / float(s)), -128, 127))
    return s, zp


def wquant(w, per_channel=True):
    """Symmetric int8 weights, per output channel (dim 0) or per tensor."""
    axes = tuple(range(1, w.ndim))
    mx = np.abs(w).max(axis=axes) if per_channel else np.array([np.abs(w).max()])
    s = (mx / 127.0).astype(np.float32)
    s[s == 0] = 1.0
    sb = s.reshape((-1,) + (1,) * (w.ndim - 1)) if per_channel else s[0]
    q = np.clip(np.round(w / sb), -127, 127).astype(np.int8)
    return q, s


def bquant(b, s_in, s_w):
    return np.round(b.astype(np.float64) / (np.float64(s_in) * s_w.astype(np.float64))).astype(np.int32)


class Q:
    """One int8 layer of the reference: requantize both ways."""

    def __init__(self, s_in, s_w, s_out):
        self.m = [quantize_multiplier(float(np.float64(s_in) * np.float64(sw) / np.float64(s_out))) for sw in s_w]

    def out(self, acc, zp, lo, hi, double):
        y = np.empty_like(acc, dtype=np.int64)
        for c, (m0, sh) in enumerate(self.m):
            f = requant_double if double else requant_single
            y[..., c] = f(acc[..., c], m0, sh)
        return np.clip(y + zp, lo, hi)


# ---- the models -----------------------------------------------------------------

def trained_mlp(act, seed, xtr, ytr):
    """784-64 (ReLU), 64-32 (act), 32-10, trained 2 epochs with Adam."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32),
                                act, torch.nn.Linear(32, 10))
    train(model, xtr, ytr, 2, seed)
    return model


def onnx_mlp(xtr, ytr, xte, yte, out, ref):
    model = trained_mlp(torch.nn.Tanh(), 1, xtr, ytr)
    with torch.no_grad():
        logits = model(xte)
    acc = float((logits.argmax(1) == yte).float().mean())
    export = torch.nn.Sequential(model, torch.nn.Softmax(dim=1))
    torch.onnx.export(export, xte[:1], f"{out}/import_mlp.onnx", input_names=["image"], output_names=["probs"],
                      dynamic_axes={"image": {0: "batch"}, "probs": {0: "batch"}}, opset_version=13)
    ref["mlp_onnx"] = {"float_accuracy": acc, "logits": logits[:ref["n"]].tolist()}
    return model


class CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.f = torch.nn.Sequential(
            torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(4, 8, 3, stride=2, padding=1), torch.nn.ReLU6(), torch.nn.AvgPool2d(2),
            torch.nn.Conv2d(8, 8, 3, padding=1), torch.nn.Sigmoid(), torch.nn.AdaptiveAvgPool2d(1))
        self.w = torch.nn.Parameter(torch.randn(8, 10) * 0.5)
        self.b = torch.nn.Parameter(torch.randn(10) * 0.1)

    def forward(self, x):
        return self.f(x).reshape(-1, 8) @ self.w + self.b


def onnx_cnn(xte, out, ref):
    torch.manual_seed(2)
    model = CNN().eval()
    with torch.no_grad():
        logits = model(xte[:ref["n"]])
    torch.onnx.export(model, xte[:1], f"{out}/import_cnn.onnx", input_names=["image"], output_names=["logits"],
                      opset_version=13)
    ref["cnn_onnx"] = {"logits": logits.tolist()}


class ResBlock(torch.nn.Module):
    """A ResNet basic block: conv, ReLU, conv, + the shortcut, ReLU. The
    shortcut is the block's input (identity) or, when the block strides or
    widens, a strided 1x1 conv, computed after the branch (so the ONNX Add
    reads a tensor written after its other input)."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = torch.nn.Conv2d(cin, cout, 3, stride, 1)
        self.c2 = torch.nn.Conv2d(cout, cout, 3, 1, 1)
        self.sc = torch.nn.Conv2d(cin, cout, 1, stride) if stride != 1 or cin != cout else None

    def forward(self, x):
        y = self.c2(torch.relu(self.c1(x)))
        return torch.relu(y + (self.sc(x) if self.sc is not None else x))


class ResNet(torch.nn.Module):
    """A small ResNet over 1x28x28: a stem conv and max pool, an identity
    block (8 channels, 14x14) and a strided block with a 1x1 shortcut (16
    channels, 7x7), global average pool, Linear(16, 10)."""

    def __init__(self, width=8):
        super().__init__()
        self.stem = torch.nn.Conv2d(1, width, 3, padding=1)
        self.b1 = ResBlock(width, width, 1)
        self.b2 = ResBlock(width, 2 * width, 2)
        self.fc = torch.nn.Linear(2 * width, 10)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.relu(self.stem(x)), 2)
        x = self.b2(self.b1(x))
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1))


def onnx_residual(xte, out, n):
    """import_residual.onnx (the ResNet above, untrained, seed 5) and
    import_residual_ref.json (PyTorch's float logits of the first n test
    images); and the fuzzer's seed of the same graph 4 channels wide
    (tests/fuzz/corpus/import/residual_small.onnx)."""
    torch.manual_seed(5)
    model = ResNet().eval()
    with torch.no_grad():
        logits = model(xte[:n])
    torch.onnx.export(model, xte[:1], f"{out}/import_residual.onnx", input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    with open(f"{out}/import_residual_ref.json", "w") as f:
        json.dump({"n": n, "torch": torch.__version__, "images": f"the first {n} Fashion-MNIST test images (t10k), "
                   "pixels / 255 (import_ref.json's)", "logits": logits.tolist()}, f, separators=(",", ":"))
        f.write("\n")
    torch.manual_seed(6)
    seed = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fuzz", "corpus", "import")
    torch.onnx.export(ResNet(2).eval(), torch.zeros(1, 1, 8, 8), f"{seed}/residual_small.onnx", input_names=["image"],
                      output_names=["logits"], opset_version=13)


def onnx_bad(out):
    torch.manual_seed(4)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 16), torch.nn.LeakyReLU(), torch.nn.Linear(16, 10))
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), f"{out}/import_bad_op.onnx", input_names=["image"],
                      output_names=["logits"], opset_version=13)


def tflite_mlp(xtr, ytr, xte_u8, yte, out, ref):
    """The int8 MLP 784-64-32-10 (ReLU fused, sigmoid as LOGISTIC)."""
    model = trained_mlp(torch.nn.Sigmoid(), 3, xtr, ytr)
    with torch.no_grad():
        h1 = model[2](model[1](model[0](xtr[:2000])))
        z2 = model[3](h1)
        z3 = model[5](model[4](z2))
        float_acc = float((model(torch.from_numpy(xte_u8.astype(np.float32) / 255).reshape(-1, 1, 28, 28)).argmax(1) ==
                           torch.from_numpy(yte.astype(np.int64))).float().mean())
    W = [model[i].weight.detach().numpy() for i in (1, 3, 5)]
    B = [model[i].bias.detach().numpy() for i in (1, 3, 5)]
    s_x, zp_x = np.float32(1 / 255), -128
    s1, zp1 = qparams(0.0, float(h1.max()))
    s2, zp2 = qparams(float(z2.min()), float(z2.max()))
    s_sig, zp_sig = np.float32(1 / 256), -128
    s3, zp3 = qparams(float(z3.min()), float(z3.max()))
    q1, sw1 = wquant(W[0])
    q2, sw2 = wquant(W[1])
    q3, sw3 = wquant(W[2], per_channel=False)
    b1, b2, b3 = bquant(B[0], s_x, sw1), bquant(B[1], s1, sw2), bquant(B[2], s_sig, np.repeat(sw3, 10))
    m = TFLite()
    t_in = m.tensor("image", [1, 28, 28], TT_FLOAT32)
    t_q = act_tensor(m, "image_int8", [1, 28, 28], s_x, zp_x)
    t_r = act_tensor(m, "flat", [1, 784], s_x, zp_x)
    t_w1 = m.tensor("fc1/weights", [64, 784], TT_INT8, q1.tobytes(), sw1, [0] * 64, 0)
    t_b1 = m.tensor("fc1/bias", [64], TT_INT32, b1.tobytes(), np.float32(s_x) * sw1, [0] * 64, 0)
    t_h1 = act_tensor(m, "fc1/relu", [1, 64], s1, zp1)
    t_w2 = m.tensor("fc2/weights", [32, 64], TT_INT8, q2.tobytes(), sw2, [0] * 32, 0)
    t_b2 = m.tensor("fc2/bias", [32], TT_INT32, b2.tobytes(), np.float32(s1) * sw2, [0] * 32, 0)
    t_z2 = act_tensor(m, "fc2", [1, 32], s2, zp2)
    t_sg = act_tensor(m, "sigmoid", [1, 32], s_sig, zp_sig)
    t_w3 = m.tensor("fc3/weights", [10, 32], TT_INT8, q3.tobytes(), sw3, [0], 0)
    t_b3 = m.tensor("fc3/bias", [10], TT_INT32, b3.tobytes(), [np.float32(s_sig) * sw3[0]], [0], 0)
    t_z3 = act_tensor(m, "logits", [1, 10], s3, zp3)
    t_sm = act_tensor(m, "softmax", [1, 10], np.float32(1 / 256), -128)
    t_out = m.tensor("probs", [1, 10], TT_FLOAT32)
    fc_relu = (OPT_FC, [(0, "Int8", 1)])
    fc_none = (OPT_FC, [(0, "Int8", 0)])
    m.op("QUANTIZE", [t_in], [t_q])
    m.op("RESHAPE", [t_q, shape_tensor(m, "flat/shape", [1, 784])], [t_r], (OPT_RESHAPE, []))
    m.op("FULLY_CONNECTED", [t_r, t_w1, t_b1], [t_h1], fc_relu)
    m.op("FULLY_CONNECTED", [t_h1, t_w2, t_b2], [t_z2], fc_none)
    m.op("LOGISTIC", [t_z2], [t_sg])
    m.op("FULLY_CONNECTED", [t_sg, t_w3, t_b3], [t_z3], fc_none)
    m.op("SOFTMAX", [t_z3], [t_sm], (OPT_SOFTMAX, [(0, "Float32", 1.0)]))
    m.op("DEQUANTIZE", [t_sm], [t_out])
    with open(f"{out}/import_mlp.tflite", "wb") as f:
        f.write(m.build([t_in], [t_out]))

    L1, L2, L3 = Q(s_x, sw1, s1), Q(s1, sw2, s2), Q(s_sig, np.repeat(sw3, 10), s3)
    table = lut(s2, zp2, s_sig, zp_sig, sigmoid32)

    def run(xu8, double):
        # TFLite's FULLY_CONNECTED rounds once (FC_DOUBLE), so both runs agree
        x = xu8.reshape(-1, 784).astype(np.int64) - 128  # QUANTIZE of pixels / 255: exact
        a1 = (x - zp_x) @ q1.T.astype(np.int64) + b1
        h = L1.out(a1, zp1, zp1, 127, double and FC_DOUBLE)
        a2 = (h - zp1) @ q2.T.astype(np.int64) + b2
        z = L2.out(a2, zp2, -128, 127, double and FC_DOUBLE)
        sg = table[z + 128]
        a3 = (sg - zp_sig) @ q3.T.astype(np.int64) + b3
        return L3.out(a3, zp3, -128, 127, double and FC_DOUBLE)

    full_d, full_s = run(xte_u8, True), run(xte_u8, False)
    n = ref["n"]
    ref["mlp_tflite"] = {
        "tflite": full_d[:n].tolist(), "single": full_s[:n].tolist(), "lut": table.tolist(),
        "differ": int((full_d[:n] != full_s[:n]).sum()),
        "test_images": len(yte), "test_differ": int((full_d != full_s).sum()),
        "test_max_diff": int(np.abs(full_d - full_s).max()),
        "test_pred_differ": int((full_d.argmax(1) != full_s.argmax(1)).sum()),
        "accuracy_tflite": float((full_d.argmax(1) == yte).mean()),
        "accuracy_single": float((full_s.argmax(1) == yte).mean()),
        "float_accuracy": float_acc,
        "input": [float(s_x), zp_x], "output": [float(s3), zp3]}


def tflite_cnn(xte_u8, out, ref):
    """An untrained int8 CNN in TFLite's NHWC layout."""
    rng = np.random.default_rng(5)
    s_x, zp_x = np.float32(1 / 255), -128
    w1 = rng.normal(0, 0.4, (4, 3, 3, 1)).astype(np.float32)   # OHWI
    bb1 = rng.normal(0, 0.1, 4).astype(np.float32)
    w2 = rng.normal(0, 0.3, (8, 3, 3, 4)).astype(np.float32)
    bb2 = rng.normal(0, 0.1, 8).astype(np.float32)
    w3 = rng.normal(0, 0.2, (10, 6 * 6 * 8)).astype(np.float32)  # over (H, W, C) rows
    bb3 = rng.normal(0, 0.1, 10).astype(np.float32)
    q1, sw1 = wquant(w1)
    q2, sw2 = wquant(w2)
    q3, sw3 = wquant(w3)
    # activation ranges from a float pass over 500 images
    x = xte_u8[:500].astype(np.float32)[..., None] / 255

    def conv(x, w, b, pad):
        """NHWC convolution of x by OHWI w (float, or integers: exact in int64)."""
        xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        k = w.shape[1]
        H, W = xp.shape[1] - k + 1, xp.shape[2] - k + 1
        y = np.zeros((x.shape[0], H, W, w.shape[0]), np.float64 if x.dtype.kind == "f" else np.int64)
        for dy in range(k):
            for dx in range(k):
                y += np.einsum("nhwc,oc->nhwo", xp[:, dy:dy + H, dx:dx + W, :], w[:, dy, dx, :])
        return y + b

    def pool(x, avg):
        """2 x 2 pooling, stride 2; an integer average rounds as TFLite's (half away from zero)."""
        n, H, W, C = x.shape
        v = x[:, :H // 2 * 2, :W // 2 * 2].reshape(n, H // 2, 2, W // 2, 2, C)
        if not avg:
            return v.max(axis=(2, 4))
        if x.dtype.kind == "f":
            return v.mean(axis=(2, 4))
        s = v.sum(axis=(2, 4))
        return np.where(s > 0, (s + 2) // 4, -((-s + 2) // 4))

    c1 = np.maximum(conv(x, w1, bb1, 1), 0)
    c2 = conv(pool(c1, False), w2, bb2, 0)
    z3 = pool(c2, True).reshape(-1, 288) @ w3.T + bb3
    s1, zp1 = qparams(0.0, float(c1.max()))
    s2, zp2 = qparams(float(c2.min()), float(c2.max()))
    s3, zp3 = qparams(float(z3.min()), float(z3.max()))
    b1, b2, b3 = bquant(bb1, s_x, sw1), bquant(bb2, s1, sw2), bquant(bb3, s2, sw3)
    m = TFLite()
    t_x = act_tensor(m, "image", [1, 28, 28, 1], s_x, zp_x)
    t_w1 = m.tensor("conv1/weights", [4, 3, 3, 1], TT_INT8, q1.tobytes(), sw1, [0] * 4, 0)
    t_b1 = m.tensor("conv1/bias", [4], TT_INT32, b1.tobytes(), np.float32(s_x) * sw1, [0] * 4, 0)
    t_c1 = act_tensor(m, "conv1/relu", [1, 28, 28, 4], s1, zp1)
    t_p1 = act_tensor(m, "pool1", [1, 14, 14, 4], s1, zp1)
    t_w2 = m.tensor("conv2/weights", [8, 3, 3, 4], TT_INT8, q2.tobytes(), sw2, [0] * 8, 0)
    t_b2 = m.tensor("conv2/bias", [8], TT_INT32, b2.tobytes(), np.float32(s1) * sw2, [0] * 8, 0)
    t_c2 = act_tensor(m, "conv2", [1, 12, 12, 8], s2, zp2)
    t_p2 = act_tensor(m, "pool2", [1, 6, 6, 8], s2, zp2)
    t_r = act_tensor(m, "flat", [1, 288], s2, zp2)
    t_w3 = m.tensor("fc/weights", [10, 288], TT_INT8, q3.tobytes(), sw3, [0] * 10, 0)
    t_b3 = m.tensor("fc/bias", [10], TT_INT32, b3.tobytes(), np.float32(s2) * sw3, [0] * 10, 0)
    t_z = act_tensor(m, "logits", [1, 10], s3, zp3)
    m.op("CONV_2D", [t_x, t_w1, t_b1], [t_c1], (OPT_CONV, [(0, "Int8", 0), (1, "Int32", 1), (2, "Int32", 1), (3, "Int8", 1)]))
    m.op("MAX_POOL_2D", [t_c1], [t_p1], (OPT_POOL, [(0, "Int8", 1), (1, "Int32", 2), (2, "Int32", 2), (3, "Int32", 2), (4, "Int32", 2)]))
    m.op("CONV_2D", [t_p1, t_w2, t_b2], [t_c2], (OPT_CONV, [(0, "Int8", 1), (1, "Int32", 1), (2, "Int32", 1)]))
    m.op("AVERAGE_POOL_2D", [t_c2], [t_p2], (OPT_POOL, [(0, "Int8", 1), (1, "Int32", 2), (2, "Int32", 2), (3, "Int32", 2), (4, "Int32", 2)]))
    m.op("RESHAPE", [t_p2, shape_tensor(m, "flat/shape", [1, 288])], [t_r], (OPT_RESHAPE, []))
    m.op("FULLY_CONNECTED", [t_r, t_w3, t_b3], [t_z], (OPT_FC, [(0, "Int8", 0)]))
    with open(f"{out}/import_cnn.tflite", "wb") as f:
        f.write(m.build([t_x], [t_z]))

    L1, L2, L3 = Q(s_x, sw1, s1), Q(s1, sw2, s2), Q(s2, sw3, s3)

    def conv_q(x, q, b, pad, zp_in):
        # TFLite skips the padding taps: padding x - zp with zeros is the same
        return conv(x - zp_in, q.astype(np.int64), b, pad)

    def run(xu8, double):
        xq = xu8.astype(np.int64)[..., None] - 128
        c1 = L1.out(conv_q(xq, q1, b1, 1, zp_x), zp1, zp1, 127, double)
        c2 = L2.out(conv_q(pool(c1, False), q2, b2, 0, zp1), zp2, -128, 127, double)
        p2 = pool(c2, True).reshape(-1, 288)
        return L3.out((p2 - zp2) @ q3.T.astype(np.int64) + b3, zp3, -128, 127, double and FC_DOUBLE)

    n = ref["n"]
    d, s = run(xte_u8[:n], True), run(xte_u8[:n], False)
    ref["cnn_tflite"] = {"tflite": d.tolist(), "single": s.tolist(), "differ": int((d != s).sum())}


def tflite_tanh(xte_u8, out, ref):
    """An untrained int8 784-16-10 MLP with TANH, its input int8 (no QUANTIZE)."""
    rng = np.random.default_rng(6)
    s_x, zp_x = np.float32(1 / 255), -128
    w1 = rng.normal(0, 0.1, (16, 784)).astype(np.float32)
    bb1 = rng.normal(0, 0.2, 16).astype(np.float32)
    w2 = rng.normal(0, 0.5, (10, 16)).astype(np.float32)
    bb2 = rng.normal(0, 0.1, 10).astype(np.float32)
    x = xte_u8[:500].reshape(-1, 784).astype(np.float32) / 255
    z1 = x @ w1.T + bb1
    z2 = np.tanh(z1) @ w2.T + bb2
    s1, zp1 = qparams(float(z1.min()), float(z1.max()))
    s_t, zp_t = np.float32(1 / 128), 0
    s2, zp2 = qparams(float(z2.min()), float(z2.max()))
    q1, sw1 = wquant(w1)
    q2, sw2 = wquant(w2)
    b1, b2 = bquant(bb1, s_x, sw1), bquant(bb2, s_t, sw2)
    m = TFLite()
    t_x = act_tensor(m, "image", [1, 784], s_x, zp_x)
    t_w1 = m.tensor("fc1/weights", [16, 784], TT_INT8, q1.tobytes(), sw1, [0] * 16, 0)
    t_b1 = m.tensor("fc1/bias", [16], TT_INT32, b1.tobytes(), np.float32(s_x) * sw1, [0] * 16, 0)
    t_z1 = act_tensor(m, "fc1", [1, 16], s1, zp1)
    t_t = act_tensor(m, "tanh", [1, 16], s_t, zp_t)
    t_w2 = m.tensor("fc2/weights", [10, 16], TT_INT8, q2.tobytes(), sw2, [0] * 10, 0)
    t_b2 = m.tensor("fc2/bias", [10], TT_INT32, b2.tobytes(), np.float32(s_t) * sw2, [0] * 10, 0)
    t_z2 = act_tensor(m, "logits", [1, 10], s2, zp2)
    m.op("FULLY_CONNECTED", [t_x, t_w1, t_b1], [t_z1], (OPT_FC, [(0, "Int8", 0)]))
    m.op("TANH", [t_z1], [t_t])
    m.op("FULLY_CONNECTED", [t_t, t_w2, t_b2], [t_z2], (OPT_FC, [(0, "Int8", 0)]))
    with open(f"{out}/import_tanh.tflite", "wb") as f:
        f.write(m.build([t_x], [t_z2]))
    L1, L2 = Q(s_x, sw1, s1), Q(s_t, sw2, s2)
    table = lut(s1, zp1, s_t, zp_t, lambda v: np.tanh(v).astype(np.float32))

    def run(xu8, double):
        xq = xu8.reshape(-1, 784).astype(np.int64) - 128
        z = L1.out((xq - zp_x) @ q1.T.astype(np.int64) + b1, zp1, -128, 127, double and FC_DOUBLE)
        t = table[z + 128]
        return L2.out((t - zp_t) @ q2.T.astype(np.int64) + b2, zp2, -128, 127, double and FC_DOUBLE)

    n = ref["n"]
    d, s = run(xte_u8[:n], True), run(xte_u8[:n], False)
    ref["tanh_tflite"] = {"tflite": d.tolist(), "single": s.tolist(), "lut": table.tolist(), "differ": int((d != s).sum())}


def tflite_bad(out):
    """QUANTIZE then MUL: an unsupported operator at index 1."""
    m = TFLite()
    t_in = m.tensor("x", [1, 4], TT_FLOAT32)
    t_q = act_tensor(m, "xq", [1, 4], np.float32(0.5), 0)
    t_y = act_tensor(m, "product", [1, 4], np.float32(1.0), 0)
    m.op("QUANTIZE", [t_in], [t_q])
    m.op("MUL", [t_q, t_q], [t_y])
    with open(f"{out}/import_bad_op.tflite", "wb") as f:
        f.write(m.build([t_in], [t_y]))


def tflite_bad_more(out):
    """FULLY_CONNECTED with float weights; CONV_2D whose weights read 2
    channels of a 1-channel input."""
    m = TFLite()
    t_x = act_tensor(m, "x", [1, 4], np.float32(0.5), 0)
    t_w = m.tensor("w", [2, 4], TT_FLOAT32, np.zeros((2, 4), np.float32).tobytes())
    t_y = act_tensor(m, "y", [1, 2], np.float32(0.5), 0)
    m.op("FULLY_CONNECTED", [t_x, t_w, -1], [t_y], (OPT_FC, [(0, "Int8", 0)]))
    with open(f"{out}/import_bad_dtype.tflite", "wb") as f:
        f.write(m.build([t_x], [t_y]))
    m = TFLite()
    t_x = act_tensor(m, "x", [1, 5, 5, 1], np.float32(0.5), 0)
    t_w = m.tensor("w", [2, 1, 3, 2], TT_INT8, np.ones((2, 1, 3, 2), np.int8).tobytes(), [0.1, 0.1], [0, 0], 0)
    t_y = act_tensor(m, "y", [1, 5, 3, 2], np.float32(0.5), 0)
    m.op("CONV_2D", [t_x, t_w, -1], [t_y], (OPT_CONV, [(0, "Int8", 1), (1, "Int32", 1), (2, "Int32", 1)]))
    with open(f"{out}/import_bad_shape.tflite", "wb") as f:
        f.write(m.build([t_x], [t_y]))


def tflite_refusals(out):
    """tests/data/import_bad/*.tflite: small models with one defect each, and
    expected.json: the message each must be refused with (after "<file>: ")."""
    os.makedirs(f"{out}/import_bad", exist_ok=True)
    want = {}
    h = np.float32(0.5)

    def fc_model(name, msg, w_q=None, w_scale=(0.1, 0.1), w_zp=(0, 0), qdim=0, act=0, y_type=TT_INT8, bias_shape=None,
                 version=3, subgraphs=1, after=None, branch=False):
        m = TFLite()
        t_x = act_tensor(m, "x", [1, 4], h, 0)
        wq = np.ones((2, 4), np.int8) if w_q is None else w_q
        t_w = m.tensor("w", [2, 4], TT_INT8, wq.tobytes(), list(w_scale), list(w_zp), qdim)
        ins = [t_x, t_w, -1]
        if bias_shape:
            t_b = m.tensor("b", bias_shape, TT_INT32, np.zeros(int(np.prod(bias_shape)), np.int32).tobytes(),
                           [0.05] * bias_shape[0], [0] * bias_shape[0], 0)
            ins[2] = t_b
        t_y = m.tensor("y", [1, 2], y_type, scale=[1.0] if y_type == TT_INT8 else None, zp=[0])
        m.op("FULLY_CONNECTED", ins, [t_y], (OPT_FC, [(0, "Int8", act)]))
        last = t_y
        for k, (op, shape, s_o, zp_o, opts) in enumerate(after or []):
            t_z = act_tensor(m, "z" if k == 0 else f"z{k}", shape, np.float32(s_o), zp_o)
            src = act_tensor(m, "u", shape, h, 0) if branch == "unwritten" else t_x if branch else last
            m.op(op, [src], [t_z], opts)
            last = t_z
        data = m.build([t_x], [last], version=version, subgraphs=subgraphs)
        with open(f"{out}/import_bad/{name}.tflite", "wb") as f:
            f.write(data)
        want[name] = msg

    fc_model("fused_tanh", "operator 0 (FULLY_CONNECTED 'y'): fused activation 4 is not supported (NONE, RELU, RELU6 "
             "are)", act=4)
    fc_model("weight_128", "operator 0 (FULLY_CONNECTED 'y'): its weights 'w' hold -128: int8 weights are -127..127 "
             "(TFLite's symmetric range)", w_q=np.full((2, 4), -128, np.int8))
    fc_model("weight_zp", "operator 0 (FULLY_CONNECTED 'y'): its weights 'w' have a zero point other than 0",
             w_zp=(0, 3))
    fc_model("weight_axis", "operator 0 (FULLY_CONNECTED 'y'): its weights 'w' are not quantized per tensor or per "
             "output channel (dimension 0)", w_scale=(0.1, 0.1, 0.1, 0.1), w_zp=(0, 0, 0, 0), qdim=1)
    fc_model("float_output", "operator 0 (FULLY_CONNECTED 'y'): its output 'y' is FLOAT32, not INT8 (only int8 "
             "models import)", y_type=TT_FLOAT32)
    fc_model("bias_shape", "operator 0 (FULLY_CONNECTED 'y'): its bias 'b' is not [2]", bias_shape=[3])
    fc_model("logistic_q", "operator 1 (LOGISTIC 'z'): its output is quantized (0.0078125, -128), not TFLite's "
             "(1/256, -128)", after=[("LOGISTIC", [1, 2], 1 / 128, -128, None)])
    fc_model("branch", "operator 1 (LOGISTIC 'z'): LOGISTIC imports only right after FULLY_CONNECTED or CONV_2D "
             "without a fused activation", after=[("LOGISTIC", [1, 2], 1 / 256, -128, None)], branch=True)
    fc_model("unwritten", "operator 1 (LOGISTIC 'z'): it reads tensor 'u', which is neither the input nor an earlier "
             "operator's output", after=[("LOGISTIC", [1, 2], 1 / 256, -128, None)], branch="unwritten")
    fc_model("softmax_middle", "operator 2 (LOGISTIC 'z1'): LOGISTIC after SOFTMAX: SOFTMAX imports only at the end",
             after=[("SOFTMAX", [1, 2], 1 / 256, -128, (OPT_SOFTMAX, [(0, "Float32", 1.0)])),
                    ("LOGISTIC", [1, 2], 1 / 256, -128, None)])
    fc_model("version", "model: schema version 2, not 3", version=2)
    fc_model("subgraphs", "model: 2 subgraphs: only models of one import", subgraphs=2)

    def conv_model(name, msg, k=(3, 3), stride=1, padding=1, dilation=1, pool=None, pool_padding=1):
        m = TFLite()
        t_x = act_tensor(m, "x", [1, 5, 5, 1], h, 0)
        t_w = m.tensor("w", [2, k[0], k[1], 1], TT_INT8, np.ones((2, k[0], k[1], 1), np.int8).tobytes(), [0.1, 0.1],
                       [0, 0], 0)
        t_y = act_tensor(m, "y", [1, 5, 5, 2], h, 0)
        m.op("CONV_2D", [t_x, t_w, -1], [t_y], (OPT_CONV, [(0, "Int8", padding), (1, "Int32", stride), (2, "Int32", stride),
                                                           (4, "Int32", dilation), (5, "Int32", dilation)]))
        last = t_y
        if pool:
            s_o, fw = pool
            side = 3 if pool_padding == 0 else 2  # SAME: ceil(5 / 2)
            t_p = act_tensor(m, "p", [1, side, side, 2], np.float32(s_o), 0)
            m.op("MAX_POOL_2D", [t_y], [t_p], (OPT_POOL, [(0, "Int8", pool_padding), (1, "Int32", 2), (2, "Int32", 2),
                                                           (3, "Int32", fw[0]), (4, "Int32", fw[1])]))
            last = t_p
        with open(f"{out}/import_bad/{name}.tflite", "wb") as f:
            f.write(m.build([t_x], [last]))
        want[name] = msg

    conv_model("dilation", "operator 0 (CONV_2D 'y'): dilation other than 1 does not import", dilation=2)
    conv_model("same_asymmetric", "operator 1 (MAX_POOL_2D 'p'): SAME padding is not symmetric here (0 rows above and "
               "1 below, 0 columns left and 1 right): pools pad evenly", pool=(0.5, (2, 2)), pool_padding=0)
    conv_model("pool_quant", "operator 1 (MAX_POOL_2D 'p'): its output's quantization is not its input's",
               pool=(0.25, (2, 2)))
    conv_model("pool_window", "operator 1 (MAX_POOL_2D 'p'): a 3 x 2 window with strides 2 x 2: only square windows "
               "and equal strides import", pool=(0.5, (2, 3)))
    with open(f"{out}/import_bad/expected.json", "w") as f:
        json.dump(want, f, indent=1, sort_keys=True)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data"))
    ap.add_argument("--n", type=int, default=64, help="reference samples (the first test images)")
    ap.add_argument("--bad-only", action="store_true", help="only the files with unsupported operators or types")
    ap.add_argument("--residual-only", action="store_true",
                    help="only import_residual.onnx, import_residual_ref.json and the fuzzer's residual seed")
    a = ap.parse_args()
    if a.residual_only:
        (_, _), (xte_u8, _) = fashion()
        onnx_residual(torch.from_numpy(xte_u8[:a.n].astype(np.float32) / 255).reshape(-1, 1, 28, 28), a.out, a.n)
        return
    if a.bad_only:
        onnx_bad(a.out)
        tflite_bad(a.out)
        tflite_bad_more(a.out)
        tflite_refusals(a.out)
        return
    torch.set_num_threads(2)
    (xtr_u8, ytr), (xte_u8, yte) = fashion()
    xtr = torch.from_numpy(xtr_u8.astype(np.float32) / 255).reshape(-1, 1, 28, 28)
    ytr_t = torch.from_numpy(ytr.astype(np.int64))
    xte = torch.from_numpy(xte_u8.astype(np.float32) / 255).reshape(-1, 1, 28, 28)
    yte_t = torch.from_numpy(yte.astype(np.int64))
    ref = {"n": a.n, "torch": torch.__version__, "labels": yte[:a.n].tolist(),
           "pixels": xte_u8[:a.n].reshape(a.n, -1).tolist()}
    onnx_mlp(xtr, ytr_t, xte, yte_t, a.out, ref)
    onnx_cnn(xte, a.out, ref)
    onnx_residual(xte, a.out, a.n)
    onnx_bad(a.out)
    tflite_mlp(xtr, ytr_t, xte_u8, yte, a.out, ref)
    tflite_cnn(xte_u8, a.out, ref)
    tflite_tanh(xte_u8, a.out, ref)
    tflite_bad(a.out)
    tflite_bad_more(a.out)
    tflite_refusals(a.out)
    with open(f"{a.out}/import_ref.json", "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    t = ref["mlp_tflite"]
    print(f"onnx mlp: float accuracy {ref['mlp_onnx']['float_accuracy']:.4f}")
    print(f"tflite mlp: float {t['float_accuracy']:.4f}, int8 tflite {t['accuracy_tflite']:.4f}, "
          f"int8 single rounding {t['accuracy_single']:.4f}; outputs differing {t['test_differ']} of "
          f"{10 * t['test_images']} (at most {t['test_max_diff']}), predictions {t['test_pred_differ']}; "
          f"first {a.n}: {t['differ']}")
    print(f"tflite cnn: first {a.n}: outputs differing {ref['cnn_tflite']['differ']}")
    print(f"tflite tanh: first {a.n}: outputs differing {ref['tanh_tflite']['differ']}")


if __name__ == "__main__":
    main()
