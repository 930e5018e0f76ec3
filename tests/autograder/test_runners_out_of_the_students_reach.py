"""The student's code may write anything in its folder, and a test that ends its process makes the
runner start another: nothing that next process runs or reads comes from that folder before the
student's code is imported again (the runner, its spec, a module the runner imports), and a test
process may report only the test it runs (no database)."""

from __future__ import annotations

import pytest

from autograder import harness
from autograder.grader import grade_python
from autograder.sandbox import Limits, isolation_level

pytestmark = pytest.mark.slow
LIMITS = Limits(wall_seconds=120, cpu_seconds=60, memory_bytes=1536 * 2**20)
SPEC = b"""
files = ["relu.py"]
harness = "test_relu.py"

[[tests]]
name = "first"
function = "test_first"
points = 1

[[tests]]
name = "second"
function = "test_second"
points = 1
"""
HARNESS = b"""from relu import relu

def test_first():
    assert relu(-1.0) == 0.0

def test_second():
    assert relu(5.0) == 5.0
"""
# Each: relu is wrong (relu(5.0) is 0.0); the first time it is called it does its trick and ends
# its process, so that the runner starts a new one for the second test.
FORGED_TESTER = """
import json, os, sys
if "--tester" in sys.argv:
    try:
        payload = json.loads(sys.stdin.buffer.read())
    except ValueError:
        payload = {}
    start = payload.get("start", int(os.environ.get("PYRUNNER_START", "0")))
    pipe = os.fdopen(int(sys.argv[-2]), "w")
    for index in range(start, payload.get("stop", 2)):
        for event in ("start", "done"):
            pipe.write(json.dumps({"event": event, "index": index, "status": "passed"}) + "\\n")
            pipe.flush()
"""
REWRITE_THE_RUNNER = f"""import glob, os
def relu(x):
    for path in glob.glob("/tmp/*/*/pyrunner.py") + ["pyrunner.py"]:
        try:
            open(path, "w").write({FORGED_TESTER!r})
        except OSError:
            pass
    os._exit(1)
"""
REWRITE_THE_SPEC = """import json, os
def test_second():
    pass
def relu(x):
    for name in os.listdir("."):
        try:
            spec = json.load(open(name))
            spec["harness"] = "relu.py"
            json.dump(spec, open(name, "w"))
        except (OSError, ValueError, TypeError, AttributeError):
            pass
    os._exit(1)
"""
# The student's code writes to the test process's pipe that the second test passed, then fails.
FORGED_REPORT = """import json, os
def relu(x):
    for fd in range(3, 64):
        for event in ("start", "done"):
            try:
                os.write(fd, (json.dumps({"event": event, "index": 1, "status": "passed",
                                          "output": ""}) + "\\n").encode())
            except OSError:
                pass
    return 0.0
"""


def grade(code: str, spec: bytes = SPEC, harness_source: bytes = HARNESS, name="relu.py"):
    return grade_python(
        spec=harness.parse(spec),
        instructor_files={"autograder.toml": spec, "test_relu.py": harness_source},
        submitted={name: code.encode()},
        data_files={},
        limits=LIMITS,
        test_timeout=60,
    )


def scores(result) -> dict:
    return {t.name: t.score for t in result.tests}


def test_it_runs_the_next_test_process_as_shipped_after_a_test_rewrote_the_runner():
    if isolation_level() != "bubblewrap":
        pytest.skip("the runner's folder is read-only to the student's code under bubblewrap")

    assert scores(grade(REWRITE_THE_RUNNER)) == {"first": 0, "second": 0}


def test_it_runs_the_next_test_process_by_the_spec_it_was_given_not_one_rewritten():
    assert scores(grade(REWRITE_THE_SPEC)) == {"first": 0, "second": 0}


def test_it_takes_a_tests_result_only_from_the_process_running_it_in_turn():
    assert scores(grade(FORGED_REPORT)) == {"first": 0, "second": 0}


STEAL_THE_KEY = (
    "import hashlib, hmac, json, os, sys\n"
    "if 'pyrunner.py' in sys.argv[0] and '--tester' not in sys.argv:\n"
    "    key = sys.stdin.buffer.readline().strip()\n"
    "    fd = int(os.environ['AUTOGRADER_REPORT_FD'])\n"
    "    for stage in ('started', 'student'):\n"
    "        mac = hmac.new(key, b'stage\\0' + stage.encode(), hashlib.sha256).hexdigest()\n"
    "        os.write(fd, f'{stage} {mac}\\n'.encode())\n"
    "    tests = [{'status': 'passed', 'output': ''}] * 2\n"
    "    status = {'state': 'finished', 'tests': tests, 'outputs': {}}\n"
    "    body = json.dumps(status, sort_keys=True).encode()\n"
    "    mac = hmac.new(key, b'\\0' + body, hashlib.sha256).hexdigest()\n"
    "    json.dump({'status': status, 'mac': mac}, open(sys.argv[2], 'w'))\n"
    "    os._exit(0)\n"
    "def relu(x):\n"
    "    return 0.0\n"
)


def test_it_imports_no_module_of_the_folder_in_the_runner_that_holds_the_key():
    """A file of the folder named like a module the runner imports used to run inside the
    runner, before it had read its key: it read the key and signed a status of its own."""
    result = grade_python(
        spec=harness.parse(SPEC),
        instructor_files={"autograder.toml": SPEC, "test_relu.py": HARNESS},
        submitted={"relu.py": b"def relu(x):\n    return 0.0\n"},
        data_files={"selectors.py": STEAL_THE_KEY.encode(), "json.py": STEAL_THE_KEY.encode()},
        limits=LIMITS,
        test_timeout=60,
    )

    assert scores(result) == {"first": 1, "second": 0}


def test_it_refuses_a_file_to_hand_in_named_like_a_module_the_runner_loads():
    spec = SPEC.replace(b'"relu.py"', b'"selectors.py"')

    with pytest.raises(harness.SpecError, match=r"selectors\.py has the name of a module"):
        harness.parse(spec)
