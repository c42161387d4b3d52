#!/usr/bin/env python3
"""test_logic_depth.py SCRIPT: scripts/logic_depth.py on a hand-made iCE40
netlist (flip-flop a -> LUT l1 -> LUT l2 -> flip-flop b), estimated and with
a routed report. With --routed an endpoint's time is nextpnr's arrival at
its last cell input plus that cell's delay and setup: 12.0 + 1.3 (a LUT's
I0) + 0.3 = 13.6 ns, not the arrivals added up along the path."""
import json
import os
import subprocess
import sys
import tempfile


def cell(typ, conns, outs):
    return {"type": typ, "connections": conns,
            "port_directions": {p: ("output" if p in outs else "input") for p in conns}}


def lut(i0, o):
    return cell("SB_LUT4", {"I0": [i0], "I1": ["0"], "I2": ["0"], "I3": ["0"], "O": [o]}, ("O",))


def ff(d, q):
    return cell("SB_DFF", {"C": [2], "D": [d], "Q": [q]}, ("Q",))


NETLIST = {"modules": {"t": {
    "attributes": {"top": "00000000000000000000000000000001"},
    "cells": {"a": ff(3, 4), "l1": lut(4, 5), "l2": lut(5, 6), "b": ff(6, 3)},
    "netnames": {"clk": {"bits": [2]}, "q_b": {"bits": [3]}, "q_a": {"bits": [4]},
                 "n5": {"bits": [5]}, "n6": {"bits": [6]}}}}}


def ep(cellname, port, t):
    return {"cell": cellname, "port": port, "delay": t, "event": "posedge clk", "budget": 10.0}


REPORT = {"detailed_net_timings": [
    {"net": "q_a", "driver": "a", "port": "Q", "event": "posedge clk", "endpoints": [ep("l1_LC", "I0", 5.0)]},
    {"net": "n5", "driver": "l1", "port": "O", "event": "posedge clk", "endpoints": [ep("l2_LC", "I0", 12.0)]}]}


def run(script, d, *args):
    out = os.path.join(d, "o.json")
    r = subprocess.run([sys.executable, script, os.path.join(d, "n.json"), "--json", out] + list(args),
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("logic_depth.py failed (%d): %s" % (r.returncode, r.stderr))
    with open(out) as f:
        return {g["endpoint"]: g["delay_ns"] for g in json.load(f)}


def main():
    script = sys.argv[1]
    fails = 0
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "n.json"), "w") as f:
            json.dump(NETLIST, f)
        with open(os.path.join(d, "r.json"), "w") as f:
            json.dump(REPORT, f)
        # estimated: 1.4 (clock to out) + 3 * 2.5 (every net) + 2 * 1.3 (the
        # LUTs by I0) + 0.3 setup
        cases = [("estimated", run(script, d, "--mhz", "100"), 11.8),
                 ("routed", run(script, d, "--mhz", "100", "--routed", os.path.join(d, "r.json")), 13.6)]
        for what, got, want in cases:
            if set(got) != {"b"} or abs(got["b"] - want) > 0.01:
                print("test_logic_depth: %s: got %s, expected {'b': %.2f}" % (what, got, want))
                fails += 1
    if fails:
        sys.exit(1)
    print("test_logic_depth: PASS")


if __name__ == "__main__":
    main()
