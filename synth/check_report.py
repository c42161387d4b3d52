#!/usr/bin/env python3
"""Run scripts/synth.py, then check that its JSON report is complete.

    synth/check_report.py [--min-macs N] -- <scripts/synth.py arguments incl. --out FILE>

Fails (exit 1) when synth.py fails (a tool error, or the design does not fit
the part) or when the report lacks a field or holds an impossible value.
Timing is not checked here: a missed frequency is a measured result
(timing_met false), reported in docs/synthesis.md. CTest: synth_* tests.
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SYNTH = os.path.join(os.path.dirname(HERE), "scripts", "synth.py")

NUMBERS = ["luts", "ffs", "dsps", "dsps_available", "rams", "rams_available",
           "fmax_mhz", "target_mhz", "macs_per_cycle", "gmacs_at_fmax", "ios"]
CONFIG = ["rows", "cols", "act_words", "w_words", "p_words", "acc_depth",
          "vec_serial", "pe_dsp"]


def main(argv):
    min_macs = 1
    if "--" not in argv:
        print(__doc__, file=sys.stderr)
        return 2
    i = argv.index("--")
    own, args = argv[:i], argv[i + 1:]
    if own[:1] == ["--min-macs"]:
        min_macs = int(own[1])
    out = args[args.index("--out") + 1]
    if os.path.exists(out):
        os.remove(out)
    rc = subprocess.run([sys.executable, SYNTH] + args).returncode
    if rc != 0:
        print("check_report: synth.py failed (exit %d)" % rc, file=sys.stderr)
        return 1
    with open(out) as f:
        r = json.load(f)
    errors = []
    for k in ["target", "device", "config", "timing_met", "tools", "toolchain", "critical_path"] + NUMBERS:
        if k not in r:
            errors.append("missing field %s" % k)
    for k in CONFIG:
        if not isinstance(r.get("config", {}).get(k), int):
            errors.append("config.%s missing" % k)
    for k in NUMBERS:
        if k in r and not isinstance(r[k], (int, float)):
            errors.append("%s is not a number: %r" % (k, r[k]))
    if not errors:
        if r["luts"] <= 0 or r["ffs"] <= 0:
            errors.append("no logic: luts=%s ffs=%s" % (r["luts"], r["ffs"]))
        if r["rams"] <= 0:
            errors.append("no block RAM used (buffers not inferred as RAM)")
        if r["dsps"] > r["dsps_available"] or r["rams"] > r["rams_available"]:
            errors.append("over-used DSPs or RAMs")
        if not r["fmax_mhz"] > 0:
            errors.append("fmax %s" % r["fmax_mhz"])
        if r["macs_per_cycle"] != r["config"]["rows"] * r["config"]["cols"]:
            errors.append("macs_per_cycle != rows * cols")
        if r["macs_per_cycle"] < min_macs:
            errors.append("macs_per_cycle %d < %d" % (r["macs_per_cycle"], min_macs))
        if r["timing_met"] != (r["fmax_mhz"] >= r["target_mhz"]):
            errors.append("timing_met disagrees with fmax and target")
        if r.get("toolchain") not in ("debian", "yowasp"):
            errors.append("toolchain is %r, not debian or yowasp" % r.get("toolchain"))
        if r["device"].startswith("iCE40"):
            # icestorm's timer on the same routed design (bootstrap installs it)
            it = r.get("icetime")
            if not isinstance(it, dict) or not it.get("path_ns", 0) > 0:
                errors.append("icetime's figure missing: %r" % (it,))
            elif abs(1000.0 / it["path_ns"] - it["fmax_mhz"]) > 0.006 + it["fmax_mhz"] * 0.006 / it["path_ns"]:
                # (both printed to 0.01: the tolerance is their rounding)
                errors.append("icetime fmax %s disagrees with its path %s ns" % (it["fmax_mhz"], it["path_ns"]))
        for tool in ("yosys", "nextpnr"):
            if not r["tools"].get(tool) or r["tools"][tool] == "unknown":
                errors.append("tool version of %s missing" % tool)
    if errors:
        for e in errors:
            print("check_report: %s: %s" % (out, e), file=sys.stderr)
        return 1
    print("check_report: %s complete: %s, %d MAC/cycle, fmax %.2f MHz (target %g, %s)"
          % (out, r["target"], r["macs_per_cycle"], r["fmax_mhz"], r["target_mhz"],
             "met" if r["timing_met"] else "missed"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
