#!/usr/bin/env python3
"""tiny: the MLPerf Tiny models on every device configuration (docs/tiny.md).

For each model -- the look-alikes of scripts/gen_tiny_models.py in
tests/data/tiny (always), and the real MLPerf Tiny files when --real DIR (or
$NNF_TINY_DIR) holds them -- `nnfpga import` it, then on each configuration
run `nnfpga infer --int8 INPUTS --expect OUTPUTS --json` (every output must
equal TFLite's reference kernels'; any difference fails the bench) and
record under "tiny" in bench.json, per model and configuration:

  cycles_per_inference       the device's cycle counter per inference, batched
                             (the samples in one call, repeated to at least
                             --stream inferences: a stream, whose first input's
                             upload no run overlaps) and single (one), the link
                             unpaced (a byte a cycle): the device's work
  ideal_cycles               MACs / (rows * cols): every cycle of the array busy
  ratio                      cycles_per_inference (batched) / ideal_cycles
  inferences_per_s           at the bitstream's clock (boards only), from the above
  link                       the board's link paced (sim:...,link=uart3m or usbfs):
                             cycles and inferences/s end to end, batched (the first
                             --link-samples samples, default 8) and single
  link_bytes_in/out_per_inference, weights (resident and streamed bytes)

A model nnfpga cannot import yet is recorded with the refusal (its operator
and why) instead of figures.

    tiny.py --nnfpga PATH [--data tests/data/tiny] [--real DIR] [--models ad,kws]
            [--configs sim,icebreaker] [--stream N] [--json FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import bench_json

HERE = os.path.dirname(os.path.abspath(__file__))
REAL = {"ad": "ad01_int8.tflite", "kws": "kws_ref_model.tflite", "ic": "pretrainedResnet_quant.tflite",
        "vww": "vww_96_int8.tflite"}
# configuration -> (device URI, the board's link option); the default
# simulator keeps no clock, so it has no link rate of its own
CONFIGS = {"sim": ("sim", None), "icebreaker": ("sim:board=icebreaker", "uart3m"),
           "ulx3s": ("sim:board=ulx3s", "uart3m"), "ulx3s-85f": ("sim:board=ulx3s-85f", "uart3m"),
           "orangecrab": ("sim:board=orangecrab", "usbfs")}


REAL_SAMPLES = 8  # random inputs of a real file, with the interpreter's outputs


def run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class Refused(Exception):
    """The device configuration cannot run the model (the load's message)."""


def infer(a, ck, uri, inp, exp, count=None):
    cmd = [a.nnfpga, "infer", "--model", ck, "--device", uri, "--int8", inp, "--expect", exp, "--json"]
    if count:
        cmd += ["--count", str(count)]
    p = run(cmd)
    if p.returncode != 0 and not p.stdout.strip():
        raise Refused(p.stderr.strip().replace("nnfpga infer: ", ""))
    r = json.loads(p.stdout)
    if p.returncode != 0 or r["outputs_equal"] != r["outputs"]:
        sys.exit("tiny: %s: %d of %d outputs differ from TFLite's" % (" ".join(cmd), r["outputs"] - r["outputs_equal"],
                                                                     r["outputs"]))
    return r


def repeated(a, name, inp, exp, n, tmp):
    """inp and exp repeated to at least a.stream samples (n in the files)."""
    reps = max(1, -(-a.stream // n))
    if reps == 1:
        return inp, exp
    paths = []
    for src, tag in ((inp, "input"), (exp, "expected")):
        with open(src, "rb") as f:
            data = f.read()
        dst = os.path.join(tmp, "%s_stream_%s.bin" % (name, tag))
        with open(dst, "wb") as f:
            f.write(data * reps)
        paths.append(dst)
    return paths[0], paths[1]


def one_model(a, name, tfl, inp, exp, macs, tmp, n):
    ck = os.path.join(tmp, name + ".safetensors")
    p = run([a.nnfpga, "import", tfl, "--out", ck, "--json"])
    if p.returncode != 0:
        msg = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else "exit %d" % p.returncode
        print("tiny %s: refused at import: %s" % (name, msg))
        return {"status": "refused", "reason": msg, "macs": macs}
    out = {"status": "runs", "macs": macs, "configs": {}}
    inp, exp = repeated(a, name, inp, exp, n, tmp)
    for cfg in a.configs:
        uri, link = CONFIGS[cfg]
        info = bench_json.run_json([a.nnfpga, "info", "--device", uri, "--json"], "tiny")
        rows, cols, hz = info["rows"], info["cols"], info["clock_hz"]
        try:
            batched, single = infer(a, ck, uri, inp, exp), infer(a, ck, uri, inp, exp, 1)
        except Refused as e:
            out["configs"][cfg] = {"status": "refused", "reason": str(e), "rows": rows, "cols": cols}
            print("tiny %s on %s: refused: %s" % (name, cfg, e))
            continue
        ideal = macs / (rows * cols)
        c = {"rows": rows, "cols": cols, "clock_hz": hz, "samples": batched["samples"],
             "cycles_per_inference": batched["cycles_per_inference"],
             "cycles_per_inference_single": single["cycles_per_inference"],
             "ideal_cycles": ideal, "ratio": batched["cycles_per_inference"] / ideal,
             "utilization": batched["utilization"],
             "link_bytes_in_per_inference": batched["link_bytes_in_per_inference"],
             "link_bytes_out_per_inference": batched["link_bytes_out_per_inference"],
             "device_batch": batched["device_batch"], "weights": batched.get("weights")}
        if hz:
            c["inferences_per_s"] = hz / batched["cycles_per_inference"]
            c["inferences_per_s_single"] = hz / single["cycles_per_inference"]
            c["ideal_inferences_per_s"] = hz / ideal
        if link and hz:
            # a paced link simulates every byte's wait: a few samples suffice
            lb = infer(a, ck, uri + ",link=" + link, inp, exp, a.link_samples)
            ls = infer(a, ck, uri + ",link=" + link, inp, exp, 1)
            c["link"] = {"kind": link, "samples": lb["samples"], "cycles_per_inference": lb["cycles_per_inference"],
                         "cycles_per_inference_single": ls["cycles_per_inference"],
                         "inferences_per_s": hz / lb["cycles_per_inference"],
                         "inferences_per_s_single": hz / ls["cycles_per_inference"]}
        out["configs"][cfg] = c
        rate = (" = %.1f/s at %.0f MHz" % (c["inferences_per_s"], hz / 1e6)) if hz else ""
        lk = (", %s end to end %.1f/s (single %.1f/s)" % (link, c["link"]["inferences_per_s"],
                                                          c["link"]["inferences_per_s_single"])) if "link" in c else ""
        print("tiny %s on %s (%dx%d): %.0f cycles/inference (single %.0f), ideal %.0f (%.2fx)%s%s; bit-exact on %d "
              "samples" % (name, cfg, rows, cols, c["cycles_per_inference"], c["cycles_per_inference_single"], ideal,
                           c["ratio"], rate, lk, c["samples"]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--nnfpga", required=True)
    ap.add_argument("--data", default=os.path.join(HERE, "..", "tests", "data", "tiny"))
    ap.add_argument("--real", default=os.environ.get("NNF_TINY_DIR"))
    ap.add_argument("--models", default="ad,kws,ic,vww")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--link-samples", type=int, default=8, help="samples of the batched run behind the paced link")
    ap.add_argument("--stream", type=int, default=16,
                    help="the batched run's inferences at least: the samples repeated (default 16)")
    ap.add_argument("--json")
    a = ap.parse_args()
    a.configs = [c for c in a.configs.split(",") if c]
    for c in a.configs:
        if c not in CONFIGS:
            sys.exit("tiny: unknown configuration %s (%s)" % (c, ", ".join(CONFIGS)))
    with open(os.path.join(a.data, "tiny.json")) as f:
        meta = json.load(f)
    res = {"lookalike": {}, "real": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for m in a.models.split(","):
            d = os.path.join(a.data, m)
            res["lookalike"][m] = one_model(a, m, d + ".tflite", d + "_input.bin", d + "_expected.bin",
                                            meta["models"][m]["macs"], tmp, meta["models"][m]["n"])
        if a.real:
            real = real_cases(a, tmp)
            for m, (tfl, inp, exp) in real.items():
                res["real"][m] = one_model(a, m + "_real", tfl, inp, exp, meta["models"][m]["macs"], tmp, REAL_SAMPLES)
    if a.json:
        bench_json.merge(a.json, "tiny", res)


def real_cases(a, tmp):
    """The real files in a.real with inputs and TFLite's reference outputs
    (the interpreter, ai-edge-litert), written into tmp."""
    sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
    import gen_tiny_models  # the generator's interpreter runs (its reference outputs)
    cases = {}
    for m in a.models.split(","):
        tfl = os.path.join(a.real, REAL[m])
        if not os.path.exists(tfl):
            print("tiny: no %s in %s: the real %s is skipped" % (REAL[m], a.real, m))
            continue
        inp, exp = os.path.join(tmp, m + "_real_input.bin"), os.path.join(tmp, m + "_real_expected.bin")
        gen_tiny_models.reference_run(tfl, REAL_SAMPLES, inp, exp)
        cases[m] = (tfl, inp, exp)
    return cases


if __name__ == "__main__":
    main()
