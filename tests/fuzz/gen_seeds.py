#!/usr/bin/env python3
"""Write the seed inputs of fuzz_proto, fuzz_device and fuzz_driver
(tests/fuzz/corpus/<name>/gen_*), so that the fuzzers start from frames with
good CRCs instead of having to guess them. Run from anywhere:
    python3 tests/fuzz/gen_seeds.py
The files are committed; this script says how they were made."""
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def frame(typ, seq, arg, payload=b""):
    hdr = struct.pack("<BBHI", typ, seq, len(payload), arg)
    out = b"\xa5\x5a" + hdr + struct.pack("<I", zlib.crc32(hdr))
    if payload:
        out += payload + struct.pack("<I", zlib.crc32(payload))
    return out


def insn_gemm(m, k, n, a=0, w=0, p=0, o=0, lut=0):
    return struct.pack("<BBbbb3xHHH2xIIII", 1, lut, 0, -128, 127, m, k, n, a, w, p, o)


def insn_lif(m, n, a=0, s=0, o=0, flags=0, du=4095, dv=0, vth=1):
    return struct.pack("<BBBBh2xHHHHIIII", 3, flags, 0, 0, 0, m, du, n, dv, a, vth, s, o)


def insn_loop(target, count):
    return struct.pack("<B7xH6xI12x", 4, count, target)


def write(name, sub, data):
    d = os.path.join(HERE, "corpus", sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "gen_" + name), "wb") as f:
        f.write(data)


# ---- fuzz_proto: 2 bytes max_payload, then a stream -------------------------
mp = struct.pack("<H", 64)
write("info", "proto", mp + frame(1, 1, 0))
write("write", "proto", mp + frame(2, 7, 0x40000000, bytes(range(40))))
write("bad_pcrc", "proto", mp + frame(2, 7, 0, b"abc")[:-1] + b"\x00")
write("too_long", "proto", struct.pack("<H", 16) + frame(2, 3, 0, bytes(17)))
write("garbage_between", "proto", mp + b"\xa5\xa5\x5a\x00" + frame(3, 2, 0, b"\x04\x00\x00\x00") +
      b"\x5a\xa5" + frame(0xFF, 9, 0, b"\x01\x02"))
write("cut", "proto", mp + frame(5, 1, 0) + frame(2, 2, 0, bytes(30))[:20])


# ---- fuzz_device: config bytes c0 c1, then steps ------------------------------
def step_frame(typ, seq, payload=b"", region=0, addr=0, run_arg=0, ctl=1, extra=b""):
    """ctl bit 2: flip a bit (extra: position, bit); bit 3: cut (extra: length)."""
    s = bytes([ctl, typ, seq, region, addr & 0xFF, (addr >> 8) & 1])
    if typ in (4, 8):
        s += bytes([run_arg])
    return s + bytes([len(payload)]) + payload + extra


def step_read(seq, region, addr, count):
    return bytes([3, count - 1, seq, region, addr])


c0, c1 = 0x00 | (1 << 1) | (1 << 3), 0x05 | (1 << 5)   # 2x2, 4 ACT / W words; 4 insns, 32-byte payloads, 4 LIF entries
prog = insn_gemm(1, 2, 2, o=2) + insn_lif(1, 2, a=2, o=3, flags=2) + insn_loop(0, 3)
pent = struct.pack("<iIb7x", 5, 1 << 30, 0)   # bias, m0, shift of one P slot
write("program", "device", bytes([c0, c1]) +
      step_frame(2, 1, prog[:32], region=4) + step_frame(2, 2, prog[32:64], region=4, addr=32) +
      step_frame(2, 3, prog[64:], region=4, addr=64) + step_frame(2, 4, bytes(range(8)), region=0) +
      step_frame(2, 14, bytes([1, 2, 3, 4]), region=1) + step_frame(2, 15, pent + pent, region=2) +
      step_frame(4, 5, run_arg=0) + step_frame(4, 5, run_arg=0) + step_read(6, 5, 0, 32) +
      step_read(7, 0, 0, 8) + bytes([3 | 4 | (6 << 3), 0, 8]))
write("info_status", "device", bytes([0, 0]) + bytes([3 | 4, 0, 1]) + bytes([3 | 4 | (5 << 3), 0, 2]) +
      bytes([3 | 4 | (1 << 3), 0, 3]) + bytes([3 | 4 | (7 << 3), 0, 4]))
write("damaged", "device", bytes([0x3f, 0xff]) +
      step_frame(2, 1, bytes(20), region=0, ctl=1 | 4, extra=bytes([20, 3])) +
      step_frame(2, 2, bytes(20), region=1, ctl=1 | 8, extra=bytes([25])) +
      step_frame(9, 3) + step_frame(3, 4, b"\x00\x00\x01\x00", region=2) + bytes([2]) +
      bytes([0, 5, 0xa5, 0x5a, 1, 2, 3]) + bytes([2]))


# ---- fuzz_driver: the man in the middle's ops, then the harness's calls ------
# recv ops: 0 pass (then a length byte), 3 forge (kind, [type], [seq delta], len, payload, arg choice)
info = struct.pack("<HHBBHIIIIIHHIII4x", 1, 2, 2, 2, 7, 64, 64, 2, 2, 2, 16, 1, 100, 0, 0)
write("forged_info", "driver", bytes([3, 8 | 0]) + bytes([0]) + info + bytes([1]) + bytes([0, 255]) * 4)
write("honest", "driver", bytes([0, 255]) * 3 + bytes([0x00, 5, 9, 0x01, 5, 9, 0x02, 0, 0, 0x06, 0, 0]))
write("stale_and_err", "driver", bytes([0, 255, 3, 4 | 1, 0, 2, 3, 4, 1, 3, 1 | 8, 2, 6, 2, 1, 4, 2, 0]))
