#!/usr/bin/env bash
# config_cli.sh NNFPGA SRC TMP - the configuration files end to end
# (docs/codesign.md):
#   - scripts/nnfconfig.py check passes on configs/, and refuses, with exit 2
#     and a message naming the field, a file that misses an nnf_core
#     parameter, names one nnf_core lacks (or CONFIG_ID), has a bad name, a
#     bad link, a non-integer value, PLL dividers that do not make its
#     clock from the board's oscillator within the PLL's limits, or is not
#     JSON;
#   - derive changes the named parameters (COLS follows ROWS), keeps the
#     board, and gives another id; an unknown parameter is refused;
#   - scripts/synth.py's boards are the board files, parameter for parameter;
#   - the simulated devices report their file's id in INFO, and nnfpga info
#     names the file (sim, and the board modules); a device built from no
#     file says so, and an id no file has is reported as such.
set -u
NNFPGA=$1 SRC=$2 TMP=$3
. "$SRC/tests/e2e/lib.sh"
CFG="python3 $SRC/scripts/nnfconfig.py"
rm -rf "$TMP" && mkdir -p "$TMP"

expect 0 "sim, id 0x" -- $CFG check

# refusals: start from a good file and break one thing each
mk() { python3 - "$SRC/configs/${MKBASE:-ulx3s}.json" "$TMP/$1.json" "$2" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
exec(sys.argv[3])
open(sys.argv[2], "w").write(json.dumps(c))
PY
}
mk missing 'del c["core"]["BANKS"]'
expect 2 "core lacks BANKS" -- $CFG check "$TMP/missing.json"
mk extra 'c["core"]["FOO"] = 1'
expect 2 "FOO, which nnf_core does not have" -- $CFG check "$TMP/extra.json"
mk cid 'c["core"]["CONFIG_ID"] = 7'
expect 2 "CONFIG_ID is computed" -- $CFG check "$TMP/cid.json"
mk str 'c["core"]["ROWS"] = "4"'
expect 2 "core.ROWS: must be an integer" -- $CFG check "$TMP/str.json"
mk neg 'c["core"]["W_WORDS"] = -1'
expect 2 "core.W_WORDS: must be an integer" -- $CFG check "$TMP/neg.json"
mk rows 'c["core"]["ROWS"] = 256'
expect 2 "core.ROWS must be 1..255" -- $CFG check "$TMP/rows.json"
mk name 'c["name"] = "Bad Name"'
expect 2 "\"name\" must be" -- $CFG check "$TMP/name.json"
mk link 'c["link"] = {"kind": "spi"}'
expect 2 "link.kind must be one of" -- $CFG check "$TMP/link.json"
mk baud 'c["link"]["baud"] = 30000000'
expect 2 "needs CLOCK_HZ >= 4" -- $CFG check "$TMP/baud.json"
mk bfile 'c["board"]["files"] = ["boards/nope.v"]'
expect 2 "rtl/boards/nope.v does not exist" -- $CFG check "$TMP/bfile.json"
# the PLL must make CLOCK_HZ from the board's oscillator, within its limits
mk fb 'c["board"]["params"]["PLL_CLKFB_DIV"] = 4'
expect 2 "the ecp5 PLL makes 100 MHz from 25 MHz, not CLOCK_HZ's 75 \\(for 75000000 Hz use PLL_CLKFB_DIV 3, PLL_CLKI_DIV 1, PLL_CLKOP_DIV 8\\)" -- $CFG check "$TMP/fb.json"
mk vco 'c["board"]["params"]["PLL_CLKOP_DIV"] = 2'
expect 2 "puts the VCO at 150 MHz, outside 400..800" -- $CFG check "$TMP/vco.json"
mk osc 'del c["board"]["osc_hz"]'
expect 2 "board has PLL dividers but no \"osc_hz\"" -- $CFG check "$TMP/osc.json"
MKBASE=icebreaker mk filt 'c["board"]["params"]["PLL_FILTER"] = 2'
expect 2 "PLL_FILTER 2, but a 12 MHz phase detector needs 1" -- $CFG check "$TMP/filt.json"
MKBASE=icebreaker mk divq 'c["board"]["params"]["PLL_DIVQ"] = 0'
expect 2 "PLL_DIVQ 0 is outside 1..6" -- $CFG check "$TMP/divq.json"
MKBASE=icebreaker mk clk 'c["core"]["CLOCK_HZ"] = 24000000'
expect 2 "makes 30 MHz from 12 MHz, not CLOCK_HZ's 24 \\(for 24000000 Hz use PLL_DIVF 63, PLL_DIVQ 5, PLL_DIVR 0, PLL_FILTER 1\\)" -- $CFG check "$TMP/clk.json"
head -c 200 "$SRC/configs/ulx3s.json" > "$TMP/cut.json"
expect 2 "not valid JSON" -- $CFG check "$TMP/cut.json"
expect 2 "No such file" -- $CFG check "$TMP/none.json"

# derive
expect 0 "ulx3s-rows16, id 0x" -- $CFG derive "$SRC/configs/ulx3s.json" --set ROWS=16 --out "$TMP/d8.json"
python3 - "$TMP/d8.json" <<'PY' || fail "derive: wrong contents"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["core"]["ROWS"] == 16 and c["core"]["COLS"] == 16, c["core"]
assert c["board"]["top"] == "nnf_top_ulx3s" and "bitstream" not in c["board"]
PY
[ "$($CFG id "$TMP/d8.json")" != "$($CFG id "$SRC/configs/ulx3s.json")" ] || fail "derive: same id"
# the ULX3S 25F's 6 LUT rows do not fit a 2x2, nor a PE without DSP registers
expect 2 "core.PE_LUT_ROWS 6 needs PE_DSP 3 and at most ROWS \\(2\\) rows" -- $CFG derive "$SRC/configs/ulx3s.json" --set ROWS=2 --out "$TMP/x.json"
expect 2 "core.PE_LUT_ROWS 6 needs PE_DSP 3" -- $CFG derive "$SRC/configs/ulx3s.json" --set PE_DSP=1 --out "$TMP/x.json"
expect 0 "ulx3s-rows2-pe_lut_rows0, id 0x" -- $CFG derive "$SRC/configs/ulx3s.json" --set ROWS=2 --set PE_LUT_ROWS=0 --out "$TMP/x.json"
expect 2 "core.VEC_LANES 3 must be 1, or a power of two below COLS \\(8\\) with VEC_SERIAL 1" -- $CFG derive "$SRC/configs/ulx3s.json" --set VEC_LANES=3 --out "$TMP/x.json"
expect 2 "core.VEC_LANES 8 must be 1, or a power of two below COLS \\(8\\)" -- $CFG derive "$SRC/configs/ulx3s.json" --set VEC_LANES=8 --out "$TMP/x.json"
expect 2 "core.VEC_LANES 2 must be 1, or a power of two below COLS \\(8\\) with VEC_SERIAL 1" -- $CFG derive "$SRC/configs/sim.json" --set VEC_LANES=2 --out "$TMP/x.json"
expect 0 "ulx3s-vec_lanes4, id 0x" -- $CFG derive "$SRC/configs/ulx3s.json" --set VEC_LANES=4 --out "$TMP/x.json"
# a new clock takes the PLL's dividers with it (and the 0.1 s TIMEOUT)
expect 0 "icebreaker-24m, id 0x" -- $CFG derive "$SRC/configs/icebreaker.json" --set CLOCK_HZ=24000000 --name icebreaker-24m --out "$TMP/i24.json"
python3 - "$TMP/i24.json" <<'PY' || fail "derive CLOCK_HZ: wrong PLL"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["board"]["params"] == {"PLL_DIVR": 0, "PLL_DIVF": 63, "PLL_DIVQ": 5, "PLL_FILTER": 1}, c["board"]
assert c["core"]["TIMEOUT"] == 2400000, c["core"]
PY
expect 2 "no ice40 PLL dividers make it from the board's 12000000 Hz oscillator" -- $CFG derive "$SRC/configs/icebreaker.json" --set CLOCK_HZ=25000001 --out "$TMP/x.json"
expect 2 "FOO is not a parameter" -- $CFG derive "$SRC/configs/ulx3s.json" --set FOO=1 --out "$TMP/x.json"
expect 2 "want NAME=INTEGER" -- $CFG derive "$SRC/configs/ulx3s.json" --set ROWS=x --out "$TMP/x.json"

# synth.py's boards are the files
python3 - "$SRC" <<'PY' || fail "synth.py's boards differ from configs/"
import json, subprocess, sys
src = sys.argv[1]
out = subprocess.run([sys.executable, src + "/scripts/synth.py", "--print-board-params", "all"],
                     capture_output=True, text=True, check=True).stdout
boards = [json.loads(l) for l in out.splitlines()]
assert sorted(b["board"] for b in boards) == ["icebreaker", "orangecrab", "ulx3s", "ulx3s-85f"], boards
for b in boards:
    c = json.load(open("%s/configs/%s.json" % (src, b["board"])))
    want = dict(c["core"]); want.update(c["board"]["params"])
    if c["link"]["kind"] == "uart":
        want["BAUD"] = c["link"]["baud"]
    got = dict(b["params"]); cid = got.pop("CONFIG_ID")
    ids = subprocess.run([sys.executable, src + "/scripts/nnfconfig.py", "id",
                          "%s/configs/%s.json" % (src, b["board"])], capture_output=True, text=True).stdout
    assert got == want and cid == int(ids, 16), (b["board"], got, want, cid, ids)
PY

# INFO's id, and nnfpga info's name for it
for dev in sim sim:board=icebreaker sim:board=ulx3s sim:board=ulx3s-85f sim:board=orangecrab; do
  want=sim; [ "$dev" = sim ] || want=${dev#sim:board=}
  out=$("$NNFPGA" info --device "$dev" --json) || { fail "info $dev"; continue; }
  INFO_JSON=$out python3 - "$want" "$($CFG id "$SRC/configs/$want.json")" <<'PY' || fail "info $dev: $out"
import json, os, sys
o = json.loads(os.environ["INFO_JSON"])["config"]
assert o["name"] == sys.argv[1] and o["id"] == sys.argv[2] and o["file"].endswith("/%s.json" % sys.argv[1]), o
PY
done
expect 0 "configuration  ulx3s .*id 0x" -- "$NNFPGA" info --device sim:board=ulx3s
expect 0 "configuration  none" -- "$NNFPGA" info --device model
mkdir -p "$TMP/empty"
expect 0 "id 0x[0-9a-f]{4} \(no file in .*empty has it\)" -- env NNF_CONFIG_DIR="$TMP/empty" "$NNFPGA" info --device sim
# a list of folders, searched in order: a copy of ulx3s.json under another name is found first
python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c['name']='mine'; json.dump(c,open(sys.argv[2],'w'))" \
  "$SRC/configs/ulx3s.json" "$TMP/empty/mine.json"
expect 0 "configuration  mine \(.*/empty/mine.json, id 0x" -- env NNF_CONFIG_DIR="/nonexistent:$TMP/empty:$SRC/configs" \
  "$NNFPGA" info --device sim:board=ulx3s
expect 0 "configuration  sim \(" -- env NNF_CONFIG_DIR="$TMP/empty:$SRC/configs" "$NNFPGA" info --device sim

[ "$fails" -eq 0 ] || { echo "config_cli: $fails failure(s)" >&2; exit 1; }
echo "config_cli: ok"
