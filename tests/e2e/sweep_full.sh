#!/usr/bin/env bash
# sweep_full.sh NNFPGA SRC TMP - `nnfpga sweep` the whole way (slow):
#   - a configuration no prebuilt simulator has (ulx3s with ROWS=2 and no LUT
#     rows, derived by --grid) runs on the module scripts/nnfconfig.py build-sim builds
#     (sim:module=PATH): its row has accuracy and cycles per image, the same
#     as nnfpga eval on that module prints;
#   - the iCEBreaker's synth job, run by its --print-jobs command, fills the
#     synth columns (logic cells, FFs, DSPs, RAMs, fmax) and images/s at fmax;
#     --collect then draws the Pareto plot.
# NNF_SIM_CACHE keeps the built module between runs (CMake sets it).
set -u
NNFPGA=$1 SRC=$2 TMP=$3
. "$SRC/tests/e2e/lib.sh"
rm -rf "$TMP" && mkdir -p "$TMP"
C=$SRC/configs
D=$TMP/sw

"$NNFPGA" train --device host --limit 2000 --epochs 1 --layers 784,128,10 --test-limit 0 --seed 5 \
  --out "$TMP/mlp.safetensors" --quiet >/dev/null || fail "train"
expect 0 "2 jobs run" -- "$NNFPGA" sweep --dir "$D" --configs "$C/icebreaker.json" --base "$C/ulx3s.json" \
  --grid ROWS=2:PE_LUT_ROWS=0 --model "$TMP/mlp.safetensors" --limit 32 --no-synth --jobs 2
module=$(python3 "$SRC/scripts/nnfconfig.py" build-sim "$D/configs/ulx3s-rows2-pe_lut_rows0.json") || fail "build-sim"
# the driver's sim:module=PATH (the module's device): without it the derived row can only hold an error
"$NNFPGA" info --device "sim:module=$module" >/dev/null 2>&1 || fail "this driver opens no sim:module=PATH"
"$NNFPGA" eval --model "$TMP/mlp.safetensors" --device "sim:module=$module" --limit 32 --json >"$TMP/eval.json" \
  || fail "nnfpga eval on sim:module=$module"
python3 - "$D" "$TMP/eval.json" "$module" <<'PY' || fail "the derived configuration's row"
import json, sys
j, e = json.load(open(sys.argv[1] + "/sweep.json")), json.load(open(sys.argv[2]))
r = [r for r in j["rows"] if r["config"] == "ulx3s-rows2-pe_lut_rows0"][0]
assert r["device"] == "sim:module=" + sys.argv[3] and r["error"] is None, r
assert r["accuracy"] == e["accuracy"] and r["cycles_per_image"] == e["cycles_per_image"], (r, e)
assert r["rows"] == r["cols"] == 2
PY

# the iCEBreaker's synthesis, by its job's command
line=$("$NNFPGA" sweep --dir "$D" --print-jobs --synth-only --json | python3 -c '
import json, sys
print([j for j in json.load(sys.stdin) if j["name"] == "synth-icebreaker"][0]["command"])')
expect 0 "synth-icebreaker\): [0-9]+ LCs, [0-9]+ FFs, .* fmax [0-9.]+ MHz" -- bash -c "$line"
expect 0 "pareto-mlp.svg" -- "$NNFPGA" sweep --dir "$D" --collect
python3 - "$D" <<'PY' || fail "the synth columns"
import csv, sys
r = [r for r in csv.DictReader(open(sys.argv[1] + "/sweep.csv")) if r["config"] == "icebreaker"][0]
assert r["logic_kind"] == "lcs" and int(r["logic"]) > 1000 and int(r["ffs"]) > 0, r
assert int(r["dsps"]) >= 1 and int(r["rams"]) >= 0 and int(r["sprams"]) == 4, r
assert float(r["fmax_mhz"]) > 10 and r["timing_met"] in ("true", "false"), r
assert float(r["images_per_s_at_fmax"]) == float(r["fmax_mhz"]) * 1e6 / float(r["cycles_per_image"]), r
assert r["pareto"] == "true" and r["error"] == "", r
PY

[ "$fails" -eq 0 ] || { echo "sweep_full: $fails failure(s)" >&2; exit 1; }
echo "sweep_full: ok"
