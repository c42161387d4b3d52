#!/usr/bin/env python3
"""rnn_inference: recurrent networks on sequential Fashion-MNIST on a device
(docs/rnn.md): each image is a sequence of T = 28 steps of 28 pixels.

For each of rnn(H), gru(H), lstm(H) followed by dense(10), runs `nnfpga
eval --arch ARCH --device DEV --json` (untrained: the cycles do not depend on
the weights) and records in bench.json, under "rnn_inference", per cell:
  cycles_per_sequence     the device's cycle counter over the run, per image
                          (link included: the sequence in, the logits out)
  cycles_per_step         that over T
  macs_per_sequence       the MACs the device counted (padding tiles included)
  model_macs_per_sequence the network's own: T * G*H*(I+H) + H*10 (G = 1, 3, 4)
  ideal_cycles_per_sequence  model MACs / (rows*cols), ideal_cycles_per_step
  ratio                   cycles over the ideal
  utilization             device MACs / (cycles * rows * cols)
  link_bytes_in_per_image, link_bytes_out_per_image, device_batch

    rnn_inference.py --nnfpga PATH [--device sim] [--images 128] [--hidden 128] [--json FILE]
"""
import argparse

import bench_json

T, I, CLASSES = 28, 28, 10
GATES = {"rnn": 1, "gru": 3, "lstm": 4}


def cell(a, kind, rows, cols):
    arch = "%s(%d),dense(%d)" % (kind, a.hidden, CLASSES)
    ev = bench_json.run_json([a.nnfpga, "eval", "--arch", arch, "--device", a.device, "--limit", str(a.images),
                              "--json"], "rnn_inference")
    n = ev["images"]
    H = a.hidden
    model = T * GATES[kind] * H * (I + H) + H * CLASSES
    ideal = model / (rows * cols)
    cps = ev["cycles_per_image"]
    return arch, {
        "arch": arch, "images": n, "steps": T,
        "cycles_per_sequence": cps, "cycles_per_step": cps / T,
        "macs_per_sequence": ev["macs"] / n, "model_macs_per_sequence": model,
        "ideal_cycles_per_sequence": ideal, "ideal_cycles_per_step": ideal / T,
        "ratio": cps / ideal, "utilization": ev["utilization"],
        "link_bytes_in_per_image": ev["link_bytes_in_per_image"],
        "link_bytes_out_per_image": ev["link_bytes_out_per_image"],
        "device_batch": ev.get("device_batch"),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nnfpga", required=True)
    ap.add_argument("--device", default="sim")
    ap.add_argument("--images", type=int, default=128)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--json")
    a = ap.parse_args()
    info = bench_json.run_json([a.nnfpga, "info", "--device", a.device, "--json"], "rnn_inference")
    rows, cols = info["rows"], info["cols"]
    out = {"device": a.device, "rows": rows, "cols": cols}
    for kind in ("rnn", "gru", "lstm"):
        arch, r = cell(a, kind, rows, cols)
        out[kind] = r
        print("rnn_inference %s on %s (%dx%d): %.0f cycles/sequence, %.1f cycles/step, ideal %.1f/step (%.2fx), "
              "utilization %.3f, batch %s"
              % (arch, a.device, rows, cols, r["cycles_per_sequence"], r["cycles_per_step"],
                 r["ideal_cycles_per_step"], r["ratio"], r["utilization"], r["device_batch"]))
    if a.json:
        bench_json.merge(a.json, "rnn_inference", out)


if __name__ == "__main__":
    main()
