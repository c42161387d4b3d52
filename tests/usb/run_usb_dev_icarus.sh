#!/usr/bin/env bash
# run_usb_dev_icarus.sh TEST_USB_DEV RTL_USB_DIR WORKDIR: nnf_usb_dev under
# Icarus. test_usb_dev record writes a short session (bus reset,
# SET_ADDRESS, the device descriptor, SET_CONFIGURATION, 70 bytes OUT, 100
# bytes IN, SOFs) as the Verilated device lived it, clock by clock;
# tb_usb_dev_icarus replays its inputs and compares every output.
set -euo pipefail
gen=$1 rtl=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work" && cd "$work"
"$gen" record rec.txt
tr -d _ < rec.txt > rec.hex
n=$(wc -l < rec.hex)
iverilog -g2005 -Wall -Wno-timescale -o usb_dev.vvp -s tb_usb_dev_icarus -Ptb_usb_dev_icarus.N="$n" \
  "$here/tb_usb_dev_icarus.v" "$rtl"/*.v 2> iverilog.log || { cat iverilog.log; exit 1; }
if grep -q . iverilog.log; then cat iverilog.log; echo "FAIL: iverilog warnings"; exit 1; fi
vvp -n usb_dev.vvp | tee vvp.log
grep -q '^PASS' vvp.log
