#!/usr/bin/env python3
"""scripts/torch_check.py - load an nnfpga checkpoint in PyTorch, unconverted.

    /usr/bin/python3 scripts/torch_check.py CHECKPOINT [--nnfpga PATH] [--data DIR] [--limit N]

Loads CHECKPOINT with safetensors.torch.load_file, builds the network its
metadata describes as a torch.nn.Sequential (its `architecture`, e.g.
`Linear(784,128),ReLU,Dropout(0.2),Linear(128,10)`, or with convolutions
`Conv2d(1,8,kernel_size=5,stride=1,padding=2),ReLU,MaxPool2d(kernel_size=2,
stride=2,padding=0),Flatten,Linear(1568,10)` over `input_shape` maps; or, in checkpoints
older than it, `layers` and `activation`), loads the float
weights with load_state_dict(strict=True) and runs it in float32 on the
first N Fashion-MNIST test images. With --nnfpga it compares every logit of
every image with `nnfpga infer --float` (libnnf's float forward of the same
weights, printed exactly):

    |logit_torch - logit_nnfpga| <= 2 * bound

where bound is the rounding error bound of a float32 forward pass (Higham,
Accuracy and Stability of Numerical Algorithms, 3.1): a dot product of n
terms summed in any order in float32 is within gamma_n * sum |terms| of
the exact value, gamma_n = n u / (1 - n u), u = 2^-24; each layer
y = W a + b adds gamma_(in+1) (|W| |a| + |b|), the error of its input comes
through |W| (the hidden activations are 1-Lipschitz: ReLU, ReLU6, tanh,
sigmoid; Dropout, Flatten and Identity are the identity in evaluation;
convolutions and pools: error_bound below),
computed here in float64 per image and logit.
A network with recurrent layers (RNN, GRU, LSTM: libnnf's rows of T steps,
see recurrent_module) or attention layers (scripts/attn_modules.py: rows
of T tokens; softmax and LayerNorm divide by sums the rule does not bound
usefully) has no useful a-priori bound: the same rule through
the steps grows as (|W_hh| |f'|)^T, beyond 1e6 after 28 steps. Its bound
is measured instead (recurrent_bound): 4 times the largest deviation of
PyTorch's float32 logits from its float64 forward of the same weights over
all the images, plus 8 u |logit|: nnfpga's float forward must be as
accurate as PyTorch's own, within that factor. Both forwards
lie within the bound of the exact result, so within 2 * bound of each
other, whatever their summation order (BLAS blocking, vector lanes). The
largest difference as a fraction of its bound is printed.

Graphs (residual networks). An entry may end with `from=K`: that layer
reads the output of layer K (K counts as the state_dict prefixes do, "K.weight";
-1 is the network's input) instead of the layer's just before it, e.g.
`Conv2d(16,32,kernel_size=1,stride=2,padding=0,from=6)`, `ReLU(from=3)`,
`ZeroPad2d((0,1,0,1),from=6)`; and `Add(K)` is y = x + out_K, x its input
(the output before it, or from=J's: `Add(10,from=6)` = out_6 + out_10), the
same shapes, no parameters. Layers read only earlier outputs; the network's
output is the last layer's. The modules are still numbered as in an
nn.Sequential (Graph below, whose forward keeps every layer's output and
feeds each module its source; a chain is the Sequential's forward), so the
state_dict names are the same. The bound follows the graph: an Add's is the
sum of its inputs' plus one float32 rounding of the sum, gamma(1) |x + z|.

Runs of equal consecutive TransformerEncoderLayer entries are also loaded, under their
own state_dict names (layers.<j>.self_attn.in_proj_weight, ...), into
PyTorch's torch.nn.TransformerEncoder(layer, num_layers) with
load_state_dict(strict=True), which must give the Sequential's outputs of
those layers (the same modules: within 1e-6 relative; printed).

Exit codes: 0 agree, 1 disagree or the file does not load, 77 PyTorch or
safetensors absent (scripts/bootstrap installs them).
"""
import argparse
import ast
import gzip
import json
import struct
import subprocess
import sys

U = 2.0 ** -24  # float32 unit roundoff


def gamma(n):
    return n * U / (1 - n * U)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndims = data[3]
    dims = struct.unpack(">" + "I" * ndims, data[4:4 + 4 * ndims])
    return dims, data[4 + 4 * ndims:]


def error_bound(torch, mods, x):
    """Per image and logit, the float32 rounding bound of the forward (float64).

    Conv2d is the Linear rule over each output's Cin*KH*KW taps (padding
    taps are exact zeros); MaxPool2d passes the largest error of its window
    (|max(a + e) - max(a)| <= max |e|); an average pool of n taps adds the
    rounding of its sum and division, gamma(n + 1) * mean |a|, to the mean
    error; Flatten reshapes it. In a graph each layer starts from its
    source's (a, err) (sources); an Add sums its inputs' values and errors
    and adds the one rounding of the float32 sum, gamma(1) |a_x + a_z|."""
    F = torch.nn.functional
    Add = graph_types(torch)[0]
    srcs = sources(mods)
    drop = last_reads(srcs)
    outs = {-1: (x.double(), torch.zeros_like(x, dtype=torch.float64))}
    for i, (m, (src, src2)) in enumerate(zip(mods, srcs)):
        a, err = outs[src]
        if isinstance(m, Add):
            a2, err2 = outs[src2]
            a = a + a2
            err = err + err2 + gamma(1) * a.abs()
        elif isinstance(m, torch.nn.Linear):
            w, b = m.weight.double(), m.bias.double()
            k = w.shape[1]
            err = gamma(k + 1) * (a.abs() @ w.abs().T + b.abs()) + err @ w.abs().T
            a = a @ w.T + b
        elif isinstance(m, torch.nn.Conv2d):
            w = m.weight.double()
            b = m.bias.double() if m.bias is not None else torch.zeros(w.shape[0], dtype=torch.float64)
            k = w.shape[1] * w.shape[2] * w.shape[3]
            conv = lambda v, ww, bb=None: F.conv2d(v, ww, bb, m.stride, m.padding, m.dilation, m.groups)
            err = gamma(k + 1) * (conv(a.abs(), w.abs(), b.abs())) + conv(err, w.abs())
            a = conv(a, w, b)
        elif isinstance(m, (torch.nn.AvgPool2d, torch.nn.AdaptiveAvgPool2d)):
            k = m.kernel_size if isinstance(m, torch.nn.AvgPool2d) else (a.shape[2], a.shape[3])
            n = k * k if isinstance(k, int) else k[0] * k[1]
            err = m(err) + gamma(n + 1) * m(a.abs())
            a = m(a)
        elif isinstance(m, (torch.nn.MaxPool2d, torch.nn.Flatten, torch.nn.ZeroPad2d)):
            err = m(err)
            a = m(a)
        elif isinstance(m, (torch.nn.RNN, torch.nn.GRU, torch.nn.LSTM)) or getattr(m, "nnf_attention", False):
            return None  # recurrent_bound
        else:
            a = m(a)
        outs[i] = (a, err)
        for j in drop[i]:
            del outs[j]
    return err


def recurrent_bound(torch, model, x, logits):
    """Per image and logit, the measured bound of a network with recurrent
    or attention layers (see the module's docstring)."""
    with torch.no_grad():
        ref = model.double()(x.double())
        model.float()
    worst = (logits.double() - ref).abs().max()
    return 4 * worst + 8 * U * ref.abs()


def recurrent_module(torch, name, args):
    """torch.nn.RNN / GRU / LSTM from libnnf's entry ("GRU(28,128,batch_first=True)",
    "RNN(28,128,nonlinearity='relu',batch_first=True,seq=1)"), as a subclass
    that takes rows of T * input_size (its parameters keep nn.GRU's names)
    and returns h_T (output[:, -1]), or with seq=1 every step's, flattened."""
    pos, kw = [], {}
    for part in args.split(","):
        key, eq, val = part.partition("=")
        v = val if eq else key
        v = False if v == "False" else True if v == "True" else v.strip("'") if v.startswith("'") else int(v)
        if eq:
            kw[key] = v
        else:
            pos.append(v)
    seq = kw.pop("seq", 0)
    base = getattr(torch.nn, name)

    class Rows(base):
        def forward(self, x):
            out, _ = super().forward(x.reshape(x.shape[0], -1, self.input_size))
            return out.flatten(1) if self.seq else out[:, -1]

    mod = Rows(*pos, **kw)
    mod.seq = seq
    return mod


def split_arch(arch):
    """The layers of an architecture string, split at the commas outside ()."""
    out, depth, cur = [], 0, ""
    for ch in arch:
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
            continue
        depth += (ch == "(") - (ch == ")")
        cur += ch
    return out + ([cur] if cur else [])


def split_from(tok):
    """An entry without its `from=K` (its last argument, if it is one) and K,
    or the entry and None: "ReLU(from=3)" -> ("ReLU", 3),
    "ZeroPad2d((0,1,0,1),from=6)" -> ("ZeroPad2d((0,1,0,1))", 6)."""
    name, paren, _ = tok.partition("(")
    if not paren or not tok.endswith(")"):
        return tok, None
    parts = split_arch(tok[len(name) + 1:-1])
    if not parts or not parts[-1].strip().startswith("from="):
        return tok, None
    k = int(parts[-1].strip()[len("from="):])
    return (f"{name}({','.join(parts[:-1])})" if len(parts) > 1 else name), k


def sources(mods):
    """Per layer i, the outputs it reads: (src, src2), src the layer whose
    output is its input (from=K, else i - 1; -1 the network's input), src2
    an Add's second (Add(K): K), else None."""
    out = []
    for i, m in enumerate(mods):
        src, src2 = getattr(m, "nnf_from", i - 1), getattr(m, "nnf_add", None)
        if not -1 <= src < i or not (src2 is None or -1 <= src2 < i):
            raise ValueError(f"layer {i} reads the output of layer {src}"
                             f"{'' if src2 is None else f' and {src2}'}: only earlier ones (or -1, the input)")
        out.append((src, src2))
    return out


def last_reads(srcs):
    """Per layer i, the outputs no layer after i reads (their last reader is
    i), to drop once layer i has run; the last layer's output is kept."""
    last = {}
    for i, (src, src2) in enumerate(srcs):
        for j in (src, src2):
            if j is not None:
                last[j] = i
    drop = [[] for _ in srcs]
    for j, i in last.items():
        if j != len(srcs) - 1:
            drop[i].append(j)
    return drop


def describe_graph(mods):
    """The graph's edges in words ("layer 5 adds layer 1's output; ..."), or
    None for a chain."""
    if not is_graph(mods):
        return None
    name = lambda k: "the input" if k < 0 else f"layer {k}'s output"
    edges = []
    for i, (src, src2) in enumerate(sources(mods)):
        e = [f"reads {name(src)}"] if src != i - 1 else []
        e += [f"adds {name(src2)}"] if src2 is not None else []
        if e:
            edges.append(f"layer {i} " + " and ".join(e))
    return "; ".join(edges)


def is_graph(mods):
    """True when some layer reads other than the output just before it."""
    return any(s != (i - 1, None) for i, s in enumerate(sources(mods)))


_GRAPH_TYPES = []


def graph_types(torch):
    """(Add, Graph): the Add module, y = x + z (no parameters), and the
    nn.Sequential whose forward follows sources (the state_dict names stay
    "0.weight", ...); made once torch is imported."""
    if _GRAPH_TYPES:
        return _GRAPH_TYPES[0]

    class Add(torch.nn.Module):
        """libnnf's Add(K): its input plus layer K's output (nnf_add = K)."""

        def __init__(self, k):
            super().__init__()
            self.nnf_add = k

        def forward(self, x, z):
            return x + z

        def extra_repr(self):
            return str(self.nnf_add)

    class Graph(torch.nn.Sequential):
        """nn.Sequential over a graph: every layer's output kept (until its
        last reader has run), each module fed its source and an Add also its
        second input. A chain runs as nn.Sequential."""

        def forward(self, x):
            mods = list(self)
            if not is_graph(mods):
                return super().forward(x)
            srcs = sources(mods)
            drop = last_reads(srcs)
            outs = {-1: x}
            for i, (m, (src, src2)) in enumerate(zip(mods, srcs)):
                outs[i] = m(outs[src]) if src2 is None else m(outs[src], outs[src2])
                for j in drop[i]:
                    del outs[j]
            return outs[len(mods) - 1]

    _GRAPH_TYPES.append((Add, Graph))
    return _GRAPH_TYPES[0]


def build(torch, meta):
    """The nn.Sequential's modules the metadata describes (a graph's: an
    entry's from=K is the module's nnf_from, Add(K) graph_types' Add; run
    them with Graph); None if a layer has no PyTorch module (a LIF layer)."""
    acts = {"relu": torch.nn.ReLU, "relu6": torch.nn.ReLU6, "sigmoid": torch.nn.Sigmoid,
            "tanh": torch.nn.Tanh, "none": torch.nn.Identity}
    mods = []
    if "architecture" in meta:
        Add = graph_types(torch)[0]
        for tok in split_arch(meta["architecture"]):
            tok, src = split_from(tok)
            name, _, args = tok.partition("(")
            args = args.rstrip(")")
            if name == "Add":
                mods.append(Add(int(args)))
            elif name == "Linear":
                i, o = (int(v) for v in args.split(","))
                mods.append(torch.nn.Linear(i, o))
            elif name == "Dropout":
                mods.append(torch.nn.Dropout(float(args)))
            elif name in ("ReLU", "ReLU6", "Sigmoid", "Tanh", "Identity", "Flatten"):
                mods.append(getattr(torch.nn, name)())
            elif name in ("Conv2d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "ZeroPad2d"):
                # libnnf writes them as constructor calls: positional integers
                # (ZeroPad2d's one tuple), then key=integer, (integer,integer)
                # or False (kernel_size=(10,4), groups=64, bias=False)
                pos, kw = [], {}
                for part in split_arch(tok[len(name) + 1:-1]):  # (args lost its tuples' ")")
                    key, eq, val = part.partition("=")
                    v = ast.literal_eval(val if eq else key)
                    if eq:
                        kw[key] = v
                    else:
                        pos.append(v)
                mods.append(getattr(torch.nn, name)(*pos, **kw))
            elif name in ("RNN", "GRU", "LSTM"):
                mods.append(recurrent_module(torch, name, args))
            else:
                from attn_modules import attn_module  # scripts/attn_modules.py, beside this script
                m = attn_module(torch, name, args)
                if m is None:
                    return None
                mods.append(m)
            if src is not None:
                mods[-1].nnf_from = src
        sources(mods)  # (refuses a layer reading a later one)
        return mods
    sizes = [int(v) for v in meta["layers"].split(",")]
    for i in range(len(sizes) - 1):
        mods.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            mods.append(acts[meta["activation"]]())
    return mods


def encoder_check(torch, mods, tensors, x):
    """Each run of consecutive TransformerEncoderLayer modules, loaded into
    torch.nn.TransformerEncoder (strict), against the Sequential's outputs of
    those layers; the worst relative difference, or None without encoders
    (or, not checked, in a graph: encoders come in chains)."""
    if not any(hasattr(m, "nnf_kwargs") for m in mods):
        return None
    if is_graph(mods):
        print("torch_check: encoder layers in a graph: not loaded into torch.nn.TransformerEncoder")
        return None
    a, i, worst = x, 0, None
    while i < len(mods):
        if not hasattr(mods[i], "nnf_kwargs"):
            a = mods[i](a)
            i += 1
            continue
        j = i
        while j < len(mods) and getattr(mods[j], "nnf_kwargs", None) == mods[i].nnf_kwargs:
            j += 1  # TransformerEncoder stacks copies of one layer: a run of equal ones
        pos, kw = mods[i].nnf_kwargs
        enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(*pos, **kw), num_layers=j - i,
                                          enable_nested_tensor=False).eval()
        state = {f"layers.{k - i}.{key.split('.', 1)[1]}": v for k in range(i, j) for key, v in tensors.items()
                 if key.split(".", 1)[0] == str(k)}
        enc.load_state_dict(state, strict=True)
        d = pos[0]
        theirs = enc(a.reshape(a.shape[0], -1, d)).flatten(1)
        for m in mods[i:j]:
            a = m(a)
        w = ((theirs - a).abs() / (1e-6 + 1e-6 * a.abs())).max().item()
        worst = w if worst is None else max(worst, w)
        print(f"torch_check: layers {i}..{j - 1} load into torch.nn.TransformerEncoder(num_layers={j - i}): "
              f"its outputs within {w:.3g} of 1e-6 relative of the Sequential's")
        i = j
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--nnfpga", help="compare with `nnfpga infer --float` (path of nnfpga)")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--limit", type=int, default=10000)
    args = ap.parse_args()
    try:
        import torch
        from safetensors.torch import load_file
    except ImportError as e:
        print(f"torch_check: {e} (scripts/bootstrap installs PyTorch and safetensors)")
        return 77
    tensors = load_file(args.checkpoint)
    with open(args.checkpoint, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        meta = json.loads(f.read(n))["__metadata__"]
    mods = build(torch, meta)
    if mods is None:
        print(f"torch_check: {args.checkpoint}: a layer without a PyTorch module "
              f"({meta.get('architecture')}); this check is for float networks")
        return 1
    model = graph_types(torch)[1](*mods).eval()
    # format 2 names the float tensors as nn.Sequential's state_dict ("0.weight");
    # format 1 put them under "layers."
    state = {k[len("layers."):] if k.startswith("layers.") else k: v for k, v in tensors.items()
             if not k.startswith("quant.")}
    model.load_state_dict(state, strict=True)
    (count, rows, cols), pixels = read_idx(f"{args.data}/t10k-images-idx3-ubyte.gz")
    _, labels = read_idx(f"{args.data}/t10k-labels-idx1-ubyte.gz")
    count = min(count, args.limit)
    x = torch.frombuffer(bytearray(pixels[:count * rows * cols]), dtype=torch.uint8)
    x = x.reshape(count, rows * cols).float() / 255.0
    if "input_shape" in meta:  # a network over maps: the images as C x H x W
        x = x.reshape(count, *(int(v) for v in meta["input_shape"].split(",")))
    y = torch.tensor(list(labels[:count]))
    with torch.no_grad():
        logits = model(x)
        bound = error_bound(torch, mods, x)
        if bound is None:
            bound = recurrent_bound(torch, model, x, logits)
        enc_worst = encoder_check(torch, mods, tensors, x)
    if enc_worst is not None and enc_worst > 1:
        print("torch_check: FAIL, torch.nn.TransformerEncoder's outputs differ from the layers'")
        return 1
    acc = (logits.argmax(1) == y).float().mean().item()
    print(f"torch_check: {args.checkpoint} loads in PyTorch {torch.__version__}; "
          f"float accuracy {100 * acc:.2f}% on {count} images")
    if describe_graph(mods):
        print(f"torch_check: a graph: {describe_graph(mods)}")
    if not args.nnfpga:
        return 0
    out = subprocess.run([args.nnfpga, "infer", "--model", args.checkpoint, "--float", "--data", args.data,
                          "--count", str(count), "--json"], check=True, capture_output=True, text=True)
    rows_out = json.loads(out.stdout)
    if len(rows_out) != count:
        print(f"torch_check: FAIL, nnfpga infer gave {len(rows_out)} images, want {count}")
        return 1
    theirs = torch.tensor([r["logits"] for r in rows_out], dtype=torch.float32).double()
    if [r["label"] for r in rows_out] != y.tolist():
        print("torch_check: FAIL, nnfpga read other labels")
        return 1
    diff = (theirs - logits.double()).abs()
    ratio = diff / (2 * bound)
    worst = ratio.max().item()
    i, j = divmod(int(ratio.argmax()), logits.shape[1])
    print(f"torch_check: nnfpga infer --float, {count} x {logits.shape[1]} logits: largest difference "
          f"{diff.max().item():.3g}, {worst:.3g} of its float32 bound (image {i}, logit {j}: "
          f"{logits[i, j].item():.9g} vs {theirs[i, j].item():.9g}, bound 2 x {bound[i, j].item():.3g})")
    if worst > 1:
        bad = int((ratio > 1).sum())
        print(f"torch_check: FAIL, {bad} logits differ by more than their float32 bound")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
