#!/usr/bin/env python3
"""Generate the protocol's C header and Verilog include from one table.

    python3 proto/gen_proto.py                 rewrite the committed outputs
    python3 proto/gen_proto.py --out-dir DIR   write them into DIR instead
    python3 proto/gen_proto.py --out-dir DIR --check
                                               write into DIR, then fail (exit 1)
                                               when the committed files differ

Input: proto/nnf_proto.def (its header explains the format). Outputs:
proto/nnf_proto_gen.h (macros and static inline field helpers) and
rtl/core/nnf_proto.vh (`define macros behind an include guard: usable in
port lists, parameters and module bodies alike, by Yosys, Verilator and
Icarus). Python 3 standard library only.
"""

import argparse
import difflib
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TABLE = os.path.join(REPO, "proto", "nnf_proto.def")
OUT_C = os.path.join(REPO, "proto", "nnf_proto_gen.h")
OUT_V = os.path.join(REPO, "rtl", "core", "nnf_proto.vh")
REGEN = "python3 proto/gen_proto.py"


class TableError(Exception):
    pass


def num(tok, where):
    try:
        return int(tok, 0)
    except ValueError:
        raise TableError("%s: not a number: %r" % (where, tok))


def parse(path):
    """The table as (consts, groups, records), in file order."""
    consts, groups, records = [], {}, {}
    order = []   # ("const", c) / ("group", g) / ("record", r), for output order
    names = {}

    def claim(name, where):
        if name in names:
            raise TableError("%s: NNFP_%s already defined at %s" % (where, name, names[name]))
        names[name] = where

    with open(path) as f:
        lines = f.read().splitlines()
    for i, line in enumerate(lines, 1):
        where = "%s:%d" % (os.path.relpath(path, REPO), i)
        t = line.split()
        if not t or t[0].startswith("#"):
            continue
        kind = t[0]

        def rest(n):
            return " ".join(t[n:])

        if kind == "const":
            if len(t) < 3:
                raise TableError("%s: const NAME VALUE [WIDTH]" % where)
            width = num(t[3], where) if len(t) > 3 and t[3].isdigit() else None
            c = {"name": t[1], "value": num(t[2], where), "width": width,
                 "doc": rest(4 if width is not None else 3)}
            claim(c["name"], where)
            consts.append(c)
            order.append(("const", c))
        elif kind == "group":
            if len(t) < 4:
                raise TableError("%s: group GROUP PREFIX WIDTH" % where)
            g = {"name": t[1], "prefix": "" if t[2] == "-" else t[2],
                 "width": num(t[3], where), "doc": rest(4), "codes": []}
            if g["name"] in groups:
                raise TableError("%s: group %s twice" % (where, g["name"]))
            groups[g["name"]] = g
            order.append(("group", g))
        elif kind == "code":
            if len(t) < 4 or t[1] not in groups:
                raise TableError("%s: code GROUP NAME VALUE (after its group line)" % where)
            g = groups[t[1]]
            c = {"name": g["prefix"] + t[2], "value": num(t[3], where), "doc": rest(4)}
            if c["value"] >= 1 << g["width"]:
                raise TableError("%s: %s does not fit in %d bits" % (where, c["name"], g["width"]))
            claim(c["name"], where)
            g["codes"].append(c)
        elif kind == "record":
            if len(t) < 3:
                raise TableError("%s: record REC BYTES" % where)
            r = {"name": t[1], "bytes": num(t[2], where), "doc": rest(3), "fields": []}
            if r["name"] in records:
                raise TableError("%s: record %s twice" % (where, r["name"]))
            claim(r["name"] + "_BYTES", where)
            records[r["name"]] = r
            order.append(("record", r))
        elif kind in ("field", "bits", "flag"):
            if len(t) < 4 or t[1] not in records:
                raise TableError("%s: %s REC NAME ... (after its record line)" % (where, kind))
            r = records[t[1]]
            fd = {"kind": kind, "name": t[2], "ofs": num(t[3], where), "signed": False}
            if kind == "field":
                if len(t) < 5:
                    raise TableError("%s: field REC NAME OFS SIZE [uN|sN]" % where)
                fd["size"] = num(t[4], where)
                m = re.fullmatch(r"([us])(\d+)", t[5]) if len(t) > 5 else None
                fd["lo"] = 0
                fd["w"] = int(m.group(2)) if m else 8 * fd["size"]
                fd["signed"] = bool(m) and m.group(1) == "s"
                fd["doc"] = rest(6 if m else 5)
            elif kind == "bits":
                if len(t) < 6 or not re.fullmatch(r"\d+:\d+", t[5]):
                    raise TableError("%s: bits REC NAME OFS SIZE HI:LO" % where)
                fd["size"] = num(t[4], where)
                hi, lo = (int(x) for x in t[5].split(":"))
                fd["lo"], fd["w"] = lo, hi - lo + 1
                fd["doc"] = rest(6)
            else:
                if len(t) < 5:
                    raise TableError("%s: flag REC NAME OFS BIT" % where)
                fd["size"] = 1
                fd["lo"], fd["w"] = num(t[4], where), 1
                fd["doc"] = rest(5)
            if fd["size"] not in (1, 2, 4, 8):
                raise TableError("%s: a field is 1, 2, 4 or 8 bytes" % where)
            if fd["w"] < 1 or fd["lo"] + fd["w"] > 8 * fd["size"]:
                raise TableError("%s: bits outside the field's %d bytes" % (where, fd["size"]))
            if fd["ofs"] + fd["size"] > r["bytes"]:
                raise TableError("%s: field past the end of %s (%d bytes)" % (where, r["name"], r["bytes"]))
            fd["lsb"] = 8 * fd["ofs"] + fd["lo"]
            full = r["name"] + "_" + fd["name"]
            for suffix in ("_OFS", "_SIZE", "_LSB", "_W", "_SEL"):
                claim(full + suffix, where)
            if kind == "flag":
                claim(full, where)
            if kind == "bits":
                claim(full + "_MASK", where)
            r["fields"].append(fd)
        else:
            raise TableError("%s: unknown line kind %r" % (where, kind))

    # bits of one record never overlap
    for r in records.values():
        seen = {}
        for fd in r["fields"]:
            for b in range(fd["lsb"], fd["lsb"] + fd["w"]):
                if b in seen:
                    raise TableError("record %s: %s and %s share bit %d" % (r["name"], seen[b], fd["name"], b))
                seen[b] = fd["name"]
    return order


def hexv(v):
    return "0x%X" % v if v > 9 else str(v)


def c_value(v):
    return hexv(v) + ("u" if v > 0x7FFFFFFF else "")


def v_sized(v, width):
    if width is None:
        return str(v)
    return "%d'h%0*X" % (width, (width + 3) // 4, v)


def ctype(fd):
    if fd["size"] == 8:
        return "int64_t" if fd["signed"] else "uint64_t"
    return "int32_t" if fd["signed"] else "uint32_t"


HEAD = ["generated by proto/gen_proto.py from proto/nnf_proto.def: do not edit;",
        "after editing the table run " + REGEN]


def walk(order, w, define, comment, record):
    """Write the table in order: define(name, value, width, doc) per constant
    and code, comment(text) before each group, record(r) per record; a blank
    line between blocks (constants in a row stay together)."""
    prev = None
    for kind, x in order:
        if not (kind == "const" and prev == "const"):
            w("")
        prev = kind
        if kind == "const":
            define(x["name"], x["value"], x["width"], x["doc"])
        elif kind == "group":
            comment(x["doc"] or x["name"])
            for c in x["codes"]:
                define(c["name"], c["value"], x["width"], c["doc"])
        else:
            record(x)


def gen_c(order):
    o = []
    w = o.append
    w("/* nnf_proto_gen.h - the link protocol's constants and layouts")
    w(" * (docs/protocol.md), " + HEAD[0])
    w(" * " + HEAD[1] + ".")
    w(" *")
    w(" * For a field F of record R: NNFP_R_F_OFS / _SIZE (bytes), NNFP_R_F_LSB / _W")
    w(" * (bits, the record read as one little-endian number), nnfp_r_get_f(p)")
    w(" * (the used bits, sign-extended where the field is signed) and")
    w(" * nnfp_r_put_f(p, v) (a field: all its bytes; a bit range or flag: only")
    w(" * its bits). p points at the record's first byte. A bit range or flag of")
    w(" * a 4-byte record (a command argument) also has nnfp_r_f_of(word) and")
    w(" * nnfp_r_with_f(word, v), on the value. */")
    w("#ifndef NNF_PROTO_GEN_H")
    w("#define NNF_PROTO_GEN_H")
    w("")
    w("#include <stdint.h>")
    w("")
    w("/* Little-endian loads and stores. */")
    w("static inline uint16_t nnfp_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }")
    w("static inline uint32_t nnfp_get32(const uint8_t *p) {")
    w("  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);")
    w("}")
    w("static inline uint64_t nnfp_get64(const uint8_t *p) {")
    w("  return (uint64_t)nnfp_get32(p) | ((uint64_t)nnfp_get32(p + 4) << 32);")
    w("}")
    w("static inline void nnfp_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }")
    w("static inline void nnfp_put32(uint8_t *p, uint32_t v) {")
    w("  p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);")
    w("}")
    w("static inline void nnfp_put64(uint8_t *p, uint64_t v) { nnfp_put32(p, (uint32_t)v); nnfp_put32(p + 4, (uint32_t)(v >> 32)); }")
    w("/* The low `bits` bits of x, sign-extended (1 <= bits <= 32), without")
    w(" * overflow: a negative value is (x - m) - m, m = 2^(bits-1). */")
    w("static inline int32_t nnfp_sext32(uint32_t x, unsigned bits) {")
    w("  uint32_t m = 1u << (bits - 1);")
    w("  x &= bits == 32 ? 0xFFFFFFFFu : (m << 1) - 1u;")
    w("  return (x & m) ? (int32_t)(x - m) - (int32_t)(m - 1u) - 1 : (int32_t)x;")
    w("}")
    w("")
    w("/* An answer's type: NNFP_OK(command), or NNFP_ERR. */")
    w("#define NNFP_OK(cmd) ((uint8_t)(NNFP_OK_BIT | (cmd)))")
    walk(order, w, lambda name, v, width, doc: w("#define NNFP_%s %s%s" % (
        name, c_value(v), ("  /* %s */" % doc) if doc else "")),
        lambda text: w("/* %s */" % text), lambda r: gen_c_record(w, r))
    w("")
    w("#endif /* NNF_PROTO_GEN_H */")
    return "\n".join(o) + "\n"


def gen_c_record(w, r):
    R = r["name"]
    low = R.lower()
    w("/* record %s%s */" % (R, (": " + r["doc"]) if r["doc"] else ""))
    w("#define NNFP_%s_BYTES %d" % (R, r["bytes"]))
    for fd in r["fields"]:
        F = R + "_" + fd["name"]
        f = fd["name"].lower()
        if fd["doc"]:
            w("/* %s: %s */" % (fd["name"], fd["doc"]))
        w("#define NNFP_%s_OFS %d" % (F, fd["ofs"]))
        w("#define NNFP_%s_SIZE %d" % (F, fd["size"]))
        w("#define NNFP_%s_LSB %d" % (F, fd["lsb"]))
        w("#define NNFP_%s_W %d" % (F, fd["w"]))
        bits = 8 * fd["size"]
        load = {1: "p[%d]" % fd["ofs"], 2: "nnfp_get16(p + %d)" % fd["ofs"],
                4: "nnfp_get32(p + %d)" % fd["ofs"], 8: "nnfp_get64(p + %d)" % fd["ofs"]}[fd["size"]]
        ut = "uint64_t" if fd["size"] == 8 else "uint32_t"
        mask = (1 << fd["w"]) - 1
        if fd["kind"] == "flag":
            w("#define NNFP_%s %s" % (F, hexv(1 << fd["lo"])))
        if fd["kind"] == "bits":
            w("#define NNFP_%s_MASK %s" % (F, c_value(mask << fd["lo"])))
        # get
        if fd["kind"] == "field" and fd["w"] == bits:
            expr = "(%s)%s" % (ut, load)
        else:
            expr = "((%s)%s >> %d)" % (ut, load, fd["lo"]) if fd["lo"] else "(%s)%s" % (ut, load)
            expr = "(%s & %s%s)" % (expr, hexv(mask), "u" if mask > 0x7FFFFFFF else "")
            if fd["size"] == 8:
                expr = expr.replace(hexv(mask) + "u)", hexv(mask) + "ull)")
        if fd["signed"]:
            expr = "nnfp_sext32(%s, %d)" % ("(uint32_t)" + load if not fd["lo"] else expr, fd["w"])
        w("static inline %s nnfp_%s_get_%s(const uint8_t *p) { return %s; }" % (ctype(fd), low, f, expr))
        # put
        vt = ctype(fd)
        if fd["kind"] == "field":
            store = {1: "p[%d] = (uint8_t)v;" % fd["ofs"],
                     2: "nnfp_put16(p + %d, (uint16_t)v);" % fd["ofs"],
                     4: "nnfp_put32(p + %d, (uint32_t)v);" % fd["ofs"],
                     8: "nnfp_put64(p + %d, (uint64_t)v);" % fd["ofs"]}[fd["size"]]
            w("static inline void nnfp_%s_put_%s(uint8_t *p, %s v) { %s }" % (low, f, vt, store))
        else:
            m = "NNFP_%s" % F if fd["kind"] == "flag" else "NNFP_%s_MASK" % F
            sh = " << %d" % fd["lo"] if fd["lo"] else ""
            if fd["size"] == 1:
                store = "p[%d] = (uint8_t)((p[%d] & ~%s) | ((v%s) & %s));" % (fd["ofs"], fd["ofs"], m, sh, m)
            else:
                g = {2: "16", 4: "32", 8: "64"}[fd["size"]]
                store = "nnfp_put%s(p + %d, (nnfp_get%s(p + %d) & ~%s) | ((v%s) & %s));" % (
                    g, fd["ofs"], g, fd["ofs"], m, sh, m)
            w("static inline void nnfp_%s_put_%s(uint8_t *p, %s v) { %s }" % (low, f, vt, store))
            if r["bytes"] == 4 and all(x["kind"] != "field" for x in r["fields"]):
                # a 32-bit word record (an argument): the same on the value
                sh = " << %d" % fd["lo"] if fd["lo"] else ""
                w("static inline uint32_t nnfp_%s_%s_of(uint32_t word) { return (word >> %d) & %s; }"
                  % (low, f, 8 * fd["ofs"] + fd["lo"], c_value(mask)))
                w("static inline uint32_t nnfp_%s_with_%s(uint32_t word, uint32_t v) {" % (low, f))
                w("  return (word & ~(uint32_t)%s) | ((v << %d) & %s);"
                  % (c_value(mask << (8 * fd["ofs"] + fd["lo"])), 8 * fd["ofs"] + fd["lo"],
                     c_value(mask << (8 * fd["ofs"] + fd["lo"]))))
                w("}")


def gen_v(order):
    o = []
    w = o.append
    w("// nnf_proto.vh - the link protocol's constants and layouts (docs/protocol.md),")
    w("// " + HEAD[0])
    w("// " + HEAD[1] + ".")
    w("//")
    w("// `include \"nnf_proto.vh\" at the top of a file (the tools find it with")
    w("// -I rtl/core). Macros, not localparams: they serve port and parameter")
    w("// lists as well as module bodies, and unused ones raise no lint warning.")
    w("// Codes are sized (8'h01); offsets and widths are plain integers. For a")
    w("// field F of record R (the record read as one little-endian vector):")
    w("//   `NNFP_R_F_LSB, `NNFP_R_F_W  its bits; `NNFP_R_F_SEL(v) = v[msb:lsb]")
    w("//   `NNFP_R_F_OFS, `NNFP_R_F_SIZE  its bytes")
    w("`ifndef NNF_PROTO_VH")
    w("`define NNF_PROTO_VH")
    w("")
    w("`define NNFP_OK(cmd) (`NNFP_OK_BIT | (cmd))")
    walk(order, w, lambda name, v, width, doc: w("`define NNFP_%s %s%s" % (
        name, v_sized(v, width), ("  // %s" % doc) if doc else "")),
        lambda text: w("// %s" % text), lambda r: gen_v_record(w, r))
    w("")
    w("`endif // NNF_PROTO_VH")
    return "\n".join(o) + "\n"


def gen_v_record(w, r):
    w("// record %s%s" % (r["name"], (": " + r["doc"]) if r["doc"] else ""))
    w("`define NNFP_%s_BYTES %d" % (r["name"], r["bytes"]))
    for fd in r["fields"]:
        F = r["name"] + "_" + fd["name"]
        w("`define NNFP_%s_OFS %d%s" % (F, fd["ofs"], ("  // %s" % fd["doc"]) if fd["doc"] else ""))
        w("`define NNFP_%s_SIZE %d" % (F, fd["size"]))
        w("`define NNFP_%s_LSB %d" % (F, fd["lsb"]))
        w("`define NNFP_%s_W %d" % (F, fd["w"]))
        if fd["w"] == 1:
            w("`define NNFP_%s_SEL(v) v[%d]" % (F, fd["lsb"]))
        else:
            w("`define NNFP_%s_SEL(v) v[%d:%d]" % (F, fd["lsb"] + fd["w"] - 1, fd["lsb"]))
        if fd["kind"] == "flag":
            w("`define NNFP_%s %s" % (F, v_sized(1 << fd["lo"], 8)))
        if fd["kind"] == "bits":
            bits = 8 * fd["size"]
            w("`define NNFP_%s_MASK %s" % (F, v_sized(((1 << fd["w"]) - 1) << fd["lo"], bits)))


RTL_DIR = os.path.join(REPO, "rtl", "core")
BLOCK_BEGIN = "// nnf_proto: begin"
BLOCK_END = "// nnf_proto: end"
BLOCK_NOTE = ("// the protocol macros this file uses, generated by proto/gen_proto.py from "
              "proto/nnf_proto.def: do not edit")


def gen_rtl_blocks(vtext):
    """Each rtl/core file with a `nnf_proto: begin/end` block, the block holding
    the macros of nnf_proto.vh the file uses (and those they use). Inlined rather
    than `include'd: Verilator looks for include files only on its -I paths."""
    defs = {}
    for line in vtext.splitlines():
        m = re.match(r"`define (NNFP_\w+)", line)
        if m:
            defs[m.group(1)] = line
    outs = []
    for name in sorted(os.listdir(RTL_DIR)):
        if not name.endswith(".v"):
            continue
        path = os.path.join(RTL_DIR, name)
        with open(path) as f:
            text = f.read()
        if BLOCK_BEGIN not in text:
            continue
        head, rest = text.split(BLOCK_BEGIN, 1)
        if BLOCK_END not in rest:
            raise TableError("%s: %s without %s" % (name, BLOCK_BEGIN, BLOCK_END))
        tail = rest.split(BLOCK_END, 1)[1]
        want = set(re.findall(r"`(NNFP_\w+)", head + tail))
        todo = list(want)
        while todo:
            n = todo.pop()
            if n not in defs:
                raise TableError("%s uses `%s, which proto/nnf_proto.def does not define" % (name, n))
            for m in re.findall(r"`(NNFP_\w+)", defs[n].split("//")[0][len("`define " + n):]):
                if m not in want:
                    want.add(m)
                    todo.append(m)
        body = [BLOCK_BEGIN, BLOCK_NOTE]
        for n in defs:
            if n in want:
                body += ["`ifndef %s" % n, defs[n], "`endif"]
        body.append(BLOCK_END)
        outs.append((path, head + "\n".join(body) + tail))
    return outs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", default=TABLE, help="the table (default: proto/nnf_proto.def)")
    ap.add_argument("--out-dir", help="write both outputs here instead of over the committed ones")
    ap.add_argument("--check", action="store_true",
                    help="with --out-dir: exit 1 when the committed outputs differ from the fresh ones")
    a = ap.parse_args()
    if a.check and not a.out_dir:
        ap.error("--check needs --out-dir")
    try:
        order = parse(a.table)
    except (TableError, OSError) as e:
        print("gen_proto.py: %s" % e, file=sys.stderr)
        return 2
    vtext = gen_v(order)
    try:
        outs = [(OUT_C, gen_c(order)), (OUT_V, vtext)] + gen_rtl_blocks(vtext)
    except (TableError, OSError) as e:
        print("gen_proto.py: %s" % e, file=sys.stderr)
        return 2
    stale = 0
    for committed, text in outs:
        path = os.path.join(a.out_dir, os.path.basename(committed)) if a.out_dir else committed
        if a.out_dir:
            os.makedirs(a.out_dir, exist_ok=True)
        old = None
        if os.path.exists(path):
            with open(path) as f:
                old = f.read()
        if old != text:
            with open(path + ".tmp", "w") as f:
                f.write(text)
            os.replace(path + ".tmp", path)
        if a.check:
            try:
                with open(committed) as f:
                    cur = f.read()
            except OSError:
                cur = ""
            if cur != text:
                stale += 1
                rel = os.path.relpath(committed, REPO)
                print("%s is not what proto/nnf_proto.def generates:" % rel)
                diff = difflib.unified_diff(cur.splitlines(), text.splitlines(),
                                            "committed/" + rel, "generated/" + rel, lineterm="")
                for n, line in enumerate(diff):
                    if n == 40:
                        print("...")
                        break
                    print(line)
    if stale:
        print("Regenerate the committed files: %s (then commit them)" % REGEN)
        return 1
    if a.check:
        print("ok: %s, %s and the protocol blocks of rtl/core are current"
              % (os.path.relpath(OUT_C, REPO), os.path.relpath(OUT_V, REPO)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
