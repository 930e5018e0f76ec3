"""Tries Redis and PostgreSQL on localhost and a DNS lookup; prints {target: outcome} as JSON."""

import json
import socket

outcome = {}
for port in (6379, 5432):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=3).close()
        outcome[f"127.0.0.1:{port}"] = "connected"
    except OSError as exc:
        outcome[f"127.0.0.1:{port}"] = type(exc).__name__
for name in ("example.com", "pypi.org"):
    try:
        socket.getaddrinfo(name, 443)
        outcome[name] = "resolved"
    except OSError as exc:
        outcome[name] = type(exc).__name__
print(json.dumps(outcome))
