"""link_speed: the links' protocol payload per second on the simulated RTL,
WRITE and READ frames stop and wait as the driver talks, into bench.json:
"usb_link": the native USB link (tests/usb/test_usb_board speed: the whole
device, nnf_dev_usb with the core at 84 MHz, against the C host controller
at the wire, a SOF every 1 ms and transactions back to back as a host
schedules them), 512- and 4096-byte payloads; "uart_link": the 3 Mbaud UART
through a board's whole top (tests/boards/test_board_uart_<board> speed, a
bit-level peer), per board given (docs/usb.md).

    python3 bench/link_speed.py --test build/tests/usb/test_usb_board --test-4k build/tests/usb/test_usb_board_4k \
        --uart build/tests/boards/test_board_uart_ulx3s --json bench.json
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_json  # noqa: E402


def figures(exe):
    p = subprocess.run([exe, "speed"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sys.stdout.write(p.stdout)
    if p.returncode != 0:
        sys.exit("link_speed: %s speed failed (%d): %s" % (exe, p.returncode, p.stderr.strip()))
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        sys.exit("link_speed: %s speed printed no figures" % exe)
    return json.loads(lines[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--test", required=True, help="test_usb_board (512-byte frames)")
    ap.add_argument("--test-4k", required=True, help="test_usb_board_4k (4096-byte frames)")
    ap.add_argument("--uart", action="append", default=[], help="a test_board_uart_<board> (repeatable)")
    ap.add_argument("--json", required=True, help="bench.json to merge into")
    a = ap.parse_args()
    out = {
        "bus_payload_max_Bps": 19 * 64 * 1000,   # 19 full bulk packets per 1 ms frame
        "core_hz": 84000000,
        "frames_512": figures(a.test),
        "frames_4096": figures(a.test_4k),
    }
    bench_json.merge(a.json, "usb_link", out)
    uart = {}
    for exe in a.uart:
        f = figures(exe)
        uart[f["board"]] = f
    if uart:
        bench_json.merge(a.json, "uart_link", uart)


if __name__ == "__main__":
    main()
