#!/usr/bin/env python3
"""Deterministic CSV data sets for the regression and multi-label examples
(docs/tasks.md). Standard library only; the same seed writes the same bytes
on every Python 3.

  make_task_csv.py regression DIR   -> DIR/regression_train.csv, regression_test.csv
      8 features uniform in [-1, 1]; 2 targets (the last two columns):
        y0 = sin(2 x0) + 0.5 x1 x2 + 0.3 x3 + noise
        y1 = x4^2 - 0.5 x5 + 0.5 cos(3 x6) + 0.2 x7 + noise
      noise uniform in [-0.05, 0.05]
  make_task_csv.py multilabel DIR   -> DIR/multilabel_train.csv, multilabel_test.csv
      16 features uniform in [0, 1]; 4 labels in {0, 1} (the last four columns):
        l0 = x0 + x1 > 1          l1 = x2 x3 > 0.25
        l2 = sin(6 x4) > 0        l3 = x5 > 0.5 and x6 > 0.3
      each label flipped with probability 0.02 (label noise)

Options: --train N (default 2000), --test N (default 500), --seed S (default 1).
"""
import argparse
import math
import os
import random


def regression_row(r):
    x = [r.uniform(-1.0, 1.0) for _ in range(8)]
    y0 = math.sin(2 * x[0]) + 0.5 * x[1] * x[2] + 0.3 * x[3] + r.uniform(-0.05, 0.05)
    y1 = x[4] ** 2 - 0.5 * x[5] + 0.5 * math.cos(3 * x[6]) + 0.2 * x[7] + r.uniform(-0.05, 0.05)
    return x, [y0, y1]


def multilabel_row(r):
    x = [r.random() for _ in range(16)]
    labels = [x[0] + x[1] > 1.0, x[2] * x[3] > 0.25, math.sin(6 * x[4]) > 0.0, x[5] > 0.5 and x[6] > 0.3]
    return x, [float(l != (r.random() < 0.02)) for l in labels]


TASKS = {"regression": regression_row, "multilabel": multilabel_row}


def write(path, rows):
    nx, ny = len(rows[0][0]), len(rows[0][1])
    head = [f"x{i}" for i in range(nx)] + [f"t{j}" for j in range(ny)]
    with open(path, "w") as f:
        f.write(",".join(head) + "\n")
        for x, y in rows:
            f.write(",".join(f"{v:.6f}" for v in x) + "," + ",".join(f"{v:.6g}" for v in y) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("task", choices=sorted(TASKS))
    ap.add_argument("dir")
    ap.add_argument("--train", type=int, default=2000)
    ap.add_argument("--test", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if a.train < 1 or a.test < 1:
        ap.error("--train and --test must be >= 1")
    row = TASKS[a.task]
    r = random.Random(a.seed)
    os.makedirs(a.dir, exist_ok=True)
    for split, n in (("train", a.train), ("test", a.test)):
        write(os.path.join(a.dir, f"{a.task}_{split}.csv"), [row(r) for _ in range(n)])


if __name__ == "__main__":
    main()
