#!/usr/bin/env bash
# run_core_icarus.sh GEN RTL_DIR WORKDIR SEED [LIF_LANES]: nnf_core in Icarus
# must answer a byte stream exactly as the functional model does.
set -euo pipefail
gen=$1 rtl=$2 work=$3 seed=$4 lanes=${5:-1}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work" && cd "$work"
"$gen" "$seed" stim.hex expect.hex
nstim=$(wc -l < stim.hex)
nexp=$(wc -l < expect.hex)
iverilog -g2005 -Wall -Wno-timescale -I"$rtl" -o core.vvp -s tb_core_icarus \
  -Ptb_core_icarus.NSTIM="$nstim" -Ptb_core_icarus.NEXP="$((nexp + 64))" \
  -Ptb_core_icarus.LIF_LANES="$lanes" \
  "$here/tb_core_icarus.v" "$rtl"/*.v 2> iverilog.log || { cat iverilog.log; exit 1; }
vvp -n core.vvp
if ! cmp -s out.hex expect.hex; then
  echo "FAIL: nnf_core under Icarus answered differently from the model"
  diff <(nl expect.hex) <(nl out.hex) | head -20
  exit 1
fi
echo "PASS: $nexp answer bytes identical"
