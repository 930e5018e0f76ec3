import os

parent = os.getppid()
try:
    os.kill(parent, 9)
    print(f"sent SIGKILL to parent {parent}")
except OSError as exc:
    print(f"could not kill parent {parent}: {type(exc).__name__}")
