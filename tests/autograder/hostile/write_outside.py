"""Tries to create each path given; prints {path: "wrote" | the error's name} as JSON."""

import json
import sys

outcome = {}
for path in sys.argv[1:]:
    try:
        with open(path, "w") as handle:
            handle.write("a student was here\n")
        outcome[path] = "wrote"
    except OSError as exc:
        outcome[path] = type(exc).__name__
print(json.dumps(outcome))
