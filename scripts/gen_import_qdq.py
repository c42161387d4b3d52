#!/usr/bin/python3
"""gen_import_qdq.py - the ONNX int8 models `nnfpga import` is tested on
(docs/import.md, "ONNX int8 (QDQ and QOperator)"), and their reference
outputs.

Writes into tests/data/ (the default; --out DIR elsewhere):

  import_qdq_mlp.onnx  a Fashion-MNIST MLP 784-64-32-10 (ReLU) trained here in
                       PyTorch, quantized by ONNX Runtime's quantize_static in
                       the QDQ form: uint8 activations, int8 weights per channel
  import_qdq_cnn.onnx  a small CNN (Conv, Relu, MaxPool, Conv, Relu, MaxPool,
                       Flatten, Gemm + Relu, MatMul without bias) trained here,
                       QDQ form, int8 activations, int8 weights per channel
  import_qop_cnn.onnx  the same CNN in the QOperator form: QuantizeLinear,
                       QLinearConv, MaxPool, QGemm (com.microsoft),
                       QLinearMatMul, DequantizeLinear; uint8 activations
  import_qbad/*.onnx, import_qbad/expected.json  small int8 models with one
                       defect each, and the message each is refused with
  tests/fuzz/corpus/import/q*_small.onnx, qop_gap.onnx  small int8 models
                       that import (QDQ; QLinearConv, MaxPool, QGemm,
                       QLinearMatMul; QLinearGlobalAveragePool): the fuzzer's seeds
  import_qdq_residual.onnx  a small ResNet (an identity block and a strided block
                       with a 1x1 shortcut, Add joins) trained here, QDQ form, int8
                       activations; import_qdq_residual_ref.json as import_qdq_ref.json,
                       and nnfpga's Add against ONNX Runtime's on the same int8 inputs
                       (the model's, and every input pair of each Add's quantization)
                       (--residual-only: these and the seed qdq_residual.onnx alone)
  import_qdq_ref.json  per model: the int8 outputs of the first 64 test
                       images under ONNX Runtime and under nnfpga's integer
                       arithmetic (computed below, from docs/numerics.md),
                       how many differ; the same for the test images (up to
                       16) where the two differ ("parted"); the accuracies
                       over the 10,000 test images (float PyTorch, ONNX
                       Runtime, nnfpga)

nnfpga's arithmetic, written here from the numeric contract and independent
of the C importer: int8 values (a uint8 value u with zero point z is the int8
value u - 128 with zero point z - 128: the same real numbers), int32
accumulators over (x - z_x) * w plus the int32 bias, requantization by
TFLite's QuantizeMultiplier of s_in * s_w / s_out and one rounding
((acc * m0 + 2^(k-1)) >> k), then + z_out and a clamp. ONNX Runtime
requantizes in float (round half to even): a few outputs differ by a step.

Needs Debian's python3-torch (/usr/bin/python3) and PyPI's onnx and
onnxruntime (scripts/bootstrap installs them). The C tests read only the
files written here.

    /usr/bin/python3 scripts/gen_import_qdq.py
"""
import argparse
import json
import math
import os
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import helper, numpy_helper, TensorProto

from gen_import_models import ResBlock  # noqa: E402  (scripts/, beside this one)
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

# Fashion-MNIST's IDX reader and the float training loop: gen_import_models.py's
from gen_import_models import fashion, train  # noqa: E402

DATA = "/usr/share/datasets/fashion-mnist"
NREF = 64


# ---- the float models ------------------------------------------------------------

def mlp():
    torch.manual_seed(11)
    return torch.nn.Sequential(torch.nn.Linear(784, 64), torch.nn.ReLU(), torch.nn.Linear(64, 32), torch.nn.ReLU(),
                               torch.nn.Linear(32, 10))


def cnn():
    torch.manual_seed(12)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(16 * 7 * 7, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10, bias=False))


# the ResNet basic block gen_import_models.py's float residual model uses
Block = ResBlock


def resnet():
    """Conv 8 + ReLU, max pool (8 x 14 x 14), an identity block, a strided
    block with a 1x1 shortcut (16 x 7 x 7), Flatten, Linear(784, 10)."""
    torch.manual_seed(13)
    return torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               Block(8, 8, 1), Block(8, 16, 2), torch.nn.Flatten(), torch.nn.Linear(16 * 7 * 7, 10))


def export(model, x1, path):
    torch.onnx.export(model, x1, path, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)


class Calib(CalibrationDataReader):
    """The first 1,024 training images, 128 at a time."""

    def __init__(self, x):
        self.batches = iter([{"image": x[i:i + 128]} for i in range(0, 1024, 128)])

    def get_next(self):
        return next(self.batches, None)


def quantize(float_path, path, x_calib, fmt, act):
    quantize_static(float_path, path, Calib(x_calib), quant_format=fmt, per_channel=True,
                    activation_type=act, weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)


# ---- nnfpga's integer arithmetic (the reference side) -----------------------------

def quantize_multiplier(real):
    """QuantizeMultiplier: (m0, shift), real ~= m0 * 2^(shift - 31), m0 rounded half away from zero."""
    q, e = math.frexp(real)
    m = int(math.floor(q * 2**31 + 0.5))
    if m == 2**31:
        m //= 2
        e += 1
    return m, e


def requantize(acc, real, zp, lo):
    """Per channel (axis 1): (acc * m0 + 2^(k-1)) >> k, k = 31 - shift, + zp, clamp to [lo, 127]."""
    shape = (1, -1) + (1,) * (acc.ndim - 2)
    mk = [quantize_multiplier(float(r)) for r in real]
    m0 = np.array([m for m, _ in mk], np.int64).reshape(shape)
    k = np.array([31 - s for _, s in mk], np.int64).reshape(shape)
    y = ((acc * m0 + (np.int64(1) << (k - 1))) >> k) + zp
    return np.clip(y, lo, 127)


def mbqm(x, m0, shift, double=False):
    """MultiplyByQuantizedMultiplier: one rounding (nnfm_requantize without zero point and clamp, ties toward
    +inf), or (double) TFLite's two when shift < 0 (the high half rounded ties toward +inf, then a rounding
    divide by 2^-shift, ties away from zero: nnfm_requantize_r's NNFM_ROUND_TFLITE)."""
    if double and shift < 0:
        h = (x * m0 + (np.int64(1) << 30)) >> 31
        return (h + (np.int64(1) << (-shift - 1)) - (h < 0)) >> -shift
    k = 31 - shift
    return (x * m0 + (np.int64(1) << (k - 1))) >> k


def ew_add(ia, ib, sa, sb, sc, zc, lo, double=False):
    """nnfpga's int8 Add (nnfm_ew, NNFM_EW_ADD; one rounding, or TFLite's two): TFLite's ADD arithmetic. ia,
    ib are the inputs less their zero points; each is scaled to twice the larger scale at a 2^20 left shift
    (the larger by 0.5 exactly), summed, requantized by twice / (2^20 * sc), + zc, clamped to [lo, 127]."""
    twice = 2.0 * max(sa, sb)
    small = sa < sb
    m0s, shs = quantize_multiplier((sa if small else sb) / twice)
    m0, sh = quantize_multiplier(twice / ((1 << 20) * sc))
    xa, xb = ia.astype(np.int64) << 20, ib.astype(np.int64) << 20
    a = mbqm(xa, m0s, shs, double) if small else mbqm(xa, 1 << 30, 0, double)
    b = mbqm(xb, 1 << 30, 0, double) if small else mbqm(xb, m0s, shs, double)
    return np.clip(mbqm(a + b, m0, sh, double) + zc, lo, 127)


def as_int8(a):
    """ONNX integers as nnfpga's int8: a uint8 u is u - 128 (its zero point too: the same reals)."""
    return a.astype(np.int64) - 128 if a.dtype == np.uint8 else a.astype(np.int64)


class Int8Ref:
    """Runs a QDQ or QOperator model of the operators above in nnfpga's arithmetic."""

    def __init__(self, path):
        self.g = onnx.load(path).graph
        self.init = {t.name: numpy_helper.to_array(t) for t in self.g.initializer}

    def qp(self, s, z):
        return self.init[s].astype(np.float64).reshape(-1), as_int8(self.init[z]).reshape(-1)

    def weights(self, w, s, z):
        sc, zp = self.qp(s, z)
        assert not zp.any(), "weights with a zero point"
        return as_int8(self.init[w]), sc

    def conv(self, x, w, b, nd):
        a = {at.name: helper.get_attribute_value(at) for at in nd.attribute}
        y = torch.nn.functional.conv2d(torch.tensor(x, dtype=torch.float64), torch.tensor(w, dtype=torch.float64),
                                       stride=a.get("strides", [1, 1])[0], padding=a.get("pads", [0] * 4)[0])
        acc = y.numpy().round().astype(np.int64)
        return acc + b.reshape(1, -1, 1, 1) if b is not None else acc

    def gemm(self, x, w, b, trans):
        acc = x @ (w.T if trans else w)
        return acc + b.reshape(1, -1) if b is not None else acc

    def run(self, x):
        v = {self.g.input[0].name: ("f", x)}
        for nd in self.g.node:
            op, i = nd.op_type, list(nd.input)
            a = {at.name: helper.get_attribute_value(at) for at in nd.attribute}
            if op == "DequantizeLinear" and i[0] in self.init:
                v[nd.output[0]] = ("c", i)
                continue
            x = v[i[0]]
            if op == "QuantizeLinear":
                s, z = self.qp(i[1], i[2])
                if x[0] == "f":  # the input quantizer: round(x / s), half away from zero (nnfm_quantize_real)
                    r = x[1].astype(np.float64) / s[0]
                    y = np.clip(np.sign(r) * np.floor(np.abs(r) + 0.5) + z[0], -128, 127).astype(np.int64)
                elif x[0] == "acc":
                    y = requantize(x[1], x[2] / s[0], z[0], max(z[0], -128) if x[3] else -128)
                elif x[0] == "add":  # two dequantized tensors' sum: nnfpga's int8 Add, its Relu in the clamp
                    (_, ya, sa, za), (_, yb, sb, zb), relu = x[1], x[2], x[3]
                    y = ew_add(ya - za, yb - zb, float(sa), float(sb), float(s[0]), int(z[0]),
                               max(int(z[0]), -128) if relu else -128)
                else:
                    assert x[2] == s[0] and x[3] == z[0], "a requantizing QuantizeLinear"
                    y = x[1]
                v[nd.output[0]] = ("q", y, s[0], z[0])
            elif op == "DequantizeLinear":
                v[nd.output[0]] = x
            elif op in ("Conv", "Gemm", "MatMul"):
                _, wi = v[i[1]]
                w, sw = self.weights(*wi)
                b = None
                if len(i) > 2 and i[2]:
                    bi = v[i[2]][1]
                    b = self.init[bi[0]].astype(np.int64)
                acc = (self.conv(x[1] - x[3], w, b, nd) if op == "Conv" else
                       self.gemm(x[1] - x[3], w, b, a.get("transB", 0)))
                v[nd.output[0]] = ("acc", acc, x[2] * sw * np.ones(acc.shape[1]), False)
            elif op in ("QLinearConv", "QLinearMatMul", "QGemm"):
                s, z = self.qp(i[1], i[2])
                assert s[0] == x[2] and z[0] == x[3]
                w, sw = self.weights(i[3], i[4], i[5])
                bk = {"QLinearConv": 8, "QGemm": 6}.get(op)
                b = self.init[i[bk]].astype(np.int64) if bk and len(i) > bk and i[bk] else None
                acc = (self.conv(x[1] - x[3], w, b, nd) if op == "QLinearConv" else
                       self.gemm(x[1] - x[3], w, b, a.get("transB", 0)))
                so, zo = self.qp(*((i[7], i[8]) if op == "QGemm" else (i[6], i[7])))
                real = x[2] * sw * np.ones(acc.shape[1]) / so[0]
                v[nd.output[0]] = ("q", requantize(acc, real, zo[0], -128), so[0], zo[0])
            elif op == "Add" and v.get(i[1], ("c",))[0] == "q":  # a residual join (not a MatMul's bias)
                v[nd.output[0]] = ("add", x, v[i[1]], False)
            elif op == "Relu":
                v[nd.output[0]] = ((x[0], x[1], x[2], True) if x[0] in ("acc", "add") else
                                   (x[0], np.maximum(x[1], x[3]), x[2], x[3]))
            elif op == "MaxPool":
                k, st = a["kernel_shape"][0], a.get("strides", [1, 1])[0]
                y = torch.nn.functional.max_pool2d(torch.tensor(x[1], dtype=torch.float64), k, st).numpy().astype(np.int64)
                v[nd.output[0]] = ("q", y, x[2], x[3])
            elif op in ("Flatten", "Reshape"):
                v[nd.output[0]] = ("q", x[1].reshape(x[1].shape[0], -1), x[2], x[3])
            else:
                raise ValueError(f"the reference has no {op}")
        out = v[self.g.output[0].name]
        assert out[0] == "q"
        return out[1]


# ---- ONNX Runtime ----------------------------------------------------------------

def ort_int8(path, x):
    """ONNX Runtime's int8 outputs (the last DequantizeLinear's input, as nnfpga's int8)."""
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = np.concatenate([sess.run(None, {"image": x[i:i + 1000]})[0] for i in range(0, len(x), 1000)])
    m = onnx.load(path).graph
    last = [nd for nd in m.node if nd.output[0] == m.output[0].name][0]
    init = {t.name: numpy_helper.to_array(t) for t in m.initializer}
    s, z = float(init[last.input[1]]), int(as_int8(init[last.input[2]]))
    return np.round(y.astype(np.float64) / s).astype(np.int64) + z


# ---- refused models ----------------------------------------------------------------

def init(name, a):
    return numpy_helper.from_array(np.asarray(a), name)


def small_qdq(w=None, wzp=np.int8(0), wscale=None, waxis=0, bscale=None, tail=True, extra=None):
    """x (1, 4) -> Q -> DQ -> Gemm(DQ(W [4, 4] int8), DQ(b int32)) -> Q -> DQ -> y, one defect set by the caller."""
    w = np.array([[1, -2, 3, -4], [5, 6, -7, 8], [9, -10, 11, 12], [-13, 14, 15, -16]], np.int8) if w is None else w
    sw = np.full(4, 0.01, np.float32) if wscale is None else wscale
    sb = (np.float32(1 / 255) * sw).astype(np.float32) if bscale is None else bscale
    inits = [init("x_s", np.float32(1 / 255)), init("x_z", np.int8(-128)), init("W", w), init("W_s", sw),
             init("W_z", np.full(sw.shape, wzp)), init("b", np.array([10, -20, 30, -40], np.int32)),
             init("b_s", sb), init("b_z", np.zeros(4, np.int32)), init("y_s", np.float32(0.05)),
             init("y_z", np.int8(3))]
    nodes = [helper.make_node("DequantizeLinear", ["W", "W_s", "W_z"], ["Wf"], name="W_dq", axis=waxis),
             helper.make_node("DequantizeLinear", ["b", "b_s", "b_z"], ["bf"], name="b_dq", axis=0),
             helper.make_node("QuantizeLinear", ["x", "x_s", "x_z"], ["xq"], name="x_q"),
             helper.make_node("DequantizeLinear", ["xq", "x_s", "x_z"], ["xd"], name="x_dq"),
             helper.make_node("Gemm", ["xd", "Wf", "bf"], ["h" if tail else "y"], name="fc", transB=1)]
    if tail:
        nodes += [helper.make_node("QuantizeLinear", ["h", "y_s", "y_z"], ["hq"], name="h_q"),
                  helper.make_node("DequantizeLinear", ["hq", "y_s", "y_z"], ["y"], name="h_dq")]
    if extra:
        nodes, inits = extra(nodes, inits)
    return graph_model(nodes, inits, [1, 4])


def graph_model(nodes, inits, shape):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.microsoft", 1)],
                          producer_name="gen_import_qdq")
    m.ir_version = 8
    return m


def sigmoid_after(nodes, inits):
    nodes[-1].output[0] = "hd"
    return nodes + [helper.make_node("Sigmoid", ["hd"], ["y"], name="sig")], inits


def qop_base(op, name, inputs, inits, shape, **attrs):
    """x -> QuantizeLinear -> op -> DequantizeLinear -> y (QOperator)."""
    nodes = [helper.make_node("QuantizeLinear", ["x", "x_s", "x_z"], ["xq"], name="x_q"),
             helper.make_node(op, inputs, ["hq"], name=name, domain="com.microsoft" if op == "QLinearAdd" else "",
                              **attrs),
             helper.make_node("DequantizeLinear", ["hq", "x_s", "x_z"], ["y"], name="y_dq")]
    base = [init("x_s", np.float32(1 / 255)), init("x_z", np.uint8(0))]
    return graph_model(nodes, base + inits, shape)


def seed_models():
    """Small int8 models that import: the fuzzer's seeds (tests/fuzz/corpus/import)."""
    s, z = np.float32(0.02), np.int8(-5)
    conv = [init("W", np.arange(-9, 9, dtype=np.int8).reshape(2, 1, 3, 3)), init("W_s", np.full(2, 0.01, np.float32)),
            init("W_z", np.zeros(2, np.int8)), init("B", np.array([100, -100], np.int32)), init("s", s), init("z", z)]
    fc = [init("G", np.arange(-18, 18, dtype=np.int8).reshape(2, 18)), init("G_s", np.full(2, 0.02, np.float32)),
          init("G_z", np.zeros(2, np.int8)), init("C", np.array([7, -7], np.int32)),
          init("M", np.array([[3, -4, 5], [-6, 7, 8]], np.int8)), init("M_s", np.float32(0.03)), init("M_z", np.int8(0))]
    qconv = ["xq", "x_s", "x_z", "W", "W_s", "W_z", "s", "z", "B"]
    gemm = helper.make_node("QGemm", ["f", "s", "z", "G", "G_s", "G_z", "C", "s", "z"], ["g"], name="fc",
                            domain="com.microsoft", transB=1)
    qop = qop_base("QLinearConv", "conv", qconv, conv + fc, [1, 1, 6, 6], kernel_shape=[3, 3], pads=[1] * 4)
    qop.graph.node[-1].input[0] = "m"
    qop.graph.node.insert(2, helper.make_node("MaxPool", ["hq"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]))
    qop.graph.node.insert(3, helper.make_node("Flatten", ["p"], ["f"], name="flat"))
    qop.graph.node.insert(4, gemm)
    qop.graph.node.insert(5, helper.make_node("QLinearMatMul", ["g", "s", "z", "M", "M_s", "M_z", "s", "z"], ["m"],
                                              name="mm"))
    qop.graph.node[-1].input[1:] = ["s", "z"]
    gap = qop_base("QLinearConv", "conv", qconv, conv, [1, 1, 5, 5], kernel_shape=[3, 3])
    gap.graph.node[-1].input[:] = ["a", "s", "z"]
    gap.graph.node.insert(2, helper.make_node("QLinearGlobalAveragePool", ["hq", "s", "z", "s", "z"], ["a"], name="gap",
                                              domain="com.microsoft"))
    return {"qdq_small": small_qdq(), "qop_small": qop, "qop_gap": gap}


def bad_models():
    """name -> (model, the message it is refused with after "<file>: ")."""
    wq = np.array([[1, -2, 3, -4], [5, 6, -7, 8], [9, -10, 11, 12], [-13, 14, 15, -128]], np.int8)
    conv_w = [init("W", np.ones((4, 1, 3, 3), np.int8)), init("W_s", np.full(4, 0.01, np.float32)),
              init("W_z", np.zeros(4, np.int8))]
    fc = "node 4 'Gemm' (fc)"
    return {
        "weight_zp": (small_qdq(wzp=np.int8(3)), f"{fc}: its weights 'W' have a zero point other than 0"),
        "weight_u8_zp": (small_qdq(w=np.full((4, 4), 140, np.uint8), wzp=np.uint8(100)),
                         f"{fc}: its weights 'W' have a zero point other than 0"),
        "weight_128": (small_qdq(w=wq),
                       f"{fc}: its weights 'W' hold -128: int8 weights are -127..127 (TFLite's symmetric range)"),
        "weight_axis": (small_qdq(waxis=1), f"{fc}: its weights 'W' are quantized along axis 1, not per output "
                                            "channel (axis 0)"),
        "bias_scale": (small_qdq(bscale=np.full(4, 1e-4, np.float32)),
                       f"{fc}: its bias 'b' has scale 0.0001 in channel 0, not input scale x weight scale 3.92157e-05"),
        "float_out": (small_qdq(tail=False), "graph output: the last layer's output is not quantized (no "
                                             "QuantizeLinear after it)"),
        "sigmoid": (small_qdq(extra=sigmoid_after), "node 7 'Sigmoid' (sig): Sigmoid in an int8 ONNX model does not "
                                                    "import (its lookup table is not given)"),
        "qlinear_add": (qop_base("QLinearAdd", "add", ["xq", "x_s", "x_z", "xq", "x_s", "x_z", "x_s", "x_z"], [],
                                 [1, 4]),
                        "node 1 'QLinearAdd' (add): QLinearAdd (QOperator) does not import: an Add imports in the "
                        "QDQ form (DequantizeLinear, Add, QuantizeLinear), as quantize_static writes it by default"),
        "conv_group": (qop_base("QLinearConv", "conv", ["xq", "x_s", "x_z", "W", "W_s", "W_z", "x_s", "x_z"], conv_w,
                                [1, 4, 5, 5], kernel_shape=[3, 3], group=3),
                       "node 1 'QLinearConv' (conv): group 3 does not divide its 4 input channels"),
    }


# ---- the residual model ---------------------------------------------------------------

def ort_add_pairs(sa, za, sb, zb, sc, zc):
    """ONNX Runtime's int8 Add over all 65,536 input pairs: a QDQ graph of one Add (DequantizeLinear of each
    int8 input, Add, QuantizeLinear: ONNX Runtime fuses it into QLinearAdd) run on the pairs as its inputs, as
    in a model (not constants, which it would fold in float at load). (ia, ib, y): the inputs less their zero
    points and the outputs."""
    a, b = np.meshgrid(np.arange(-128, 128), np.arange(-128, 128), indexing="ij")
    a, b = a.ravel(), b.ravel()
    inits = [init("sa", np.float32(sa)), init("za", np.int8(za)), init("sb", np.float32(sb)),
             init("zb", np.int8(zb)), init("sc", np.float32(sc)), init("zc", np.int8(zc))]
    nodes = [helper.make_node("DequantizeLinear", ["a", "sa", "za"], ["ad"]),
             helper.make_node("DequantizeLinear", ["b", "sb", "zb"], ["bd"]),
             helper.make_node("Add", ["ad", "bd"], ["c"]), helper.make_node("QuantizeLinear", ["c", "sc", "zc"], ["y"])]
    g = helper.make_graph(nodes, "add", [helper.make_tensor_value_info(k, TensorProto.INT8, [a.size]) for k in "ab"],
                          [helper.make_tensor_value_info("y", TensorProto.INT8, [a.size])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    y = sess.run(None, {"a": a.astype(np.int8), "b": b.astype(np.int8)})[0]
    return a - za, b - zb, y.astype(np.int64)


def ort_add_tensors(path, x):
    """ONNX Runtime's int8 Adds in the model at path run on x: for each residual Add, its two int8 inputs, its
    int8 output and its quantization (s_a, z_a, s_b, z_b, s_out, z_out). Made graph outputs in the model as
    ONNX Runtime optimized it (saved, then run without optimizing again: the same kernels), since outputs added
    to the file itself change what it fuses. An Add is a QLinearAdd there, or, where a DequantizeLinear feeds
    other nodes too (ONNX Runtime fuses only a node's own), still DequantizeLinear, Add, QuantizeLinear."""
    tmp = tempfile.mkdtemp(prefix="gen_import_qdq.")
    so = ort.SessionOptions()
    so.optimized_model_filepath = f"{tmp}/opt.onnx"
    plain = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    m = onnx.load(f"{tmp}/opt.onnx")
    g = m.graph
    init = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    prod = {o: nd for nd in g.node for o in nd.output}
    adds = []
    for nd in g.node:
        if nd.op_type == "QLinearAdd":
            i = list(nd.input)
            qp = (i[1], i[2], i[4], i[5], i[6], i[7])
            t = (i[0], i[3], nd.output[0])
        elif nd.op_type == "Add" and all(prod.get(k) is not None and prod[k].op_type == "DequantizeLinear"
                                         for k in nd.input):
            dq = [prod[k] for k in nd.input]
            q = [c for c in g.node if nd.output[0] in c.input][0]
            qp = (dq[0].input[1], dq[0].input[2], dq[1].input[1], dq[1].input[2], q.input[1], q.input[2])
            t = (dq[0].input[0], dq[1].input[0], q.output[0])
        else:
            continue
        v = [init[k] for k in qp]
        adds.append((t, (float(v[0]), int(as_int8(v[1])), float(v[2]), int(as_int8(v[3])), float(v[4]),
                         int(as_int8(v[5])))))
        for k, z in zip(t, (v[1], v[3], v[5])):  # int8 or uint8, as its zero point
            g.output.append(helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(z.dtype), None))
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    names = [k for t, _ in adds for k in t]
    got = []
    for i in range(0, len(x), 1000):
        r = sess.run([g.output[0].name] + names, {"image": x[i:i + 1000]})
        assert np.array_equal(r[0], plain.run(None, {"image": x[i:i + 1000]})[0])  # what ONNX Runtime computes
        got.append(r[1:])
    cat = [np.concatenate([as_int8(r[k]).ravel() for r in got]) for k in range(len(names))]
    return [(cat[3 * k], cat[3 * k + 1], cat[3 * k + 2], q) for k, (_, q) in enumerate(adds)]


def add_figures(path, x):
    """nnfpga's Add (one rounding, and TFLite's two) against ONNX Runtime's, given the same int8 inputs: over
    the Adds' inputs in the model at path run on x, and over all 65,536 input pairs of each Add's quantization
    (ONNX Runtime's QLinearAdd). ONNX Runtime adds in float32 and rounds half to even."""
    fig = {"adds": 0, "outputs": 0, "nnfpga_differ": 0, "tflite_rounding_differ": 0, "pairs": 0,
           "pairs_nnfpga_differ": 0, "pairs_tflite_rounding_differ": 0}
    for a, b, y, (sa, za, sb, zb, sc, zc) in ort_add_tensors(path, x):
        fig["adds"] += 1
        fig["outputs"] += int(y.size)
        fig["nnfpga_differ"] += int((ew_add(a - za, b - zb, sa, sb, sc, zc, -128) != y).sum())
        fig["tflite_rounding_differ"] += int((ew_add(a - za, b - zb, sa, sb, sc, zc, -128, double=True) != y).sum())
        ia, ib, y = ort_add_pairs(sa, za, sb, zb, sc, zc)
        fig["pairs"] += int(y.size)
        fig["pairs_nnfpga_differ"] += int((ew_add(ia, ib, sa, sb, sc, zc, -128) != y).sum())
        fig["pairs_tflite_rounding_differ"] += int((ew_add(ia, ib, sa, sb, sc, zc, -128, double=True) != y).sum())
    return fig


def residual_seed():
    """A small QDQ residual graph that imports (the fuzzer's seed): x (1, 2, 3, 3) -> Q -> DQ -> Conv 3x3 ->
    Q -> DQ, + DQ(x) -> Q (zero point -128: a folded Relu) -> DQ -> y."""
    s, z, s2 = np.float32(0.02), np.int8(-5), np.float32(0.03)
    inits = [init("x_s", s), init("x_z", z), init("W", np.arange(-18, 18, dtype=np.int8).reshape(2, 2, 3, 3)),
             init("W_s", np.full(2, 0.01, np.float32)), init("W_z", np.zeros(2, np.int8)),
             init("B", np.array([50, -50], np.int32)), init("B_s", np.full(2, np.float32(0.02 * 0.01), np.float32)),
             init("B_z", np.zeros(2, np.int32)), init("h_s", np.float32(0.05)), init("h_z", np.int8(2)),
             init("y_s", s2), init("y_z", np.int8(-128))]
    nodes = [helper.make_node("QuantizeLinear", ["x", "x_s", "x_z"], ["xq"], name="x_q"),
             helper.make_node("DequantizeLinear", ["xq", "x_s", "x_z"], ["xd"], name="x_dq"),
             helper.make_node("DequantizeLinear", ["W", "W_s", "W_z"], ["Wf"], name="W_dq", axis=0),
             helper.make_node("DequantizeLinear", ["B", "B_s", "B_z"], ["Bf"], name="B_dq", axis=0),
             helper.make_node("Conv", ["xd", "Wf", "Bf"], ["h"], name="conv", kernel_shape=[3, 3], pads=[1] * 4),
             helper.make_node("QuantizeLinear", ["h", "h_s", "h_z"], ["hq"], name="h_q"),
             helper.make_node("DequantizeLinear", ["hq", "h_s", "h_z"], ["hd"], name="h_dq"),
             helper.make_node("Add", ["hd", "xd"], ["a"], name="add"),
             helper.make_node("QuantizeLinear", ["a", "y_s", "y_z"], ["aq"], name="a_q"),
             helper.make_node("DequantizeLinear", ["aq", "y_s", "y_z"], ["y"], name="a_dq")]
    return graph_model(nodes, inits, [1, 2, 3, 3])


def residual(out, xtr, ytr_t, xte, yte):
    """import_qdq_residual.onnx (the ResNet above trained 1 epoch, QDQ, int8 activations) and
    import_qdq_residual_ref.json (import_qdq_ref.json's form: its int8 outputs under nnfpga's arithmetic and
    ONNX Runtime's, the figures, and each Add's comparison over all its input pairs); the fuzzer's seed
    tests/fuzz/corpus/import/qdq_residual.onnx."""
    file, shape = "import_qdq_residual.onnx", (-1, 1, 28, 28)
    tmp = tempfile.mkdtemp(prefix="gen_import_qdq.")
    x = torch.tensor(xtr).reshape(shape)
    model = train(resnet(), x, ytr_t, 1, 1)
    with torch.no_grad():
        float_acc = accuracy(model(torch.tensor(xte).reshape(shape)).numpy(), yte)
    export(model, x[:1], f"{tmp}/resnet.onnx")
    print(f"resnet: PyTorch float accuracy {float_acc:.4f}")
    path = f"{out}/{file}"
    quantize(f"{tmp}/resnet.onnx", path, xtr[:1024].reshape(shape), QuantFormat.QDQ, QuantType.QInt8)
    xs = xte.reshape(shape)
    r = Int8Ref(path)
    ours, theirs = r.run(xs), ort_int8(path, xs)
    differ = ours != theirs
    fig = {"float_accuracy": float_acc, "onnxruntime_accuracy": accuracy(theirs, yte),
           "nnfpga_accuracy": accuracy(ours, yte), "nnfpga_accuracy_2000": accuracy(ours[:2000], yte[:2000]),
           "outputs": int(ours.size), "outputs_differ": int(differ.sum()),
           "largest_difference": int(np.abs(ours - theirs).max()),
           "predictions_differ": int((ours.argmax(1) != theirs.argmax(1)).sum()),
           "add": add_figures(path, xs)}
    rows = np.flatnonzero(differ.any(1))[:16]  # test images where the roundings part
    ref = {"n": NREF, "images": "the first 64 Fashion-MNIST test images (t10k), pixels / 255",
           "onnxruntime": ort.__version__, "onnx": onnx.__version__, "torch": torch.__version__,
           "models": {file: {"nnfpga": ours[:NREF].tolist(), "onnxruntime": theirs[:NREF].tolist(),
                             "differ": int(differ[:NREF].sum()), "figures": fig,
                             "parted": {"index": rows.tolist(), "nnfpga": ours[rows].tolist(),
                                        "onnxruntime": theirs[rows].tolist(), "differ": int(differ[rows].sum())}}}}
    print(f"{file}: {os.path.getsize(path)} bytes; {json.dumps(fig)}")
    with open(f"{out}/import_qdq_residual_ref.json", "w") as f:
        json.dump(ref, f, indent=None, separators=(",", ":"))
        f.write("\n")
    seeds = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fuzz", "corpus", "import")
    onnx.save(residual_seed(), f"{seeds}/qdq_residual.onnx")


# ---- main ------------------------------------------------------------------------

MODELS = [  # file, the float model, form, activations
    ("import_qdq_mlp.onnx", "mlp", QuantFormat.QDQ, QuantType.QUInt8),
    ("import_qdq_cnn.onnx", "cnn", QuantFormat.QDQ, QuantType.QInt8),
    ("import_qop_cnn.onnx", "cnn", QuantFormat.QOperator, QuantType.QUInt8),
]


def accuracy(logits, y):
    return float((np.asarray(logits).argmax(1) == y).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data"))
    ap.add_argument("--residual-only", action="store_true",
                    help="only import_qdq_residual.onnx, import_qdq_residual_ref.json and the residual seed")
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    torch.set_num_threads(1)
    (xtr, ytr), (xte, yte) = fashion()
    xtr = xtr.reshape(-1, 784).astype(np.float32) / np.float32(255)
    xte = xte.reshape(-1, 784).astype(np.float32) / np.float32(255)
    ytr_t = torch.tensor(ytr.astype(np.int64))
    if args.residual_only:
        residual(out, xtr, ytr_t, xte, yte)
        return
    shape = {"mlp": (-1, 784), "cnn": (-1, 1, 28, 28)}
    tmp = tempfile.mkdtemp(prefix="gen_import_qdq.")
    floats = {}
    for name, make, epochs in (("mlp", mlp, 2), ("cnn", cnn, 1)):
        x = torch.tensor(xtr).reshape(shape[name])
        model = train(make(), x, ytr_t, epochs, 1)
        with torch.no_grad():
            floats[name] = accuracy(model(torch.tensor(xte).reshape(shape[name])).numpy(), yte)
        export(model, x[:1], f"{tmp}/{name}.onnx")
        print(f"{name}: PyTorch float accuracy {floats[name]:.4f}")
    ref = {"n": NREF, "images": "the first 64 Fashion-MNIST test images (t10k), pixels / 255",
           "onnxruntime": ort.__version__, "onnx": onnx.__version__, "torch": torch.__version__, "models": {}}
    for file, name, fmt, act in MODELS:
        path = f"{out}/{file}"
        quantize(f"{tmp}/{name}.onnx", path, xtr[:1024].reshape(shape[name]), fmt, act)
        x = xte.reshape(shape[name])
        ours, theirs = Int8Ref(path).run(x), ort_int8(path, x)
        differ = ours != theirs
        fig = {"float_accuracy": floats[name], "onnxruntime_accuracy": accuracy(theirs, yte),
               "nnfpga_accuracy": accuracy(ours, yte), "nnfpga_accuracy_2000": accuracy(ours[:2000], yte[:2000]),
               "outputs": int(ours.size), "outputs_differ": int(differ.sum()),
               "largest_difference": int(np.abs(ours - theirs).max()),
               "predictions_differ": int((ours.argmax(1) != theirs.argmax(1)).sum())}
        rows = np.flatnonzero(differ.any(1))[:16]  # test images where the roundings part
        ref["models"][file] = {"nnfpga": ours[:NREF].tolist(), "onnxruntime": theirs[:NREF].tolist(),
                               "differ": int(differ[:NREF].sum()), "figures": fig,
                               "parted": {"index": rows.tolist(), "nnfpga": ours[rows].tolist(),
                                          "onnxruntime": theirs[rows].tolist(), "differ": int(differ[rows].sum())}}
        print(f"{file}: {os.path.getsize(path)} bytes; {json.dumps(fig)}")
    with open(f"{out}/import_qdq_ref.json", "w") as f:
        json.dump(ref, f, indent=None, separators=(",", ":"))
        f.write("\n")
    os.makedirs(f"{out}/import_qbad", exist_ok=True)
    expected = {}
    for name, (model, msg) in bad_models().items():
        onnx.save(model, f"{out}/import_qbad/{name}.onnx")
        expected[name] = msg
    with open(f"{out}/import_qbad/expected.json", "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    seeds = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fuzz", "corpus", "import")
    for name, model in seed_models().items():
        onnx.save(model, f"{seeds}/{name}.onnx")
    residual(out, xtr, ytr_t, xte, yte)


if __name__ == "__main__":
    main()
