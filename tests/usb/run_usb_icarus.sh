#!/usr/bin/env bash
# run_usb_icarus.sh TEST_USB_PHY RTL_USB_DIR WORKDIR [SEED CASES]: the USB
# receiver under Icarus. test_usb_phy --gen writes the line samples of
# random packets (good and damaged, the host's clock +-0.25 % off, jittered
# edges) and the events the reference receiver expects; tb_usb_rx_icarus
# plays them into nnfu_dut (nnf_usb_rx -> nnf_usb_pkt_rx) and logs what it
# reports; the two logs must be identical. test_usb_phy rx checks the same
# RTL in Verilator.
set -euo pipefail
gen=$1 rtl=$2 work=$3 seed=${4:-11} cases=${5:-400}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work" && cd "$work"
"$gen" --gen "$seed" "$cases" stim.hex expect.txt
nstim=$(wc -l < stim.hex)
iverilog -g2005 -Wall -Wno-timescale -o usb_rx.vvp -s tb_usb_rx_icarus \
  -Ptb_usb_rx_icarus.NSTIM="$nstim" \
  "$here/tb_usb_rx_icarus.v" "$here/nnfu_dut.v" "$rtl"/*.v 2> iverilog.log || { cat iverilog.log; exit 1; }
if grep -q . iverilog.log; then cat iverilog.log; echo "FAIL: iverilog warnings"; exit 1; fi
vvp -n usb_rx.vvp > vvp.log
if ! cmp -s events.txt expect.txt; then
  echo "FAIL: the USB receiver under Icarus reported differently from the reference"
  diff <(nl expect.txt) <(nl events.txt) | head -20
  exit 1
fi
echo "PASS: $(grep -c . expect.txt) events identical ($(grep -c '^K' expect.txt) packets, $nstim samples)"
