"""Leaves `sleep SECONDS` running, once in its own process group and once in a new session, and
exits at once."""

import subprocess
import sys

seconds = sys.argv[1]
subprocess.Popen(["sleep", seconds])
if len(sys.argv) > 2 and sys.argv[2] == "--also-new-session":
    subprocess.Popen(["sleep", seconds], start_new_session=True)
print("left sleep running", flush=True)
