#!/usr/bin/env python3
"""crc_residue.py: the lemma nnf_frame_rx's proof rests on.

The receiver does not keep the CRC it receives: it runs its CRC-32 on over the
four received CRC bytes and compares the register with a constant, the
residue (in the form: the register xor the last byte against CRC_LAST, the
residue before that byte's eight shift steps, which are invertible). This checks, for every register value c and every four bytes r, that

    crc4(c, r) == RESIDUE   exactly when   r == ~c  (little-endian),

i.e. that the residue test accepts exactly the frames whose received CRC is
the CRC of what came before it, as comparing the two would. The argument:
one byte step of nnf_crc32 (c ^= byte, then eight shift-and-conditional-XOR
steps) is linear over GF(2), so crc4(c, r) = A c + B r for two 32x32
matrices; here A == B (the register and the bytes enter the same way), A is
invertible (rank 32), and A (~0) == RESIDUE. Then crc4(c, r) == RESIDUE
<=> A (c ^ r) == A (~0) <=> c ^ r == ~0. And T^8 (one byte's shift steps)
has rank 32 and takes CRC_LAST to RESIDUE.

The polynomial and the constants are read from the RTL (rtl/core/nnf_crc32.v,
rtl/core/nnf_frame_rx.v), so changing either fails this check. SAT solvers
cannot do this algebra in reasonable time, hence a check of its own.
"""
import random
import re
import sys
import zlib
from pathlib import Path

RTL = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "rtl"


def rtl_constant(path, pattern):
    m = re.search(pattern, (RTL / path).read_text())
    if not m:
        sys.exit(f"crc_residue: no match for {pattern!r} in {path}")
    return int(m.group(1), 16)


POLY = rtl_constant("core/nnf_crc32.v", r"\^\s*32'h([0-9A-Fa-f]+)")
RESIDUE = rtl_constant("core/nnf_frame_rx.v", r"CRC_RESIDUE\s*=\s*32'h([0-9A-Fa-f]+)")
LAST = rtl_constant("core/nnf_frame_rx.v", r"CRC_LAST\s*=\s*32'h([0-9A-Fa-f]+)")


def step(c, byte):
    """nnf_crc32: one byte into the running register."""
    c ^= byte
    for _ in range(8):
        c = (c >> 1) ^ POLY if c & 1 else c >> 1
    return c


def crc4(c, r):
    for k in range(4):
        c = step(c, (r >> (8 * k)) & 0xFF)
    return c


def rank(cols):
    """Rank over GF(2) of the matrix whose columns are the 32-bit ints."""
    rows, r = list(cols), 0
    for bit in range(32):
        piv = next((i for i in range(r, len(rows)) if rows[i] >> bit & 1), None)
        if piv is None:
            continue
        rows[r], rows[piv] = rows[piv], rows[r]
        for i in range(len(rows)):
            if i != r and rows[i] >> bit & 1:
                rows[i] ^= rows[r]
        r += 1
    return r


def main():
    fails = []
    # the model is the CRC the host computes (zlib's)
    data = bytes(range(256)) * 3
    c = 0xFFFFFFFF
    for b in data:
        c = step(c, b)
    if c ^ 0xFFFFFFFF != zlib.crc32(data):
        fails.append("the RTL's CRC step is not zlib's CRC-32")
    a = [crc4(1 << i, 0) for i in range(32)]
    b = [crc4(0, 1 << i) for i in range(32)]
    if crc4(0, 0) != 0:
        fails.append("crc4 is not linear (crc4(0, 0) != 0)")
    rng = random.Random(1)
    for _ in range(2000):          # linear: crc4 is the sum of its columns
        c, r = rng.getrandbits(32), rng.getrandbits(32)
        s = 0
        for i in range(32):
            if c >> i & 1:
                s ^= a[i]
            if r >> i & 1:
                s ^= b[i]
        if crc4(c, r) != s:
            fails.append(f"crc4 is not linear at c={c:#x} r={r:#x}")
            break
    if a != b:
        fails.append("the register and the CRC bytes do not enter the same way (A != B)")
    if rank(a) != 32:
        fails.append(f"A has rank {rank(a)}, not 32: the residue test accepts wrong CRCs")
    # the receiver tests the register xor the last byte against LAST, before
    # the byte's eight shift steps (T^8, linear): the same test when T^8 is
    # invertible and takes LAST to RESIDUE
    t8 = [step(1 << i, 0) for i in range(32)]
    if rank(t8) != 32:
        fails.append("a byte's shift steps are not invertible")
    if step(LAST, 0) != RESIDUE:
        fails.append(f"T^8(CRC_LAST) = {step(LAST, 0):#010x}, not the residue {RESIDUE:#010x}")
    if crc4(0xFFFFFFFF, 0) != RESIDUE:
        fails.append(f"A(~0) = {crc4(0xFFFFFFFF, 0):#010x}, the RTL's residue is {RESIDUE:#010x}")
    for _ in range(1000):          # and, directly, on frames
        msg = rng.randbytes(rng.randrange(1, 40))
        c = 0xFFFFFFFF
        for x in msg:
            c = step(c, x)
        good = zlib.crc32(msg)
        if crc4(c, good) != RESIDUE:
            fails.append(f"a good CRC misses the residue ({msg.hex()})")
            break
        bad = good ^ (1 << rng.randrange(32))
        if crc4(c, bad) == RESIDUE:
            fails.append(f"a bad CRC hits the residue ({msg.hex()})")
            break
    for f in fails:
        print("crc_residue: FAIL:", f)
    if not fails:
        print(f"crc_residue: crc4(c, r) == {RESIDUE:#010x} exactly when r == ~c "
              f"(polynomial {POLY:#010x}, A == B, rank 32)")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
