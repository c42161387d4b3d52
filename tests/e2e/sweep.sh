#!/usr/bin/env bash
# sweep.sh NNFPGA SRC TMP - `nnfpga sweep` end to end without synthesis
# (docs/codesign.md, "Sweeps"), on the prebuilt board modules (NNF_SIM_DIR):
#   - a sweep of configs/ulx3s.json and configs/icebreaker.json with a
#     784-128-10 MLP and a spiking network, --no-synth --limit 32 --jobs 2:
#     one CSV row per configuration and model, each row's accuracy and
#     cycles per image those `nnfpga eval --device sim:board=NAME` prints, the
#     spiking network on the iCEBreaker (no LIF core) a row with its error;
#   - a second run does no work and says so; deleting one result runs exactly
#     that job again; --print-jobs prints commands that run by hand; a job
#     another worker holds (flock) is skipped; --collect rewrites the files;
#     two sweeps started at once on one folder run each job once;
#   - a grid point equal to ulx3s runs on sim:board=ulx3s (found by INFO's id,
#     not by name);
#   - synth results (written as a worker would) fill the synth columns and
#     give the Pareto plot;
#   - refusals, exit 2: another plan on the same DIR, an unknown --grid
#     parameter, a missing configuration file, a non-numeric --jobs, a DIR
#     without a plan.
set -u
NNFPGA=$1 SRC=$2 TMP=$3
. "$SRC/tests/e2e/lib.sh"
rm -rf "$TMP" && mkdir -p "$TMP"
C=$SRC/configs
D=$TMP/sw

# the networks: a 784-128-10 MLP trained briefly on the host, the committed SNN
"$NNFPGA" train --device host --limit 2000 --epochs 1 --layers 784,128,10 --test-limit 0 --seed 5 \
  --out "$TMP/mlp.safetensors" --quiet >/dev/null || fail "train"
cp "$SRC/tests/data/ckpt_v1_snn.safetensors" "$TMP/snn.safetensors"

# refusals before anything exists: nothing is written
expect 2 "FOO is not a parameter of .*ulx3s.json" -- "$NNFPGA" sweep --dir "$D" --base "$C/ulx3s.json" \
  --grid ROWS=2,4:FOO=1 --model "$TMP/mlp.safetensors"
expect 2 "--configs: .*nope.json: No such file" -- "$NNFPGA" sweep --dir "$D" --configs "$C/ulx3s.json,$C/nope.json" \
  --model "$TMP/mlp.safetensors"
expect 2 "--jobs wants an integer" -- "$NNFPGA" sweep --dir "$D" --configs "$C/ulx3s.json" \
  --model "$TMP/mlp.safetensors" --jobs two
expect 2 "holds no sweep" -- "$NNFPGA" sweep --dir "$D"
[ ! -e "$D" ] || fail "a refused sweep left $D"

# the sweep
out=$("$NNFPGA" sweep --dir "$D" --configs "$C/ulx3s.json,$C/icebreaker.json" \
  --model "$TMP/mlp.safetensors,$TMP/snn.safetensors" --no-synth --limit 32 --jobs 2 --json) || fail "sweep exited $?"
[ "$(json_num ran <<<"$out")" = 4 ] || fail "first run: want 4 jobs run: $out"
for cfg in ulx3s icebreaker; do
  for m in mlp snn; do
    "$NNFPGA" eval --model "$TMP/$m.safetensors" --device "sim:board=$cfg" --limit 32 --json >"$TMP/eval-$m-$cfg.json" \
      2>"$TMP/eval-$m-$cfg.err"
    echo $? >"$TMP/eval-$m-$cfg.rc"
  done
done
python3 - "$D" "$TMP" <<'PY' || fail "the CSV and JSON differ from nnfpga eval"
import csv, json, sys
d, tmp = sys.argv[1], sys.argv[2]
cols = ("config,id,rows,cols,macs_per_cycle,clock_hz,model,accuracy,images,cycles_per_image,images_per_s_at_clock,"
        "fmax_mhz,images_per_s_at_fmax,timing_met,logic,logic_kind,ffs,dsps,rams,sprams,pareto,error").split(",")
rows = list(csv.DictReader(open(d + "/sweep.csv")))
assert list(rows[0].keys()) == cols, list(rows[0].keys())
assert [(r["config"], r["model"]) for r in rows] == [("ulx3s", "mlp"), ("ulx3s", "snn"), ("icebreaker", "mlp"),
                                                       ("icebreaker", "snn")], rows
for r in rows:
    name = "%s/eval-%s-%s" % (tmp, r["model"], r["config"])
    rc = int(open(name + ".rc").read())
    cfg = json.load(open("%s/configs/%s.json" % (d, r["config"])))["core"]
    assert int(r["rows"]) == cfg["ROWS"] and int(r["macs_per_cycle"]) == cfg["ROWS"] * cfg["COLS"], r
    assert r["fmax_mhz"] == r["logic"] == r["images_per_s_at_fmax"] == "", r   # no synthesis ran
    if rc:   # the device refused: the row says why, as eval did
        err = open(name + ".err").read().strip().replace("nnfpga eval: ", "")
        assert r["accuracy"] == r["cycles_per_image"] == "" and r["error"] == "eval: " + err, (r, err)
        continue
    e = json.load(open(name + ".json"))
    assert float(r["accuracy"]) == e["accuracy"], (r, e)
    assert float(r["cycles_per_image"]) == e["cycles_per_image"], (r, e)
    assert int(r["images"]) == e["images"] == 32, (r, e)
    assert float(r["images_per_s_at_clock"]) == cfg["CLOCK_HZ"] / e["cycles_per_image"], r
    assert r["error"] == "", r
assert int(open("%s/eval-snn-icebreaker.rc" % tmp).read()) == 1   # no LIF core on the iCEBreaker
assert "LIF" in rows[3]["error"], rows[3]
j = json.load(open(d + "/sweep.json"))
assert j["jobs"] == {"total": 6, "done": 3, "failed": 1, "pending": 2}, j["jobs"]   # the synth jobs pending
assert [r["device"] for r in j["rows"][:3]] == ["sim:board=ulx3s"] * 2 + ["sim:board=icebreaker"], j["rows"]
PY

# a second run does no work, and says so
stamp() { stat -c '%n %y' "$D"/results/*.json | md5sum; }
before=$(stamp)
sleep 1
expect 0 "nothing to run: the 4 selected jobs had finished before" -- "$NNFPGA" sweep --dir "$D" --no-synth
out=$("$NNFPGA" sweep --dir "$D" --no-synth --jobs 2 --json) || fail "resume --json"
[ "$(json_num ran <<<"$out")" = 0 ] && [ "$(json_num finished_before <<<"$out")" = 4 ] || fail "second run: $out"
[ "$(stamp)" = "$before" ] || fail "a second run rewrote results"

# deleting one result runs exactly that job again
keep=$(stat -c '%y %n' "$D"/results/eval-mlp@ulx3s.json "$D"/results/eval-snn@*.json)
cp "$D/results/eval-mlp@icebreaker.json" "$TMP/old.json"
rm "$D/results/eval-mlp@icebreaker.json"
out=$("$NNFPGA" sweep --dir "$D" --no-synth --json) || fail "rerun"
[ "$(json_num ran <<<"$out")" = 1 ] || fail "want exactly one job run again: $out"
[ "$(stat -c '%y %n' "$D"/results/eval-mlp@ulx3s.json "$D"/results/eval-snn@*.json)" = "$keep" ] || fail "other jobs ran"
python3 - "$TMP/old.json" "$D/results/eval-mlp@icebreaker.json" <<'PY' || fail "the rerun job differs"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert all(a[k] == b[k] for k in ("accuracy", "images", "cycles_per_image", "device")), (a, b)
PY

# --print-jobs: one runnable command a line; running one by hand makes its result
jobs=$("$NNFPGA" sweep --dir "$D" --print-jobs)
[ "$(wc -l <<<"$jobs")" = 6 ] || fail "--print-jobs: want 6 commands: $jobs"
[ "$("$NNFPGA" sweep --dir "$D" --print-jobs --no-synth | wc -l)" = 4 ] || fail "--print-jobs --no-synth"
grep -qE "^$(readlink -f "$NNFPGA") sweep --dir $D --run-job [0-9]+$" <<<"$jobs" || fail "--print-jobs: not commands: $jobs"
k=$("$NNFPGA" sweep --dir "$D" --print-jobs --json | python3 -c '
import json, sys
print([j for j in json.load(sys.stdin) if j["name"] == "eval-snn@ulx3s"][0]["job"])')
line=$(sed -n "$((k + 1))p" <<<"$jobs")
rm "$D/results/eval-snn@ulx3s.json"
expect 0 "job $k \(eval-snn@ulx3s\): accuracy" -- bash -c "$line"
[ -s "$D/results/eval-snn@ulx3s.json" ] || fail "the job run by hand wrote no result"
expect 0 "job $k \(eval-snn@ulx3s\): finished before, not run again" -- bash -c "$line"
# a job another worker holds is skipped, and not run
rm "$D/results/eval-snn@ulx3s.json"
expect 0 "running in another worker .*skipped" -- flock "$D/locks/eval-snn@ulx3s.lock" bash -c "$line"
[ ! -e "$D/results/eval-snn@ulx3s.json" ] || fail "a held job ran"
expect 0 "1 job run" -- "$NNFPGA" sweep --dir "$D" --no-synth --quiet
expect 2 "--run-job 6: the plan has jobs 0..5" -- "$NNFPGA" sweep --dir "$D" --run-job 6

# another plan on the same DIR is refused; the same arguments resume
expect 2 "holds another sweep \(limit was 32, now 33\)" -- "$NNFPGA" sweep --dir "$D" \
  --configs "$C/ulx3s.json,$C/icebreaker.json" --model "$TMP/mlp.safetensors,$TMP/snn.safetensors" --limit 33
expect 2 "holds another sweep \(configs had 2 entries, now 1\)" -- "$NNFPGA" sweep --dir "$D" \
  --configs "$C/ulx3s.json" --model "$TMP/mlp.safetensors,$TMP/snn.safetensors" --limit 32
expect 2 "holds a sweep: resume it with --dir alone" -- "$NNFPGA" sweep --dir "$D" --limit 32
expect 0 "nothing to run" -- "$NNFPGA" sweep --dir "$D" --configs "$C/ulx3s.json,$C/icebreaker.json" \
  --model "$TMP/mlp.safetensors,$TMP/snn.safetensors" --limit 32 --no-synth

# --collect rewrites the files from the results
cp "$D/sweep.csv" "$TMP/sweep.csv"
rm "$D/sweep.csv" "$D/sweep.json"
expect 0 "collected the results of 4 jobs" -- "$NNFPGA" sweep --dir "$D" --collect
cmp -s "$D/sweep.csv" "$TMP/sweep.csv" || fail "--collect wrote another CSV"
[ -s "$D/sweep.json" ] || fail "--collect wrote no sweep.json"

# two sweeps at once on one folder: each job runs once, in one of them
args=(--configs "$C/ulx3s.json,$C/icebreaker.json" --model "$TMP/mlp.safetensors,$TMP/snn.safetensors" --limit 32
      --no-synth --jobs 2 --json)
"$NNFPGA" sweep --dir "$TMP/two" "${args[@]}" >"$TMP/two-a.json" 2>&1 &
pa=$!
"$NNFPGA" sweep --dir "$TMP/two" "${args[@]}" >"$TMP/two-b.json" 2>&1 &
pb=$!
wait $pa || fail "concurrent sweep a: $(cat "$TMP/two-a.json")"
wait $pb || fail "concurrent sweep b: $(cat "$TMP/two-b.json")"
python3 - "$TMP/two-a.json" "$TMP/two-b.json" <<'PY' || fail "two sweeps at once"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
assert a["ran"] + b["ran"] == 4, (a["ran"], b["ran"])   # no job ran twice, none was left
for o in (a, b):
    assert o["ran"] + o["finished_before"] + o["running_elsewhere"] == 4 and o["lost"] == 0, o
PY
[ "$(ls "$TMP/two/results" | wc -l)" = 4 ] || fail "two sweeps at once: want 4 results"

# a grid point equal to ulx3s runs on its prebuilt module, found by INFO's id
out=$("$NNFPGA" sweep --dir "$TMP/grid" --base "$C/ulx3s.json" --grid PE_DSP=3 --model "$TMP/mlp.safetensors" \
  --no-synth --limit 32 --json) || fail "grid sweep"
python3 - "$TMP/grid" "$D" <<'PY' || fail "the grid point did not run as ulx3s"
import json, sys
g, d = (json.load(open(p + "/sweep.json")) for p in sys.argv[1:])
r, u = g["rows"][0], d["rows"][0]
assert r["config"] == "ulx3s-pe_dsp3" and r["device"] == "sim:board=ulx3s" and r["id"] == u["id"], r
assert r["accuracy"] == u["accuracy"] and r["cycles_per_image"] == u["cycles_per_image"], (r, u)
PY

# synth results, written as a worker would, fill the synth columns and give the plot
cp -r "$D" "$TMP/fake"
cat >"$TMP/fake/results/synth-ulx3s.json" <<'EOF'
{"job": "synth-ulx3s", "kind": "synth", "config": "ulx3s", "target": "ecp5-25f", "logic_kind": "luts",
 "logic": 5200, "luts": 5200, "ffs": 3100, "dsps": 16, "rams": 40, "fmax_mhz": 70.5, "target_mhz": 60,
 "timing_met": true}
EOF
cat >"$TMP/fake/results/synth-icebreaker.json" <<'EOF'
{"job": "synth-icebreaker", "kind": "synth", "config": "icebreaker", "target": "ice40-up5k", "logic_kind": "lcs",
 "logic": 4100, "lcs": 4100, "luts": 3500, "ffs": 1500, "dsps": 4, "rams": 20, "sprams": 4, "fmax_mhz": 25.1,
 "target_mhz": 24, "timing_met": true}
EOF
expect 0 "pareto-mlp.svg, .*pareto-snn.svg" -- "$NNFPGA" sweep --dir "$TMP/fake" --collect
python3 - "$TMP/fake" <<'PY' || fail "synth columns or the Pareto front"
import csv, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
rows = {(r["config"], r["model"]): r for r in csv.DictReader(open(d + "/sweep.csv"))}
u, i = rows["ulx3s", "mlp"], rows["icebreaker", "mlp"]
assert (u["logic"], u["logic_kind"], u["fmax_mhz"], u["timing_met"]) == ("5200", "luts", "70.5", "true"), u
assert (i["logic"], i["logic_kind"], i["sprams"]) == ("4100", "lcs", "4"), i
assert float(u["images_per_s_at_fmax"]) == 70.5e6 / float(u["cycles_per_image"]), u
# icebreaker is smaller, ulx3s faster: both on the front; the spiking network only on ulx3s
assert u["pareto"] == i["pareto"] == "true" and rows["ulx3s", "snn"]["pareto"] == "true", rows
assert rows["icebreaker", "snn"]["pareto"] == "" and rows["icebreaker", "snn"]["fmax_mhz"] == "25.1", rows
ns = {"s": "http://www.w3.org/2000/svg"}
svg = ET.parse(d + "/pareto-mlp.svg").getroot()
labels = [t.text for g in svg.iter("{%s}g" % ns["s"]) if g.get("class") == "labels" for t in g]
assert labels == ["icebreaker", "ulx3s"], labels
front = [g for g in svg.iter("{%s}g" % ns["s"]) if g.get("class") == "front"][0]
assert len(front.findall("s:polyline", ns)) == 1 and len(front.findall("s:circle", ns)) == 2
PY

[ "$fails" -eq 0 ] || { echo "sweep: $fails failure(s)" >&2; exit 1; }
echo "sweep: ok"
