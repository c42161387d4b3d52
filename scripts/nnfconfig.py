#!/usr/bin/env python3
"""nnfconfig.py - the device configurations of configs/ (docs/codesign.md).

One JSON file names every parameter of one device: the "core" object holds
each of nnf_core's parameters (rtl/core/nnf_core.v) but CONFIG_ID, "link" the
byte link (stream: the simulator's port; uart: a UART at "baud"; usb: the
native USB device, rtl/link/usb), and an
optional "board" object the board top that carries it (its Verilog files,
pins, bitstream, synthesis target and the top's own parameters, e.g. PLL
dividers). The simulators (sim/core/CMakeLists.txt), scripts/synth.py, the
board builds and the board tests read them through this script; the device
reports the configuration's id in INFO (CONFIG_ID) and `nnfpga info` names
the file it came from.

    nnfconfig.py check [FILE...]          validate (default: every configs/*.json)
    nnfconfig.py id FILE                  the id, 0x0001..0xffff
    nnfconfig.py show FILE                the file, normalised, with its id
    nnfconfig.py core-params FILE         nnf_core's parameters (CONFIG_ID included), one JSON line
    nnfconfig.py boards                   every board configuration: one JSON line each
                                          (board, top, files, bitstream, link, params: the top's
                                          parameters)
    nnfconfig.py derive FILE --set K=V [--set ...] [--name N] --out F
                                          a configuration that differs from FILE in the
                                          named core parameters (K: ROWS, ...; COLS follows
                                          ROWS unless set), link.baud or the board's params
                                          (a new CLOCK_HZ brings the PLL's dividers and
                                          TIMEOUT with it unless those are set too)
    nnfconfig.py build-sim FILE [--cache DIR] [--jobs N]
                                          build FILE's Verilated nnf_core as a simulator
                                          module (the driver's sim:module=PATH), cached by
                                          the configuration and the RTL's contents; prints
                                          the module's path

The id is the CRC-32 (IEEE) of the configuration's canonical text, folded to
16 bits (0 reads as 1, since 0 means "no configuration"): one line
"NAME=VALUE" per core parameter in name order, then "link.kind=KIND" and, for
a UART, "link.baud=BAUD". host/lib/nnf_config.c computes the same.

Exit status: 0 success, 1 a build failed, 2 bad usage or an invalid file.
Python 3 standard library only.
"""

import argparse
import fcntl
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zlib

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG_DIR = os.path.join(REPO, "configs")
CORE_V = os.path.join(REPO, "rtl", "core", "nnf_core.v")
LINK_KINDS = ("stream", "uart", "usb")
BOARD_KEYS = {"top", "files", "constraints", "bitstream", "target", "device", "package",
              "pnr_args", "pack_args", "params", "seed", "osc_hz"}

# The board PLLs: each family's divider parameters (board.params), their
# ranges and the data sheets' frequency limits, in Hz. iCE40 SB_PLL40 with
# SIMPLE feedback: out = osc * (DIVF+1) / ((DIVR+1) * 2^DIVQ), the phase
# detector at osc / (DIVR+1), the VCO at osc * (DIVF+1) / (DIVR+1), and
# FILTER_RANGE by the phase detector's frequency (as icepll picks it).
# ECP5 EHXPLLL fed back from CLKOP (nnf_ecp5_pll): out = osc / CLKI_DIV *
# CLKFB_DIV, the VCO at out * CLKOP_DIV.
PLLS = {
    "ice40": {"params": ("PLL_DIVR", "PLL_DIVF", "PLL_DIVQ", "PLL_FILTER"),
              "ranges": {"PLL_DIVR": (0, 15), "PLL_DIVF": (0, 127), "PLL_DIVQ": (1, 6),
                         "PLL_FILTER": (1, 6)},
              "pfd": (10e6, 133e6), "vco": (533e6, 1066e6), "out": (16e6, 275e6)},
    "ecp5": {"params": ("PLL_CLKI_DIV", "PLL_CLKFB_DIV", "PLL_CLKOP_DIV"),
             "ranges": {"PLL_CLKI_DIV": (1, 128), "PLL_CLKFB_DIV": (1, 128),
                        "PLL_CLKOP_DIV": (1, 128)},
             "pfd": (3.125e6, 400e6), "vco": (400e6, 800e6), "out": (3.125e6, 400e6)},
}


def pll_family(params):
    """The PLL a board's params describe ("ice40", "ecp5"), or None."""
    for fam, d in PLLS.items():
        if any(k in params for k in d["params"]):
            return fam
    return None


def ice40_filter(pfd_hz):
    """SB_PLL40 FILTER_RANGE for a phase detector frequency (icepll's table)."""
    for i, top in enumerate((17e6, 26e6, 44e6, 66e6, 101e6)):
        if pfd_hz < top:
            return i + 1
    return 6


def pll_freqs(fam, osc, p):
    """(out, pfd, vco) in Hz, as exact rationals (numerator, denominator)."""
    if fam == "ice40":
        den = (p["PLL_DIVR"] + 1) * (1 << p["PLL_DIVQ"])
        return ((osc * (p["PLL_DIVF"] + 1), den), (osc, p["PLL_DIVR"] + 1),
                (osc * (p["PLL_DIVF"] + 1), p["PLL_DIVR"] + 1))
    out = (osc * p["PLL_CLKFB_DIV"], p["PLL_CLKI_DIV"])
    return (out, (osc, p["PLL_CLKI_DIV"]), (out[0] * p["PLL_CLKOP_DIV"], out[1]))


def pll_problem(fam, osc, clock, p):
    """Why params p do not make `clock` from `osc` within the limits, or None."""
    d = PLLS[fam]
    for k in d["params"]:
        if k not in p:
            return "lacks %s" % k
        lo, hi = d["ranges"][k]
        if not lo <= p[k] <= hi:
            return "%s %d is outside %d..%d" % (k, p[k], lo, hi)
    out, pfd, vco = pll_freqs(fam, osc, p)
    if out[0] != clock * out[1]:
        return "makes %.6g MHz from %.6g MHz, not CLOCK_HZ's %.6g" % (
            out[0] / out[1] / 1e6, osc / 1e6, clock / 1e6)
    for name, key, (num, den) in (("phase detector", "pfd", pfd), ("VCO", "vco", vco),
                                  ("output", "out", out)):
        lo, hi = d[key]
        if not lo <= num / den <= hi:
            return "puts the %s at %.6g MHz, outside %.6g..%.6g" % (name, num / den / 1e6, lo / 1e6, hi / 1e6)
    if fam == "ice40" and p["PLL_FILTER"] != ice40_filter(pfd[0] / pfd[1]):
        return "PLL_FILTER %d, but a %.6g MHz phase detector needs %d" % (
            p["PLL_FILTER"], pfd[0] / pfd[1] / 1e6, ice40_filter(pfd[0] / pfd[1]))
    return None


def pll_solve(fam, osc, clock):
    """Dividers that make `clock` exactly from `osc` within the limits, or
    None: iCE40 the smallest DIVR, then DIVQ; ECP5 the smallest CLKI_DIV,
    then CLKFB_DIV, with the VCO nearest the middle of its range (600 MHz)."""
    if fam == "ice40":
        for r in range(16):
            for q in range(1, 7):
                num = clock * (r + 1) * (1 << q)
                if num % osc or not 1 <= num // osc <= 128:
                    continue
                pfd = osc / (r + 1)
                p = {"PLL_DIVR": r, "PLL_DIVF": num // osc - 1, "PLL_DIVQ": q,
                     "PLL_FILTER": ice40_filter(pfd)}
                if pll_problem(fam, osc, clock, p) is None:
                    return p
        return None
    for ci in range(1, 129):
        num = clock * ci
        if num % osc or not 1 <= num // osc <= 128:
            continue
        vlo, vhi = PLLS[fam]["vco"]
        ops = [o for o in range(1, 129) if vlo <= clock * o <= vhi]
        if ops:
            p = {"PLL_CLKI_DIV": ci, "PLL_CLKFB_DIV": num // osc,
                 "PLL_CLKOP_DIV": min(ops, key=lambda o: abs(clock * o - (vlo + vhi) / 2))}
            if pll_problem(fam, osc, clock, p) is None:
                return p
    return None


def check_pll(cfg, path):
    b, clock = cfg["board"], cfg["core"]["CLOCK_HZ"]
    fam = pll_family(b.get("params", {}))
    if fam is None:
        return
    if "osc_hz" not in b:
        raise ConfigError("%s: board has PLL dividers but no \"osc_hz\" (the oscillator they divide)" % path)
    osc = _int(b["osc_hz"], "%s: board.osc_hz" % path)
    if osc == 0:
        raise ConfigError("%s: board.osc_hz must not be 0" % path)
    why = pll_problem(fam, osc, clock, b["params"])
    if why:
        fix = pll_solve(fam, osc, clock)
        raise ConfigError("%s: board.params: the %s PLL %s (%s)" % (
            path, fam, why, "for %d Hz use %s" % (clock, ", ".join(
                "%s %d" % kv for kv in sorted(fix.items()))) if fix else
            "no dividers make %d Hz from %d Hz exactly" % (clock, osc)))


class ConfigError(Exception):
    pass


def core_parameter_names(core_v=CORE_V):
    """nnf_core's parameters, in declaration order, from its header."""
    with open(core_v) as f:
        text = f.read()
    m = re.search(r"module\s+nnf_core\s*#\((.*?)\)\s*\(", text, re.S)
    if not m:
        raise ConfigError("%s: no nnf_core parameter list" % core_v)
    return re.findall(r"parameter\s+integer\s+([A-Z_][A-Z0-9_]*)", m.group(1))


def _int(v, where):
    if isinstance(v, bool) or not isinstance(v, int) or v < 0 or v > 0xFFFFFFFF:
        raise ConfigError("%s: must be an integer 0..4294967295, not %r" % (where, v))
    return v


def validate(cfg, path="<config>"):
    """Raise ConfigError naming the file and the field for anything wrong."""
    if not isinstance(cfg, dict):
        raise ConfigError("%s: not a JSON object" % path)
    for k in ("name", "core", "link"):
        if k not in cfg:
            raise ConfigError("%s: missing \"%s\"" % (path, k))
    unknown = set(cfg) - {"name", "description", "core", "link", "board"}
    if unknown:
        raise ConfigError("%s: unknown field(s) %s" % (path, ", ".join(sorted(unknown))))
    if not isinstance(cfg["name"], str) or not re.match(r"^[a-z0-9][a-z0-9._-]{0,62}$", cfg["name"]):
        raise ConfigError("%s: \"name\" must be 1..63 of a-z 0-9 . _ - (got %r)" % (path, cfg["name"]))
    names = [n for n in core_parameter_names() if n != "CONFIG_ID"]
    core = cfg["core"]
    if not isinstance(core, dict):
        raise ConfigError("%s: \"core\" is not an object" % path)
    missing = [n for n in names if n not in core]
    extra = [n for n in core if n not in names]
    if missing:
        raise ConfigError("%s: core lacks %s (every nnf_core parameter is named)" % (path, ", ".join(missing)))
    if extra:
        raise ConfigError("%s: core names %s, which nnf_core does not have%s" % (
            path, ", ".join(extra), " (CONFIG_ID is computed)" if "CONFIG_ID" in extra else ""))
    for n in names:
        _int(core[n], "%s: core.%s" % (path, n))
    for n in ("ROWS", "COLS"):
        if not 1 <= core[n] <= 255:
            raise ConfigError("%s: core.%s must be 1..255 (INFO holds a byte), not %d" % (path, n, core[n]))
    lanes = core["VEC_LANES"]
    if lanes < 1 or lanes & (lanes - 1) or (lanes > 1 and (core["VEC_SERIAL"] != 1 or lanes >= core["COLS"])):
        # nnf_gemm's own check, named here before any tool runs
        raise ConfigError("%s: core.VEC_LANES %d must be 1, or a power of two below COLS (%d) with VEC_SERIAL 1" % (
            path, lanes, core["COLS"]))
    if core["PE_LUT_ROWS"] > core["ROWS"] or (core["PE_LUT_ROWS"] and core["PE_DSP"] != 3):
        # nnf_gemm's own check, named here before any tool runs
        raise ConfigError("%s: core.PE_LUT_ROWS %d needs PE_DSP 3 and at most ROWS (%d) rows" % (
            path, core["PE_LUT_ROWS"], core["ROWS"]))
    link = cfg["link"]
    if not isinstance(link, dict) or link.get("kind") not in LINK_KINDS:
        raise ConfigError("%s: link.kind must be one of %s" % (path, ", ".join(LINK_KINDS)))
    if link["kind"] == "uart":
        baud = _int(link.get("baud"), "%s: link.baud" % path)
        if baud == 0 or (core["CLOCK_HZ"] and core["CLOCK_HZ"] // baud < 4):
            raise ConfigError("%s: link.baud %d needs CLOCK_HZ >= 4 * baud" % (path, baud))
        if set(link) != {"kind", "baud"}:
            raise ConfigError("%s: link has unknown fields" % path)
    elif set(link) != {"kind"}:
        raise ConfigError("%s: a %s link has no other fields" % (path, link["kind"]))
    if "board" in cfg:
        b = cfg["board"]
        if not isinstance(b, dict):
            raise ConfigError("%s: \"board\" is not an object" % path)
        for k in ("top", "files", "constraints", "target"):
            if k not in b:
                raise ConfigError("%s: board lacks \"%s\"" % (path, k))
        unknown = set(b) - BOARD_KEYS
        if unknown:
            raise ConfigError("%s: board has unknown field(s) %s" % (path, ", ".join(sorted(unknown))))
        if link["kind"] not in ("uart", "usb"):
            raise ConfigError("%s: a board's link is a uart or usb" % path)
        if not core["CLOCK_HZ"]:
            raise ConfigError("%s: a board needs core.CLOCK_HZ" % path)
        for f in b["files"]:
            if not os.path.isfile(os.path.join(REPO, "rtl", f)):
                raise ConfigError("%s: board file rtl/%s does not exist" % (path, f))
        if "seed" in b:
            _int(b["seed"], "%s: board.seed" % path)
        for k, v in b.get("params", {}).items():
            if not re.match(r"^[A-Z_][A-Z0-9_]*$", k) or k in names or k in ("BAUD", "CONFIG_ID"):
                raise ConfigError("%s: board.params.%s: not a board-only parameter" % (path, k))
            _int(v, "%s: board.params.%s" % (path, k))
        check_pll(cfg, path)
    return cfg


def load(path):
    try:
        with open(path) as f:
            cfg = json.load(f)
    except OSError as e:
        raise ConfigError("%s: %s" % (path, e.strerror))
    except ValueError as e:
        raise ConfigError("%s: not valid JSON (%s)" % (path, e))
    return validate(cfg, path)


def canonical(cfg):
    lines = ["%s=%d" % (k, cfg["core"][k]) for k in sorted(cfg["core"])]
    lines.append("link.kind=%s" % cfg["link"]["kind"])
    if cfg["link"]["kind"] == "uart":
        lines.append("link.baud=%d" % cfg["link"]["baud"])
    return "".join(line + "\n" for line in lines)


def config_id(cfg):
    c = zlib.crc32(canonical(cfg).encode())
    i = (c ^ (c >> 16)) & 0xFFFF
    return i or 1


def core_params(cfg):
    p = dict(cfg["core"])
    p["CONFIG_ID"] = config_id(cfg)
    return p


def top_params(cfg):
    """A board top's parameters: the core's, BAUD, and the board's own."""
    p = core_params(cfg)
    if cfg["link"]["kind"] == "uart":
        p["BAUD"] = cfg["link"]["baud"]
    p.update(cfg["board"].get("params", {}))
    return p


def board_configs():
    out = []
    for path in sorted(glob.glob(os.path.join(CONFIG_DIR, "*.json"))):
        cfg = load(path)
        if os.path.basename(path) != cfg["name"] + ".json":
            raise ConfigError("%s: \"name\" is %s, the file must be named %s.json"
                              % (path, cfg["name"], cfg["name"]))
        if "board" in cfg:
            out.append(cfg)
    return out


def derive(cfg, sets, name):
    d = json.loads(json.dumps(cfg))
    cols_set = any(s.split("=", 1)[0] == "COLS" for s in sets)
    for s in sets:
        m = re.match(r"^([A-Za-z_.][A-Za-z0-9_.]*)=(\d+)$", s)
        if not m:
            raise ConfigError("--set %s: want NAME=INTEGER" % s)
        k, v = m.group(1), int(m.group(2))
        if k == "link.baud":
            d["link"]["baud"] = v
        elif k in d["core"]:
            d["core"][k] = v
            if k == "ROWS" and not cols_set:
                d["core"]["COLS"] = v
        elif "board" in d and k in d["board"].get("params", {}):
            d["board"]["params"][k] = v
        else:
            raise ConfigError("--set %s: %s is not a parameter of the configuration" % (s, k))
    if k_changes_clock(cfg, d) and "board" in d:
        d["core"]["TIMEOUT"] = d["core"]["CLOCK_HZ"] // 10
        # the PLL follows the clock unless its dividers were set too
        fam = pll_family(d["board"].get("params", {}))
        named = {s.split("=", 1)[0] for s in sets}
        if fam and "osc_hz" in d["board"] and not named & set(PLLS[fam]["params"]):
            fix = pll_solve(fam, d["board"]["osc_hz"], d["core"]["CLOCK_HZ"])
            if fix is None:
                raise ConfigError("--set CLOCK_HZ=%d: no %s PLL dividers make it from the board's "
                                  "%d Hz oscillator exactly" % (d["core"]["CLOCK_HZ"], fam,
                                                                d["board"]["osc_hz"]))
            d["board"]["params"].update(fix)
    d["name"] = name
    d["description"] = "%s with %s" % (cfg["name"], ", ".join(sets))
    if "board" in d:
        d["board"].pop("bitstream", None)
    return validate(d, "derived " + name)


def k_changes_clock(a, b):
    return a["core"]["CLOCK_HZ"] != b["core"]["CLOCK_HZ"]


def rtl_digest():
    """The contents the Verilated module depends on (the RTL core, the shim)."""
    h = hashlib.sha256()
    files = sorted(glob.glob(os.path.join(REPO, "rtl", "core", "*.v")) +
                   glob.glob(os.path.join(REPO, "rtl", "core", "*.vh")) +
                   glob.glob(os.path.join(REPO, "sim", "core", "*")) +
                   glob.glob(os.path.join(REPO, "sim", "module", "*")) +
                   [os.path.join(REPO, "cmake", "nnfsim_core.cmake"), os.path.abspath(__file__)])
    for fn in files:
        if os.path.isfile(fn):
            with open(fn, "rb") as f:
                h.update(os.path.relpath(fn, REPO).encode() + b"\0" + f.read())
    try:
        v = subprocess.run(["verilator", "--version"], capture_output=True, text=True).stdout
    except OSError:
        v = ""
    h.update(v.encode())
    return h.hexdigest()


def build_sim(path, cfg, cache, jobs):
    key = hashlib.sha256((canonical(cfg) + cfg["name"] + "\0" + rtl_digest()).encode()).hexdigest()[:20]
    os.makedirs(cache, exist_ok=True)
    bdir = os.path.join(cache, "%s-%s" % (cfg["name"], key))
    module = os.path.join(bdir, "libnnfsim_config.so")
    with open(os.path.join(cache, ".lock-" + key), "w") as lk:
        fcntl.flock(lk, fcntl.LOCK_EX)  # one build of a configuration at a time
        if os.path.isfile(module):
            return module
        tmp = bdir + ".tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        log = os.path.join(cache, "%s-%s.log" % (cfg["name"], key))
        cmake = shutil.which("cmake")
        if not cmake:
            raise ConfigError("build-sim: cmake not found (run scripts/bootstrap)")
        with open(log, "w") as lf:
            for cmd in ([cmake, "-S", os.path.join(REPO, "sim", "module"), "-B", tmp,
                         "-DCMAKE_BUILD_TYPE=Release", "-DNNF_CONFIG=" + os.path.abspath(path)],
                        [cmake, "--build", tmp, "-j", str(jobs)]):
                lf.write("$ %s\n" % " ".join(cmd))
                lf.flush()
                if subprocess.run(cmd, stdout=lf, stderr=subprocess.STDOUT).returncode:
                    raise BuildError("build-sim: %s failed; log: %s" % (os.path.basename(cmd[0]), log))
        built = os.path.join(tmp, "libnnfsim_config.so")
        if not os.path.isfile(built):
            raise BuildError("build-sim: no %s after the build; log: %s" % (built, log))
        shutil.rmtree(bdir, ignore_errors=True)
        os.rename(tmp, bdir)
        return module


class BuildError(Exception):
    pass


def default_cache():
    env = os.environ.get("NNF_SIM_CACHE")
    if env:
        return env
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "nnfpga", "sim")


def main(argv):
    ap = argparse.ArgumentParser(description="Device configurations (configs/*.json): check, id, "
                                 "parameters, derived configurations, simulator builds.",
                                 epilog="docs/codesign.md describes the format.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("check", help="validate files (default: configs/*.json)")
    p.add_argument("files", nargs="*")
    for name, hlp in (("id", "print the configuration's id"), ("show", "print the file normalised, with its id"),
                      ("core-params", "nnf_core's parameters as one JSON line")):
        sub.add_parser(name, help=hlp).add_argument("file")
    sub.add_parser("boards", help="every board configuration of configs/, one JSON line each")
    p = sub.add_parser("derive", help="a configuration with some parameters changed")
    p.add_argument("file")
    p.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", required=True)
    p.add_argument("--name")
    p.add_argument("--out", required=True)
    p = sub.add_parser("build-sim", help="build the configuration's simulator module (cached); print its path")
    p.add_argument("file")
    p.add_argument("--cache", help="cache folder (default $NNF_SIM_CACHE or ~/.cache/nnfpga/sim)")
    p.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args(argv)
    try:
        if a.cmd == "check":
            files = a.files or sorted(glob.glob(os.path.join(CONFIG_DIR, "*.json")))
            if not a.files:
                board_configs()  # names match files
            for fn in files:
                cfg = load(fn)
                print("%s: %s, id 0x%04x" % (fn, cfg["name"], config_id(cfg)))
        elif a.cmd == "id":
            print("0x%04x" % config_id(load(a.file)))
        elif a.cmd == "show":
            cfg = load(a.file)
            cfg["id"] = "0x%04x" % config_id(cfg)
            print(json.dumps(cfg, indent=2))
        elif a.cmd == "core-params":
            print(json.dumps(core_params(load(a.file)), sort_keys=True))
        elif a.cmd == "boards":
            for cfg in board_configs():
                b = cfg["board"]
                print(json.dumps({"board": cfg["name"], "top": b["top"], "files": b["files"],
                                  "bitstream": b.get("bitstream", ""), "link": cfg["link"]["kind"],
                                  "params": top_params(cfg)},
                                 sort_keys=True))
        elif a.cmd == "derive":
            cfg = load(a.file)
            d = derive(cfg, a.set, a.name or "%s-%s" % (cfg["name"], "-".join(
                s.replace("=", "").lower() for s in a.set)))
            tmp = a.out + ".tmp"
            with open(tmp, "w") as f:
                json.dump(d, f, indent=2)
                f.write("\n")
            os.replace(tmp, a.out)
            print("%s: %s, id 0x%04x" % (a.out, d["name"], config_id(d)))
        elif a.cmd == "build-sim":
            cfg = load(a.file)
            print(build_sim(a.file, cfg, a.cache or default_cache(), max(1, a.jobs)))
    except ConfigError as e:
        print("nnfconfig: %s" % e, file=sys.stderr)
        return 2
    except BuildError as e:
        print("nnfconfig: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
