"""Every process forks forever. When a fork is refused it says so once, then keeps trying."""

import os
import time

said = False
while True:
    try:
        os.fork()
    except OSError as exc:
        if not said:
            print(f"fork refused: {exc}", flush=True)
            said = True
        time.sleep(0.05)
