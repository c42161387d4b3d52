#!/usr/bin/env python3
"""rtl_naming.py: the RTL's naming rule for registers, checked.

Every flip-flop a module keeps for itself (a name assigned with `<=`) ends
in `_q`; a registered output port keeps the name of its meaning (the
module's header comment says it is registered); memories (arrays), loop
integers and formal ghost state (`f_*`, inside `ifdef FORMAL) are exempt.
docs/engine.md (Naming) gives the prefixes.

    tests/lint/rtl_naming.py [REPO_ROOT]     exit 1 and one line per offence
"""
import glob
import os
import re
import sys

COMMENT = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:[^"\\\n]|\\.)*"', re.S)


def blank(m):
    return re.sub(r'[^\n]', ' ', m.group(0))


def offences(path):
    src = COMMENT.sub(blank, open(path).read())
    src = re.sub(r'`ifdef FORMAL.*?`endif', blank, src, flags=re.S)
    lhs = re.finditer(r'(?:^|;|\bbegin\b|\belse\b|\)|:)\s*([A-Za-z_]\w*)\s*(?:\[[^\]]*\]\s*)*<=',
                      src, flags=re.M)
    outs = set(re.findall(r'output\s+reg\s*(?:signed\s*)?(?:\[[^\]]*\])?\s*([A-Za-z_]\w*)', src))
    ints = set(re.findall(r'\b(?:integer|genvar)\s+([A-Za-z_]\w*)', src))
    arrays = set(re.findall(r'\breg\s*(?:signed\s*)?(?:\[[^\]]*\])?\s*([A-Za-z_]\w*)\s*\[', src))
    seen = set()
    for m in lhs:
        n = m.group(1)
        if n in seen or n.endswith('_q') or n.startswith('f_') or n in outs or n in ints or n in arrays:
            continue
        seen.add(n)
        line = src.count('\n', 0, m.start(1)) + 1
        yield '%s:%d: register `%s` is not named `%s_q`' % (path, line, n, n)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..')
    files = sorted(glob.glob(os.path.join(root, 'rtl', '**', '*.v'), recursive=True))
    if not files:
        print('rtl_naming: no RTL under %s' % root, file=sys.stderr)
        return 2
    bad = [o for f in files for o in offences(f)]
    for o in bad:
        print(o)
    print('rtl_naming: %d files, %d registers misnamed' % (len(files), len(bad)))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
