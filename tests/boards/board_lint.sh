#!/usr/bin/env bash
# board_lint.sh: the link adapters and board tops, lint clean and elaborating
# in both simulators. verilator --lint-only -Wall (any warning fails) and
# iverilog -g2005 -Wall (warnings in these files fail; the core's own are
# its owners') over: nnf_uart / nnf_uart_rx / nnf_uart_tx / nnf_fifo /
# nnf_ft245 / nnf_afifo (rtl/link) / nnf_reset_sync / nnf_led_stretch /
# nnf_dev_uart / nnf_dev_usb (rtl/boards/common), tb_ft245_core, each board
# top in rtl/boards/ with vendor_stubs.v standing in for the PLL primitives,
# and every module of the USB device core (rtl/link/usb) with the test top
# that joins its lower layers (tests/usb/nnfu_dut.v).
# CTest: rtl_board_lint (label rtl).
#
#   tests/boards/board_lint.sh [REPO_ROOT]
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
here="$root/tests/boards"
VERILATOR=${VERILATOR:-verilator}
command -v "$VERILATOR" >/dev/null 2>&1 || { echo "board_lint: $VERILATOR not found" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
core=("$root"/rtl/boards/common/*.v "$root"/rtl/link/*.v "$root"/rtl/link/usb/*.v "$root"/rtl/core/*.v)
ecp5="$root/rtl/boards/ecp5/nnf_ecp5_pll.v"
fail=0; n=0

check() {   # check NAME TOP FILES...
  local name=$1 top=$2; shift 2
  n=$((n + 1))
  if "$VERILATOR" --lint-only -Wall --Mdir "$tmp/obj" "-I$root/rtl/core" --top-module "$top" "$@" >"$tmp/out" 2>&1 \
       && [ ! -s "$tmp/out" ]; then
    echo "ok   verilator $name"
  else
    echo "FAIL verilator $name"; sed 's/^/     /' "$tmp/out" | head -20; fail=$((fail + 1))
  fi
  if command -v iverilog >/dev/null 2>&1; then
    n=$((n + 1))
    if iverilog -g2005 -Wall -Wno-timescale "-I$root/rtl/core" -o "$tmp/a.out" -s "$top" "$@" >"$tmp/out" 2>&1 \
         && ! grep -E "(rtl/link|rtl/boards|tests/boards|tests/usb)[^:]*:[0-9]+: (warning|error)" "$tmp/out" | grep -q .; then
      echo "ok   iverilog  $name"
    else
      echo "FAIL iverilog  $name"; sed 's/^/     /' "$tmp/out" | head -20; fail=$((fail + 1))
    fi
  fi
}

for m in nnf_uart nnf_uart_rx nnf_uart_tx nnf_fifo nnf_afifo nnf_ft245 nnf_reset_sync nnf_led_stretch nnf_dev_uart \
         nnf_dev_usb; do
  check "$m" "$m" "${core[@]}"
done
check tb_ft245_core tb_ft245_core "$here/tb_ft245_core.v" "${core[@]}"
check nnf_top_icebreaker nnf_top_icebreaker "$root/rtl/boards/icebreaker/nnf_top_icebreaker.v" \
  "$here/vendor_stubs.v" "${core[@]}"
check nnf_top_ulx3s nnf_top_ulx3s "$root/rtl/boards/ulx3s/nnf_top_ulx3s.v" "$ecp5" \
  "$here/vendor_stubs.v" "${core[@]}"
check nnf_top_orangecrab nnf_top_orangecrab "$root/rtl/boards/orangecrab/nnf_top_orangecrab.v" "$ecp5" \
  "$here/vendor_stubs.v" "${core[@]}"

usb=("$root"/rtl/link/usb/*.v)
for f in "${usb[@]}"; do
  m=$(basename "$f" .v)
  check "$m" "$m" "${usb[@]}"
done
check nnfu_dut nnfu_dut "$root/tests/usb/nnfu_dut.v" "${usb[@]}"

echo "$((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
