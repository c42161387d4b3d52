#!/usr/bin/python3
"""gen_tiny_models.py - int8 look-alikes of the four MLPerf Tiny reference
models, and TFLite's outputs for them, for nnfpga's end-to-end tests.

Each look-alike has the operators of its MLPerf Tiny model in the same order,
the same graph, tensor shapes, options (padding, strides, fused activations,
filter sizes) and quantization structure (per-channel or per-tensor, which
dimension, the input's exact scale and zero point), but random weights drawn
here from fixed seeds: the real files are not redistributed. Writes into
tests/data/tiny/ (the default; --out DIR elsewhere):

  ad.tflite    anomaly detection (ad01_int8.tflite): a 640-128-128-128-128-8-
               128-128-128-128-640 autoencoder, 10 FULLY_CONNECTED, ReLU fused
               on the first 9
  kws.tflite   keyword spotting (kws_ref_model.tflite): DS-CNN over [1,49,10,1]:
               CONV_2D 10x4 s2, 4 x (DEPTHWISE_CONV_2D 3x3, CONV_2D 1x1),
               AVERAGE_POOL_2D 25x5, RESHAPE, FULLY_CONNECTED, SOFTMAX
  ic.tflite    image classification (pretrainedResnet_quant.tflite): ResNet-8
               over [1,32,32,3] with three residual ADDs
  vww.tflite   visual wake words (vww_96_int8.tflite): MobileNetV1 0.25 over
               [1,96,96,3]
  <name>_input.bin     N random int8 inputs, raw, in the input tensor's layout
                       (NHWC, channels fastest)
  <name>_expected.bin  the N int8 outputs of TFLite's reference kernels
                       (OpResolverType.BUILTIN_REF), raw
  <name>_logits.bin    for models ending in SOFTMAX: the int8 tensor it reads
  tiny.json    per model: files, sha256, operators, MACs, weight and bias
               bytes, input and output shapes and quantization, N, how many
               outputs TFLite's optimized kernels compute otherwise, how many
               distinct values the outputs take; the interpreter's version

The weights are He-normal (depthwise kernels with a positive mean), then
rescaled per output channel from a float forward pass over random calibration
inputs: every pre-activation gets unit spread around a random centre (+1 before
a ReLU), a folded batch norm as in the real models, which keeps the network
numerically alive (no dead, saturated or chaotic layers). Each activation tensor
is then quantized from its observed range, as TFLite's post-training quantizer
does. Every figure is computed in float64 from fixed seeds: a rerun writes the
same bytes (also with another BLAS).

    /usr/bin/python3 scripts/gen_tiny_models.py              # write the files
    /usr/bin/python3 scripts/gen_tiny_models.py --real /tmp/tiny
        # compare the look-alikes with the real .tflite files in /tmp/tiny
        # (named as MLPerf Tiny names them); writes nothing

Needs numpy, flatbuffers and ai-edge-litert (Debian's python3 here).
"""
import argparse
import hashlib
import importlib.metadata
import json
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the float pass is small: leave the other cores alone
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nnf_tflite import (ACT_NONE, ACT_RELU, PAD_SAME, PAD_VALID, TT_INT8, TT_INT32, TFLite, act_tensor,  # noqa: E402
                        add_options, conv_options, depthwise_options, fc_options, pool_options, shape_tensor,
                        softmax_options)

CAL_SAMPLES = 256   # calibration inputs per model (float forward)

# kernel versions as TFLite's converter recorded them in the real files
OP_VERSIONS = {"CONV_2D": 3, "DEPTHWISE_CONV_2D": 3, "AVERAGE_POOL_2D": 2, "RESHAPE": 1, "FULLY_CONNECTED": 4,
               "SOFTMAX": 2, "ADD": 2}

# The real files' FULLY_CONNECTED weights (and so biases) are quantized per
# tensor, though their convolutions are per channel: the look-alikes copy that.
FC_PER_CHANNEL = False


# ---- float arithmetic of the calibration pass (float64, NHWC) -----------------------

def same_pads(size, k, stride):
    """TFLite's SAME padding: (before, after, out); the odd pixel goes after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + k - size, 0)
    return total // 2, total - total // 2, out


def pad_input(x, k_hw, stride, padding):
    """x padded with real zeros as TFLite pads (the zero point in int8), and the
    output's height and width."""
    if padding == PAD_VALID:
        return x, (x.shape[1] - k_hw[0]) // stride + 1, (x.shape[2] - k_hw[1]) // stride + 1
    t, b, oh = same_pads(x.shape[1], k_hw[0], stride)
    lft, r, ow = same_pads(x.shape[2], k_hw[1], stride)
    return np.pad(x, ((0, 0), (t, b), (lft, r), (0, 0))), oh, ow


def taps(xp, kh, kw, stride, oh, ow):
    """The input window of each kernel tap: (dy, dx, [n, oh, ow, c])."""
    for dy in range(kh):
        for dx in range(kw):
            yield dy, dx, xp[:, dy:dy + (oh - 1) * stride + 1:stride, dx:dx + (ow - 1) * stride + 1:stride, :]


def conv_f(x, w, stride, padding):
    """CONV_2D of NHWC x by OHWI w, no bias."""
    _, kh, kw, _ = w.shape
    xp, oh, ow = pad_input(x, (kh, kw), stride, padding)
    y = np.zeros((x.shape[0], oh, ow, w.shape[0]))
    for dy, dx, v in taps(xp, kh, kw, stride, oh, ow):
        y += v @ w[:, dy, dx, :].T
    return y


def depthwise_f(x, w, stride, padding):
    """DEPTHWISE_CONV_2D (multiplier 1) of NHWC x by [1, KH, KW, C] w, no bias."""
    _, kh, kw, _ = w.shape
    xp, oh, ow = pad_input(x, (kh, kw), stride, padding)
    y = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for dy, dx, v in taps(xp, kh, kw, stride, oh, ow):
        y += v * w[0, dy, dx, :]
    return y


def activation(z, act):
    return np.maximum(z, 0) if act == ACT_RELU else z


# ---- quantization as TFLite's converter does it --------------------------------------

def act_qparams(v):
    """Asymmetric int8 from the observed range, widened to hold 0 (so a ReLU's
    output gets zero point -128)."""
    lo, hi = min(float(v.min()), 0.0), max(float(v.max()), 0.0)
    s = np.float32((hi - lo) / 255.0)
    return s, int(np.clip(-128 - round(lo / float(s)), -128, 127))


def weight_quant(w, axis):
    """Symmetric int8 (-127..127, zero point 0), one scale per index of axis
    (None: one for the tensor)."""
    if axis is None:
        mx = np.array([np.abs(w).max()])
        sb = mx[0] / 127.0
    else:
        mx = np.abs(w).max(axis=tuple(a for a in range(w.ndim) if a != axis))
        shape = [1] * w.ndim
        shape[axis] = -1
        sb = (mx / 127.0).reshape(shape)
    s = (mx / 127.0).astype(np.float32)
    q = np.clip(np.round(w / sb), -127, 127).astype(np.int8)
    return q, s


def bias_quant(b, s_in, s_w):
    """int32 at scale s_in * s_w (per channel where s_w is), zero point 0."""
    s = np.float64(s_in) * s_w.astype(np.float64)
    return np.round(b / s).astype(np.int32), (np.float32(s_in) * s_w).astype(np.float32)


# ---- the look-alike builder: float calibration and TFLite model in one pass --------

class LookAlike:
    """Layers appended in the real model's order. Each layer draws its weights,
    runs the calibration batch through them in float, folds a batch norm into
    them, quantizes them against its input's (already known) quantization,
    calibrates its output and writes its tensors and operator."""

    def __init__(self, seed, shape, s_in, zp_in):
        self.rng = np.random.default_rng(seed)
        self.m = TFLite()
        self.val, self.q = {}, {}
        self.macs = self.weight_bytes = self.bias_bytes = 0
        self.n_layers = 0
        cal = np.random.default_rng(seed + 1).integers(-128, 128, size=(CAL_SAMPLES, *shape[1:]))
        self.input = self._act("input", shape, s_in, zp_in, np.float64(s_in) * (cal - zp_in))
        self.output = self.logits = None

    def _act(self, name, shape, s, zp, v):
        t = act_tensor(self.m, name, list(shape), s, zp, signature=[-1] + list(shape[1:]))
        self.val[t], self.q[t] = v, (s, zp)
        return t

    def _name(self, kind):
        self.n_layers += 1
        return f"{kind}_{self.n_layers}"

    def _fold(self, z, gain, center, shift):
        """Per-channel (last axis) scale and offset that give z a spread of
        gain around a random centre in center +- shift: a folded batch norm."""
        axes = tuple(range(z.ndim - 1))
        mean, std = z.mean(axis=axes), z.std(axis=axes) + 1e-12
        beta = self.rng.uniform(center - shift, center + shift, z.shape[-1])
        g = gain / std
        return g, beta - mean * g

    def _weighted(self, op, name, src, w, z, waxis, act, opts, gain, shift, per_channel=True, dead=0):
        """The common tail of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED:
        z = src (*) w without bias; w's output channels lie along waxis.
        dead: +1 or -1 kills every fifth output channel as the real VWW's are
        dead (weights near 0, so weight scales near 1e-10 and int32 biases of
        +-2^30 for a tiny real bias)."""
        # A ReLU's input is centred at +1 sigma, most units active, as in trained
        # networks: centred at 0, half the units switch on and off at random and
        # the random network turns chaotic (in vww's look-alike one rounding step
        # at the first layer grew to 80 at the last, against 6 in the real model).
        g, b = self._fold(z, gain, 1.0 if act == ACT_RELU else 0.0, shift)
        gshape = [1] * w.ndim
        gshape[waxis] = -1
        w = w * g.reshape(gshape)
        s_in, _ = self.q[src]
        kill = np.arange(3, z.shape[-1], 5) if dead else np.arange(0)
        if dead:
            sel = [slice(None)] * w.ndim
            sel[waxis] = kill
            w[tuple(sel)] *= 1e-6
            z = z.copy()
            z[..., kill] *= 1e-6
        qw, sw = weight_quant(w, waxis if per_channel else None)
        if dead:  # the bias that is +-2^30 at scale s_in * s_w
            b[kill] = dead * float(1 << 30) * np.float64(s_in) * sw[kill].astype(np.float64)
        y = activation(z * g + b, act)
        qb, sb = bias_quant(b, s_in, sw)
        zeros = [0] * len(sw)
        tw = self.m.tensor(f"{name}/weights", list(w.shape), TT_INT8, qw.tobytes(), sw, zeros, waxis if per_channel else 0)
        tb = self.m.tensor(f"{name}/bias", [len(b)], TT_INT32, qb.tobytes(), sb, zeros, 0)
        s, zp = act_qparams(y)
        t = self._act(name, [1, *y.shape[1:]], s, zp, y)
        self.m.op(op, [src, tw, tb], [t], opts)
        self.weight_bytes += qw.size
        self.bias_bytes += 4 * qb.size
        return t

    def conv(self, src, cout, k_hw, stride, act, padding=PAD_SAME, gain=1.0, shift=0.5, dead=0):
        x = self.val[src]
        cin = x.shape[3]
        w = self.rng.normal(0, np.sqrt(2.0 / (k_hw[0] * k_hw[1] * cin)), (cout, *k_hw, cin))
        z = conv_f(x, w, stride, padding)
        self.macs += z.shape[1] * z.shape[2] * cout * k_hw[0] * k_hw[1] * cin
        return self._weighted("CONV_2D", self._name("conv"), src, w, z, 0, act, conv_options(padding, stride, act),
                              gain, shift, dead=dead)

    def depthwise(self, src, stride, act, k=3, padding=PAD_SAME, gain=1.0, shift=0.5):
        x = self.val[src]
        c = x.shape[3]
        # a positive mean, as trained 3 x 3 depthwise kernels mostly smooth: zero-mean
        # random ones are high-pass filters that amplify rounding noise more than signal
        w = self.rng.normal(0.3, np.sqrt(2.0 / (k * k)), (1, k, k, c))
        z = depthwise_f(x, w, stride, padding)
        self.macs += z.shape[1] * z.shape[2] * c * k * k
        return self._weighted("DEPTHWISE_CONV_2D", self._name("dwconv"), src, w, z, 3, act,
                              depthwise_options(padding, stride, act), gain, shift)

    def fc(self, src, nout, act, gain=1.0, shift=0.5):
        x = self.val[src]
        w = self.rng.normal(0, np.sqrt(2.0 / x.shape[1]), (nout, x.shape[1]))
        z = x @ w.T
        self.macs += x.shape[1] * nout
        return self._weighted("FULLY_CONNECTED", self._name("fc"), src, w, z, 0, act, fc_options(act), gain, shift,
                              per_channel=FC_PER_CHANNEL)

    def add(self, a, b, act):
        y = activation(self.val[a] + self.val[b], act)
        s, zp = act_qparams(y)
        t = self._act(self._name("add"), [1, *y.shape[1:]], s, zp, y)
        self.m.op("ADD", [a, b], [t], add_options(act))
        return t

    def avg_pool(self, src, k_hw):
        """A VALID window over the whole map, as in all three models: the
        output keeps its input's quantization (TFLite requires it)."""
        x = self.val[src]
        assert tuple(x.shape[1:3]) == tuple(k_hw), (x.shape, k_hw)
        y = x.mean(axis=(1, 2), keepdims=True)
        t = self._act(self._name("avgpool"), [1, *y.shape[1:]], *self.q[src], y)
        self.m.op("AVERAGE_POOL_2D", [src], [t], pool_options(PAD_VALID, k_hw, k_hw))
        return t

    def reshape(self, src, shape):
        """RESHAPE with its shape as a constant input and no options table, as
        the converter wrote them."""
        y = self.val[src].reshape(-1, *shape[1:])
        name = self._name("reshape")
        t = self._act(name, shape, *self.q[src], y)
        self.m.op("RESHAPE", [src, shape_tensor(self.m, f"{name}/shape", shape)], [t])
        return t

    def softmax(self, src):
        t = act_tensor(self.m, self._name("softmax"), [1, self.val[src].shape[1]], np.float32(1 / 256), -128,
                       signature=[-1, self.val[src].shape[1]])
        self.m.op("SOFTMAX", [src], [t], softmax_options(1.0))
        self.logits = src
        return t

    def build(self, out, description):
        self.output = out
        return self.m.build([self.input], [out], description=description, op_versions=OP_VERSIONS)


# ---- the four models ------------------------------------------------------------------
# Input quantizations: the real files' values, exactly (float32, written as numpy
# prints them: shortest round trip).

def model_ad(seed):
    """ad01: a dense autoencoder over 640 log-mel features."""
    la = LookAlike(seed, [1, 640], np.float32("0.39101523"), 89)
    t = la.input
    for n in (128, 128, 128, 128, 8, 128, 128, 128, 128):
        t = la.fc(t, n, ACT_RELU)
    # the reconstruction: no activation, zero-centred
    t = la.fc(t, 640, ACT_NONE, shift=0.2)
    return la, t


def model_kws(seed):
    """DS-CNN (small): the first convolution's SAME padding is 4 rows above and
    5 below (TFLite puts the odd one after)."""
    la = LookAlike(seed, [1, 49, 10, 1], np.float32("0.5847029"), 83)
    t = la.conv(la.input, 64, (10, 4), 2, ACT_RELU)
    for _ in range(4):
        t = la.depthwise(t, 1, ACT_RELU)
        t = la.conv(t, 64, (1, 1), 1, ACT_RELU)
    t = la.avg_pool(t, (25, 5))
    t = la.reshape(t, [1, 64])
    # logits: spread 2 so that the softmax's outputs vary from input to input
    t = la.fc(t, 12, ACT_NONE, gain=2.0, shift=0.5)
    return la, la.softmax(t)


def model_ic(seed):
    """ResNet-8: each stack's second convolution has no activation, the ADD
    (shortcut first, as the converter ordered its inputs) fuses the ReLU; the
    stride-2 stacks take their shortcut through a 1x1 stride-2 convolution of
    the stack's input, written after the branch."""
    la = LookAlike(seed, [1, 32, 32, 3], np.float32(1.0), -128)
    x = la.conv(la.input, 16, (3, 3), 1, ACT_RELU)
    t = la.conv(x, 16, (3, 3), 1, ACT_RELU)
    t = la.conv(t, 16, (3, 3), 1, ACT_NONE)
    x = la.add(x, t, ACT_RELU)
    for c in (32, 64):
        t = la.conv(x, c, (3, 3), 2, ACT_RELU)
        t = la.conv(t, c, (3, 3), 1, ACT_NONE)
        s = la.conv(x, c, (1, 1), 2, ACT_NONE)
        x = la.add(s, t, ACT_RELU)
    t = la.avg_pool(x, (8, 8))
    t = la.reshape(t, [1, 64])
    t = la.fc(t, 10, ACT_NONE, gain=2.0)
    return la, la.softmax(t)


def model_vww(seed):
    """MobileNetV1 0.25 over 96 x 96: ReLU (not ReLU6) fused everywhere, as in
    the real file."""
    la = LookAlike(seed, [1, 96, 96, 3], np.float32("0.003921569"), -128)
    t = la.conv(la.input, 8, (3, 3), 2, ACT_RELU)
    for i, (cout, stride) in enumerate(((16, 1), (32, 2), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (128, 1),
                                        (128, 1), (128, 1), (128, 1), (256, 2), (256, 1))):
        t = la.depthwise(t, stride, ACT_RELU)
        # dead channels in the wider 1 x 1 convs, as the real file has (974 of 2,736)
        t = la.conv(t, cout, (1, 1), 1, ACT_RELU, dead=1 if cout >= 64 else 0)
    t = la.avg_pool(t, (3, 3))
    t = la.reshape(t, [1, 256])
    t = la.fc(t, 2, ACT_NONE, gain=2.0)
    return la, la.softmax(t)


# name: (builder, seed, test inputs N, the real file's name)
MODELS = {
    "ad": (model_ad, 1001, 64, "ad01_int8.tflite"),
    "kws": (model_kws, 2001, 16, "kws_ref_model.tflite"),
    "ic": (model_ic, 3001, 16, "pretrainedResnet_quant.tflite"),
    "vww": (model_vww, 4001, 4, "vww_96_int8.tflite"),
}


def make(name):
    """(model bytes, its LookAlike)."""
    builder, seed, _, _ = MODELS[name]
    la, out = builder(seed)
    return la.build(out, f"nnfpga gen_tiny_models.py: {name}, a look-alike of MLPerf Tiny's"), la


# ---- TFLite's outputs ----------------------------------------------------------------

def run_interpreter(path, xs, resolver, preserve=None):
    """The int8 outputs for each input (and the tensor `preserve` if given)."""
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_path=path, experimental_op_resolver_type=resolver, num_threads=1,
                     experimental_preserve_all_tensors=preserve is not None)
    it.allocate_tensors()
    i, o = it.get_input_details()[0], it.get_output_details()[0]
    outs, kept = [], []
    for x in xs:
        it.set_tensor(i["index"], x.reshape(i["shape"]))
        it.invoke()
        outs.append(it.get_tensor(o["index"]).reshape(-1).copy())
        if preserve is not None:
            kept.append(it.get_tensor(preserve).reshape(-1).copy())
    return np.array(outs), (np.array(kept) if preserve is not None else None)


def random_inputs(shape, n, seed):
    """n int8 inputs, uniform over -128..127, in the input tensor's layout."""
    return np.random.default_rng(seed).integers(-128, 128, size=(n, *shape[1:])).astype(np.int8)


def reference_run(path, n, input_path, expected_path, seed=1):
    """For any int8 model (the real files too, bench/tiny.py): n random inputs
    and the reference kernels' outputs for them, written raw; returns both."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    shape = Interpreter(model_path=path).get_input_details()[0]["shape"]
    xs = random_inputs(shape, n, seed)
    ys, _ = run_interpreter(path, xs, OpResolverType.BUILTIN_REF)
    xs.tofile(input_path)
    ys.astype(np.int8).tofile(expected_path)
    return xs, ys


def tensor_json(m, t):
    name, shape, _, _, scale, zp, _, _ = m.tensors[t]
    return {"shape": list(shape), "scale": float(scale[0]), "zero_point": int(zp[0])}


def generate(name, out):
    from ai_edge_litert.interpreter import OpResolverType
    data, la = make(name)
    _, _, n, real = MODELS[name]
    path = os.path.join(out, f"{name}.tflite")
    with open(path, "wb") as f:
        f.write(data)
    shape = la.m.tensors[la.input][1]
    xs = random_inputs(shape, n, MODELS[name][1] + 2)
    ref, logits = run_interpreter(path, xs, OpResolverType.BUILTIN_REF, la.logits)
    opt, _ = run_interpreter(path, xs, OpResolverType.BUILTIN)
    plain, _ = run_interpreter(path, xs, OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    files = {"input": f"{name}_input.bin", "expected": f"{name}_expected.bin"}
    xs.tofile(os.path.join(out, files["input"]))
    ref.astype(np.int8).tofile(os.path.join(out, files["expected"]))
    entry = {
        "file": f"{name}.tflite", "look_alike_of": real, "sha256": hashlib.sha256(data).hexdigest(),
        "operators": [{"index": i, "name": op[0]} for i, op in enumerate(la.m.ops)],
        "macs": int(la.macs), "weight_bytes": int(la.weight_bytes), "bias_bytes": int(la.bias_bytes),
        "input": dict(tensor_json(la.m, la.input), file=files["input"]),
        "output": dict(tensor_json(la.m, la.output), file=files["expected"]),
        "n": n,
        "optimized_differ": int((opt != ref).sum()),
        "optimized_without_xnnpack_differ": int((plain != ref).sum()),
        "distinct_outputs": int(len(np.unique(ref))),
    }
    if la.logits is not None:
        files["logits"] = f"{name}_logits.bin"
        logits.astype(np.int8).tofile(os.path.join(out, files["logits"]))
        entry["logits"] = dict(tensor_json(la.m, la.logits), file=files["logits"])
        entry["distinct_logits"] = int(len(np.unique(logits)))
    print(f"{name}: {len(la.m.ops)} operators, {la.macs} MACs, {len(data)} bytes; {n} inputs, outputs "
          f"{ref.min()}..{ref.max()} ({entry['distinct_outputs']} distinct values); optimized kernels differ on "
          f"{entry['optimized_differ']} outputs ({entry['optimized_without_xnnpack_differ']} without XNNPACK)")
    return entry


# ---- --real: the look-alikes against the real files ---------------------------------

def describe(buf):
    """A model as TFLite's generated schema reader (not our writer) sees it:
    per operator its options and, per tensor it reads or writes, the
    structure that must match: type, shape, shape signature, constant or not,
    per-tensor or per-channel quantization (and which dimension), what its zero
    points are, and which operator writes it."""
    from ai_edge_litert import schema_py_generated as S
    names = {v: k for k, v in vars(S.BuiltinOperator).items() if not k.startswith("_")}
    opt_names = {v: k for k, v in vars(S.BuiltinOptions).items() if not k.startswith("_")}
    m = S.Model.GetRootAs(buf, 0)
    g = m.Subgraphs(0)
    codes = [m.OperatorCodes(i) for i in range(m.OperatorCodesLength())]
    producer = {int(t): "input" for t in g.InputsAsNumpy()}

    def tensor(i):
        t = g.Tensors(i)
        q = t.Quantization()
        ns = q.ScaleLength() if q is not None else 0
        zps = set(q.ZeroPointAsNumpy().tolist()) if q is not None and q.ZeroPointLength() else set()
        const = m.Buffers(t.Buffer()).DataLength() > 0
        d = {"type": t.Type(), "shape": t.ShapeAsNumpy().tolist(),
             "signature": t.ShapeSignatureAsNumpy().tolist() if t.ShapeSignatureLength() else None,
             "const": const, "scales": "none" if ns == 0 else "tensor" if ns == 1 else f"channel dim {q.QuantizedDimension()}",
             # an activation's zero point is free, but -128 (a fused ReLU's or the softmax's) must match
             "zero_points": "none" if not zps else ("0" if zps == {0} else "other") if const else
             ("-128" if zps == {-128} else "free"),
             "from": producer.get(i, "const" if const else "?")}
        return d, (float(q.ScaleAsNumpy()[0]), int(q.ZeroPointAsNumpy()[0])) if ns == 1 else None

    ops = []
    for k in range(g.OperatorsLength()):
        o = g.Operators(k)
        c = codes[o.OpcodeIndex()]
        name = names[max(c.BuiltinCode(), c.DeprecatedBuiltinCode())]
        otype = opt_names[o.BuiltinOptionsType()]
        opts = {}
        if o.BuiltinOptions() is not None:
            obj = getattr(S, otype)()
            obj.Init(o.BuiltinOptions().Bytes, o.BuiltinOptions().Pos)
            for attr in sorted(dir(obj)):
                if attr[0].isupper() and not attr.startswith(("GetRootAs", "Init", "BufferHas")) and \
                        not attr.endswith(("AsNumpy", "IsNone", "Length")):
                    try:
                        opts[attr] = getattr(obj, attr)()
                    except TypeError:   # a vector's element getter
                        pass
        ins = [tensor(int(i)) for i in o.InputsAsNumpy() if i >= 0]
        outs = [tensor(int(i)) for i in o.OutputsAsNumpy()]
        for i in o.OutputsAsNumpy():
            producer[int(i)] = k
        ops.append({"name": name, "version": c.Version(), "options_type": otype, "options": opts,
                    "in": [d for d, _ in ins], "out": [d for d, _ in outs],
                    # pooling and reshape must keep their input's quantization
                    "keeps_quantization": outs[0][1] == ins[0][1] if name in ("AVERAGE_POOL_2D", "RESHAPE") else None})
    inp = tensor(int(g.InputsAsNumpy()[0]))
    return {"ops": ops, "input": inp, "output": tensor(int(g.OutputsAsNumpy()[0]))[0]}


def compare(name, real_path, out):
    """Prints the comparison; True when the structures match (the look-alike
    is built afresh; the committed copy in out, if any, is only reported on)."""
    with open(real_path, "rb") as f:
        real = describe(f.read())
    data, _ = make(name)
    mine = describe(data)
    ok = True
    committed = os.path.join(out, f"{name}.tflite")
    if os.path.exists(committed):
        with open(committed, "rb") as f:
            note = "the same bytes as" if f.read() == data else "NOT the bytes of"
        note = f"; {note} {os.path.relpath(committed)}"
    else:
        note = ""
    print(f"== {name}: look-alike of {os.path.basename(real_path)}, {len(mine['ops'])} operators "
          f"(real {len(real['ops'])}){note}")
    if len(mine["ops"]) != len(real["ops"]):
        print("   DIFF: operator count")
        ok = False
    for k, (a, b) in enumerate(zip(real["ops"], mine["ops"])):
        diffs = [f for f in ("name", "version", "options_type", "options", "keeps_quantization") if a[f] != b[f]]
        for side in ("in", "out"):
            if len(a[side]) != len(b[side]):
                diffs.append(f"{side} count")
                continue
            for j, (ta, tb) in enumerate(zip(a[side], b[side])):
                diffs += [f"{side}[{j}].{f}: {ta[f]} vs {tb[f]}" for f in ta if ta[f] != tb[f]]
        ok = ok and not diffs
        shapes = " ".join(f"{t['shape']}" for t in a["in"][:2]) + " -> " + " ".join(f"{t['shape']}" for t in a["out"])
        opts = {f: v for f, v in a["options"].items() if f in ("Padding", "StrideH", "StrideW", "FusedActivationFunction",
                                                                "FilterHeight", "FilterWidth", "Beta")}
        print(f"   {k:2d} {a['name']:17s} {'same' if not diffs else 'DIFF ' + '; '.join(map(str, diffs))}  {shapes} {opts}")
    (ra, rq), (ma, mq) = real["input"], mine["input"]
    same_in = ra == ma and rq == mq
    print(f"   input {ra['shape']} (scale, zero point): real {rq}, look-alike {mq}: {'same' if same_in else 'DIFF'}")
    same_out = real["output"] == mine["output"]
    print(f"   output {real['output']['shape']}: {'same structure' if same_out else 'DIFF'}")
    return ok and same_in and same_out


# ---- main ---------------------------------------------------------------------------

def json_text(v, indent=""):
    """JSON with one line per operator, shape or tensor: dicts of dicts or
    lists of dicts open up, the rest stays on one line."""
    def flat(x):
        return not isinstance(x, (dict, list)) or all(not isinstance(y, (dict, list)) for y in
                                                         (x.values() if isinstance(x, dict) else x))
    if flat(v) or (isinstance(v, dict) and all(flat(y) for y in v.values()) and len(v) <= 4):
        return json.dumps(v)
    inner = indent + " "
    if isinstance(v, list):
        return "[\n" + ",\n".join(inner + json_text(y, inner) for y in v) + "\n" + indent + "]"
    return "{\n" + ",\n".join(f"{inner}{json.dumps(k)}: {json_text(y, inner)}" for k, y in v.items()) + "\n" + indent + "}"


def fuzz_seed(path):
    """A small DS-CNN for the import fuzzer's corpus (under its 8 KB cap):
    an uneven-SAME 4 x 2 stride-2 conv, a depthwise conv at stride 2, a 1 x 1
    conv, a whole-map average pool, RESHAPE, FULLY_CONNECTED, SOFTMAX."""
    la = LookAlike(77, [1, 9, 6, 1], np.float32("0.5847029"), 83)
    t = la.conv(la.input, 8, (4, 2), 2, ACT_RELU)
    t = la.depthwise(t, 2, ACT_RELU)
    t = la.conv(t, 8, (1, 1), 1, ACT_RELU)
    t = la.avg_pool(t, tuple(la.val[t].shape[1:3]))
    t = la.reshape(t, [1, 8])
    t = la.fc(t, 3, ACT_NONE, gain=2.0)
    t = la.softmax(t)
    with open(path, "wb") as f:
        f.write(la.build(t, "nnfpga fuzz seed: a small DS-CNN"))


def fuzz_seed_resnet(path):
    """A small ResNet for the import fuzzer's corpus: an identity block (ADD
    reading a tensor two operators back) and a strided block with a 1 x 1
    shortcut written after its branch, as the real IC's; then the same head."""
    la = LookAlike(78, [1, 6, 6, 2], np.float32(1.0), -128)
    x = la.conv(la.input, 4, (3, 3), 1, ACT_RELU)
    t = la.conv(x, 4, (3, 3), 1, ACT_NONE)
    x = la.add(x, t, ACT_RELU)
    t = la.conv(x, 6, (3, 3), 2, ACT_RELU)
    s = la.conv(x, 6, (1, 1), 2, ACT_NONE)
    x = la.add(s, t, ACT_RELU)
    t = la.avg_pool(x, tuple(la.val[x].shape[1:3]))
    t = la.reshape(t, [1, 6])
    t = la.fc(t, 3, ACT_NONE, gain=2.0)
    t = la.softmax(t)
    with open(path, "wb") as f:
        f.write(la.build(t, "nnfpga fuzz seed: a small ResNet"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "data",
                                                  "tiny"))
    ap.add_argument("--real", metavar="DIR", help="compare with the real MLPerf Tiny files in DIR; write nothing")
    ap.add_argument("--fuzz-seed", metavar="FILE", help="write the import fuzzer's small DS-CNN seed; nothing else")
    ap.add_argument("--fuzz-seed-resnet", metavar="FILE", help="write its small ResNet seed; nothing else")
    a = ap.parse_args()
    if a.fuzz_seed or a.fuzz_seed_resnet:
        if a.fuzz_seed:
            fuzz_seed(a.fuzz_seed)
        if a.fuzz_seed_resnet:
            fuzz_seed_resnet(a.fuzz_seed_resnet)
        return
    if a.real:
        ok = all([compare(name, os.path.join(a.real, MODELS[name][3]), a.out) for name in MODELS])
        print("all four match" if ok else "MISMATCH")
        sys.exit(0 if ok else 1)
    os.makedirs(a.out, exist_ok=True)
    summary = {"generator": "scripts/gen_tiny_models.py",
               "interpreter": f"ai-edge-litert {importlib.metadata.version('ai-edge-litert')}",
               "expected_from": "OpResolverType.BUILTIN_REF (TFLite's reference kernels)",
               "models": {name: generate(name, a.out) for name in MODELS}}
    with open(os.path.join(a.out, "tiny.json"), "w") as f:
        f.write(json_text(summary) + "\n")


if __name__ == "__main__":
    main()
