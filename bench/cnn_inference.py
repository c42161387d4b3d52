#!/usr/bin/env python3
"""cnn_inference: the Fashion-MNIST CNN's cost on a device (docs/conv.md).

Runs `nnfpga eval --arch ARCH --device DEV --json` (the network untrained:
the cycles do not depend on the weights) and records in bench.json, under
"cnn_inference":
  cycles_per_image        the device's cycle counter over the run, per image
                          (link included: inputs in, logits out)
  ideal_cycles_per_image  the MACs the device counted per image / (rows*cols)
  ratio                   the two's quotient (issue 14's target: <= 1.3)
  utilization             MACs / (cycles * rows * cols)
  link_bytes_in_per_image, link_bytes_out_per_image   frames included
  image_bytes, logit_bytes  what an image and its logits hold (the floor)

    cnn_inference.py --nnfpga PATH [--device sim] [--images 256] [--json FILE]
"""
import argparse
import bench_json

ARCH = "conv(16,3,pad=1),relu,maxpool(2),conv(32,3,pad=1),relu,maxpool(2),flatten,dense(10)"


def run_json(cmd):
    return bench_json.run_json(cmd, "cnn_inference")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nnfpga", required=True)
    ap.add_argument("--device", default="sim")
    ap.add_argument("--images", type=int, default=256)
    ap.add_argument("--arch", default=ARCH)
    ap.add_argument("--json")
    a = ap.parse_args()
    info = run_json([a.nnfpga, "info", "--device", a.device, "--json"])
    ev = run_json([a.nnfpga, "eval", "--arch", a.arch, "--device", a.device,
                   "--limit", str(a.images), "--json"])
    rows, cols = info["rows"], info["cols"]
    images = ev["images"]
    macs = ev["macs"] / images
    ideal = macs / (rows * cols)
    cpi = ev["cycles_per_image"]
    out = {
        "device": a.device, "arch": a.arch, "images": images, "rows": rows, "cols": cols,
        "cycles_per_image": cpi, "macs_per_image": macs, "ideal_cycles_per_image": ideal,
        "ratio": cpi / ideal, "utilization": ev["utilization"],
        "link_bytes_in_per_image": ev["link_bytes_in_per_image"],
        "link_bytes_out_per_image": ev["link_bytes_out_per_image"],
        "image_bytes": 28 * 28, "logit_bytes": 10,
    }
    print("cnn_inference %s on %s (%dx%d): %.1f cycles/image, ideal %.1f (%.2fx), utilization %.3f, "
          "link %.0f bytes in / %.0f out per image (image %d, logits %d)"
          % (a.arch, a.device, rows, cols, cpi, ideal, cpi / ideal, ev["utilization"],
             out["link_bytes_in_per_image"], out["link_bytes_out_per_image"], 784, 10))
    if a.json:
        bench_json.merge(a.json, "cnn_inference", out)


if __name__ == "__main__":
    main()
