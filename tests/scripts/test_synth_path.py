#!/usr/bin/env python3
"""test_synth_path.py SCRIPTS_DIR: synth.py's summary of nextpnr's critical
path, on a path laid out as nextpnr 0.4 writes it. Its clk-to-q step names
a cell inside the path as "from" (here the end register's carry) and the
start register as "to"; the summary must name the start register, and list
the signals the path runs through from it, with the mapping suffixes cut."""
import os
import sys

sys.path.insert(0, sys.argv[1])
import synth  # noqa: E402

CARRY = "u.a_q_SB_DFF_Q_3_D_SB_LUT4_O_I3_SB_CARRY_CO_1$CARRY"
START = "u.rd_q_SB_DFFSR_Q_1_DFFLC"
END = "u.a_q_SB_DFF_Q_7_D_SB_LUT4_O_LC"


def step(typ, frm, to, delay, net=None):
    s = {"type": typ, "from": {"cell": frm, "port": "O"}, "to": {"cell": to, "port": "I3"},
         "delay": delay}
    if net:
        s["net"] = net
    return s


PATH = {"from": "posedge clk", "to": "posedge clk", "path": [
    step("clk-to-q", CARRY, START, 1.4),
    step("routing", START, CARRY, 5.7, "u.sel_SB_LUT4_O_I0[3]"),
    step("logic", CARRY, CARRY, 0.4),
    step("routing", CARRY, END, 2.0, "u.a_q_SB_DFF_Q_3_D[1]"),
    step("logic", END, END, 1.2),
    step("setup", END, END, 0.3)]}

got = synth.summarise_path(PATH)
want = {"from": START, "to": END, "delay_ns": 11.0, "logic_ns": 3.3, "routing_ns": 7.7,
        "steps": 6, "through": ["u.rd_q", "u.sel", "u.a_q"]}
if got != want:
    print("summarise_path:\n got  %s\n want %s" % (got, want))
    sys.exit(1)

# A path that starts at a pin (an asynchronous input): "source" step, the
# pad cell as its "to"
PIN = {"path": [step("source", "u.arst_LC", "BTN$sb_io", 0.0),
                step("routing", "BTN$sb_io", "u.arst_LC", 11.8, "BTN$SB_IO_IN"),
                step("logic", "u.arst_LC", "u.arst_LC", 0.9),
                step("routing", "u.arst_LC", "u.rst_q_DFFLC", 2.9, "u.arst")]}
got = synth.summarise_path(PIN)
if got["from"] != "BTN$sb_io" or got["through"] != ["BTN", "u.arst"]:
    print("pin path: %s" % got)
    sys.exit(1)
print("ok: %s -> %s" % (os.path.basename(START), os.path.basename(END)))
