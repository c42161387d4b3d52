"""nnf_tflite.py - a TFLite flatbuffer writer, written here with the table and
field numbers of TFLite's schema.fbs (no TensorFlow needed: the builder is the
one of PyPI's `flatbuffers`).

It writes what nnfpga's test models need: one subgraph of tensors (int8 / int32
/ float32, with per-tensor or per-channel quantization and constant buffers)
and builtin operators with their options tables. Used by gen_import_models.py,
gen_softmax_ref.py (through gen_import_models) and gen_tiny_models.py.

A model is built as

    m = TFLite()
    x = act_tensor(m, "x", [1, 4], scale, zero_point)
    ...
    m.op("FULLY_CONNECTED", [x, w, b], [y], fc_options(ACT_RELU))
    data = m.build([x], [y])

Field numbers used below (schema.fbs, counted from 0 in declaration order):
  Model: version 0, operator_codes 1, subgraphs 2, description 3, buffers 4
  SubGraph: tensors 0, inputs 1, outputs 2, operators 3, name 4
  Tensor: shape 0, type 1, buffer 2, name 3, quantization 4, shape_signature 7
  QuantizationParameters: scale 2, zero_point 3, quantized_dimension 6
  OperatorCode: deprecated_builtin_code 0 (int8), version 2 (default 1),
                builtin_code 3 (int32)
  Operator: opcode_index 0, inputs 1, outputs 2, builtin_options_type 3,
            builtin_options 4
  Buffer: data 0
"""
import flatbuffers
import numpy as np

# TensorType
TT_FLOAT32, TT_INT32, TT_INT8 = 0, 2, 9

# BuiltinOperator
OPS = {"TANH": 28, "QUANTIZE": 114, "DEQUANTIZE": 6, "RESHAPE": 22, "FULLY_CONNECTED": 9, "LOGISTIC": 14, "SOFTMAX": 25,
       "CONV_2D": 3, "MAX_POOL_2D": 17, "AVERAGE_POOL_2D": 1, "ADD": 0, "DEPTHWISE_CONV_2D": 4,
       "MUL": 18}

# BuiltinOptions (the union's type numbers)
OPT_CONV, OPT_POOL, OPT_FC, OPT_SOFTMAX, OPT_RESHAPE = 1, 5, 8, 9, 17
OPT_DEPTHWISE, OPT_ADD = 2, 11

# Padding and ActivationFunctionType
PAD_SAME, PAD_VALID = 0, 1
ACT_NONE, ACT_RELU, ACT_RELU6 = 0, 1, 3


class TFLite:
    def __init__(self):
        self.tensors = []   # (name, shape, type, buffer bytes or None, scales, zps, qdim, shape signature or None)
        self.ops = []       # (opname, inputs, outputs, (opt_type, fields))

    def tensor(self, name, shape, ttype, data=None, scale=None, zp=None, qdim=0, signature=None):
        """A tensor; data (bytes) makes it a constant. signature: the shape
        with -1 for a dynamic batch, as TFLite's converter writes activations."""
        self.tensors.append((name, shape, ttype, data, scale, zp, qdim, signature))
        return len(self.tensors) - 1

    def op(self, name, ins, outs, opts=None):
        """opts: (options type, [(field number, flatbuffers scalar kind, value)]);
        a value equal to 0 (False) is left out, as flatc leaves out defaults."""
        self.ops.append((name, ins, outs, opts))

    def build(self, inputs, outputs, description="nnfpga gen_import_models.py", version=3, subgraphs=1,
              op_versions=None):
        """The model's bytes. op_versions: {opname: OperatorCode.version} where
        not 1 (the converter records the kernel version a model needs)."""
        b = flatbuffers.Builder(1024)
        op_versions = op_versions or {}

        def ivec(vals, prepend, size, align=None):
            b.StartVector(size, len(vals), align or size)
            for v in reversed(vals):
                prepend(v)
            return b.EndVector()

        def offvec(offs):
            b.StartVector(4, len(offs), 4)
            for o in reversed(offs):
                b.PrependUOffsetTRelative(o)
            return b.EndVector()

        # buffers: 0 is the empty one, then one per constant tensor
        bufs, buf_of = [b"" ], []
        for t in self.tensors:
            if t[3] is None:
                buf_of.append(0)
            else:
                buf_of.append(len(bufs))
                bufs.append(t[3])
        buf_offs = []
        for data in bufs:
            if data:
                d = b.CreateNumpyVector(np.frombuffer(data, np.uint8))
                b.StartObject(3)
                b.PrependUOffsetTRelativeSlot(0, d, 0)
                buf_offs.append(b.EndObject())
            else:
                b.StartObject(3)
                buf_offs.append(b.EndObject())
        tens = []
        for i, (name, shape, ttype, data, scale, zp, qdim, signature) in enumerate(self.tensors):
            n = b.CreateString(name)
            sh = ivec(list(shape), b.PrependInt32, 4)
            sig = None if signature is None else ivec(list(signature), b.PrependInt32, 4)
            q = None
            if scale is not None:
                sc = ivec([float(s) for s in scale], b.PrependFloat32, 4)
                zv = ivec([int(z) for z in zp], b.PrependInt64, 8)
                b.StartObject(7)
                b.PrependUOffsetTRelativeSlot(2, sc, 0)
                b.PrependUOffsetTRelativeSlot(3, zv, 0)
                b.PrependInt32Slot(6, qdim, 0)
                q = b.EndObject()
            b.StartObject(8)
            b.PrependUOffsetTRelativeSlot(0, sh, 0)
            b.PrependInt8Slot(1, ttype, 0)
            b.PrependUint32Slot(2, buf_of[i], 0)
            b.PrependUOffsetTRelativeSlot(3, n, 0)
            if q is not None:
                b.PrependUOffsetTRelativeSlot(4, q, 0)
            if sig is not None:
                b.PrependUOffsetTRelativeSlot(7, sig, 0)
            tens.append(b.EndObject())
        codes = sorted({o[0] for o in self.ops}, key=lambda s: OPS[s])
        code_offs = []
        for c in codes:
            b.StartObject(4)
            # the int8 deprecated code saturates at 127 (PLACEHOLDER_FOR_GREATER_OP_CODES)
            b.PrependInt8Slot(0, min(OPS[c], 127), 0)
            b.PrependInt32Slot(2, op_versions.get(c, 1), 1)
            b.PrependInt32Slot(3, OPS[c], 0)
            code_offs.append(b.EndObject())
        op_offs = []
        for name, ins, outs, opts in self.ops:
            iv = ivec(ins, b.PrependInt32, 4)
            ov = ivec(outs, b.PrependInt32, 4)
            o_off = None
            if opts:
                otype, fields = opts
                b.StartObject(max(f[0] for f in fields) + 1 if fields else 1)
                for slot, kind, val in fields:
                    getattr(b, "Prepend" + kind + "Slot")(slot, val, 0 if kind != "Bool" else False)
                o_off = b.EndObject()
            b.StartObject(10)
            b.PrependUint32Slot(0, codes.index(name), 0)
            b.PrependUOffsetTRelativeSlot(1, iv, 0)
            b.PrependUOffsetTRelativeSlot(2, ov, 0)
            if o_off is not None:
                b.PrependUint8Slot(3, opts[0], 0)
                b.PrependUOffsetTRelativeSlot(4, o_off, 0)
            op_offs.append(b.EndObject())
        tv, iv, ov, opv = offvec(tens), ivec(inputs, b.PrependInt32, 4), ivec(outputs, b.PrependInt32, 4), offvec(op_offs)
        sname = b.CreateString("main")
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(0, tv, 0)
        b.PrependUOffsetTRelativeSlot(1, iv, 0)
        b.PrependUOffsetTRelativeSlot(2, ov, 0)
        b.PrependUOffsetTRelativeSlot(3, opv, 0)
        b.PrependUOffsetTRelativeSlot(4, sname, 0)
        sub = b.EndObject()
        subv, codev, bufv = offvec([sub] * subgraphs), offvec(code_offs), offvec(buf_offs)
        desc = b.CreateString(description)
        b.StartObject(8)
        b.PrependUint32Slot(0, version, 0)
        b.PrependUOffsetTRelativeSlot(1, codev, 0)
        b.PrependUOffsetTRelativeSlot(2, subv, 0)
        b.PrependUOffsetTRelativeSlot(3, desc, 0)
        b.PrependUOffsetTRelativeSlot(4, bufv, 0)
        model = b.EndObject()
        b.Finish(model, file_identifier=b"TFL3")
        return bytes(b.Output())


def act_tensor(m, name, shape, s, zp, signature=None):
    return m.tensor(name, shape, TT_INT8, scale=[s], zp=[zp], signature=signature)


def shape_tensor(m, name, shape):
    # RESHAPE's second input, as TFLite's converter writes it: the new shape
    # as a constant int32 vector (TFLite reads it from there)
    return m.tensor(name, [len(shape)], TT_INT32, np.array(shape, np.int32).tobytes())


# ---- options tables (field numbers of schema.fbs) ------------------------------------
# Stride and filter fields are written even at their schema default, padding and
# activation only when not 0, as TFLite's converter (flatc) leaves them.

def conv_options(padding, stride, act):
    """Conv2DOptions: padding 0, stride_w 1, stride_h 2, fused_activation_function 3
    (dilation_w_factor 4, dilation_h_factor 5 left at their default, 1)."""
    return OPT_CONV, [(0, "Int8", padding), (1, "Int32", stride), (2, "Int32", stride), (3, "Int8", act)]


def depthwise_options(padding, stride, act, multiplier=1):
    """DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3,
    fused_activation_function 4 (dilation_w_factor 5, dilation_h_factor 6: default 1)."""
    return OPT_DEPTHWISE, [(0, "Int8", padding), (1, "Int32", stride), (2, "Int32", stride), (3, "Int32", multiplier),
                           (4, "Int8", act)]


def pool_options(padding, stride_hw, filter_hw, act=ACT_NONE):
    """Pool2DOptions: padding 0, stride_w 1, stride_h 2, filter_width 3,
    filter_height 4, fused_activation_function 5; (height, width) pairs."""
    return OPT_POOL, [(0, "Int8", padding), (1, "Int32", stride_hw[1]), (2, "Int32", stride_hw[0]),
                      (3, "Int32", filter_hw[1]), (4, "Int32", filter_hw[0]), (5, "Int8", act)]


def fc_options(act):
    """FullyConnectedOptions: fused_activation_function 0 (weights_format 1 and
    keep_num_dims 2 left at DEFAULT, false)."""
    return OPT_FC, [(0, "Int8", act)]


def softmax_options(beta=1.0):
    """SoftmaxOptions: beta 0."""
    return OPT_SOFTMAX, [(0, "Float32", float(beta))]


def add_options(act):
    """AddOptions: fused_activation_function 0 (pot_scale_int16 1 left at its
    default, true)."""
    return OPT_ADD, [(0, "Int8", act)]
