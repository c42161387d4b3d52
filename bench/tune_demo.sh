#!/usr/bin/env bash
# bench/tune_demo.sh NNFPGA [OUT] [SEEDS]
#
# `nnfpga tune` on a small real training task: Bayesian optimisation against
# random search, the same budget, several seeds. The task: 2000 samples of 4
# overlapping classes in 8 features (written here, seeded), 3 epochs on the
# host; the space: 8 learning rates x 4 hidden widths x 2 optimizers = 64
# configurations. For each seed (it also fixes initialisation, shuffling and
# the validation split, so each seed is its own problem) the full grid gives
# the known best score; random search and bayes (5 random trials, then GP +
# EI) each run 64 trials, and we count the trials each needs to reach the
# best configuration's score, and to come within one point (0.01) of it
# (65 = not within the budget). Prints a table and mean / median; writes
# OUT/tune_demo.txt (default build/reports). Takes about a minute.
set -euo pipefail
nnfpga=$1
out=${2:-build/reports}
seeds=${3:-5}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
awk 'BEGIN{srand(11); print "label,a,b,c,d,e,f,g,h"; for(i=0;i<2000;i++){l=i%4; printf "%d", l;
  for(j=0;j<8;j++) printf ",%.3f", (j%4==l)*0.35+rand(); printf "\n"}}' >"$work/demo.csv"
space=(--device host --lr 1e-4,3e-4,1e-3,3e-3,1e-2,3e-2,1e-1,3e-1 --hidden 2,4,8,16 --optimizer sgd,adam
       --train-csv "$work/demo.csv" --epochs 3 --batch 32 --val-split 0.25 --quiet)
budget=64

# first trial scoring >= target in a trials.csv (budget + 1 if none)
first() { awk -F, -v t="$2" -v b=$budget 'NR>1 && $7 >= t - 1e-9 {print $1; f=1; exit} END{if(!f) print b+1}' "$1"; }

report=$out/tune_demo.txt
{
  echo "nnfpga tune: bayes vs random search on a 64-configuration space (bench/tune_demo.sh)"
  echo "trials to reach the grid's best score / to within 0.01 of it (budget $budget; $((budget + 1)) = not reached)"
  printf "%-5s %-7s %-14s %-14s %-14s\n" seed best "best config" random bayes
} >"$report"
for s in $(seq "$seeds"); do
  "$nnfpga" tune --dir "$work/grid$s" "${space[@]}" --seed "$s" >/dev/null
  for st in random bayes; do
    "$nnfpga" tune --dir "$work/$st$s" "${space[@]}" --seed "$s" --search "$st" --trials $budget >/dev/null
  done
  best=$(awk -F, 'NR>1 && $7 > m {m=$7} END{printf "%.6f", m}' "$work/grid$s/trials.csv")
  cfg=$(awk -F, -v m="$best" 'NR>1 && $7 >= m - 1e-9 {print $2 "/" $4 "/" $5; exit}' "$work/grid$s/trials.csv")
  near=$(awk -v m="$best" 'BEGIN{printf "%.6f", m - 0.01}')
  r1=$(first "$work/random$s/trials.csv" "$best"); r2=$(first "$work/random$s/trials.csv" "$near")
  b1=$(first "$work/bayes$s/trials.csv" "$best"); b2=$(first "$work/bayes$s/trials.csv" "$near")
  printf "%-5s %-7s %-14s %-14s %-14s\n" "$s" "$best" "$cfg" "$r1 / $r2" "$b1 / $b2" >>"$report"
done
awk 'NR>3 {r1[NR]=$4; r2[NR]=$6; b1[NR]=$7; b2[NR]=$9; n++}
  function med(a,   k, v, m, i, j, t) { m = 0; for (k in a) v[++m] = a[k];
    for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
  function mean(a,   k, s, m) { for (k in a) { s += a[k]; m++ } return s / m }
  END { printf "random: to the best mean %.1f median %.1f; to within 0.01 mean %.1f median %.1f\n", mean(r1), med(r1), mean(r2), med(r2);
        printf "bayes:  to the best mean %.1f median %.1f; to within 0.01 mean %.1f median %.1f\n", mean(b1), med(b1), mean(b2), med(b2) }' \
  "$report" >>"$report"
cat "$report"
