"""bench_json: put one benchmark's figures into bench.json under its key
(the file read if it exists, written whole through a temporary file)."""
import json
import os
import subprocess
import sys


def run_json(cmd, who):
    """Run a command that prints JSON; exit with who's name if it fails."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        sys.exit("%s: %s failed (%d): %s" % (who, " ".join(cmd), p.returncode, p.stderr.strip()))
    return json.loads(p.stdout)


def merge(path, key, value):
    root = {}
    if os.path.exists(path):
        with open(path) as f:
            root = json.load(f)
    root[key] = value
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(root, f, indent=2)
    os.replace(tmp, path)
