#!/usr/bin/env python3
"""logic_depth.py: every register-to-register path of an ECP5 or iCE40 netlist
that a clock would miss, estimated from the cells alone, in one run.

    scripts/logic_depth.py NETLIST.json [--mhz 100] [--top N] [--paths K]
                                        [--route NS] [--routed REPORT] [--json OUT]

NETLIST.json is the Yosys netlist scripts/synth.py hands to nextpnr
(WORKDIR/netlist.json); the family (ECP5 or iCE40) is read from its cells. nextpnr reports one critical path per clock; to cut a
design down to a clock, one wants all the paths over it at once, grouped by
where they end. This estimates each path's delay from its cells (LUT4, the
carry chain, the wide muxes, block RAM and DSP outputs registered or not) and
a fixed routing delay per net (--route, ns), so it is a guide to what to cut,
not a timing sign-off: the figure that counts is nextpnr's (scripts/synth.py's
fmax). The per-cell delays are round figures read from nextpnr-ecp5's reports
at speed grade 6 (a LUT 0.25 ns, a block RAM's output 5.8 ns after the clock
without its output register, 0.75 ns a net on average); on the ULX3S 25F's
worst path the estimate came within 0.5 ns of nextpnr's. The iCE40 figures
are nextpnr-ice40's for the UP5K (a LUT 0.9-1.3 ns, a flip-flop's clock to
out 1.4 ns, 2.5 ns a net on average on a nearly full part).

--routed REPORT takes the arrival time at each cell input from a routed design
instead: the JSON nextpnr writes with --report REPORT --detailed-timing-report
for this same netlist. Every endpoint then has its routed arrival time (plus
the endpoint cell's delay and setup), where nextpnr's own report gives only
the worst one per clock.

Output: the endpoints over the period, grouped by register (a bus is one line),
worst first, with their estimated delay, logic levels and the named nets of the
worst path into them.
"""
import argparse
import collections
import json
import re
import sys

ROUTE = {"ecp5": 0.75, "ice40": 2.5}   # ns per net between cells (not the carry chain)
# cell arcs (ns): (input-port pattern, output-port pattern, delay)
ARCS = {
    "LUT4": [(r"[ABCD]$", r"Z$", 0.25)],
    "PFUMX": [(r"(ALUT|BLUT)$", r"Z$", 0.26), (r"C0$", r"Z$", 0.3)],
    "L6MUX21": [(r"D[01]$", r"Z$", 0.26), (r"SD$", r"Z$", 0.3)],
    "CCU2C": [(r"[ABCD][01]$", r"(S[01]|COUT)$", 0.45), (r"CIN$", r"COUT$", 0.06),
              (r"CIN$", r"S[01]$", 0.3)],
    "TRELLIS_DPR16X4": [(r"RAD\d$", r"DO\d$", 0.6)],
    # iCE40 UP5K (nextpnr-ice40's figures)
    "SB_LUT4": [(r"I[12]$", r"O$", 1.2), (r"I0$", r"O$", 1.3), (r"I3$", r"O$", 0.9)],
    "SB_CARRY": [(r"I[01]$", r"CO$", 0.6), (r"CI$", r"CO$", 0.3)],
}
# sources: output ports whose value starts a path (clock to out, ns)
SETUP = {"TRELLIS_FF": 0.15, "DP16KD": 0.3, "MULT18X18D": 0.5, "TRELLIS_DPR16X4": 0.3,
         "SB_RAM40_4K": 0.3, "SB_SPRAM256KA": 0.5, "SB_MAC16": 0.5}
ICE40_FFS = ("SB_DFF", "SB_DFFE", "SB_DFFSR", "SB_DFFSS", "SB_DFFESR", "SB_DFFESS", "SB_DFFR",
             "SB_DFFS", "SB_DFFER", "SB_DFFES")
for _t in ICE40_FFS:
    SETUP[_t] = 0.3
NO_ROUTE_IN = {("CCU2C", "CIN"), ("PFUMX", "ALUT"), ("PFUMX", "BLUT"), ("L6MUX21", "D0"),
               ("L6MUX21", "D1"), ("SB_CARRY", "CI")}
CLOCKS = ("CLK", "WCK", "CLKA", "CLKB", "CLK0", "C", "RCLK", "WCLK", "CLOCK")


def source_delay(cell):
    t, p = cell["type"], cell.get("parameters", {})
    if t == "TRELLIS_FF":
        return 0.52
    if t == "DP16KD":
        # output register (REGMODE OUTREG): a flip-flop's clock to out
        return 0.9 if "OUTREG" in str(p.get("REGMODE_A", "")) + str(p.get("REGMODE_B", "")) else 5.8
    if t == "MULT18X18D":
        if p.get("REG_OUTPUT_CLK", "NONE") != "NONE":
            return 0.7
        return None          # combinational or input-registered: an arc
    if t == "TRELLIS_DPR16X4":
        return 0.8           # a write, then DO (asynchronous read)
    if t in ICE40_FFS:
        return 1.4
    if t == "SB_RAM40_4K":
        return 2.6
    if t == "SB_SPRAM256KA":
        return 4.0
    if t == "SB_MAC16":
        ps = [p.get(k, "0") for k in ("TOP_8x8_MULT_REG", "BOT_8x8_MULT_REG", "PIPELINE_16x16_MULT_REG2")]
        return 1.5 if any(int(str(v), 2) for v in ps if str(v).strip("01") == "") else None
    return 0.0               # I/O, PLL and the rest: the clock edge


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("netlist")
    ap.add_argument("--mhz", type=float, default=100.0, help="clock to check (default 100)")
    ap.add_argument("--top", type=int, default=40, help="endpoint groups to list (default 40)")
    ap.add_argument("--paths", type=int, default=1, help="worst paths to print in full (default 1)")
    ap.add_argument("--route", type=float,
                    help="ns per net (default %.2f on ECP5, %.1f on iCE40)" % (ROUTE["ecp5"], ROUTE["ice40"]))
    ap.add_argument("--routed", metavar="REPORT",
                    help="nextpnr's --report JSON with --detailed-timing-report: routed net delays")
    ap.add_argument("--times", action="store_true", help="each step of a path with its arrival (ns)")
    ap.add_argument("--json", help="write the groups here as JSON")
    a = ap.parse_args()

    try:
        with open(a.netlist) as f:
            d = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit("logic_depth.py: cannot read %s: %s" % (a.netlist, e))
    tops = [n for n, m in d.get("modules", {}).items() if m.get("attributes", {}).get("top")]
    if len(tops) != 1:
        sys.exit("logic_depth.py: %s: expected one top module, found %d" % (a.netlist, len(tops)))
    mod = d["modules"][tops[0]]
    cells = mod["cells"]
    family = "ice40" if any(c["type"].startswith("SB_") for c in cells.values()) else "ecp5"
    if a.route is None:
        a.route = ROUTE[family]

    names = {}
    for n, nd in mod.get("netnames", {}).items():
        pub = not n.startswith("$") and "$" not in n
        for b in nd["bits"]:
            if isinstance(b, int):
                old = names.get(b)
                if old is None or (pub and (not old[0] or len(n) < len(old[1]))):
                    names[b] = (pub, n)

    drivers = {}           # bit -> (cell, port)
    loads = collections.defaultdict(list)
    for cn, c in cells.items():
        for port, bits in c["connections"].items():
            dirn = c["port_directions"].get(port)
            for b in bits:
                if not isinstance(b, int):
                    continue
                if dirn == "output":
                    drivers[b] = (cn, port)
                else:
                    loads[b].append((cn, port))

    # routed delays: nextpnr names a net after one of the Yosys names of its
    # bit, and a sink by its logic cell (a LUT's name + "_LC"; a flip-flop
    # shares its LUT's); a sink not found by cell takes the net's worst
    routed = {}
    if a.routed:
        try:
            with open(a.routed) as f:
                rep = json.load(f)
            for n in rep["detailed_net_timings"]:
                routed[n["net"]] = {(e["cell"], e["port"]): e["delay"] for e in n["endpoints"]}
        except (OSError, ValueError, KeyError, TypeError) as e:
            sys.exit("logic_depth.py: %s: not a nextpnr report with --detailed-timing-report (%s)"
                     % (a.routed, e))
        bit_net = {}
        for n, nd in mod.get("netnames", {}).items():
            for i, b in enumerate(nd["bits"]):
                if not isinstance(b, int) or b in bit_net:
                    continue
                nm = n if len(nd["bits"]) == 1 else "%s[%d]" % (n, i)
                if nm in routed:
                    bit_net[b] = routed[nm]
    LC_PORT = {"I0": "I0", "I1": "I1", "I2": "I2", "I3": "I3", "D": "I0", "E": "CEN", "R": "SR", "S": "SR"}

    def pin_arrival(bit, cn, port):
        # when the signal on bit reaches input port of cell cn: routed, the
        # arrival nextpnr reports at that sink (it includes the path before
        # it); estimated, the driver's arrival plus a net's delay
        c = cells[cn]
        ab = arrival(bit)
        if (c["type"], port) in NO_ROUTE_IN:
            return ab
        drv = drivers.get(bit)
        if family == "ice40" and drv is not None and port == "I3" and cells[drv[0]]["type"] == "SB_CARRY":
            return ab            # the carry into its LUT, inside the logic cell
        if not a.routed:
            return ab + a.route
        eps = bit_net.get(bit)
        if eps is None:
            # not in the report: inside one logic cell (a LUT into its flip-flop)
            return ab + (0.0 if c["type"] in ICE40_FFS and port == "D" else a.route)
        t = eps.get((cn + "_LC", LC_PORT.get(port, port)))
        if t is None:
            t = eps.get((cn, port))
        if t is None:
            t = max(eps.values()) if eps else ab
        return t

    # arrival time of each output bit; comb cells evaluated on demand
    arr = {}
    how = {}               # bit -> (input bit, levels) of the worst path into it
    arcs_of = {}
    sys.setrecursionlimit(100000)

    def cell_arcs(c):
        t = c["type"]
        if t == "MULT18X18D" and source_delay(c) is None:
            p = c.get("parameters", {})
            regs_in = p.get("REG_INPUTA_CLK", "NONE") != "NONE" and p.get("REG_INPUTB_CLK", "NONE") != "NONE"
            return [] if regs_in else [(r"[AB]\d+$", r"P\d+$", 3.9)]
        if t == "SB_MAC16":
            return [] if source_delay(c) is not None else [(r"[AB]\d+$", r"O\d+$", 7.0)]
        return ARCS.get(t)

    def arrival(bit):
        if bit in arr:
            return arr[bit]
        drv = drivers.get(bit)
        if drv is None:
            arr[bit] = 0.0
            how[bit] = (None, 0)
            return 0.0
        cn, port = drv
        c = cells[cn]
        arcs = cell_arcs(c)
        if not arcs:
            # a register's output, a RAM's, a DSP's (its inputs registered:
            # about a flip-flop's clock to out plus the multiply), an input
            t = source_delay(c)
            arr[bit] = t if t is not None else 3.0
            how[bit] = (None, 0)
            return arr[bit]
        src = source_delay(c) if c["type"] == "TRELLIS_DPR16X4" else None
        arr[bit] = 0.0          # a loop guard
        best, bhow = 0.0, (None, 0)
        for ip, bits in c["connections"].items():
            if c["port_directions"].get(ip) != "input":
                continue
            for pin, pout, dl in arcs:
                if re.match(pin, ip) and re.match(pout, port):
                    for b in bits:
                        if not isinstance(b, int):
                            continue
                        t = pin_arrival(b, cn, ip) + dl
                        if t > best:
                            best, bhow = t, (b, how[b][1] + (1 if c["type"] in ("LUT4", "CCU2C", "SB_LUT4") and ip != "CIN" else 0))
        if src is not None and src > best:
            best, bhow = src, (None, 0)
        arr[bit] = best
        how[bit] = bhow
        return best

    period = 1000.0 / a.mhz
    groups = {}
    for cn, c in cells.items():
        t = c["type"]
        if t not in SETUP:
            continue
        if t == "MULT18X18D":
            p = c.get("parameters", {})
            if p.get("REG_INPUTA_CLK", "NONE") == "NONE" and p.get("REG_INPUTB_CLK", "NONE") == "NONE":
                continue      # combinational: its inputs are not endpoints
        if t == "SB_MAC16" and source_delay(c) is None:
            continue
        for port, bits in c["connections"].items():
            if c["port_directions"].get(port) != "input" or port in CLOCKS:
                continue
            # a registered SB_MAC16's multiply lies before its product register
            setup = 5.0 if t == "SB_MAC16" and re.match(r"[AB]\d*$", port) else SETUP[t]
            for b in bits:
                if not isinstance(b, int):
                    continue
                tot = pin_arrival(b, cn, port) + setup
                if tot <= period:
                    continue
                key = re.sub(r"_TRELLIS_FF_Q.*$|_DP16KD.*$|_MULT18X18D.*$|_SB_DFF\w*_Q(_\d+)?$", "", cn)
                key = re.sub(r"\[\d+\]$", "", key)
                g = groups.setdefault(key, {"delay": 0.0, "levels": 0, "bits": 0, "bit": None, "type": t})
                g["bits"] += 1
                if tot > g["delay"]:
                    g.update(delay=tot, levels=how[b][1], bit=b)

    def where(bit):
        # the driving cell's RTL line where Yosys kept it (nnf_*.v:N), else the
        # signal its name was made from (Yosys names mapped cells after the net
        # they came from: SIGNAL_LUT4_Z_..., SIGNAL_CCU2C_S0, ...)
        drv = drivers.get(bit)
        if drv is None:
            return names.get(bit, (False, "?"))[1]
        cn = drv[0]
        src = cells[cn].get("attributes", {}).get("src", "")
        m = re.match(r"([^|:]*/)?(nnf_[^/|:]+):(\d+)", src)
        if m:
            return "%s:%s" % (m.group(2), m.group(3))
        return re.split(r"_(LUT4|CCU2C|PFUMX|L6MUX21|TRELLIS_\w+|DP16KD|MULT18X18D|SB_[A-Z0-9]+)(_|$)", cn)[0]

    def path(bit):
        out = []
        while bit is not None:
            n = where(bit)
            if a.times:
                n = "%s@%.1f" % (n, arr[bit])
            if not out or out[-1] != n:
                out.append(n)
            bit = how[bit][0]
        return list(reversed(out))

    ranked = sorted(groups.items(), key=lambda kv: -kv[1]["delay"])
    print("%s: %d endpoint groups over %.2f ns (%.0f MHz), estimated (%s)"
          % (a.netlist, len(ranked), period, a.mhz,
             "routed delays from %s" % a.routed if a.routed else "route %.2f ns a net" % a.route))
    for i, (k, g) in enumerate(ranked[:a.top]):
        print("%6.2f ns %3d lv %4d bits  %s" % (g["delay"], g["levels"], g["bits"], k))
        if i < a.paths:
            print("              " + " -> ".join(path(g["bit"])))
    if a.json:
        with open(a.json, "w") as f:
            json.dump([{"endpoint": k, "delay_ns": round(g["delay"], 2), "levels": g["levels"],
                        "bits": g["bits"], "path": path(g["bit"])} for k, g in ranked], f, indent=1)


if __name__ == "__main__":
    main()
