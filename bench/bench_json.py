"""bench_json: put one benchmark's figures into bench.json under its key
(the file read if it exists, written whole through a temporary file)."""
import json
import os


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
