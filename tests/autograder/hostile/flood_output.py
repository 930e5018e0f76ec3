"""Writes 1 GiB to stdout or stderr (the first argument)."""

import sys

stream = sys.stdout if sys.argv[1] == "stdout" else sys.stderr
chunk = "x" * 2**20
for _ in range(1024):
    stream.write(chunk)
