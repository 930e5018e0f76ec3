"""Grading on other machines: a web server and two Celery workers (one on ``default``, one on
``gpu``) that share no directory, only PostgreSQL, Redis and the bucket.

Each runs in its own mount namespace with a tmpfs over the others' directories (``tests.multihost``)
and its own host name. A student logs in to the real web server over HTTP, uploads notebooks
through the assignment page's form, and reads the feedback through the site, as in a browser;
nothing here calls a service in-process or mocks storage, the broker or the database.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import requests

from tests import multihost
from tests.autograder.nbfactory import student_notebook

pytestmark = pytest.mark.slow

# A cell whose output only running the notebook can produce (the source says 45 nowhere).
MARKER_CELL = 'print("executed by the worker:", sum(range(10)))'
MARKER_OUTPUT = "executed by the worker: 45"
SEED = "from tests.multihost import seed; seed()"  # in the web's manage.py shell


class Cluster:
    """The web server and workers of one module, stopped together at its end."""

    def __init__(self, *, database, bucket, machines, envs, logs, port):
        self.database = database
        self.bucket = bucket
        self.machines = machines
        self.envs = envs
        self.logs = logs
        self.url = f"http://127.0.0.1:{port}"
        self.processes: dict[str, multihost.Process] = {}

    def start_web(self, port: int) -> None:
        web = self.machines["web"]
        self.processes["web"] = multihost.web_server(web, self.envs["web"], self.logs, port)
        self.wait_until(self._web_answers, what="the web server's /healthz")

    def worker(self, name: str) -> multihost.Process:
        """The ``cpu`` (queue default) or ``gpu`` (queue gpu) worker, started on first use."""
        if name not in self.processes:
            queues = {"cpu": ["default"], "gpu": ["gpu"]}[name]
            machine = self.machines[name]
            self.processes[name] = multihost.celery_worker(
                machine, self.envs[name], self.logs, queues
            )
            self.wait_until(
                lambda: self.database.query(
                    "SELECT 1 FROM autograder_workerheartbeat WHERE hostname = %s",
                    f"{name}@{name}",
                ),
                what=f"the {name} worker's first heartbeat",
            )
        return self.processes[name]

    def wait_until(self, check, *, what: str, timeout: float = 240):
        return multihost.wait_until(
            check, what=what, processes=list(self.processes.values()), timeout=timeout
        )

    def logs_text(self) -> str:
        return "\n".join(p.log() for p in self.processes.values())

    def stop(self) -> None:
        """Every process told at once, then each waited for (a warm shutdown each)."""
        for process in self.processes.values():
            process.terminate()
        for process in self.processes.values():
            process.stop()

    def _web_answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=30).status_code == 200
        except requests.RequestException:  # not listening yet, or still loading
            return False

    def submission(self, slug: str, number: int) -> dict:
        """The submission's row as the database holds it (the test reads; the site writes)."""
        [row] = self.database.query(
            "SELECT s.id, s.state, s.attempts, s.claimed_worker FROM autograder_submission s "
            "JOIN autograder_assignment a ON a.id = s.assignment_id "
            "WHERE a.slug = %s AND s.number = %s",
            slug,
            number,
        )
        return dict(zip(("id", "state", "attempts", "claimed_worker"), row, strict=True))

    def runs(self, submission_id: int) -> list[tuple[str, str]]:
        """Each grading run's host name and sandbox."""
        return self.database.query(
            "SELECT worker, isolation FROM autograder_gradingrun WHERE submission_id = %s",
            submission_id,
        )


@pytest.fixture(scope="module")
def bucket(s3_server, s3_bucket_name):
    """A prefix of this module's own in the session's bucket on the real S3-protocol server."""
    from tests import s3

    return s3.Bucket(s3_server, s3_bucket_name, prefix=f"twohost-{uuid.uuid4().hex[:12]}")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, request):
    """The web server (workers start on first use), after a fresh database is migrated and seeded
    by the web's own ``manage.py``. What is missing is said before anything starts."""
    base = tmp_path_factory.mktemp("twohost")
    multihost.require_namespaces(base)
    redis_url = multihost.reachable_redis_url()
    bucket = request.getfixturevalue("bucket")
    logs = base / "logs"
    logs.mkdir()
    machines = multihost.machines(base, ["web", "cpu", "gpu"], hidden=[logs])
    database = multihost.fresh_postgres_database()
    try:
        shared = {"DATABASE_URL": database.url, "REDIS_URL": redis_url, **bucket.env}
        run_id = f"twohost-{uuid.uuid4().hex[:8]}"
        envs = {
            name: multihost.role_env(machine, shared=shared, run_id=run_id)
            for name, machine in machines.items()
        }
        port = multihost.free_port()
        cluster = Cluster(
            database=database, bucket=bucket, machines=machines, envs=envs, logs=logs, port=port
        )
        web = machines["web"]
        multihost.manage(web, envs["web"], "migrate", "--no-input")
        multihost.manage(web, envs["web"], "shell", "-c", SEED)
        try:
            cluster.start_web(port)
            yield cluster
        finally:
            cluster.stop()
    finally:
        multihost.drop_database(database)


class Student:
    """A browser's worth of HTTP: the session cookie, and the CSRF token each form carries."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()

    def log_in(self, username: str, password: str) -> None:
        page = self.http.get(f"{self.url}/accounts/login/", timeout=30)
        answer = self.http.post(
            page.url,
            data={"username": username, "password": password, "csrfmiddlewaretoken": csrf(page)},
            timeout=30,
        )
        assert answer.ok and "sessionid" in self.http.cookies, answer.text[-2000:]

    def submit(self, slug: str, notebook: bytes) -> int:
        """Upload through the assignment page's form; the submission's number, from the API."""
        page_url = f"{self.url}/courses/pmldl/assignments/{slug}/"
        page = self.http.get(page_url, timeout=30)
        assert page.status_code == 200, page.text[-2000:]
        answer = self.http.post(
            page_url,
            data={"csrfmiddlewaretoken": csrf(page)},
            files={"file": ("a1.ipynb", notebook, "application/x-ipynb+json")},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text[-2000:]
        api = f"{self.url}/api/courses/pmldl/assignments/{slug}/submissions/"
        mine = self.http.get(api, timeout=30)
        assert mine.status_code == 200 and mine.json(), f"not stored:\n{answer.text[-3000:]}"
        return max(s["number"] for s in mine.json())

    def download(self, slug: str, name: str) -> bytes:
        url = f"{self.url}/courses/pmldl/assignments/{slug}/files/{name}"
        answer = self.http.get(url, timeout=60)
        assert answer.status_code == 200, answer.text[-2000:]
        return answer.content

    def status(self, slug: str, number: int) -> dict:
        url = f"{self.url}/courses/pmldl/assignments/{slug}/submissions/{number}/status.json"
        answer = self.http.get(url, timeout=30)
        assert answer.status_code == 200, answer.text[-2000:]
        return answer.json()

    def feedback_page(self, slug: str, number: int) -> requests.Response:
        url = f"{self.url}/courses/pmldl/assignments/{slug}/submissions/{number}/feedback/"
        return self.http.get(url, timeout=60)


def csrf(page: requests.Response) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert match, f"no CSRF token on {page.url}:\n{page.text[-2000:]}"
    return match.group(1)


def finished(student: Student, slug: str, number: int):
    state = student.status(slug, number)
    return state if state["state"] in ("graded", "failed") else None


def test_an_upload_through_the_web_is_graded_by_the_worker_of_its_queue(cluster):
    """Both submissions wait while only the gpu worker is up: it grades the gpu one and leaves
    the other, which the default-queue worker, started after, grades. Each run in the sandbox
    this machine has without namespaces around it (bubblewrap nests), on its own host."""
    from autograder.sandbox.runner import isolation_level
    from tests.factories import PASSWORD

    student = Student(cluster.url)
    student.log_in("student", PASSWORD)
    released = student.download("relu", "a1.ipynb")  # from the bucket, through the web
    assert b"def relu" in released and b"max(0, x)" not in released  # never the solution
    notebook = student_notebook(extra_cells=[MARKER_CELL])
    gpu_worker = cluster.worker("gpu")

    on_cpu = student.submit("relu", notebook)
    on_gpu = student.submit("relu-gpu", notebook)
    gpu_done = cluster.wait_until(
        lambda: finished(student, "relu-gpu", on_gpu), what="the gpu submission's grading"
    )
    left = cluster.submission("relu", on_cpu)  # the gpu worker had its chance at it
    cluster.worker("cpu")
    cpu_done = cluster.wait_until(
        lambda: finished(student, "relu", on_cpu), what="the default-queue submission's grading"
    )

    logs = cluster.logs_text()
    assert gpu_done["state"] == cpu_done["state"] == "graded", logs
    assert (left["state"], left["attempts"]) == ("queued", 0), logs
    sandbox = isolation_level()
    for slug, number, host in (("relu-gpu", on_gpu, "gpu"), ("relu", on_cpu, "cpu")):
        row = cluster.submission(slug, number)
        assert row["claimed_worker"] == f"{host}@{host}", logs
        assert cluster.runs(row["id"]) == [(host, sandbox)], logs
        page = student.feedback_page(slug, number)
        assert page.status_code == 200, f"{page.text[-3000:]}\n{logs}"
        assert "2 / 3" in page.text, page.text[-3000:]  # the written answer waits for a TA
        assert MARKER_OUTPUT in page.text, page.text[-3000:]  # the executed notebook's output
    assert gpu_worker.popen.poll() is None, logs
    assert len(cluster.bucket.blob_keys()) >= 4  # sources, uploads and executed notebooks
    web_disk = cluster.machines["web"].media_root
    assert not [p for p in web_disk.rglob("*") if p.is_file()], "files on the web's disk"


def test_no_worker_can_see_the_web_servers_files_or_secret(cluster):
    """Read through ``/proc/PID/root``: the paths as the running process itself resolves them."""
    web, web_process = cluster.machines["web"], cluster.processes["web"]
    web_key = web.var_dir / "secret_key"
    assert web_key.is_file()  # the web made it, in DEBUG, in its own VAR_DIR
    for name in ("cpu", "gpu"):
        worker, machine = cluster.worker(name), cluster.machines[name]
        seen_by_worker = f"/proc/{worker.pid}/root"

        assert not Path(f"{seen_by_worker}{web.media_root}").exists()
        assert not Path(f"{seen_by_worker}{web_key}").exists()
        assert Path(f"{seen_by_worker}{machine.var_dir}/secret_key").is_file()
        assert not Path(f"/proc/{web_process.pid}/root{machine.var_dir}").exists()
        listing = machine.run(["ls", "-A", str(web.media_root)], env=cluster.envs[name])
        assert listing.returncode != 0 and not listing.stdout, listing
        environ = Path(f"/proc/{worker.pid}/environ").read_bytes().split(b"\0")
        assert not [v for v in environ if v.startswith(b"SECRET_KEY=")]
        assert not [v for v in environ if str(web.home).encode() in v]
        assert (machine.var_dir / "secret_key").read_text() != web_key.read_text()
