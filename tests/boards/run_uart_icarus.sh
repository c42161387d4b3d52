#!/usr/bin/env bash
# run_uart_icarus.sh TEST_UART_LINK RTL_ROOT WORKDIR: the UART loop in Icarus
# (RTL_ROOT: the repository's rtl/, whose core, link and boards/common it reads).
# nnf_dev_uart with a Verilog bit-level peer must answer INFO and an ACT
# WRITE / READ round trip exactly as the functional model does (the same
# RTL simulates the same in Verilator: test_uart_link).
set -euo pipefail
gen=$1 rtl=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work" && cd "$work"
"$gen" --gen stim.hex expect.hex
nstim=$(wc -l < stim.hex)
nexp=$(wc -l < expect.hex)
iverilog -g2005 -Wall -Wno-timescale -I"$rtl/core" -o uart.vvp -s tb_uart_icarus \
  -Ptb_uart_icarus.NSTIM="$nstim" -Ptb_uart_icarus.NEXP="$((nexp + 64))" \
  "$here/tb_uart_icarus.v" "$rtl"/boards/common/*.v "$rtl"/link/*.v "$rtl"/core/*.v 2> iverilog.log || { cat iverilog.log; exit 1; }
vvp -n uart.vvp
if ! cmp -s out.hex expect.hex; then
  echo "FAIL: nnf_dev_uart under Icarus answered differently from the model"
  diff <(nl expect.hex) <(nl out.hex) | head -20
  exit 1
fi
echo "PASS: $nexp answer bytes identical"
