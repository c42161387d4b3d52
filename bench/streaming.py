#!/usr/bin/env python3
"""streaming: networks larger than the weight buffer on the simulated device
(docs/memory.md): their largest layers' weights stream through the banks while
the array computes.

For each device configuration (the default 8 x 8 simulator, whose W holds half
of 784-512-256-10, and the board configurations that run the
networks) and each network (784-128-10 and 784-512-256-10 MLPs, a 784-256-10
spiking network with T = 8), with the link as fast as the device takes bytes
and paced as a 3 Mbaud UART and as USB full-speed bulk, runs `nnfpga eval
--device DEV --batch B --json` and records in bench.json, under "streaming":

  cycles_per_image          the device's cycle counter over the run, per image
                            (link included: weights, inputs, outputs)
  ideal_cycles_per_image    the device's MACs / (rows*cols): compute only
  ratio                     the two's quotient
  link_bytes_in_per_image, link_bytes_out_per_image
  streamed_bytes_per_image  the weights' share of the bytes in
  resident_bytes, chunks, streamed_layers, device_batch, program_copies

    streaming.py --nnfpga PATH [--images 256] [--batch 256] [--json FILE]
                 [--device URI ...]   (default: the configurations below)
"""
import argparse
import json
import os
import subprocess
import tempfile

import bench_json

MLPS = {"mlp 784-128-10": "dense(128),relu,dense(10)",
        "mlp 784-512-256-10": "dense(512),relu,dense(256),relu,dense(10)"}
LINKS = {"device": "", "uart 3 Mbaud": "link=uart3m", "usb full-speed": "link=usbfs"}
DEVICES = ["sim", "sim:board=ulx3s", "sim:board=orangecrab", "sim:board=icebreaker"]


def uri(dev, link):
    if not link:
        return dev
    return dev + ("," if ":" in dev else ":") + link


def record(ev, rows, cols):
    n = ev["images"]
    ideal = ev["macs"] / n / (rows * cols)
    w = ev.get("weights", {})
    return {
        "images": n, "cycles_per_image": ev["cycles_per_image"], "ideal_cycles_per_image": ideal,
        "ratio": ev["cycles_per_image"] / ideal,
        "link_bytes_in_per_image": ev["link_bytes_in_per_image"],
        "link_bytes_out_per_image": ev["link_bytes_out_per_image"],
        "streamed_bytes_per_image": w.get("streamed_bytes_per_image", 0),
        "resident_bytes": w.get("resident_bytes"), "chunks": w.get("chunks", 0),
        "streamed_layers": w.get("streamed_layers", 0), "program_copies": w.get("program_copies"),
        "device_batch": ev.get("device_batch"),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nnfpga", required=True)
    ap.add_argument("--images", type=int, default=256)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--device", action="append")
    ap.add_argument("--json")
    a = ap.parse_args()
    a.nnfpga = os.path.abspath(a.nnfpga)
    out = {"images": a.images, "batch": a.batch, "configs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        snn = os.path.join(tmp, "snn.safetensors")
        # a spiking network to run (its cycles do not depend on how well it learnt)
        subprocess.run([a.nnfpga, "train", "--model", "snn", "--layers", "784,256,10", "--steps", "8", "--epochs", "1",
                        "--limit", "128", "--device", "host", "--out", snn], check=True,
                       stdout=subprocess.DEVNULL, cwd=tmp)
        for dev in a.device or DEVICES:
            info = bench_json.run_json([a.nnfpga, "info", "--device", dev, "--json"], "streaming")
            rows, cols = info["rows"], info["cols"]
            cfg = {"rows": rows, "cols": cols, "weight_bytes": info["weight_bytes"], "act_bytes": info["act_bytes"],
                   "clock_hz": info["clock_hz"], "banks": info.get("banks", 0), "networks": {}}
            nets = dict((k, ["--arch", v, "--input-shape", "784"]) for k, v in MLPS.items())
            nets["snn 784-256-10 T=8"] = ["--model", snn]
            for name, args in nets.items():
                per = {}
                batch = a.batch
                for lname, link in LINKS.items():
                    # paced links are slow to simulate: two device batches there
                    n = a.images if not link else min(a.images, 2 * batch)
                    cmd = [a.nnfpga, "eval"] + args + ["--device", uri(dev, link), "--batch", str(a.batch),
                                                      "--limit", str(n), "--json", "--quiet"]
                    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                    if p.returncode:
                        per[lname] = {"refused": p.stderr.strip()}
                        print("streaming: %s on %s: %s" % (name, dev, p.stderr.strip()))
                        break
                    per[lname] = record(json.loads(p.stdout), rows, cols)
                    batch = per[lname]["device_batch"] or batch
                    print("streaming: %s on %s, link %s: %.0f cycles/image, %.2fx the compute-only ideal"
                          % (name, dev, lname, per[lname]["cycles_per_image"], per[lname]["ratio"]))
                cfg["networks"][name] = per
            out["configs"][dev] = cfg
    if a.json:
        bench_json.merge(a.json, "streaming", out)


if __name__ == "__main__":
    main()
