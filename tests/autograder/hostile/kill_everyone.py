"""kill(-1, SIGKILL): every process this uid may signal; then SIGKILL to its own group."""

import os

try:
    os.kill(-1, 9)
    print("kill(-1) sent", flush=True)
except OSError as exc:
    print(f"kill(-1): {type(exc).__name__}", flush=True)
os.killpg(0, 9)
print("still here")
