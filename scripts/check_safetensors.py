#!/usr/bin/env python3
"""check_safetensors.py - validate safetensors files independently of libnnf.

Usage: check_safetensors.py FILE...

For each file: parse the 8-byte little-endian header length and the JSON
header with the standard library only (struct + json), check every rule of
the format (UTF-8 JSON object, no duplicate keys, string metadata, known
dtypes, non-negative integer shapes, data_offsets that tile the data area
exactly and match shape * dtype size), and print one line per tensor. When
`safetensors.torch` can be imported, the file is also loaded with
safetensors.torch.load_file and its names, shapes, dtypes and bytes are
compared with what this script read. Exit status 1 if any file is refused.
"""
import json
import struct
import sys

MAX_HEADER = 100_000_000
DTYPE_SIZES = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4, "I64": 8, "U64": 8, "F64": 8,
}


class Refused(Exception):
    pass


def no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    for k in keys:
        if keys.count(k) > 1:
            raise Refused(f"duplicate key {k!r}")
    return dict(pairs)


def is_size(v):
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def check_tensor(name, info):
    # Other fields are ignored, as safetensors itself does.
    if not isinstance(info, dict) or not {"dtype", "shape", "data_offsets"} <= set(info):
        raise Refused(f"{name}: entry needs dtype, shape and data_offsets")
    dtype, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
    if dtype not in DTYPE_SIZES:
        raise Refused(f"{name}: unknown dtype {dtype!r}")
    if not isinstance(shape, list) or not all(is_size(d) for d in shape):
        raise Refused(f"{name}: bad shape {shape!r}")
    if not isinstance(offs, list) or len(offs) != 2 or not all(is_size(o) for o in offs):
        raise Refused(f"{name}: bad data_offsets {offs!r}")
    count = 1
    for d in shape:
        count *= d
    begin, end = offs
    if begin > end or end - begin != count * DTYPE_SIZES[dtype]:
        raise Refused(f"{name}: data_offsets {offs} do not hold {shape} of {dtype}")
    return dtype, shape, begin, end


def parse(blob):
    """Return (metadata, {name: (dtype, shape, bytes)}) in header order."""
    if len(blob) < 8:
        raise Refused("shorter than 8 bytes")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER or n > len(blob) - 8:
        raise Refused(f"header length {n} is too large")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        raise Refused(f"header is not UTF-8 JSON: {e}")
    if not isinstance(header, dict):
        raise Refused("header is not a JSON object")
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise Refused("__metadata__ must map strings to strings")
    data = blob[8 + n:]
    tensors = {name: check_tensor(name, info) for name, info in header.items()}
    at = 0
    for name, (_, _, begin, end) in sorted(tensors.items(), key=lambda kv: kv[1][2:]):
        if begin != at:
            raise Refused(f"{name}: starts at {begin}, expected {at} (gap or overlap)")
        at = end
    if at != len(data):
        raise Refused(f"tensors cover {at} bytes of a {len(data)}-byte data area")
    return meta, {k: (d, s, data[b:e]) for k, (d, s, b, e) in tensors.items()}


def compare_with_torch(path, tensors):
    try:
        import safetensors.torch
    except ImportError:
        return "safetensors.torch not installed, skipped"
    loaded = safetensors.torch.load_file(path)
    if set(loaded) != set(tensors):
        raise Refused(f"safetensors.torch sees {sorted(loaded)}, we see {sorted(tensors)}")
    for name, (dtype, shape, raw) in tensors.items():
        t = loaded[name]
        if list(t.shape) != shape or t.element_size() != DTYPE_SIZES[dtype]:
            raise Refused(f"{name}: safetensors.torch gives {t.dtype} {list(t.shape)}")
        if t.contiguous().numpy().tobytes() != raw:
            raise Refused(f"{name}: bytes differ under safetensors.torch")
    return "safetensors.torch.load_file agrees"


def main(paths):
    status = 0
    for path in paths:
        try:
            with open(path, "rb") as f:
                meta, tensors = parse(f.read())
            print(f"{path}: OK, {len(tensors)} tensors, metadata {meta}")
            for name, (dtype, shape, raw) in tensors.items():
                print(f"  {name!r}: {dtype} {shape} ({len(raw)} bytes)")
            print(f"  {compare_with_torch(path, tensors)}")
        except (OSError, Refused) as e:
            print(f"{path}: REFUSED: {e}")
            status = 1
    return status


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
