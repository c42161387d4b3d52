#!/usr/bin/env bash
# tests/e2e/tune.sh NNFPGA TMPDIR
#
# `nnfpga tune` end to end on tiny synthetic CSV data sets (written here):
#   - a search where one configuration is known to be best (Adam with lr 1e-5
#     cannot learn in three epochs, lr 1e-2 can) finds it, on the host and on
#     the functional model;
#   - a grid skips configurations that differ only in a parameter their
#     optimizer does not have;
#   - an extended search (--trials 2, then 4) runs only the missing trials and
#     leaves the finished rows byte for byte; a killed search resumes without
#     repeating a trial; a random search is a function of its space and seed;
#   - a different space (or settings) in the same DIR is refused, files untouched;
#   - --plot writes an SVG with a point per trial and hyperparameter;
#   - bayes: finds the known best, draws inside its ranges, and resumes
#     exactly (--trials 4 then 9 gives the trials of one run of 9);
#   - parallel: --jobs 3 runs every trial once; two tune processes with
#     --jobs 2 each on one DIR share the search (no trial twice, none lost);
#     a worker killed mid-trial leaves a claim that a rerun takes over;
#   - bad options exit 2 with a message naming the option, bad data 3.
set -u
nnfpga=$1
tmp=$2
rm -rf "$tmp"
mkdir -p "$tmp"
. "$(dirname "$0")/lib.sh"

rows() { echo $(($(wc -l <"$1") - 1)); }

# three well separated classes, eight features, label first
data=$tmp/d.csv
awk 'BEGIN{srand(7); print "label,a,b,c,d,e,f,g,h"; for(i=0;i<300;i++){l=i%3; printf "%d", l;
  for(j=0;j<8;j++) printf ",%.3f", (j%3==l)?0.8+rand()*0.2:rand()*0.3; printf "\n"}}' >"$data"
common=(--train-csv "$data" --hidden 16 --epochs 3 --batch 16 --quiet)

# 1. the known best configuration, on the host and on the functional model
for dev in host model; do
  d=$tmp/best_$dev
  expect 0 "best: trial [0-9]+.*lr 0.01" -- "$nnfpga" tune --dir "$d" --device "$dev" --optimizer adam \
    --lr 1e-5,1e-2 "${common[@]}"
  [ "$(rows "$d/trials.csv")" -eq 2 ] || fail "$dev: trials.csv has $(rows "$d/trials.csv") rows, want 2"
  grep -qE '"lr":[[:space:]]*0.01,' "$d/best.json" || fail "$dev: best.json is not lr 0.01: $(cat "$d/best.json")"
  grep -q '"train_command":[[:space:]]*"nnfpga train --layers 8,16,3' "$d/best.json" || fail "$dev: best.json train_command"
  best=$(awk -F, 'NR>1 && $2=="0.01" {print $7}' "$d/trials.csv")
  worst=$(awk -F, 'NR>1 && $2=="1e-05" {print $7}' "$d/trials.csv")
  awk -v b="$best" -v w="$worst" 'BEGIN{exit !(b >= 0.9 && w < 0.6)}' || fail "$dev: scores lr 1e-2 $best, lr 1e-5 $worst"
  head -1 "$d/trials.csv" | grep -q '^trial,lr,batch,hidden,optimizer,init,score,best_epoch,epochs,train_loss,train_accuracy,seconds$' ||
    fail "$dev: CSV header: $(head -1 "$d/trials.csv")"
done

# 2. a grid without duplicates: momentum only matters to SGD (3 configurations, not 4)
d=$tmp/dedup
expect 0 "3 trials" -- "$nnfpga" tune --dir "$d" --device host --optimizer sgd,adam --momentum 0,0.9 "${common[@]}"
[ "$(rows "$d/trials.csv")" -eq 3 ] || fail "dedup: $(rows "$d/trials.csv") rows, want 3"
[ "$(grep -c ',adam,default,,' "$d/trials.csv")" -eq 1 ] || fail "dedup: adam row without an empty momentum: $(cat "$d/trials.csv")"

# 3. extending a search runs only the missing trials; finished rows stay byte for byte
d=$tmp/resume
space=(--device host --lr 1e-3,1e-2 --hidden 8,16 --optimizer sgd,adam --train-csv "$data" --epochs 2 --quiet)
expect 0 '"run":[[:space:]]*2' -- "$nnfpga" tune --dir "$d" "${space[@]}" --trials 2 --json
[ "$(rows "$d/trials.csv")" -eq 2 ] || fail "resume: $(rows "$d/trials.csv") rows after --trials 2"
cp "$d/trials.csv" "$tmp/first.csv"
expect 0 '"resumed":[[:space:]]*2' -- "$nnfpga" tune --dir "$d" "${space[@]}" --trials 4 --json
[ "$(rows "$d/trials.csv")" -eq 4 ] || fail "resume: $(rows "$d/trials.csv") rows after --trials 4"
head -3 "$d/trials.csv" | cmp -s - "$tmp/first.csv" || fail "resume: the first rows changed"
[ "$(cut -d, -f1 "$d/trials.csv" | tail -n +2 | tr '\n' ' ')" = "1 2 3 4 " ] || fail "resume: trial numbers"
[ "$(cut -d, -f2-6 "$d/trials.csv" | sort | uniq -d)" = "" ] || fail "resume: a configuration ran twice"
cp "$d/trials.csv" "$tmp/four.csv"
expect 0 '"run":[[:space:]]*0' -- "$nnfpga" tune --dir "$d" "${space[@]}" --trials 4 --resume --json
cmp -s "$d/trials.csv" "$tmp/four.csv" || fail "resume: a finished search changed on a rerun"
# the same space in a fresh DIR gives the same configurations in the same order
"$nnfpga" tune --dir "$tmp/resume2" "${space[@]}" --trials 4 >/dev/null 2>&1 || fail "resume2"
cmp -s <(cut -d, -f1-6 "$d/trials.csv") <(cut -d, -f1-6 "$tmp/resume2/trials.csv") || fail "grid order not deterministic"

# 4. a different space or setting is refused and leaves DIR alone
expect 2 "different search.*lr" -- "$nnfpga" tune --dir "$d" "${space[@]/1e-3,1e-2/1e-3,3e-2}"
expect 2 "different search.*epochs" -- "$nnfpga" tune --dir "$d" "${space[@]}" --epochs 3
expect 2 "different search.*search" -- "$nnfpga" tune --dir "$d" "${space[@]}" --search random
cmp -s "$d/trials.csv" "$tmp/four.csv" || fail "refused search changed trials.csv"
expect 2 "holds no search" -- "$nnfpga" tune --dir "$tmp/none" "${space[@]}" --resume
[ ! -e "$tmp/none" ] || fail "--resume without a search created its DIR"

# 5. a search killed mid-trial resumes without repeating a trial
big=$tmp/big.csv
awk 'BEGIN{srand(3); for(i=0;i<3000;i++){l=i%3; printf "%d", l; for(j=0;j<8;j++)
  printf ",%.3f", (j%3==l)?0.5+rand()*0.5:rand()*0.6; printf "\n"}}' >"$big"
d=$tmp/killed
slow=(--device host --lr 1e-3,2e-3,5e-3,1e-2 --hidden 16 --train-csv "$big" --epochs 60 --batch 1 --quiet)
"$nnfpga" tune --dir "$d" "${slow[@]}" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 200); do
  grep -q '"trial":' "$d/trials.json" 2>/dev/null && break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
# trials.json is the record (the CSV, written after it, may lag by a trial)
before=$(grep -c '"trial":' "$d/trials.json" 2>/dev/null)
before=${before:-0}
csv_before=0
if [ -f "$d/trials.csv" ]; then
  csv_before=$(rows "$d/trials.csv")
  cp "$d/trials.csv" "$tmp/killed.csv"
fi
expect 0 "4 trials \\($before from before" -- "$nnfpga" tune --dir "$d" "${slow[@]}"
[ "$(rows "$d/trials.csv")" -eq 4 ] || fail "killed: $(rows "$d/trials.csv") rows after resuming"
[ "$(cut -d, -f1 "$d/trials.csv" | tail -n +2 | tr '\n' ' ')" = "1 2 3 4 " ] || fail "killed: trial numbers"
[ "$csv_before" -eq 0 ] || head -$((csv_before + 1)) "$d/trials.csv" | cmp -s - "$tmp/killed.csv" ||
  fail "killed: finished rows changed"
ls "$d" | grep -q '\.tmp\.' && echo "note: a temporary file of the killed run is left in $d"

# 6. random search: draws inside the ranges, a function of space and seed; the plot
d=$tmp/random
rspace=(--device host --lr log:1e-4:1e-1 --hidden lin:4:32 --batch 8,32 --optimizer adam,adamw
        --weight-decay log:1e-5:1e-2 --train-csv "$data" --epochs 2 --trials 5 --seed 9 --quiet)
expect 0 "5 trials" -- "$nnfpga" tune --dir "$d" "${rspace[@]}" --plot "$tmp/tune.svg"
awk -F, 'NR>1 && !($2 >= 1e-4 && $2 <= 0.1 && $4 >= 4 && $4 <= 32 && ($3 == 8 || $3 == 32) && $7 >= 1e-5 && $7 <= 0.01) {
  print; bad=1} END{exit bad}' "$d/trials.csv" || fail "random: a draw outside its range"
"$nnfpga" tune --dir "$tmp/random2" "${rspace[@]}" >/dev/null 2>&1 || fail "random2"
cmp -s <(cut -d, -f1-7 "$d/trials.csv") <(cut -d, -f1-7 "$tmp/random2/trials.csv") || fail "random: not a function of the seed"
"$nnfpga" tune --dir "$tmp/random3" "${rspace[@]}" --seed 10 >/dev/null 2>&1 || fail "random3"
cmp -s <(cut -d, -f2-7 "$d/trials.csv") <(cut -d, -f2-7 "$tmp/random3/trials.csv") && fail "random: another seed, the same draws"
head -c 200 "$tmp/tune.svg" | grep -q '<svg xmlns="http://www.w3.org/2000/svg"' || fail "plot: not an SVG"
# five varying hyperparameters, a point for each of the 5 trials in each
[ "$(grep -o '<circle' "$tmp/tune.svg" | wc -l)" -eq 25 ] || fail "plot: $(grep -o '<circle' "$tmp/tune.svg" | wc -l) points, want 25"
[ "$(grep -c 'class="best"' "$tmp/tune.svg")" -eq 5 ] || fail "plot: the best trial is not marked in every panel"
if command -v xmllint >/dev/null; then xmllint --noout "$tmp/tune.svg" || fail "plot: not well-formed XML"; fi

# 8. Bayesian optimisation: the known best; ranges; exact resume
d=$tmp/bayes
expect 0 "best: trial [0-9]+.*lr 0.01" -- "$nnfpga" tune --dir "$d" --device host --search bayes --init-trials 2 \
  --lr 1e-5,1e-4,1e-2 --trials 3 "${common[@]}"
bcommon=(--device host --lr log:1e-5:1e-1 --hidden lin:4:32 --optimizer adam,sgd --momentum lin:0:0.9
         --train-csv "$data" --epochs 2 --quiet)
bspace=("${bcommon[@]}" --search bayes --init-trials 3)
expect 0 '"run":[[:space:]]*9' -- "$nnfpga" tune --dir "$tmp/bayes1" "${bspace[@]}" --trials 9 --json
awk -F, 'NR>1 && !($2 >= 1e-5 && $2 <= 0.1 && $4 >= 4 && $4 <= 32 && ($5 == "sgd" ? $7 >= 0 && $7 <= 0.9 : $7 == "")) {
  print; bad=1} END{exit bad}' "$tmp/bayes1/trials.csv" || fail "bayes: a trial outside its space: $(cat "$tmp/bayes1/trials.csv")"
grep -q '"search":[[:space:]]*"bayes"' "$tmp/bayes1/search.json" || fail "bayes: search.json"
grep -q '"init_trials":[[:space:]]*3' "$tmp/bayes1/search.json" || fail "bayes: init_trials not in search.json"
expect 0 '"run":[[:space:]]*4' -- "$nnfpga" tune --dir "$tmp/bayes2" "${bspace[@]}" --trials 4 --json
expect 0 '"resumed":[[:space:]]*4' -- "$nnfpga" tune --dir "$tmp/bayes2" "${bspace[@]}" --trials 9 --json
cmp -s <(cut -d, -f1-11 "$tmp/bayes1/trials.csv") <(cut -d, -f1-11 "$tmp/bayes2/trials.csv") ||
  fail "bayes: resuming is not exact: $(diff "$tmp/bayes1/trials.csv" "$tmp/bayes2/trials.csv")"
# the random start is the random search's (its twin: the same space, no --init-trials); the model's trials are not
"$nnfpga" tune --dir "$tmp/bayes_r" "${bcommon[@]}" --search random --trials 9 >/dev/null 2>&1 || fail "bayes: the random twin failed"
cmp -s <(cut -d, -f1-7 "$tmp/bayes1/trials.csv" | head -4) <(cut -d, -f1-7 "$tmp/bayes_r/trials.csv" | head -4) ||
  fail "bayes: the first --init-trials trials are not the random search's"
cmp -s <(cut -d, -f2-7 "$tmp/bayes1/trials.csv") <(cut -d, -f2-7 "$tmp/bayes_r/trials.csv") &&
  fail "bayes: the model's trials equal random search's"
expect 2 "different search.*init_trials" -- "$nnfpga" tune --dir "$tmp/bayes1" "${bcommon[@]}" --search bayes \
  --init-trials 4 --trials 9

# 9. parallel trials and a shared DIR
pspace=(--device host --lr log:1e-4:1e-1 --hidden lin:4:32 --train-csv "$big" --epochs 4 --batch 1 --quiet --trials 12)
d=$tmp/jobs
expect 0 '"run":[[:space:]]*12' -- "$nnfpga" tune --dir "$d" "${pspace[@]}" --jobs 3 --json
[ "$(cut -d, -f1 "$d/trials.csv" | tail -n +2 | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 11 12 " ] || fail "jobs: trial numbers"
"$nnfpga" tune --dir "$tmp/jobs1" "${pspace[@]}" >/dev/null 2>&1 || fail "jobs: the sequential twin failed"
cmp -s <(cut -d, -f1-11 "$d/trials.csv") <(cut -d, -f1-11 "$tmp/jobs1/trials.csv") ||
  fail "jobs: parallel trials differ from sequential ones"
[ -z "$(ls "$d/workers")" ] || fail "jobs: worker files left: $(ls "$d/workers")"
grep -q '"claims":[[:space:]]*\[\]' "$d/claims.json" || fail "jobs: claims left: $(cat "$d/claims.json")"
# two processes, two workers each, one search (bayes: pending trials are lies)
d=$tmp/shared
sspace=("${pspace[@]}" --search bayes --init-trials 2 --jobs 2 --json)
"$nnfpga" tune --dir "$d" "${sspace[@]}" >"$tmp/s1.json" 2>"$tmp/s1.err" &
p1=$!
"$nnfpga" tune --dir "$d" "${sspace[@]}" >"$tmp/s2.json" 2>"$tmp/s2.err" &
p2=$!
wait $p1 || fail "shared: the first process failed: $(cat "$tmp/s1.err")"
wait $p2 || fail "shared: the second process failed: $(cat "$tmp/s2.err")"
r1=$(grep -o '"run":[[:space:]]*[0-9]*' "$tmp/s1.json" | grep -o '[0-9]*$')
r2=$(grep -o '"run":[[:space:]]*[0-9]*' "$tmp/s2.json" | grep -o '[0-9]*$')
[ "$((r1 + r2))" -eq 12 ] || fail "shared: $r1 + $r2 trials run, want 12 (a trial twice, or one lost)"
[ "$(cut -d, -f1 "$d/trials.csv" | tail -n +2 | tr '\n' ' ')" = "1 2 3 4 5 6 7 8 9 10 11 12 " ] || fail "shared: trial numbers"
[ "$(cut -d, -f2-4 "$d/trials.csv" | tail -n +2 | sort | uniq -d)" = "" ] || fail "shared: a configuration proposed twice"
expect 0 '"run":[[:space:]]*0' -- "$nnfpga" tune --dir "$d" "${sspace[@]}"
# a worker killed mid-trial: its claim is run again by the next run
d=$tmp/killjobs
kspace=(--device host --lr 1e-3,2e-3,5e-3,1e-2 --hidden 16 --train-csv "$big" --epochs 60 --batch 1 --quiet)
"$nnfpga" tune --dir "$d" "${kspace[@]}" --jobs 2 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 200); do
  grep -q '"worker"' "$d/claims.json" 2>/dev/null && break
  sleep 0.05
done
kill -9 $(ps -o pid= --ppid "$pid") 2>/dev/null   # the workers: children of the process started here
wait "$pid" 2>/dev/null
grep -q '"worker"' "$d/claims.json" || fail "killjobs: no claim left by the killed workers: $(cat "$d/claims.json")"
expect 0 "4 trials" -- "$nnfpga" tune --dir "$d" "${kspace[@]}"
[ "$(cut -d, -f1 "$d/trials.csv" | tail -n +2 | tr '\n' ' ')" = "1 2 3 4 " ] || fail "killjobs: trial numbers"
grep -q '"claims":[[:space:]]*\[\]' "$d/claims.json" || fail "killjobs: claims left: $(cat "$d/claims.json")"
[ -z "$(ls "$d/workers")" ] || fail "killjobs: dead workers' files left: $(ls "$d/workers")"

# 7. bad usage (2) and bad input (3)
b=(--dir "$tmp/bad" --device host --train-csv "$data")
expect 2 "--lr wants numbers" -- "$nnfpga" tune "${b[@]}" --lr abc
expect 2 "grid search needs lists" -- "$nnfpga" tune "${b[@]}" --search grid --lr log:1e-4:1e-1
expect 2 "unknown --optimizer 'lamb'" -- "$nnfpga" tune "${b[@]}" --optimizer lamb
expect 2 "no optimizer of the search \\(adam\\) has momentum" -- "$nnfpga" tune "${b[@]}" --momentum 0.9
expect 2 "beta" -- "$nnfpga" tune "${b[@]}" --beta1 1.5
expect 2 "--batch wants" -- "$nnfpga" tune "${b[@]}" --batch 0
expect 2 "--hidden wants" -- "$nnfpga" tune "${b[@]}" --hidden 16x
expect 2 "lists 0.001 twice" -- "$nnfpga" tune "${b[@]}" --lr 1e-3,0.001
expect 2 "log:LO:HI" -- "$nnfpga" tune "${b[@]}" --lr log:1e-4
expect 2 "--val-split" -- "$nnfpga" tune "${b[@]}" --val-split 1.5
expect 2 "--trials" -- "$nnfpga" tune "${b[@]}" --trials 0
expect 2 "unknown option '--bogus'" -- "$nnfpga" tune "${b[@]}" --bogus
expect 2 "--init 'foo'" -- "$nnfpga" tune "${b[@]}" --init foo
expect 2 "--search is grid, random or bayes" -- "$nnfpga" tune "${b[@]}" --search tpe
expect 2 "--init-trials goes with --search bayes" -- "$nnfpga" tune "${b[@]}" --init-trials 3
expect 2 "--jobs" -- "$nnfpga" tune "${b[@]}" --jobs 0
expect 2 "--jobs 2: each worker opens its own device" -- "$nnfpga" tune "${b[@]/host/serial:\/dev\/null}" --jobs 2
expect 2 "--lr needs a value" -- "$nnfpga" tune "${b[@]}" --lr
expect 3 "nope.csv" -- "$nnfpga" tune --dir "$tmp/bad" --device host --train-csv "$tmp/nope.csv"
[ ! -e "$tmp/bad" ] || fail "a search that could not start wrote its DIR"
expect 0 "--trials N" -- "$nnfpga" tune --help

if [ "$fails" -ne 0 ]; then
  echo "tune.sh: $fails failures" >&2
  exit 1
fi
echo "tune.sh: all checks passed"
