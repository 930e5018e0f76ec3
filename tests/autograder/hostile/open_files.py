handles = []
try:
    for _ in range(10_000):
        handles.append(open("/dev/null"))  # noqa: SIM115
except OSError as exc:
    print(f"{len(handles)} open, then {type(exc).__name__}: {exc.strerror}")
