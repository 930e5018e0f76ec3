"""The process definitions a deployer copies (``deploy/bin/*``, ``deploy/systemd/*``), each started
for real against this test's database and broker: the web answers a page (its workers with a
formula judge started ahead), the CPU worker answers
``worker_ping`` on ``default`` alone, the GPU worker takes ``gpu`` alone with one process per GPU,
beat sends the sweep that the housekeeper runs; each ends on SIGTERM with exit status 0."""

from __future__ import annotations

import configparser
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psutil
import pytest
from django.conf import settings

from autograder.tasks import worker_ping
from courseapp.config.celery import app
from tests.autograder.test_worker_grades_a_submission import database_url
from tests.autograder.worker_tasks import visible_gpus

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "deploy" / "bin"
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
ROLES = ("web", "worker", "gpu-worker", "beat", "housekeeper")
INCLUDE_TEST_TASKS = ("--include", "tests.autograder.worker_tasks")
ROUGH = ("exited with signal", "Traceback", "ERROR", "CRITICAL")
pytestmark = pytest.mark.slow


class Role:
    """One role's script, running as its own process, its output in a file."""

    def __init__(self, name: str, log: Path, extra: tuple[str, ...] = (), **env: str) -> None:
        self.name, self.log_path = name, log
        environment = {
            **os.environ,
            # The test settings: the run's own broker key prefix, which this process's client
            # uses too; the database is the test's.
            "DJANGO_SETTINGS_MODULE": "courseapp.config.test_settings",
            "VAR_DIR": str(settings.VAR_DIR),
            "DATABASE_URL": database_url(),
            "VENV": str(Path(sys.executable).parents[1]),
            **env,
        }
        with log.open("w") as out:
            self.process = subprocess.Popen(
                [str(BIN / name), *extra],
                cwd="/",
                env=environment,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive_or_fail(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited {self.process.returncode}:\n{self.log()}")

    def stop(self) -> int:
        """SIGTERM, then its exit status (a generous deadline: a loaded machine)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"{self.name} ignored SIGTERM for 120 s:\n{self.log()}") from None

    def assert_stops_calmly(self) -> None:
        status = self.stop()
        log = self.log()
        assert status == 0, log[-4000:]
        assert not [word for word in ROUGH if word in log], log[-4000:]


def until(check, what: str, role: Role, timeout: float = 180.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        role.alive_or_fail()
        if value := check():
            return value
        time.sleep(0.5)
    raise AssertionError(f"no {what} in {timeout:g} s; {role.name}'s log:\n{role.log()[-4000:]}")


def ping(queue: str, timeout: float = 180.0) -> dict:
    result = worker_ping.apply_async(kwargs={"sent_at": time.time()}, queue=queue, expires=timeout)
    return result.get(timeout=timeout)


def answered_by(answer: dict, role: Role) -> bool:
    """Whether one of ``role``'s pool processes ran the ping (``worker_ping`` names the machine
    and the process, not the Celery node)."""
    return psutil.Process(answer["pid"]).ppid() == role.process.pid


def inspect(node: str, what: str):
    return (getattr(app.control.inspect([node], timeout=2.0), what)() or {}).get(node)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_web_role_serves_pages_and_stops_on_sigterm(transactional_db, tmp_path):
    port = free_port()
    web = Role("web", tmp_path / "web.log", WEB_BIND=f"127.0.0.1:{port}", WEB_WORKERS="1")

    def healthz():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                return r.status
        except OSError:
            return None

    try:
        assert until(healthz, "answer on /healthz", web) == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10) as r:
            assert r.status == 200 and b"<form" in r.read()
        # each worker starts a formula judge before any quiz asks for one (the first submits of
        # exam day would otherwise wait for SymPy to load)
        assert until(lambda: judges_under(web.process.pid), "formula judge started ahead", web)
    finally:
        web.assert_stops_calmly()


def judges_under(pid: int) -> list[psutil.Process]:
    found = []
    for process in psutil.Process(pid).children(recursive=True):
        try:
            if any(part.endswith("judge_worker.py") for part in process.cmdline()):
                found.append(process)
        except psutil.Error:
            pass
    return found


def test_the_worker_role_takes_only_the_default_queue(transactional_db, tmp_path):
    name = f"cpu-{uuid.uuid4().hex[:8]}"
    worker = Role("worker", tmp_path / "worker.log", WORKER_NAME=name, WORKER_CONCURRENCY="1")
    node = f"{name}@{socket.gethostname()}"
    try:
        answered = answered_by(ping("default"), worker)
        queues = until(lambda: inspect(node, "active_queues"), "active_queues", worker)
        stats = inspect(node, "stats")
    finally:
        worker.assert_stops_calmly()
    assert answered
    assert [q["name"] for q in queues] == ["default"]
    assert stats["pool"]["max-concurrency"] == 1


def test_the_gpu_worker_role_takes_only_gpu_with_a_process_per_gpu(transactional_db, tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nvidia-smi").write_text(
        "#!/bin/sh\n"
        "echo 'GPU 0: NVIDIA H100 (UUID: GPU-0)'\n"
        "echo 'GPU 1: NVIDIA H100 (UUID: GPU-1)'\n"
    )
    (fake / "nvidia-smi").chmod(0o755)
    name = f"gpu-{uuid.uuid4().hex[:8]}"
    path = f"{fake}:{os.environ['PATH']}"
    env = {"WORKER_NAME": name, "PATH": path, "GPU_WORKER_CONCURRENCY": ""}
    worker = Role("gpu-worker", tmp_path / "gpu.log", **env, extra=INCLUDE_TEST_TASKS)
    node = f"{name}@{socket.gethostname()}"
    try:
        answered = answered_by(ping("gpu"), worker)
        queues = until(lambda: inspect(node, "active_queues"), "active_queues", worker)
        stats = inspect(node, "stats")
        held = [visible_gpus.apply_async(args=[3.0], queue="gpu") for _ in range(4)]
        seen = {answer["pid"]: answer["gpus"] for answer in (r.get(timeout=180) for r in held)}
    finally:
        worker.assert_stops_calmly()
    assert answered
    assert [q["name"] for q in queues] == ["gpu"]
    assert stats["pool"]["max-concurrency"] == 2  # the two GPUs nvidia-smi listed
    assert sorted(seen.values()) == ["0", "1"]  # each pool process on a GPU of its own


def test_the_gpu_worker_role_refuses_to_start_without_a_gpu(tmp_path):
    no_gpu = tmp_path / "bin"
    no_gpu.mkdir()
    (no_gpu / "nvidia-smi").write_text("#!/bin/sh\nexit 9\n")
    (no_gpu / "nvidia-smi").chmod(0o755)
    env = {**os.environ, "PATH": f"{no_gpu}:{os.environ['PATH']}", "GPU_WORKER_CONCURRENCY": ""}

    ended = subprocess.run(
        [BIN / "gpu-worker"], env=env, capture_output=True, text=True, timeout=60
    )

    assert ended.returncode == 78
    assert "set GPU_WORKER_CONCURRENCY" in ended.stderr


def test_beat_sends_the_sweep_that_the_housekeeper_runs(transactional_db, tmp_path):
    housekeeper = Role("housekeeper", tmp_path / "housekeeper.log")
    node = f"housekeeper@{socket.gethostname()}"
    until(lambda: inspect(node, "ping"), "ping from the housekeeper", housekeeper)
    beat = Role("beat", tmp_path / "beat.log")
    try:

        def swept():
            beat.alive_or_fail()
            done = (inspect(node, "stats") or {}).get("total", {})
            return done.get("autograder.requeue_stuck_submissions")

        until(swept, "sweep run by the housekeeper", housekeeper)
        queues = inspect(node, "active_queues")
    finally:
        beat.assert_stops_calmly()
        housekeeper.assert_stops_calmly()
    assert [q["name"] for q in queues] == ["maintenance"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_each_unit_runs_its_role_script_and_stops_warm(unit):
    service = configparser.ConfigParser(interpolation=None, strict=False)
    service.read(unit)
    exec_start = service["Service"]["ExecStart"]
    script = Path(exec_start.split()[0])

    assert script.parent == Path("/srv/courseapp/deploy/bin")  # where the README puts the checkout
    assert script.name in ROLES and (BIN / script.name).is_file()
    assert service["Service"]["KillSignal"] == "SIGTERM"
    # The pool processes get no SIGTERM of their own: the main process stops them warm.
    assert service["Service"]["KillMode"] == "mixed"
    assert service["Service"]["EnvironmentFile"] and service["Service"]["User"]
    assert service["Service"]["Restart"]


def test_the_units_cover_every_role_and_the_procfile_runs_the_same_scripts():
    assert {u.stem.removeprefix("courseapp-") for u in UNITS} == set(ROLES)
    procfile = (ROOT / "Procfile").read_text()
    for role in ("worker", "beat", "housekeeper"):
        assert f"exec deploy/bin/{role}" in procfile


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="no systemd-analyze here")
def test_systemd_analyze_accepts_the_units(tmp_path):
    """The units as a deployer installs them, pointed at this checkout."""
    for unit in UNITS:
        text = unit.read_text().replace("/srv/courseapp", str(ROOT))
        text = text.replace("User=courseapp", "User=root").replace("Group=courseapp", "Group=root")
        text = text.replace("/etc/courseapp/env", os.devnull)
        (tmp_path / unit.name).write_text(text)

    ended = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert ended.returncode == 0, ended.stdout + ended.stderr
