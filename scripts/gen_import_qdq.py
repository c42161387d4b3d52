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
            elif op == "Relu":
                v[nd.output[0]] = (x[0], x[1], x[2], True) if x[0] == "acc" else (x[0], np.maximum(x[1], x[3]), x[2], x[3])
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
                        "node 1 'QLinearAdd' (add): QLinearAdd adds two tensors (a residual): only chains of "
                        "layers, as nn.Sequential, import"),
        "conv_group": (qop_base("QLinearConv", "conv", ["xq", "x_s", "x_z", "W", "W_s", "W_z", "x_s", "x_z"], conv_w,
                                [1, 4, 5, 5], kernel_shape=[3, 3], group=3),
                       "node 1 'QLinearConv' (conv): group 3 does not divide its 4 input channels"),
    }


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
    args = ap.parse_args()
    out = os.path.abspath(args.out)
    torch.set_num_threads(1)
    (xtr, ytr), (xte, yte) = fashion()
    xtr = xtr.reshape(-1, 784).astype(np.float32) / np.float32(255)
    xte = xte.reshape(-1, 784).astype(np.float32) / np.float32(255)
    ytr_t = torch.tensor(ytr.astype(np.int64))
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


if __name__ == "__main__":
    main()
