"""Tries to read each path given; prints {path: "read" | "listed" | the error's name} as JSON."""

import json
import os
import sys

outcome = {}
for path in sys.argv[1:]:
    try:
        if os.path.isdir(path):
            os.listdir(path)
            outcome[path] = "listed"
        else:
            with open(path, "rb") as handle:
                handle.read(64)
            outcome[path] = "read"
    except OSError as exc:
        outcome[path] = type(exc).__name__
print(json.dumps(outcome))
