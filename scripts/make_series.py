#!/usr/bin/env python3
"""make_series.py - a time-series regression task for the recurrent layers:
windows of T steps of a series -> its next value, as CSV.

    python3 scripts/make_series.py OUTDIR [--series sine|mackey-glass] [--steps T]
        [--length N] [--noise S] [--seed K] [--format sequence|steps]

Series (seeded, pure Python: the same files on every machine):
  sine          x_t = sin(2 pi t / 25) + N(0, noise^2)        (noise default 0.1)
  mackey-glass  dx/dt = 0.2 x(t-17) / (1 + x(t-17)^10) - 0.1 x(t), the chaotic
                benchmark, integrated by 4th-order Runge-Kutta with dt = 0.1
                (the delayed value linearly interpolated), sampled every 1.0,
                the first 500 samples dropped, plus N(0, noise^2) (default 0)
Every window of T consecutive values (stride 1) is a sample whose target is
the value after it. The first 80% of the windows (in time) are the training
set, the windows wholly after them the test set (no value of a test target
is ever seen in training): OUTDIR/train.csv and OUTDIR/test.csv.

Formats (docs/host.md "Recurrent layers"):
  sequence  one line per window: x_1, ..., x_T, target
            (nnfpga train --input-shape T --arch "lstm(32,in=1),dense(1)" ...)
  steps     one line per time step: window id, x_t, target (the target on
            every line; the reader takes the last line's)
            (nnfpga train --seq-id 0 --label-col -1 --input-shape T ...)

It prints, and writes to OUTDIR/baseline.txt, the mean squared error of the
persistence forecast (the next value is the last one seen) on both sets:
the figure a model has to beat.
"""
import argparse
import math
import os
import random
import sys


def sine(n, noise, rng):
    return [math.sin(2 * math.pi * t / 25.0) + rng.gauss(0.0, noise) for t in range(n)]


def mackey_glass(n, noise, rng, tau=17.0, beta=0.2, gamma=0.1, power=10, dt=0.1, burn=500):
    lag = int(round(tau / dt))
    hist = [1.2] * (lag + 1)  # x(t) = 1.2 for t <= 0

    def f(x, xd):
        return beta * xd / (1.0 + xd ** power) - gamma * x

    per = int(round(1.0 / dt))
    out = []
    while len(out) < n + burn:
        for _ in range(per):
            x = hist[-1]
            xd0, xd1 = hist[-1 - lag], hist[-lag]  # x(t - tau), x(t - tau + dt)
            xdh = 0.5 * (xd0 + xd1)
            k1 = f(x, xd0)
            k2 = f(x + 0.5 * dt * k1, xdh)
            k3 = f(x + 0.5 * dt * k2, xdh)
            k4 = f(x + dt * k3, xd1)
            hist.append(x + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4))
            if len(hist) > lag + 2:
                hist.pop(0)
        out.append(hist[-1])
    return [v + rng.gauss(0.0, noise) if noise else v for v in out[burn:]]


def windows(series, T):
    return [(series[i:i + T], series[i + T]) for i in range(len(series) - T)]


def write(path, wins, fmt, first_id):
    with open(path, "w") as f:
        if fmt == "sequence":
            f.write(",".join([f"x{t + 1}" for t in range(len(wins[0][0]))] + ["target"]) + "\n")
            for xs, y in wins:
                f.write(",".join("%.9g" % v for v in xs) + ",%.9g\n" % y)
        else:
            f.write("id,x,target\n")
            for k, (xs, y) in enumerate(wins):
                for v in xs:
                    f.write("w%d,%.9g,%.9g\n" % (first_id + k, v, y))


def persistence(wins):
    return sum((xs[-1] - y) ** 2 for xs, y in wins) / len(wins)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--series", choices=["sine", "mackey-glass"], default="sine")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--length", type=int, default=5000, help="values in the series")
    ap.add_argument("--noise", type=float, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--format", choices=["sequence", "steps"], default="sequence")
    a = ap.parse_args()
    if a.steps < 1 or a.length < 5 * (a.steps + 1):
        print("make_series: want --steps >= 1 and --length >= 5 (steps + 1)", file=sys.stderr)
        return 2
    rng = random.Random(a.seed)
    noise = a.noise if a.noise is not None else (0.1 if a.series == "sine" else 0.0)
    series = sine(a.length, noise, rng) if a.series == "sine" else mackey_glass(a.length, noise, rng)
    split = int(0.8 * len(series))
    train = windows(series[:split], a.steps)
    test = windows(series[split:], a.steps)
    os.makedirs(a.outdir, exist_ok=True)
    write(os.path.join(a.outdir, "train.csv"), train, a.format, 0)
    write(os.path.join(a.outdir, "test.csv"), test, a.format, len(train))
    line = (f"{a.series} (noise {noise:g}, seed {a.seed}): {len(train)} training and {len(test)} test windows "
            f"of {a.steps} steps; persistence MSE: train {persistence(train):.6g}, test {persistence(test):.6g}")
    with open(os.path.join(a.outdir, "baseline.txt"), "w") as f:
        f.write(line + "\n")
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
