"""usb_host: the usb backend's host CPU while the driver waits for a late
answer, on devices emulated through umockdev (tests/usbhost/test_usb_emu cpu;
docs/usb-host.md), into bench.json under "usb_host".

    python3 bench/usb_host.py --wrapper umockdev-wrapper --test build/tests/usbhost/test_usb_emu --json bench.json
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_json  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wrapper", required=True, help="umockdev-wrapper")
    ap.add_argument("--test", required=True, help="the test_usb_emu executable")
    ap.add_argument("--json", required=True, help="bench.json to merge into")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "usb_host.json")
        p = subprocess.run([a.wrapper, a.test, "cpu", "--json", out], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        sys.stdout.write(p.stdout)
        if p.returncode != 0:
            sys.exit("usb_host: %s failed (%d): %s" % (a.test, p.returncode, p.stderr.strip()))
        with open(out) as f:
            figures = json.load(f)
    bench_json.merge(a.json, "usb_host", figures)


if __name__ == "__main__":
    main()
