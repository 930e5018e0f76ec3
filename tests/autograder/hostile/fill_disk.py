"""Fill the disk with many files, each under the file size limit."""

import os
import sys

chunk = os.urandom(2**20)  # random: no filesystem compresses or dedups it away
if sys.argv[1] == "--files":
    for i in range(100_000):
        open(f"empty-{i}", "w").close()
else:
    os.makedirs("deep/er", exist_ok=True)
    for i in range(10_000):
        with open(f"deep/er/part-{i}.bin", "wb") as handle:
            for _ in range(4):
                handle.write(chunk)
print("filled the disk")
