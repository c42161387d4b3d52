#!/usr/bin/env bash
# rtl_lint.sh: verilator --lint-only -Wall over the RTL; any warning fails.
#
#   tests/lint/rtl_lint.sh [REPO_ROOT]
#
# Lints rtl/core with top nnf_gemm (default parameters and the small and
# board configurations synth.py builds), rtl/core with top nnf_core, and the
# synthesis wrapper rtl/synth/nnf_gemm_synth_top.v; a Yosys structural check;
# the register naming rule (rtl_naming.py). CTest: rtl_lint (label rtl).
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
VERILATOR=${VERILATOR:-verilator}
command -v "$VERILATOR" >/dev/null 2>&1 || { echo "rtl_lint: $VERILATOR not found (run scripts/bootstrap)" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
core=("$root"/rtl/core/*.v)
fail=0; n=0

lint() {   # lint NAME TOP FILES... -- VERILATOR-ARGS...
  local name=$1 top=$2; shift 2
  local files=() args=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do files+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  args=("$@")
  n=$((n + 1))
  if "$VERILATOR" --lint-only -Wall -Wno-fatal --Mdir "$tmp/obj" "-I$root/rtl/core" \
       --top-module "$top" "${args[@]}" "${files[@]}" >"$tmp/out" 2>&1 && [ ! -s "$tmp/out" ]; then
    echo "ok   $name"
  else
    echo "FAIL $name"; sed 's/^/     /' "$tmp/out"; fail=$((fail + 1))
  fi
}

lint "nnf_gemm (defaults)"          nnf_gemm "${core[@]}" --
lint "nnf_gemm 2x2 tiny"            nnf_gemm "${core[@]}" -- -GROWS=2 -GCOLS=2 -GACT_WORDS=2 -GW_WORDS=2 -GP_WORDS=2 -GACC_DEPTH=2
lint "nnf_gemm 16x16 serial/LUT"    nnf_gemm "${core[@]}" -- -GROWS=16 -GCOLS=16 -GVEC_SERIAL=1 -GPE_DSP=0
lint "nnf_gemm 16x16 serial, 4 lanes" nnf_gemm "${core[@]}" -- -GROWS=16 -GCOLS=16 -GVEC_SERIAL=1 -GVEC_LANES=4 -GPE_DSP=3 -GPIPE_CUTS=1
lint "nnf_gemm 4x4 serial, 2 lanes" nnf_gemm "${core[@]}" -- -GROWS=4 -GCOLS=4 -GVEC_SERIAL=1 -GVEC_LANES=2 -GPE_DSP=0
lint "nnf_gemm 4x4 registered PE, 1 LUT row" nnf_gemm "${core[@]}" -- -GROWS=4 -GCOLS=4 -GPE_DSP=3 -GPE_LUT_ROWS=1 -GPIPE_CUTS=1
lint "nnf_gemm 4x4 iCE40 pairs, two banks" nnf_gemm "${core[@]}" -- -GROWS=4 -GCOLS=4 -GPE_DSP=2 -GVEC_SERIAL=2
lint "nnf_gemm 4x4 iCE40 pairs, one bank in the DSP" nnf_gemm "${core[@]}" -- -GROWS=4 -GCOLS=4 -GPE_DSP=4 -GVEC_SERIAL=2 -GW_SPRAM=1
lint "nnf_core PIPE_CUTS"             nnf_core "${core[@]}" -- -GPIPE_CUTS=1
lint "nnf_core PIPE_CUTS 2 (slow payload)" nnf_core "${core[@]}" -- -GPIPE_CUTS=2
lint "nnf_core (defaults)"          nnf_core "${core[@]}" --
lint "nnf_core no LIF core"        nnf_core "${core[@]}" -- -GSTATE_WORDS=0
lint "nnf_core 2x2, 2 state words"  nnf_core "${core[@]}" -- -GROWS=2 -GCOLS=2 -GACT_WORDS=2 -GW_WORDS=2 -GP_WORDS=2 -GACC_DEPTH=2 -GSTATE_WORDS=2 -GPROG_WORDS=2
lint "nnf_core 16x16 serial, 4 LIF lanes" nnf_core "${core[@]}" -- -GROWS=16 -GCOLS=16 -GVEC_SERIAL=1 -GSTATE_WORDS=1024 -GLIF_LANES=4
lint "nnf_core 8 LIF lanes"         nnf_core "${core[@]}" -- -GLIF_LANES=8
lint "nnf_core 2x2, 2 LIF lanes"    nnf_core "${core[@]}" -- -GROWS=2 -GCOLS=2 -GACT_WORDS=2 -GW_WORDS=2 -GP_WORDS=2 -GACC_DEPTH=2 -GSTATE_WORDS=4 -GPROG_WORDS=2 -GLIF_LANES=2
lint "nnf_core no banks"            nnf_core "${core[@]}" -- -GBANKS=0
lint "nnf_core 1 bank, no EW, 1 LUT" nnf_core "${core[@]}" -- -GBANKS=1 -GHAS_EW=0 -GLUT_COUNT=1
lint "nnf_core 8 banks"             nnf_core "${core[@]}" -- -GBANKS=8
lint "nnf_core 4 LUTs (one ROW table)" nnf_core "${core[@]}" -- -GLUT_COUNT=4
lint "nnf_core no ROW"              nnf_core "${core[@]}" -- -GHAS_ROW=0
lint "nnf_core no DW"               nnf_core "${core[@]}" -- -GHAS_DW=0
lint "nnf_core DW 16x16"            nnf_core "${core[@]}" -- -GROWS=16 -GCOLS=16 -GHAS_DW=1 -GP_WORDS=64 -GW_WORDS=4096
wrap="$root/rtl/synth/nnf_gemm_synth_top.v"
lint "nnf_gemm_synth_top (defaults)" nnf_gemm_synth_top "$wrap" "${core[@]}" --
lint "nnf_gemm_synth_top 2x2"       nnf_gemm_synth_top "$wrap" "${core[@]}" -- -GROWS=2 -GCOLS=2 -GACT_WORDS=256 -GW_WORDS=256 -GP_WORDS=16 -GACC_DEPTH=64 -GVEC_SERIAL=1 -GPE_DSP=0
lint "nnf_gemm_synth_top 16x16"     nnf_gemm_synth_top "$wrap" "${core[@]}" -- -GROWS=16 -GCOLS=16 -GACT_WORDS=8192 -GW_WORDS=8192 -GP_WORDS=512 -GACC_DEPTH=512

# Yosys structural check: multiple drivers, combinational loops and the like,
# which Verilator's lint does not report (it missed a register driven from two
# always blocks once). Buffers are shrunk so it runs in seconds.
YOSYS=${YOSYS:-yosys}
ycheck() {   # ycheck NAME TOP CHPARAMS FILES...
  local name=$1 top=$2 params=$3; shift 3
  n=$((n + 1))
  if ! command -v "$YOSYS" >/dev/null 2>&1; then
    echo "FAIL $name: $YOSYS not found (run scripts/bootstrap)"; fail=$((fail + 1)); return
  fi
  if "$YOSYS" -q -p "read_verilog -I$root/rtl/core $*; chparam $params $top; hierarchy -top $top; proc; opt_clean; check -assert" \
       >"$tmp/out" 2>&1; then
    echo "ok   $name"
  else
    echo "FAIL $name"; grep -v "Replacing memory" "$tmp/out" | sed 's/^/     /' | head -20; fail=$((fail + 1))
  fi
}
ycheck "yosys check nnf_core"          nnf_core "-set ACT_WORDS 1024 -set W_WORDS 1024 -set STATE_WORDS 1024" "${core[@]}"
ycheck "yosys check nnf_core 8 LIF lanes" nnf_core "-set ACT_WORDS 1024 -set W_WORDS 1024 -set STATE_WORDS 1024 -set LIF_LANES 8" "${core[@]}"
ycheck "yosys check nnf_core no LIF"   nnf_core "-set ACT_WORDS 1024 -set W_WORDS 1024 -set STATE_WORDS 0" "${core[@]}"
ycheck "yosys check nnf_core no banks" nnf_core "-set ACT_WORDS 1024 -set W_WORDS 1024 -set STATE_WORDS 1024 -set BANKS 0" "${core[@]}"
ycheck "yosys check nnf_gemm 4x4 serial" nnf_gemm "-set ROWS 4 -set COLS 4 -set ACT_WORDS 256 -set W_WORDS 256 -set VEC_SERIAL 1 -set PE_DSP 0" "${core[@]}"
ycheck "yosys check nnf_gemm 4x4 serial, 2 lanes" nnf_gemm "-set ROWS 4 -set COLS 4 -set ACT_WORDS 256 -set W_WORDS 256 -set VEC_SERIAL 1 -set VEC_LANES 2 -set PE_DSP 0" "${core[@]}"

# The naming rule for registers (tests/lint/rtl_naming.py, docs/engine.md).
n=$((n + 1))
if python3 "$root/tests/lint/rtl_naming.py" "$root" >"$tmp/out" 2>&1; then
  echo "ok   register names (_q)"
else
  echo "FAIL register names (_q)"; sed 's/^/     /' "$tmp/out" | head -20; fail=$((fail + 1))
fi

echo "$((n - fail)) passed, $fail failed"
[ $fail -eq 0 ]
