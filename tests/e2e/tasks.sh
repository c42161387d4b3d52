#!/usr/bin/env bash
# tests/e2e/tasks.sh NNFPGA TMPDIR REPO [regression|multilabel|errors|all]
#
# The tasks beyond multi-class end to end (docs/tasks.md), on data made by
# scripts/make_task_csv.py (deterministic): a regression MLP and a
# multi-label MLP trained with every forward pass on the simulated RTL
# (int8), their figures against stated bounds, eval reading the task from
# the checkpoint (sim and model agree to the digit); binary, the other
# regression losses, dropout + L1 + clipping; and every invalid combination
# with its exit code and message. The fourth argument picks a part
# (regression: its example, the other losses, tune; multilabel: its example,
# binary, dropout; errors: the refusals); ctest runs the three apart.
#
# Bounds (measured with these exact commands: regression test MSE 0.0120
# against 0.432 for predicting the test targets' mean, 36x; multi-label
# per-label accuracy 89.9 % against 55.1 % for always the majority label,
# exact match 66.3 %; binary 92.3 %, the label being x0 + x1 > 1 with 2 % of
# the labels flipped):
#   regression  MSE at most a tenth of the predict-the-mean baseline
#   multilabel  per-label accuracy >= 85 %, exact match >= 55 %
#   binary      accuracy >= 88 %
set -u
nnfpga=$1
tmp=$2
repo=$3
mkdir -p "$tmp"
. "$(dirname "$0")/lib.sh"

# num KEY < json: the number after "KEY":
num() { grep -oE "\"$1\":[[:space:]]*[-0-9.eE+]+" | head -1 | grep -oE '[-0-9.eE+]+$'; }
# check "a OP b" with awk (floats)
check() { awk "BEGIN { exit !($1) }" || fail "$2 ($1)"; }

py=$(command -v python3 || echo /usr/bin/python3)
"$py" "$repo/scripts/make_task_csv.py" regression "$tmp" --train 1000 --test 300 || fail "make_task_csv regression"
"$py" "$repo/scripts/make_task_csv.py" multilabel "$tmp" --train 1000 --test 300 || fail "make_task_csv multilabel"
R="--train-csv $tmp/regression_train.csv --test-csv $tmp/regression_test.csv --label-col -1"
M="--train-csv $tmp/multilabel_train.csv --test-csv $tmp/multilabel_test.csv --label-col -1"
# the part to run: regression, multilabel, errors, or all (ctest runs the three apart)
part=${4:-all}
want() { [ "$part" = all ] || [ "$part" = "$1" ]; }
case $part in all | regression | multilabel | errors) ;; *) echo "tasks.sh: unknown part '$part'"; exit 2 ;; esac

if want regression; then
# ---- regression on the simulated RTL ------------------------------------------------
j=$("$nnfpga" train --task regression --layers 8,32,2 $R --epochs 15 --batch 32 --lr 5e-3 --device sim \
  --out "$tmp/reg.safetensors" --json) || fail "regression train"
mse=$(num test_mse <<<"$j") base=$(num test_baseline_mse <<<"$j")
echo "tasks: regression test MSE $mse, MAE $(num test_mae <<<"$j"), predict-the-mean MSE $base"
check "$mse > 0 && $mse * 10 < $base" "regression MSE $mse not below a tenth of the baseline $base"
grep -q '^epoch,loss,train_mse,val_mse,test_mse,lr,seconds$' "$tmp/reg.csv" || fail "regression CSV header"
for dev in sim model; do
  e=$("$nnfpga" eval --model "$tmp/reg.safetensors" --csv "$tmp/regression_test.csv" --label-col -1 --device $dev --json)
  [ "$(num mse <<<"$e")" = "$mse" ] || fail "eval on $dev: MSE $(num mse <<<"$e") != training's $mse"
  grep -q '"task":[[:space:]]*"regression"' <<<"$e" || fail "eval on $dev does not report the regression task"
done
o=$("$nnfpga" infer --model "$tmp/reg.safetensors" --csv "$tmp/regression_test.csv" --label-col -1 --count 2 --json)
[ "$(grep -c '"predictions":' <<<"$o")" = 2 ] && [ "$(grep -c '"targets":' <<<"$o")" = 2 ] || fail "regression infer: $o"

# ---- the other regression losses, recorded in the checkpoint ----------------------------------
for loss in mae huber; do
  expect 0 "test MSE" -- "$nnfpga" train --task regression --loss $loss --layers 8,32,2 $R --epochs 3 \
    --device model --out "$tmp/reg_$loss.safetensors" --quiet
  expect 0 "\"loss_kind\":[[:space:]]*\"$loss\"" -- "$nnfpga" eval --model "$tmp/reg_$loss.safetensors" \
    --csv "$tmp/regression_test.csv" --label-col -1 --json
done

# ---- tune: the score is the task's validation figure (regression: minus the MSE) --------------------
rm -rf "$tmp/tune"
T="--dir $tmp/tune --task regression --targets 2 --train-csv $tmp/regression_train.csv --label-col -1 --epochs 5"
expect 0 "best: trial [0-9]+, validation MSE" -- "$nnfpga" tune $T --lr 1e-3,1e-2 --hidden 8,32 --device model --quiet
grep -q '"metric":[[:space:]]*"minus the best validation MSE"' "$tmp/tune/best.json" || fail "tune best.json metric"
grep -q -- '--task regression --loss mse' "$tmp/tune/best.json" || fail "tune's train command lacks the task"
best=$(num score <"$tmp/tune/best.json")
check "$best < 0 && 0 - $best < $base / 5" "tune's best validation MSE $best (the test baseline $base)"
expect 2 'holds a different search \(loss was "mse", now "mae"\)' -- "$nnfpga" tune $T --loss mae --lr 1e-3,1e-2 \
  --hidden 8,32 --device model --resume
expect 2 "needs --targets N" -- "$nnfpga" tune --dir "$tmp/tune2" --task multilabel --train-csv "$tmp/multilabel_train.csv"

# a regression checkpoint reads its targets from CSV
expect 3 "come from CSV data" -- "$nnfpga" eval --model "$tmp/reg.safetensors"
fi

if want multilabel; then
# ---- multi-label on the simulated RTL --------------------------------------------------
j=$("$nnfpga" train --task multilabel --layers 16,32,4 $M --epochs 15 --batch 32 --lr 5e-3 --device sim \
  --out "$tmp/ml.safetensors" --json) || fail "multilabel train"
la=$(num test_label_accuracy <<<"$j") em=$(num test_exact_match <<<"$j") mb=$(num test_baseline_label_accuracy <<<"$j")
echo "tasks: multilabel per-label accuracy $la (majority $mb), exact match $em"
check "$la >= 0.85 && $em >= 0.55 && $la > $mb + 0.25" "multilabel figures $la / $em (majority $mb)"
expect 0 "^0: labels [01] \([01]\.[0-9]{3}\) .*targets [01] [01] [01] [01]" -- "$nnfpga" infer --model "$tmp/ml.safetensors" \
  --csv "$tmp/multilabel_test.csv" --label-col -1 --count 3 --device sim
e=$("$nnfpga" eval --model "$tmp/ml.safetensors" --csv "$tmp/multilabel_test.csv" --label-col -1 --device model --json)
[ "$(num label_accuracy <<<"$e")" = "$la" ] || fail "multilabel eval on model $(num label_accuracy <<<"$e") != $la"

# ---- binary: features and the first label of the multi-label data ---------------------------
for s in train test; do
  awk -F, 'BEGIN { OFS = "," } { $18 = $19 = $20 = ""; sub(/,+$/, ""); print }' "$tmp/multilabel_$s.csv" >"$tmp/binary_$s.csv"
done
j=$("$nnfpga" train --task binary --layers 16,16,1 --train-csv "$tmp/binary_train.csv" --test-csv "$tmp/binary_test.csv" \
  --label-col -1 --epochs 10 --batch 32 --lr 5e-3 --device model --out "$tmp/bin.safetensors" --json) || fail "binary train"
acc=$(num test_accuracy <<<"$j")
echo "tasks: binary accuracy $acc"
check "$acc >= 0.88" "binary accuracy $acc"

# ---- dropout, L1, clipping: host (fake-quant) training, evaluated on the RTL -------------------
j=$("$nnfpga" train --task multilabel --layers 16,64,dropout:0.2,4 $M --epochs 15 --batch 32 --lr 5e-3 \
  --l1 1e-5 --clip-norm 1 --device host --out "$tmp/drop.safetensors" --json) || fail "dropout train"
meta=$(head -c 4096 "$tmp/drop.safetensors" | tr -d '\0')
grep -q 'Dropout(0.2)' <<<"$meta" || fail "the checkpoint's architecture lacks Dropout(0.2)"
e=$("$nnfpga" eval --model "$tmp/drop.safetensors" --csv "$tmp/multilabel_test.csv" --label-col -1 --device sim --json)
check "$(num label_accuracy <<<"$e") >= 0.85" "dropout network on sim: per-label accuracy $(num label_accuracy <<<"$e")"

# an input dropout: the first Linear layer reads the device's input buffer through the (empty)
# Dropout layer, in both streamed program copies (eval streams 16 batches per call); the device
# agrees with the host's fake quantization
"$nnfpga" train --task multilabel --layers 16,dropout:0.1,32,4 $M --epochs 5 --device host \
  --out "$tmp/indrop.safetensors" --quiet >/dev/null || fail "input dropout train"
h=$("$nnfpga" eval --model "$tmp/indrop.safetensors" --csv "$tmp/multilabel_test.csv" --label-col -1 --device host --json)
e=$("$nnfpga" eval --model "$tmp/indrop.safetensors" --csv "$tmp/multilabel_test.csv" --label-col -1 --device sim --json \
  --batch 16)
echo "tasks: input dropout: per-label accuracy $(num label_accuracy <<<"$e") on sim, $(num label_accuracy <<<"$h") on the host"
check "$(num label_accuracy <<<"$e") - $(num label_accuracy <<<"$h") <= 0.01 && $(num label_accuracy <<<"$h") - $(num label_accuracy <<<"$e") <= 0.01" \
  "input dropout: sim and host disagree"

# a multi-label checkpoint against data of the wrong shape
expect 3 "takes 16 inputs but the evaluation data has 6 features" -- "$nnfpga" eval \
  --model "$tmp/ml.safetensors" --csv "$tmp/regression_test.csv" --label-col -1
printf 'a,b,c\n1,0,1\n' >"$tmp/narrow.csv"
expect 3 "has 3 fields \(want 4 targets and at least one feature\)" -- "$nnfpga" eval \
  --model "$tmp/ml.safetensors" --csv "$tmp/narrow.csv"
fi

if want errors; then
# ---- invalid combinations: exit 2 (usage) or 3 (data) with a message -----------------------------
expect 2 "regression task takes the mse, mae or huber loss, not bce" -- "$nnfpga" train --task regression --loss bce \
  --layers 8,32,2 $R --epochs 1
expect 2 "multiclass task takes the ce loss, not mse" -- "$nnfpga" train --loss mse --epochs 1
expect 2 "binary task has one output" -- "$nnfpga" train --task binary --layers 16,32,4 $M --epochs 1
expect 2 "task is multiclass, binary, multilabel or regression" -- "$nnfpga" train --task ranking --epochs 1
expect 2 "loss is ce, bce, mse, mae or huber" -- "$nnfpga" train --task regression --loss hinge --epochs 1
expect 2 "huber-delta goes with --loss huber" -- "$nnfpga" train --task regression --huber-delta 2 $R --layers 8,32,2
expect 2 "huber-delta must be > 0" -- "$nnfpga" train --task regression --loss huber --huber-delta 0 $R --layers 8,32,2
expect 2 "targets from CSV" -- "$nnfpga" train --task regression --layers 784,32,2 --epochs 1
expect 2 "--targets 3 but --layers 8,32,2 has 2 outputs" -- "$nnfpga" train --task regression --targets 3 \
  --layers 8,32,2 $R
expect 2 "targets is for --task multilabel or regression" -- "$nnfpga" train --targets 2 --epochs 1
expect 3 "features" -- "$nnfpga" train --task multilabel --layers 16,32,5 $M --epochs 1
expect 2 "l1 must be a number >= 0" -- "$nnfpga" train --task regression --layers 8,32,2 $R --l1 -1
expect 2 "clip-norm" -- "$nnfpga" train --task regression --layers 8,32,2 $R --clip-norm abc
expect 2 "dropout needs the training forward on the host" -- "$nnfpga" train --task multilabel \
  --layers 16,32,dropout:0.5,4 $M --epochs 1 --device model --out "$tmp/x.safetensors"
expect 2 "dropout after the output layer" -- "$nnfpga" train --layers 784,128,10,dropout:0.5
expect 2 "dropout probability is in \[0, 1\]" -- "$nnfpga" train --layers 784,dropout:1.5,128,10
expect 2 "spike counts: --task multiclass only" -- "$nnfpga" train --model snn --task binary --layers 784,16,1
awk -F, 'BEGIN { OFS = "," } { $18 = $19 = $20 = ""; sub(/,+$/, "") } NR == 3 { $NF = 2 } { print }' \
  "$tmp/multilabel_train.csv" >"$tmp/binary_bad.csv"
expect 3 "binary task takes labels 0 and 1 but the training data has labels up to 2" -- "$nnfpga" train \
  --task binary --layers 16,16,1 --train-csv "$tmp/binary_bad.csv" --test-limit 0 --label-col -1 --epochs 1
fi

[ "$fails" -eq 0 ] || { echo "tasks: $fails failure(s)"; exit 1; }
echo "tasks: all checks passed"
