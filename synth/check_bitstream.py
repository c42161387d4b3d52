#!/usr/bin/env python3
"""Rebuild one board's bitstream with scripts/synth.py (same flow, same seed)
and compare it byte for byte with the committed file in bitstreams/.

    synth/check_bitstream.py --board orangecrab --committed bitstreams/orangecrab.bit \\
                             --workdir build/reports/test/board-orangecrab

Exit 0 when identical, 1 when they differ or the flow fails (its message is
printed), 2 for bad arguments. CTest: synth_bitstream_orangecrab_repro
(labels synth, slow), synth_bitstream_icebreaker_repro likewise.
"""

import argparse
import filecmp
import hashlib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SYNTH = os.path.join(os.path.dirname(HERE), "scripts", "synth.py")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", required=True)
    ap.add_argument("--committed", required=True, help="the bitstream in bitstreams/")
    ap.add_argument("--workdir", required=True)
    a = ap.parse_args(argv)
    if not os.path.isfile(a.committed):
        print("check_bitstream: no committed bitstream %s" % a.committed, file=sys.stderr)
        return 2
    os.makedirs(a.workdir, exist_ok=True)
    ext = os.path.splitext(a.committed)[1]
    rebuilt = os.path.join(a.workdir, "rebuilt" + ext)
    rc = subprocess.run([sys.executable, SYNTH, "--board", a.board, "--require-timing",
                         "--out", os.path.join(a.workdir, "report.json"),
                         "--workdir", os.path.join(a.workdir, "flow"),
                         "--bit-out", rebuilt]).returncode
    if rc != 0:
        print("check_bitstream: the flow failed (exit %d)" % rc, file=sys.stderr)
        return 1
    if filecmp.cmp(rebuilt, a.committed, shallow=False):
        print("check_bitstream: %s rebuilt identical (sha256 %s)" % (a.board, sha256(rebuilt)))
        return 0
    print("check_bitstream: %s differs: committed %s, rebuilt %s (%s)"
          % (a.board, sha256(a.committed), sha256(rebuilt), rebuilt), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
